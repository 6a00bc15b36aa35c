// The phone's outbox: quick logs and "Done" on a follow-up that could not be sent yet.
//
// Loaded by every page (base.html) and by the service worker (importScripts), which shares the
// sending part below for Background Sync. An entry is written to IndexedDB before it is sent,
// with an id made here (a UUID): what was typed is never only in memory. The server logs a
// quick log once per id (interactions.views.quick_log) and a "Done" once per occurrence, so an
// entry sent twice (a retry, two tabs, the worker and a page at once) counts once.
//
// An entry is "waiting" until the server answers. No network or a server error (5xx): it stays
// waiting and is sent again when the connection is back (the "online" event, the next page
// load, or Background Sync where the browser has it). An answer that will never change (the
// person was deleted or archived, the session ended, a validation error): it moves to "could
// not send" with the reason, and its text stays there to fix or copy.
(function (scope) {
  "use strict";

  var DB_NAME = "rapport";
  var STORE = "outbox";
  var SYNC_TAG = "rapport-outbox";

  function request(idbRequest) {
    return new Promise(function (resolve, reject) {
      idbRequest.onsuccess = function () { resolve(idbRequest.result); };
      idbRequest.onerror = function () { reject(idbRequest.error); };
    });
  }

  function open() {
    var opening = scope.indexedDB.open(DB_NAME, 1);
    opening.onupgradeneeded = function () { opening.result.createObjectStore(STORE, {keyPath: "id"}); };
    return request(opening);
  }

  function withStore(mode, work) {
    return open().then(function (db) {
      var tx = db.transaction(STORE, mode);
      var result = work(tx.objectStore(STORE));
      return new Promise(function (resolve, reject) {
        tx.oncomplete = function () { db.close(); resolve(result); };
        tx.onerror = function () { db.close(); reject(tx.error); };
      });
    });
  }

  function all() {
    return open().then(function (db) {
      return request(db.transaction(STORE, "readonly").objectStore(STORE).getAll()).then(function (rows) {
        db.close();
        return rows.sort(function (a, b) { return a.created < b.created ? -1 : 1; });
      });
    });
  }

  function put(entry) { return withStore("readwrite", function (store) { store.put(entry); }); }
  function remove(id) { return withStore("readwrite", function (store) { store.delete(id); }); }
  function removeAll() { return withStore("readwrite", function (store) { store.clear(); }); }

  function uuid() {
    if (scope.crypto && scope.crypto.randomUUID) { return scope.crypto.randomUUID(); }
    var bytes = scope.crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  var SESSION_ENDED = "Your session ended: log in again, then try again.";

  // What became of one send: "sent", "waiting" (try again later) or "failed" (with a reason).
  function send(entry, token) {
    if (scope.navigator.onLine === false) {  // known offline: no doomed request
      return Promise.resolve({state: "waiting", reason: "No connection."});
    }
    var body = new URLSearchParams();
    entry.fields.forEach(function (pair) {
      if (pair[0] !== "csrfmiddlewaretoken") { body.append(pair[0], pair[1]); }
    });
    body.append("csrfmiddlewaretoken", token || entry.token);
    return fetch(entry.url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: {"Accept": "application/json", "X-CSRFToken": token || entry.token},
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      var json = type.indexOf("application/json") === 0 ? response.json() : Promise.resolve(null);
      return json.then(function (data) {
        if (response.redirected && new URL(response.url).pathname.indexOf("/login/") === 0) {
          return {state: "failed", reason: SESSION_ENDED};
        }
        if (response.ok) { return {state: "sent", data: data || {}}; }
        if (response.status >= 500) { return {state: "waiting", reason: "The server had a problem (" + response.status + ")."}; }
        if (response.status === 401 || response.status === 403) {
          return {state: "failed", reason: SESSION_ENDED};
        }
        if (response.status === 404) {
          return {state: "failed", reason: entry.kind === "done" ? "That follow-up was deleted meanwhile." : "Not found: it was deleted meanwhile."};
        }
        return {state: "failed", invalid: true, reason: (data && data.error) || "The server refused it (" + response.status + ")."};
      });
    }, function () {
      return {state: "waiting", reason: "No connection."};
    });
  }

  // Send every waiting entry of this user and workspace (the page's, or any in the worker).
  // One sender at a time: a page coming back online and the worker's Background Sync flush at
  // the same moment, and under a Web Lock the second reads the queue after the first is done,
  // so an entry is not sent twice (the server would take it once; the user would see two tries).
  function flush(options) {
    var locks = scope.navigator && scope.navigator.locks;
    return locks ? locks.request("rapport-outbox-flush", function () { return flushNow(options); }) : flushNow(options);
  }

  function flushNow(options) {
    return all().then(function (entries) {
      var mine = entries.filter(function (entry) {
        if (entry.state !== "waiting") { return false; }
        if (options.user && (entry.user !== options.user || entry.workspace !== options.workspace)) { return false; }
        return true;
      });
      return mine.reduce(function (chain, entry) {
        return chain.then(function (done) {
          return send(entry, options.token).then(function (result) {
            if (result.state === "sent") { return remove(entry.id).then(function () { return done.concat([result]); }); }
            entry.reason = result.reason;
            entry.state = result.state;
            entry.tries = (entry.tries || 0) + 1;
            return put(entry).then(function () { return done.concat([result]); });
          });
        });
      }, Promise.resolve([]));
    }).then(function (results) {
      return notify().then(function () { return results; });
    });
  }

  // Tell every open page the outbox changed (from the worker; a page tells itself).
  function notify() {
    if (!scope.clients) { return Promise.resolve(); }
    return scope.clients.matchAll({type: "window"}).then(function (windows) {
      windows.forEach(function (w) { w.postMessage({type: "rapport-outbox"}); });
    });
  }

  scope.RapportOutbox = {
    SYNC_TAG: SYNC_TAG,
    all: all,
    put: put,
    remove: remove,
    removeAll: removeAll,
    send: send,
    flush: flush,
    uuid: uuid,
  };
})(self);
