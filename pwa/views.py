"""The installable app: its manifest and its service worker, both at the site's root."""

from __future__ import annotations

import json

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from pwa import shell

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
