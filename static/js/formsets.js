// "Add another" for formsets (contact methods, family, pets, dates): several rows in one save.
// Each formset's empty row waits in <template id="PREFIX-empty-row"> outside the form; a click
// copies it in with the next row number and counts it in PREFIX-TOTAL_FORMS, which tells Django
// how many rows were sent. Without JavaScript the button stays hidden and each save offers a
// new empty row. New rows announce themselves with a "formset:added" event, on which the
// person picker in app.js takes over their person selects.
(function () {
  "use strict";

  document.querySelectorAll("button[data-formset-add]").forEach(function (button) {
    var prefix = button.getAttribute("data-formset-add");
    var form = button.closest("form");
    var template = document.getElementById(prefix + "-empty-row");
    var rows = form && form.querySelector('[data-formset-rows="' + CSS.escape(prefix) + '"]');
    var total = form && form.elements.namedItem(prefix + "-TOTAL_FORMS");
    var max = form && form.elements.namedItem(prefix + "-MAX_NUM_FORMS");
    if (!template || !rows || !total) { return; }

    function atMax() { return max && Number(total.value) >= Number(max.value); }

    button.hidden = atMax();
    button.addEventListener("click", function () {
      if (atMax()) { return; }
      var index = Number(total.value);
      var holder = document.createElement("div");
      holder.innerHTML = template.innerHTML.replace(/__prefix__/g, String(index));
      var row = holder.firstElementChild;
      rows.appendChild(row);
      total.value = String(index + 1);
      button.hidden = atMax();
      row.dispatchEvent(new CustomEvent("formset:added", { bubbles: true }));
      var first = row.querySelector("input:not([type=hidden]), select, textarea");
      if (first) { first.focus(); }
    });
  });
})();
