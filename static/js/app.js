// Rapport's small progressive enhancements. Everything works without JavaScript.
(function () {
  "use strict";

  // Sign-up: preselect the browser's time zone when the field is still on its default.
  document.querySelectorAll("select[data-browser-timezone]").forEach(function (select) {
    var zone;
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
    if (!zone || select.dataset.touched) { return; }
    if (select.value === "UTC" && select.querySelector('option[value="' + zone + '"]')) {
      select.value = zone;
    }
  });

  // Destructive forms ask first: <form data-confirm="Remove X?">.
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); }
  });
})();
