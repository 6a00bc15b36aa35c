// Done, Snooze and Undo on reminder rows (dashboard, person page). The server answers an htmx
// post with the row in its new state and an Undo button; this file keeps that button for a
// few seconds, and lets an error answer (422: "Snooze to a day after today.") show in the row
// instead of being dropped. Without JavaScript the forms post and the page says the same.
//
// Speed you can feel (issue 18): a click changes the row at once (optimistic: "Done." where
// the buttons were, the row struck through) while the request goes; the server's row then
// takes its place at no less than the old row's height, so nothing below it jumps. If the
// request fails, the row comes back as it was and says nothing changed.
(function () {
  "use strict";
  if (!window.htmx) { return; }
  var UNDO_SECONDS = 10;
  var heldHeight = null;  // the height of the row being replaced, for the row replacing it

  function rowOf(element) {
    return element && element.closest ? element.closest("[data-reminder-row]") : null;
  }

  function notice(row, text, error) {
    var box = document.createElement("div");
    box.className = "reminder-notice small ms-auto " + (error ? "text-danger" : "text-success-emphasis");
    box.setAttribute("role", error ? "alert" : "status");
    box.setAttribute("data-optimistic-notice", "");
    box.textContent = text;
    row.appendChild(box);
    return box;
  }

  document.body.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail.elt;
    var row = rowOf(form);
    if (!row || !form.getAttribute) { return; }
    // Known offline, the phone's outbox keeps a Done (static/js/pwa.js): its row says so itself.
    if (kept(form) && navigator.onLine === false) { return; }
    heldHeight = row.getBoundingClientRect().height;
    row.style.minHeight = heldHeight + "px";
    var text = form.getAttribute("data-optimistic");
    if (!text) { return; }
    var existing = form.closest(".reminder-notice");
    if (existing) {  // Undo: the notice says it is on its way
      existing.querySelector("span").textContent = text;
      form.hidden = true;
      return;
    }
    var actions = row.querySelector(".rp-row-actions");
    if (actions) { actions.hidden = true; }
    if (form.hasAttribute("data-optimistic-done")) { row.classList.add("rp-row-done"); }
    notice(row, text, false);
  });

  // Not sent, or a server error that is not the row's own answer: the row as it was, saying so.
  function failed(event) {
    var row = rowOf(event.detail.elt);
    if (!row) { return; }
    row.classList.remove("rp-row-done");
    row.querySelectorAll("[data-optimistic-notice]").forEach(function (n) { n.remove(); });
    var actions = row.querySelector(".rp-row-actions:not([data-actions-after-undo])");
    if (actions) { actions.hidden = false; }
    var form = event.detail.elt;
    if (form.hidden) { form.hidden = false; }
    notice(row, "Not saved: Rapport could not be reached. Nothing changed; try again.", true);
  }

  function kept(form) {
    return Boolean(form.matches && form.matches("form[data-outbox=done]"));
  }
  document.body.addEventListener("htmx:sendError", failed);
  document.body.addEventListener("htmx:responseError", failed);

  // htmx leaves 4xx answers unswapped: for a reminder row, the 422 body is the row saying why.
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    var source = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (event.detail.xhr.status === 422 && source && source.closest("[data-reminder-row]")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // The Undo goes after a while, but not from under the pointer about to click it. Focus
  // that was on it moves to the row, not to the top of the page. The buttons it stood in for
  // come back.
  function expire(box) {
    var form = box.querySelector("form");
    if (!form) { return; }
    if (box.matches(":hover")) {
      setTimeout(function () { expire(box); }, 2000);
      return;
    }
    var hadFocus = form.contains(document.activeElement);
    var row = box.closest("[data-reminder-row]");
    var waiting = row && row.querySelector("[data-actions-after-undo]");
    if (waiting) {
      box.remove();
      waiting.hidden = false;
    } else {
      form.remove();
    }
    var next = row && row.querySelector("a, button");
    if (hadFocus && next) { next.focus(); }
  }

  htmx.onLoad(function (element) {
    var row = element.matches && element.matches("[data-reminder-row]") ? element : null;
    if (!row) { return; }
    if (heldHeight) {
      row.style.minHeight = heldHeight + "px";
      heldHeight = null;
    }
    var box = row.querySelector("[data-undo]");
    if (box) {
      // The button that was pressed is gone with the old row: the Undo takes the focus, so a
      // keyboard user can undo at once and does not land at the top of the page.
      var undo = box.querySelector("button");
      if (undo) { undo.focus(); }
      setTimeout(function () { expire(box); }, UNDO_SECONDS * 1000);
    } else if (row.querySelector("[role=alert], [role=status]")) {
      var first = row.querySelector("a, button");
      if (first) { first.focus(); }
    }
  });
})();
