// Dark mode for "Follow the system" (issue 18). Loaded in <head>, before the stylesheets, so the
// page is drawn in the right theme from the first frame. The server renders data-bs-theme for a
// chosen Light or Dark; for "system" it renders light and this turns it dark when the system
// prefers dark, and follows the system when it changes while the page is open.
(() => {
  const root = document.documentElement;
  if (root.dataset.theme !== "system" || !window.matchMedia) return;
  const dark = window.matchMedia("(prefers-color-scheme: dark)");
  const apply = () => root.setAttribute("data-bs-theme", dark.matches ? "dark" : "light");
  apply();
  dark.addEventListener("change", apply);
})();
