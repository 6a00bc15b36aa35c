// Rapport's small progressive enhancements. Everything works without JavaScript.
(function () {
  "use strict";

  function debounce(fn, ms) {
    var timer;
    return function () {
      var args = arguments, self = this;
      clearTimeout(timer);
      timer = setTimeout(function () { fn.apply(self, args); }, ms);
    };
  }

  function fillDatalist(list, values) {
    list.replaceChildren.apply(list, values.map(function (v) {
      var option = document.createElement("option");
      option.value = v;
      return option;
    }));
  }

  // Sign-up: preselect the browser's time zone when the field is still on its default.
  document.querySelectorAll("select[data-browser-timezone]").forEach(function (select) {
    var zone;
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
    if (zone && select.value === "UTC" && select.querySelector('option[value="' + CSS.escape(zone) + '"]')) {
      select.value = zone;
    }
  });

  // Destructive forms ask first: <form data-confirm="Remove X?">.
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); }
  });

  // "Select all on this page" for bulk actions (also after htmx swaps the list).
  document.addEventListener("change", function (event) {
    var name = event.target.getAttribute("data-select-all");
    if (!name) { return; }
    var form = event.target.form;
    form.querySelectorAll('input[type=checkbox][name="' + name + '"]').forEach(function (box) {
      box.checked = event.target.checked;
    });
  });

  // Tag inputs suggest the workspace's tags for the word being typed ("a, b, go" -> golf).
  var tagUrl = document.body.getAttribute("data-tag-url");
  document.addEventListener("input", debounce(function (event) {
    var input = event.target;
    var listId = input.getAttribute && input.getAttribute("list");
    if (!tagUrl || listId !== "tag-suggestions") { return; }
    var parts = input.value.split(",");
    var word = parts.pop().trim();
    var head = parts.length ? parts.join(",") + ", " : "";
    fetch(tagUrl + "?q=" + encodeURIComponent(word), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { tags: [] }; })
      .then(function (data) {
        var list = document.getElementById("tag-suggestions");
        if (list) { fillDatalist(list, data.tags.map(function (t) { return head + t; })); }
      });
  }, 200));

  // Family links: type a name, pick from suggestions, and the person's number is filled in.
  var personUrl = document.body.getAttribute("data-person-url");
  document.querySelectorAll("input[data-person-picker]").forEach(function (numberInput, index) {
    if (!personUrl) { return; }
    var listId = "person-picker-" + index;
    var search = document.createElement("input");
    search.type = "search";
    search.className = "form-control form-control-sm mt-1";
    search.placeholder = "Type a name to find them";
    search.setAttribute("aria-label", "Find a person by name");
    search.setAttribute("list", listId);
    var list = document.createElement("datalist");
    list.id = listId;
    numberInput.after(search, list);
    var found = {};
    search.addEventListener("input", debounce(function () {
      var picked = found[search.value];
      if (picked) { numberInput.value = picked; return; }
      fetch(personUrl + "?q=" + encodeURIComponent(search.value), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : { people: [] }; })
        .then(function (data) {
          found = {};
          fillDatalist(list, data.people.map(function (p) {
            var label = p.name + (p.company ? " (" + p.company + ")" : "") + " #" + p.id;
            found[label] = p.id;
            return label;
          }));
        });
    }, 200));
  });
})();
