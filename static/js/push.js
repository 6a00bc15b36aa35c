// Settings > Notifications: "Turn on for this device" asks the browser for permission,
// subscribes with Rapport's VAPID key and hands the subscription to the server.
(function () {
  "use strict";
  var box = document.getElementById("push-this-device");
  if (!box) { return; }
  var button = box.querySelector("[data-push-subscribe]");
  var status = box.querySelector("[data-push-status]");

  function say(text) { status.textContent = text; }

  if (!("serviceWorker" in navigator) || !("PushManager" in window)) {
    button.disabled = true;
    say("This browser cannot show notifications from Rapport. On an iPhone, add Rapport to the home screen first.");
    return;
  }

  function keyBytes(base64url) {
    var text = atob(base64url.replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(text, function (c) { return c.charCodeAt(0); });
  }

  button.addEventListener("click", function () {
    button.disabled = true;
    Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") { throw new Error("Notifications are blocked for Rapport in this browser's settings."); }
      return navigator.serviceWorker.ready;
    }).then(function (registration) {
      return registration.pushManager.subscribe({userVisibleOnly: true, applicationServerKey: keyBytes(box.dataset.publicKey)});
    }).then(function (subscription) {
      var token = document.querySelector("input[name=csrfmiddlewaretoken]");
      return fetch(box.dataset.subscribeUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRFToken": token ? token.value : ""},
        body: JSON.stringify(subscription.toJSON()),
      });
    }).then(function (response) {
      if (!response.ok) { throw new Error("The server could not save it (" + response.status + ")."); }
      window.location.reload();
    }).catch(function (error) {
      button.disabled = false;
      say(error.message || String(error));
    });
  });
})();
