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

  // Sign-up: preselect the browser's time zone when the field is still on its default. A
  // browser may report an old name ("Asia/Calcutta") the list has as its place: it is offered
  // as it is, and the server reads it as the place (crm/timezones.py).
  document.querySelectorAll("select[data-browser-timezone]").forEach(function (select) {
    var zone;
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
    if (!zone || select.value !== "UTC") { return; }
    if (!select.querySelector('option[value="' + CSS.escape(zone) + '"]')) {
      select.add(new Option(zone.replace(/_/g, " ") + " (your browser)", zone));
    }
    select.value = zone;
  });

  // Parts of a form that only matter for some choices of another field, shown with the page
  // (usable without JavaScript) and hidden here: <div data-shown-if="digest=daily,weekly">.
  document.querySelectorAll("[data-shown-if]").forEach(function (block) {
    var rule = block.getAttribute("data-shown-if").split("=");
    var form = block.closest("form");
    var control = form && form.elements.namedItem(rule[0]);
    if (!control) { return; }
    var values = rule[1].split(",");
    function sync() { block.hidden = values.indexOf(control.value) === -1; }
    control.addEventListener("change", sync);
    sync();
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
})();

// Person pickers on <select data-person-search>: type a name, pick a suggestion, and the
// person is chosen (added, for a multiple select). The select keeps working without JS.
(function () {
  "use strict";
  var personUrl = document.body.getAttribute("data-person-url");
  if (!personUrl) { return; }
  var counter = 0;

  function attach(select) {
    if (select.dataset.pickerReady) { return; }
    select.dataset.pickerReady = "1";
    var listId = "person-search-" + (counter += 1);
    var search = document.createElement("input");
    search.type = "search";
    search.className = "form-control mt-1";
    search.placeholder = select.multiple ? "Type a name to add someone" : "Type a name";
    search.setAttribute("aria-label", "Search people by name");
    search.setAttribute("list", listId);
    search.autocomplete = "off";
    var list = document.createElement("datalist");
    list.id = listId;
    select.after(search, list);
    if (!select.multiple && !select.value) { select.hidden = true; }
    var required = select.required;
    var found = {};
    var timer;

    // A hidden required select cannot show the browser's "please choose" message (the browser
    // only logs that it cannot focus it), so while it is hidden the search box carries it.
    function syncRequired() {
      select.required = required && !select.hidden;
      var missing = required && select.hidden && !select.value;
      search.setCustomValidity(missing ? "Type a name and pick the person from the suggestions." : "");
    }

    function pick(person) {
      var option = Array.prototype.find.call(select.options, function (o) { return o.value === String(person.id); });
      if (!option) {
        option = new Option(person.name, person.id, true, true);
        select.add(option);
      }
      option.selected = true;
      select.hidden = false;
      search.value = "";
      syncRequired();
      select.dispatchEvent(new Event("change", { bubbles: true }));
    }

    search.addEventListener("input", function () {
      var picked = found[search.value];
      if (picked) { pick(picked); return; }
      clearTimeout(timer);
      timer = setTimeout(function () {
        fetch(personUrl + "?q=" + encodeURIComponent(search.value), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : { people: [] }; })
          .then(function (data) {
            found = {};
            list.replaceChildren.apply(list, data.people.map(function (p) {
              var label = p.name + (p.company ? " (" + p.company + ")" : "");
              found[label] = p;
              var o = document.createElement("option");
              o.value = label;
              return o;
            }));
          });
      }, 150);
    });

    // Enter in the search box picks the first suggestion instead of sending the form, so the
    // keyboard alone does it: type a few letters, Enter, and on to the next field.
    search.addEventListener("keydown", function (event) {
      if (event.key !== "Enter" || !search.value.trim()) { return; }
      var first = Object.keys(found)[0];
      if (first) {
        event.preventDefault();
        pick(found[first]);
      }
    });
    syncRequired();
    select.pickerSync = syncRequired;
    select.pickerSearch = search;
  }

  document.querySelectorAll("select[data-person-search]").forEach(attach);
  // Rows added to a form later (formsets.js: "Add another family member") get pickers too.
  document.addEventListener("formset:added", function (event) {
    event.target.querySelectorAll("select[data-person-search]").forEach(attach);
  });

  // Quick log: the "Log" button, any [data-quick-log-person] button, or the L key.
  var modalEl = document.getElementById("quick-log");
  if (!modalEl || !window.bootstrap) { return; }
  var modal = bootstrap.Modal.getOrCreateInstance(modalEl);
  var personSelect = modalEl.querySelector("select[data-person-search]");

  var kindSelect = modalEl.querySelector("select[name$=kind]");

  // kind: what the person prefers ("whatsapp"), so "Log" for them starts as that conversation.
  function open(personId, personName, kind) {
    if (kind && kindSelect && kindSelect.querySelector('option[value="' + CSS.escape(kind) + '"]')) {
      kindSelect.value = kind;
    }
    if (personId && personSelect) {
      var option = Array.prototype.find.call(personSelect.options, function (o) { return o.value === personId; });
      if (!option) { option = new Option(personName, personId, true, true); personSelect.add(option); }
      option.selected = true;
      personSelect.hidden = false;
      if (personSelect.pickerSync) { personSelect.pickerSync(); }
    }
    modal.show();
  }

  modalEl.addEventListener("shown.bs.modal", function () {
    var target = personSelect && personSelect.value ? modalEl.querySelector("[name$=summary]") : personSelect && personSelect.pickerSearch;
    if (target) { target.focus(); }
  });

  document.addEventListener("click", function (event) {
    var trigger = event.target.closest("[data-quick-log], [data-quick-log-person]");
    if (!trigger) { return; }
    event.preventDefault();
    open(trigger.getAttribute("data-quick-log-person"), trigger.getAttribute("data-quick-log-name"), trigger.getAttribute("data-quick-log-kind"));
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "l" && event.key !== "L") { return; }
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    var el = document.activeElement;
    if (el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName))) { return; }
    if (document.querySelector(".modal.show")) { return; }
    event.preventDefault();
    var page = document.querySelector("[data-current-person]");
    open(page && page.getAttribute("data-current-person"), page && page.getAttribute("data-current-person-name"), page && page.getAttribute("data-current-person-kind"));
  });
})();

