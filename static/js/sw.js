// Rapport's service worker. Served at /sw.js by pwa.views.service_worker, which writes
// self.RAPPORT = {version, shell, dashboard, outbox} above this file.
//
// Conservative on purpose:
// - static files (/static/...) come from a cache named by the deploy's version, filled with the
//   app shell on install; a new version drops the old cache when it takes over;
// - pages always come from the network first; only This week and person pages are kept, the
//   last answer of each, to be read offline with a banner saying when they were saved
//   (static/js/pwa.js shows it); anything else offline gets a short "you are offline" page;
// - nothing but GET is ever answered from a cache. POSTs go to the network, and the quick log's
//   offline queue (static/js/outbox.js) keeps what could not be sent.
"use strict";

var CONFIG = self.RAPPORT;
var STATIC_CACHE = "rapport-static-" + CONFIG.version;
var PAGES_CACHE = "rapport-pages";
var PAGES_KEPT = 40; // This week and the people looked at most recently
var SAVED_AT = "X-Rapport-Saved-At";
var TITLE = "X-Rapport-Title";
var KEPT_PAGES = [/^\/$/, /^\/people\/\d+\/$/];

importScripts(CONFIG.outbox);

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(STATIC_CACHE)
      .then(function (cache) { return cache.addAll(CONFIG.shell.concat([CONFIG.manifest])); })
      .then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return name.indexOf("rapport-static-") === 0 && name !== STATIC_CACHE;
      }).map(function (name) { return caches.delete(name); }));
    }).then(function () { return self.clients.claim(); })
  );
});

function isStatic(url) {
  return url.pathname.indexOf(CONFIG.static) === 0;
}

function isKept(url) {
  return KEPT_PAGES.some(function (pattern) { return pattern.test(url.pathname); });
}

function staticFile(request) {
  return caches.open(STATIC_CACHE).then(function (cache) {
    return cache.match(request).then(function (hit) {
      if (hit) { return hit; }
      return fetch(request).then(function (response) {
        if (response.ok) { cache.put(request, response.clone()); }
        return response;
      });
    });
  });
}

function titleOf(html) {
  var match = /<title>([^<]*)<\/title>/.exec(html);
  return match ? match[1].replace(/\s+/g, " ").trim() : "";
}

function keep(url, response) {
  return response.text().then(function (html) {
    var headers = new Headers(response.headers);
    headers.set(SAVED_AT, new Date().toISOString());
    headers.set(TITLE, encodeURIComponent(titleOf(html)));
    var saved = new Response(html, {status: response.status, statusText: response.statusText, headers: headers});
    return caches.open(PAGES_CACHE).then(function (cache) {
      var key = url.origin + url.pathname;
      return cache.delete(key).then(function () { return cache.put(key, saved); }).then(function () {
        return cache.keys();
      }).then(function (keys) {
        // Keys come out in the order they were put: the oldest go first.
        return Promise.all(keys.slice(0, Math.max(0, keys.length - PAGES_KEPT)).map(function (old) {
          return cache.delete(old);
        }));
      });
    });
  });
}

// The saved page with the moment it was saved on its <body>, for the "offline, as of" banner.
function stamped(response) {
  var savedAt = response.headers.get(SAVED_AT) || "";
  return response.text().then(function (html) {
    var body = html.replace("<body", '<body data-offline-saved="' + savedAt.replace(/[^0-9TZ:.\-]/g, "") + '"');
    return new Response(body, {status: 200, headers: response.headers});
  });
}

function offlinePage() {
  return caches.open(PAGES_CACHE).then(function (cache) { return cache.keys(); }).then(function (keys) {
    return Promise.all(keys.map(function (key) {
      return caches.match(key, {cacheName: PAGES_CACHE}).then(function (hit) {
        return {url: key.url, title: decodeURIComponent((hit && hit.headers.get(TITLE)) || "") || key.url};
      });
    }));
  }).then(function (pages) {
    var escape = function (text) {
      return text.replace(/[&<>"]/g, function (c) { return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c]; });
    };
    var css = CONFIG.shell.filter(function (url) { return /\.css$/.test(url); }).map(function (url) {
      return '<link rel="stylesheet" href="' + escape(url) + '">';
    }).join("") + CONFIG.shell.filter(function (url) { return /\.svg$/.test(url); }).map(function (url) {
      return '<link rel="icon" href="' + escape(url) + '" type="image/svg+xml">';
    }).join("");
    var items = pages.reverse().map(function (page) {
      return '<li class="list-group-item"><a href="' + escape(page.url) + '">' + escape(page.title.replace(/ · Rapport$/, "")) + "</a></li>";
    }).join("");
    var html = '<!doctype html><html lang="en"><head><meta charset="utf-8">' +
      '<meta name="viewport" content="width=device-width, initial-scale=1"><title>Offline · Rapport</title>' + css +
      '</head><body class="bg-body-tertiary"><main class="container py-4"><h1 class="h4">You are offline</h1>' +
      "<p>This page was not saved on this phone. These were:</p>" +
      (items ? '<ul class="list-group">' + items + "</ul>" : "<p>None yet: open This week while online.</p>") +
      "</main></body></html>";
    return new Response(html, {headers: {"Content-Type": "text/html; charset=utf-8", "X-Rapport-Offline": "1"}});
  });
}

function saved(url) {
  return caches.match(url.origin + url.pathname, {cacheName: PAGES_CACHE}).then(function (hit) {
    return hit ? stamped(hit) : offlinePage();
  });
}

function page(request, url) {
  if (self.navigator.onLine === false) { return saved(url); } // known offline: no doomed request
  return fetch(request).then(function (response) {
    var html = (response.headers.get("Content-Type") || "").indexOf("text/html") === 0;
    if (response.ok && html && !response.redirected && isKept(url)) {
      return keep(url, response.clone()).then(function () { return response; }, function () { return response; });
    }
    return response;
  }, function () { return saved(url); });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (isStatic(url)) {
    event.respondWith(staticFile(request));
  } else if (url.pathname === CONFIG.manifest) {
    // The page asks for the manifest on every load: offline, the copy from install.
    event.respondWith(fetch(request).catch(function () { return caches.match(request, {cacheName: STATIC_CACHE}); }));
  } else if (request.mode === "navigate") {
    event.respondWith(page(request, url));
  }
});

// Background Sync: the browser wakes the worker when the connection is back, and the queue is
// sent even with no Rapport tab open.
self.addEventListener("sync", function (event) {
  if (event.tag === self.RapportOutbox.SYNC_TAG) {
    event.waitUntil(self.RapportOutbox.flush({}));
  }
});

// The morning notification (pwa.services.push_send): who to contact today.
self.addEventListener("push", function (event) {
  var data = {};
  try { data = event.data ? event.data.json() : {}; } catch (e) { data = {body: event.data.text()}; }
  event.waitUntil(self.registration.showNotification(data.title || "Rapport", {
    body: data.body || "",
    icon: data.icon,
    tag: data.tag, // sent twice after a crash: the second replaces the first
    data: {url: data.url || "/"},
  }));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var url = event.notification.data && event.notification.data.url;
  event.waitUntil(self.clients.matchAll({type: "window"}).then(function (windows) {
    var open = windows.find(function (w) { return w.url === url; });
    return open ? open.focus() : self.clients.openWindow(url || "/");
  }));
});
