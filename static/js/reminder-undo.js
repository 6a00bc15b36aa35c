// Done, Snooze and Undo on reminder rows (dashboard, person page). The server answers an htmx
// post with the row in its new state and an Undo button; this file keeps that button for a
// few seconds, and lets an error answer (422: "Snooze to a day after today.") show in the row
// instead of being dropped. Without JavaScript the forms post and the page says the same.
(function () {
  "use strict";
  if (!window.htmx) { return; }
  var UNDO_SECONDS = 10;

  // htmx leaves 4xx answers unswapped: for a reminder row, the 422 body is the row saying why.
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    var source = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (event.detail.xhr.status === 422 && source && source.closest("[data-reminder-row]")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // The Undo goes after a while, but not from under the pointer about to click it. Focus
  // that was on it moves to the row, not to the top of the page.
  function expire(notice) {
    var form = notice.querySelector("form");
    if (!form) { return; }
    if (notice.matches(":hover")) {
      setTimeout(function () { expire(notice); }, 2000);
      return;
    }
    var hadFocus = form.contains(document.activeElement);
    form.remove();
    var row = notice.closest("[data-reminder-row]");
    var next = row && row.querySelector("a, button");
    if (hadFocus && next) { next.focus(); }
  }

  htmx.onLoad(function (element) {
    var row = element.matches && element.matches("[data-reminder-row]") ? element : null;
    if (!row) { return; }
    var notice = row.querySelector("[data-undo]");
    if (notice) {
      // The button that was pressed is gone with the old row: the Undo takes the focus, so a
      // keyboard user can undo at once and does not land at the top of the page.
      var undo = notice.querySelector("button");
      if (undo) { undo.focus(); }
      setTimeout(function () { expire(notice); }, UNDO_SECONDS * 1000);
    } else if (row.querySelector("[role=alert], [role=status]")) {
      var first = row.querySelector("a, button");
      if (first) { first.focus(); }
    }
  });
})();