// <select data-autosubmit> submits its form when changed.
document.addEventListener("change", function (event) {
  if (event.target.matches && event.target.matches("[data-autosubmit]")) { event.target.form.submit(); }
});

// The top-bar search: "/" on any page puts the cursor in it (as L opens the quick log); Escape
// or a click elsewhere closes its as-you-type results.
(function () {
  "use strict";
  var box = document.getElementById("site-search");
  var results = document.getElementById("site-search-results");
  if (!box || !results) { return; }

  function close() { results.replaceChildren(); }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) { return; }
    var el = document.activeElement;
    if (el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName))) { return; }
    if (document.querySelector(".modal.show")) { return; }
    event.preventDefault();
    var collapse = box.closest(".navbar-collapse");
    if (collapse && !collapse.classList.contains("show") && window.getComputedStyle(collapse).display === "none" && window.bootstrap) {
      bootstrap.Collapse.getOrCreateInstance(collapse).show();  // phones: the box is in the folded menu
    }
    box.focus();
    box.select();
  });

  // The first Escape closes the results and keeps the words (a search box would clear them).
  box.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && results.childElementCount) {
      event.preventDefault();
      close();
    }
  });

  document.addEventListener("click", function (event) {
    if (!event.target.closest(".site-search")) { close(); }
  });
})();

// A form that comes back with problems opens on its summary of them (templates/_error_summary.html).
(function () {
  "use strict";
  var summary = document.querySelector("[data-error-summary]");
  if (summary) { summary.focus(); }
})();
