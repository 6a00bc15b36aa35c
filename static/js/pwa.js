// The phone app in the page: the service worker's registration, the "offline, as of" banner,
// the quick log and "Done" kept on the phone when they cannot be sent (static/js/outbox.js),
// and clearing what this phone keeps when the user logs out or switches workspace.
(function () {
  "use strict";

  var body = document.body;
  var outbox = window.RapportOutbox;
  var user = body.getAttribute("data-user") || "";
  var workspace = body.getAttribute("data-workspace") || "";
  var offlineBanner = document.getElementById("rp-offline");
  var panel = document.getElementById("rp-outbox");

  function token() {
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function hhmm(date) {
    var time = date.toLocaleTimeString([], {hour: "2-digit", minute: "2-digit", hourCycle: "h23"});
    var today = new Date().toDateString() === date.toDateString();
    return today ? time : date.toLocaleDateString([], {day: "numeric", month: "short"}) + " " + time;
  }

  // --- Offline banner ---------------------------------------------------------------------

  function showOffline() {
    if (!offlineBanner) { return; }
    var saved = body.getAttribute("data-offline-saved");
    if (saved) {
      offlineBanner.textContent = "Offline, as of " + hhmm(new Date(saved)) +
        ". What you log is kept on this phone and sent when you are back online.";
    } else {
      offlineBanner.textContent = "Offline. What you log is kept on this phone and sent when you are back online.";
    }
    offlineBanner.hidden = false;
  }

  if (body.hasAttribute("data-offline-saved") || navigator.onLine === false) { showOffline(); }
  window.addEventListener("offline", showOffline);
  window.addEventListener("online", function () {
    if (offlineBanner && !body.hasAttribute("data-offline-saved")) { offlineBanner.hidden = true; }
    send();
  });

  // --- Service worker -----------------------------------------------------------------------

  var worker = body.getAttribute("data-sw");
  if (worker && "serviceWorker" in navigator) {
    navigator.serviceWorker.register(worker, {scope: "/"}).catch(function () { /* an old browser: a web page */ });
    navigator.serviceWorker.addEventListener("message", function (event) {
      if (event.data && event.data.type === "rapport-outbox") { render(); }
    });
  }

  function askForSync() {
    if (!("serviceWorker" in navigator)) { return; }
    navigator.serviceWorker.ready.then(function (registration) {
      if (registration.sync) { return registration.sync.register(outbox.SYNC_TAG); }
    }).catch(function () { /* no Background Sync: the next load or "online" sends */ });
  }

  if (!outbox || !window.indexedDB) { return; }

  // --- The outbox panel ---------------------------------------------------------------------

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text) { node.textContent = text; }
    return node;
  }

  function button(label, className, onClick) {
    var b = element("button", "btn btn-sm " + className, label);
    b.type = "button";
    b.addEventListener("click", onClick);
    return b;
  }

  function row(entry) {
    var item = element("li", "list-group-item d-flex flex-wrap gap-2 align-items-center");
    item.setAttribute("data-outbox-entry", entry.state);
    var text = element("span", "flex-grow-1");
    text.appendChild(element("span", "badge " + (entry.state === "failed" ? "text-bg-danger" : "text-bg-secondary"),
      entry.state === "failed" ? "Could not send" : "Waiting to send"));
    text.appendChild(document.createTextNode(" " + entry.label));
    if (entry.state === "failed" && entry.reason) {
      text.appendChild(element("span", "d-block small text-danger", entry.reason));
    }
    item.appendChild(text);
    if (entry.state === "failed") {
      item.appendChild(button("Try again", "btn-outline-primary", function () {
        entry.state = "waiting";
        outbox.put(entry).then(send);
      }));
      if (navigator.clipboard) {
        item.appendChild(button("Copy text", "btn-outline-secondary", function () {
          navigator.clipboard.writeText(entry.text || entry.label);
        }));
      }
      item.appendChild(button("Discard", "btn-link text-danger", function () {
        if (window.confirm("Discard “" + entry.label + "”? It was not sent.")) { outbox.remove(entry.id).then(render); }
      }));
    }
    return item;
  }

  function render() {
    if (!panel) { return Promise.resolve([]); }
    return outbox.all().then(function (entries) {
      var shown = entries.filter(function (e) { return e.user === user; });
      var list = panel.querySelector("ul");
      list.replaceChildren.apply(list, shown.map(row));
      var waiting = shown.filter(function (e) { return e.state === "waiting"; }).length;
      var failed = shown.length - waiting;
      var parts = [];
      if (waiting) { parts.push(waiting + " waiting to send"); }
      if (failed) { parts.push(failed + " could not be sent"); }
      panel.querySelector("[data-outbox-summary]").textContent = "Kept on this phone: " + parts.join(", ") + ".";
      panel.hidden = !shown.length;
      return shown;
    });
  }

  var sending = null;
  function send() {
    if (!user) { return Promise.resolve(); }
    if (!sending) {
      sending = outbox.flush({user: user, workspace: workspace, token: token()}).then(function (results) {
        sending = null;
        if (results.some(function (r) { return r.state === "waiting"; })) { askForSync(); }
        return render();
      }, function () { sending = null; });
    }
    return sending;
  }

  // --- Keeping the quick log and Done -------------------------------------------------------

  function fieldsOf(form, submitter) {
    var data = new FormData(form, submitter || undefined);
    var pairs = [];
    data.forEach(function (value, key) { if (typeof value === "string") { pairs.push([key, value]); } });
    return pairs;
  }

  function quickLabel(form) {
    var person = form.querySelector("[name$=person]");
    var kind = form.querySelector("[name$=kind]");
    var summary = form.querySelector("[name$=summary]");
    var who = person && person.selectedIndex >= 0 ? person.options[person.selectedIndex].text : "someone";
    var how = kind && kind.selectedIndex >= 0 ? kind.options[kind.selectedIndex].text : "Conversation";
    return how + " with " + who + ": " + (summary ? summary.value : "");
  }

  function keepEntry(kind, url, fields, label, text) {
    var entry = {
      id: outbox.uuid(), kind: kind, url: url, fields: fields, label: label, text: text || label,
      user: user, workspace: workspace, token: token(), state: "waiting", created: new Date().toISOString(),
    };
    if (kind === "quick") { entry.fields.push(["quick-client_id", entry.id]); }
    return outbox.put(entry).then(function () { return entry; });
  }

  document.querySelectorAll("form[data-outbox=quick]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (event.defaultPrevented || form.hasAttribute("data-outbox-native")) { return; }
      if (event.submitter && event.submitter.hasAttribute("formaction")) { return; } // More details
      event.preventDefault();
      var summary = form.querySelector("[name$=summary]");
      keepEntry("quick", form.action, fieldsOf(form, event.submitter), quickLabel(form), summary && summary.value)
        .then(function (entry) {
          return outbox.send(entry, token()).then(function (result) {
            if (result.state === "sent") {
              return outbox.remove(entry.id).then(function () {
                window.location.assign(result.data.redirect || window.location.href);
              });
            }
            if (result.invalid) {
              // Online and the form is wrong: the server's page shows the errors next to the fields.
              return outbox.remove(entry.id).then(function () {
                form.setAttribute("data-outbox-native", "");
                form.submit();
              });
            }
            entry.state = result.state;
            entry.reason = result.reason;
            return outbox.put(entry).then(function () {
              var modal = form.closest(".modal");
              if (modal && window.bootstrap) { window.bootstrap.Modal.getOrCreateInstance(modal).hide(); }
              form.reset();
              if (result.state === "waiting") { askForSync(); }
              return render().then(function () { if (panel) { panel.focus(); } });
            });
          });
        });
    });
  });

  // "Done" is an htmx post: when it cannot reach the server it is kept, and its row says so.
  // ``mark``: known offline, the button says the Done waits. After a failed request the row
  // says "Not saved" (static/js/reminder-undo.js) and keeps its Done to try again; the outbox
  // keeps the entry too, and the server takes a Done once, by its occurrence.
  function keepDone(form, mark) {
    var rowNode = form.closest("li");
    var what = rowNode ? rowNode.textContent.replace(/\s+/g, " ").trim().replace(/ (Log it|Done|Snooze).*$/, "") : "";
    var pairs = fieldsOf(form).filter(function (pair) { return pair[0] !== "row"; });
    keepEntry("done", form.action, pairs, "Done: " + what).then(function () {
      var button = mark ? form.querySelector("button") : null;
      if (button) {
        button.disabled = true;
        button.textContent = "Waiting to send";
      }
      askForSync();
      render();
    });
  }

  function doneForm(event) {
    var elt = event.detail && event.detail.elt;
    return elt && elt.closest ? elt.closest("form[data-outbox=done]") : null;
  }

  document.body.addEventListener("htmx:beforeRequest", function (event) {
    var form = doneForm(event);
    if (form && navigator.onLine === false) {  // known offline: kept at once, no doomed request
      event.preventDefault();
      keepDone(form, true);
    }
  });
  document.body.addEventListener("htmx:sendError", function (event) {
    var form = doneForm(event);
    if (form) { keepDone(form, false); }
  });

  // --- Privacy on a shared phone ------------------------------------------------------------

  function clearPhone() {
    var pages = window.caches ? caches.keys().then(function (names) {
      return Promise.all(names.filter(function (n) { return n.indexOf("rapport-") === 0; }).map(function (n) {
        return caches.delete(n);
      }));
    }) : Promise.resolve();
    return Promise.all([pages, outbox.removeAll()]);
  }

  // Logging out and switching workspace: what this phone keeps of this user goes first, after
  // asking when some of it was never sent.
  document.querySelectorAll("form[data-clears-phone]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.hasAttribute("data-cleared")) { return; }
      event.preventDefault();
      outbox.all().then(function (entries) {
        var unsent = entries.filter(function (e) { return e.user === user; }).length;
        if (unsent && !window.confirm(unsent + (unsent === 1 ? " entry was" : " entries were") +
          " not sent yet and will be deleted from this phone. Go on?")) { return; }
        return clearPhone().then(function () {
          form.setAttribute("data-cleared", "");
          form.submit();
        });
      });
    });
  });

  if (!user) {
    // Signed out (or the session ended): no saved page may outlive it. Unsent entries wait for
    // the same user to log in again; anyone else logging in here removes them (below), which
    // the login page says first.
    if (window.caches) { caches.delete("rapport-pages"); }
    outbox.all().then(function (entries) {
      if (!entries.length || !panel) { return; }
      panel.querySelector("ul").replaceChildren();
      panel.querySelector("[data-outbox-summary]").textContent = entries.length +
        (entries.length === 1 ? " entry" : " entries") + " from the last session wait on this phone: log in as the same " +
        "person to send them. Anyone else logging in here removes them.";
      panel.hidden = false;
    });
  } else {
    outbox.all().then(function (entries) {
      var others = entries.filter(function (e) { return e.user !== user; });
      if (others.length && window.caches) { caches.delete("rapport-pages"); }
      return Promise.all(others.map(function (e) { return outbox.remove(e.id); }));
    }).then(function () {
      return body.hasAttribute("data-offline-saved") ? render() : send();
    });
  }
})();
