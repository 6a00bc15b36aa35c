// Date fields are text in the user's own format (dd/mm/yyyy, mm/dd/yyyy, yyyy-mm-dd...; see
// crm/dateformats.py): Chromium's <input type=date> follows the browser's language, not the
// setting. This adds the browser's calendar beside each one: a button opening a hidden native
// picker, whose chosen day is written back in the field's format. Without JavaScript the
// field is typed, and the server reads it the same way.
(function () {
  "use strict";

  var DATE = /^\s*(\d{1,4})\s*[\/.\-\s]\s*(\d{1,2})\s*[\/.\-\s]\s*(\d{1,4})/;

  function pad(n, width) { n = String(n); while (n.length < width) { n = "0" + n; } return n; }

  // "2025-12-31" in the field's format: "31/12/2025".
  function format(input, iso) {
    var parts = iso.split("-"), by = { y: parts[0], m: parts[1], d: parts[2] };
    var order = input.getAttribute("data-date-order") || "dmy";
    var separator = input.getAttribute("data-date-separator") || "/";
    return order.split("").map(function (part) { return by[part]; }).join(separator);
  }

  // The field's text as "yyyy-mm-dd", or "" when it is not a date yet.
  function parse(input) {
    var match = DATE.exec(input.value);
    if (!match) { return ""; }
    var order = input.getAttribute("data-date-order") || "dmy", y, m, d;
    if (match[1].length === 4) { y = match[1]; m = match[2]; d = match[3]; }
    else if (match[3].length !== 4) { return ""; }
    else if (order === "mdy") { m = match[1]; d = match[2]; y = match[3]; }
    else { d = match[1]; m = match[2]; y = match[3]; }
    return pad(y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2);
  }

  function now() {
    var t = new Date();
    return pad(t.getHours(), 2) + ":" + pad(t.getMinutes(), 2);
  }

  // Write a day ("yyyy-mm-dd") into the field as its user writes it; a date and time keeps its time.
  function write(input, iso) {
    var text = format(input, iso);
    if (input.getAttribute("data-date-input") === "datetime") {
      var time = /(\d{1,2}[:.h]\d{2}(\s*[ap]\.?m\.?)?)\s*$/i.exec(input.value);
      text += " " + (time ? time[1] : now());
    }
    input.value = text;
    input.dispatchEvent(new Event("input", { bubbles: true }));
    input.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function enhance(input) {
    if (input.hasAttribute("data-date-enhanced")) { return; }
    input.setAttribute("data-date-enhanced", "1");
    var group = document.createElement("div");
    group.className = "input-group has-validation date-input-group";
    if (input.classList.contains("form-control-sm")) { group.classList.add("input-group-sm"); }
    var feedback = [];
    for (var next = input.nextElementSibling; next; next = next.nextElementSibling) {
      if (next.classList.contains("invalid-feedback")) { feedback.push(next); }
    }
    input.parentNode.insertBefore(group, input);
    group.appendChild(input);

    var native = document.createElement("input");
    native.type = "date";
    native.className = "date-native";
    native.tabIndex = -1;
    native.setAttribute("aria-hidden", "true");
    native.setAttribute("aria-label", "Calendar");
    if (input.getAttribute("data-min")) { native.min = input.getAttribute("data-min"); }
    if (input.getAttribute("data-max")) { native.max = input.getAttribute("data-max"); }
    native.addEventListener("change", function () {
      if (native.value) { write(input, native.value); input.focus(); }
    });

    var button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-outline-secondary date-pick";
    button.setAttribute("aria-label", "Pick from a calendar");
    button.title = "Pick from a calendar";
    button.textContent = "\uD83D\uDCC5";
    button.addEventListener("click", function () {
      native.value = parse(input);
      try { native.showPicker(); } catch (e) { native.focus(); native.click(); }
    });
    group.appendChild(button);
    group.appendChild(native);
    feedback.forEach(function (element) { group.appendChild(element); });
  }

  function enhanceAll(root) {
    (root || document).querySelectorAll("input[data-date-input]").forEach(enhance);
  }

  enhanceAll(document);
  // Forms that htmx swaps in (the quick log, a snooze row) get the calendar too.
  document.body.addEventListener("htmx:afterSwap", function (event) { enhanceAll(event.target); });

  // For other scripts (the follow-up chips): write a day into a date field in its user's format.
  window.RapportDates = { write: write, parse: parse, format: format };
})();
