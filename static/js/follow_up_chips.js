// Follow-up date chips ("Tomorrow", "+3 days", "Next week", "In a month") under a follow-up
// date field: one click or key instead of eight digits. Each chip carries its date (data-date),
// worked out on the server from today in the user's own time zone, never from the browser's
// clock or zone. The row is one tab stop (a toolbar: the arrow keys move along it), and a chip
// shows pressed while the field holds its date. Without JavaScript the row stays hidden and the
// date field works as ever.
(function () {
  "use strict";

  function setUp(bar) {
    var input = document.getElementById(bar.getAttribute("data-follow-up-chips"));
    var chips = Array.prototype.slice.call(bar.querySelectorAll("button[data-date]"));
    if (!input || !chips.length) { return; }

    function tabStop(index) {
      chips.forEach(function (chip, i) { chip.tabIndex = i === index ? 0 : -1; });
    }

    // The field is typed in the user's date style (static/js/dates.js); the chips carry ISO days.
    var dates = window.RapportDates;
    function typedDay() { return dates ? dates.parse(input) : input.value; }

    function sync() {
      var day = typedDay();
      chips.forEach(function (chip) {
        var on = chip.getAttribute("data-date") === day;
        chip.setAttribute("aria-pressed", on ? "true" : "false");
        chip.classList.toggle("active", on);
      });
    }

    chips.forEach(function (chip, index) {
      chip.addEventListener("click", function () {
        if (dates) {
          dates.write(input, chip.getAttribute("data-date"));  // in the user's style, as if typed
        } else {
          input.value = chip.getAttribute("data-date");
          input.dispatchEvent(new Event("input", { bubbles: true }));
          input.dispatchEvent(new Event("change", { bubbles: true }));
        }
        tabStop(index);
      });
      chip.addEventListener("keydown", function (event) {
        var moves = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: chips.length - 1 };
        if (!(event.key in moves)) { return; }
        event.preventDefault();
        var to = (moves[event.key] + chips.length) % chips.length;
        tabStop(to);
        chips[to].focus();
      });
    });
    input.addEventListener("input", sync);
    input.addEventListener("change", sync);
    tabStop(0);
    sync();
    bar.hidden = false;
  }

  document.querySelectorAll("[data-follow-up-chips]").forEach(setUp);
})();
