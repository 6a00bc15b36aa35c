"""The installable app: its manifest and its service worker, both at the site's root."""

from __future__ import annotations

import json
from typing import cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_POST

from crm.models import User
from pwa import selectors, services, shell, vapid

# The accent of static/css/tokens.css: the title bar of the installed app, and the icons' ground.
THEME_COLOUR = "#4f46e5"
BACKGROUND_COLOUR = "#f6f7f9"


@require_GET
@cache_control(max_age=3600, public=True)
def manifest(request: HttpRequest) -> HttpResponse:
    """The web app manifest: what a phone needs to put Rapport on its home screen."""
    icons = [
        {"src": static("img/icons/icon-192.png"), "sizes": "192x192", "type": "image/png", "purpose": "any"},
        {"src": static("img/icons/icon-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "any"},
        {"src": static("img/icons/maskable-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "maskable"},
    ]
    data = {
        "id": reverse("dashboard"),
        "name": "Rapport: who to contact this week",
        "short_name": "Rapport",
        "description": "Your customers as people: who to contact, and a quick log that works without signal.",
        "start_url": reverse("dashboard") + "?source=app",
        "scope": "/",
        "display": "standalone",
        "theme_color": THEME_COLOUR,
        "background_color": BACKGROUND_COLOUR,
        "icons": icons,
    }
    return JsonResponse(data, content_type="application/manifest+json", json_dumps_params={"indent": 1})


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """static/js/sw.js at /sw.js, so its scope is the whole site, with the version and shell it caches.

    Never cached by the browser's HTTP cache: a deploy's new worker is found on the next visit.
    """
    config = {
        "version": shell.version(),
        "shell": shell.shell_urls(),
        "static": settings.STATIC_URL,
        "outbox": static("js/outbox.js"),
        "manifest": reverse("manifest"),
    }
    body = f"self.RAPPORT = {json.dumps(config)};\n{shell.worker_source()}"
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = "/"
    return response


# --- Notifications (Web Push) ---------------------------------------------------------------

BROWSERS = (("Edg/", "Edge"), ("Firefox/", "Firefox"), ("SamsungBrowser/", "Samsung Internet"), ("Chrome/", "Chrome"),
            ("Safari/", "Safari"))  # fmt: skip
SYSTEMS = (("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"), ("Windows", "Windows"),
           ("Mac OS X", "Mac"), ("CrOS", "ChromeOS"), ("Linux", "Linux"))  # fmt: skip


def device_name(user_agent: str) -> str:
    """ "Chrome on Android": enough to tell one's devices apart in the list."""
    browser = next((name for mark, name in BROWSERS if mark in user_agent), "A browser")
    system = next((name for mark, name in SYSTEMS if mark in user_agent), "")
    return f"{browser} on {system}" if system else browser


@require_GET
@login_required
def push_settings(request: HttpRequest) -> HttpResponse:
    """The devices that get the morning notification, and a button to add this one."""
    user = cast(User, request.user)
    context = {
        "subscriptions": selectors.push_subscriptions(user=user),
        "public_key": vapid.public_key(),
        "hour": f"{user.digest_hour:02d}:00",
    }
    return render(request, "pwa/push_settings.html", context)


@require_POST
@login_required
def push_subscribe(request: HttpRequest) -> HttpResponse:
    """The browser's subscription (static/js/push.js posts what PushManager.subscribe gave it)."""
    if request.content_type != "application/json":
        return JsonResponse({"ok": False, "error": "Send the subscription as JSON."}, status=400)
    try:
        data = json.loads(request.body)
        endpoint, keys = str(data["endpoint"]), data["keys"]
        p256dh, auth = str(keys["p256dh"]), str(keys["auth"])
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"ok": False, "error": "Not a push subscription."}, status=400)
    try:
        subscription = services.subscription_save(
            user=cast(User, request.user),
            endpoint=endpoint,
            p256dh=p256dh,
            auth=auth,
            device=device_name(request.headers.get("User-Agent", "")),
        )
    except ValidationError as exc:
        return JsonResponse({"ok": False, "error": " ".join(exc.messages)}, status=400)
    messages.success(request, f"Notifications turned on for {subscription.device}.")
    return JsonResponse({"ok": True, "id": subscription.pk}, status=201)


@require_POST
@login_required
def push_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = get_object_or_404(selectors.push_subscriptions(user=cast(User, request.user)), pk=pk)
    services.subscription_revoke(subscription=subscription)
    messages.success(request, f"Notifications turned off on {subscription.device or 'that device'}.")
    return redirect("pwa:settings")
