// The time-zone choice, filterable: a search box above the grouped select hides the zones that
// do not match what is typed ("lagos", "new york", "+05:30") and selects the first that does.
// Without JavaScript it is the plain select, grouped by region (crm/timezones.py).
(function () {
  "use strict";

  function words(text) { return text.toLowerCase().replace(/[_/()]/g, " ").replace(/\s+/g, " ").trim(); }

  document.querySelectorAll("select[data-zone-filter]").forEach(function (select) {
    var box = document.createElement("input");
    box.type = "search";
    box.className = "form-control form-control-sm mb-1 zone-filter";
    box.placeholder = "Type a city, country region or UTC offset";
    box.setAttribute("aria-label", "Filter time zones");
    box.setAttribute("aria-controls", select.id);
    box.autocomplete = "off";
    var count = document.createElement("div");
    count.className = "form-text zone-filter-count";
    count.setAttribute("aria-live", "polite");
    select.parentNode.insertBefore(box, select);
    select.parentNode.insertBefore(count, select.nextSibling);

    var options = Array.prototype.slice.call(select.options).map(function (option) {
      return { option: option, text: words(option.value + " " + option.textContent) };
    });

    box.addEventListener("input", function () {
      var query = words(box.value), first = null, shown = 0;
      options.forEach(function (entry) {
        var match = !query || entry.text.indexOf(query) !== -1;
        entry.option.hidden = !match;
        if (match) { shown += 1; if (!first) { first = entry.option; } }
      });
      select.querySelectorAll("optgroup").forEach(function (group) {
        group.hidden = !Array.prototype.some.call(group.children, function (o) { return !o.hidden; });
      });
      if (query && first && select.selectedOptions[0] && select.selectedOptions[0].hidden) {
        select.value = first.value;
        select.dispatchEvent(new Event("change", { bubbles: true }));
      }
      count.textContent = query ? (shown ? shown + (shown === 1 ? " zone matches" : " zones match") : "No zone matches “" + box.value + "”") : "";
    });
    // Enter in the filter chooses the zone shown, it does not send the form.
    box.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); select.focus(); }
    });
  });
})();
