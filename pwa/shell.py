"""What the service worker keeps: the app shell's static files, and the version that names its cache.

The version is a hash of the shell files' contents and of the service worker itself (or
``PWA_VERSION`` when a deploy sets one), so a deploy that changes any of them gives the worker a
new cache name and a new script; the old cache is dropped when the new worker takes over. Pages
are never in the shell: they are fetched from the network first (static/js/sw.js).
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.templatetags.static import static

# Every page's static files, as templates/base.html loads them, and the icons.
SHELL = (
    "vendor/bootstrap-5.3.9/bootstrap.min.css",
    "css/tokens.css",
    "css/app.css",
    "img/favicon.svg",
    "js/theme.js",
    "vendor/bootstrap-5.3.9/bootstrap.bundle.min.js",
    "vendor/htmx-2.0.11/htmx.min.js",
    "js/app.js",
    "js/dates.js",
    "js/follow_up_chips.js",
    "js/outbox.js",
    "js/pwa.js",
    "img/icons/icon-192.png",
    "img/icons/icon-512.png",
    "img/icons/maskable-512.png",
    "img/icons/apple-touch-icon.png",
)
WORKER = "js/sw.js"


def _source(name: str) -> Path:
    found = finders.find(name)
    if not found:
        raise FileNotFoundError(f"static file {name} is missing")
    return Path(found if isinstance(found, str) else found[0])


@functools.cache
def version() -> str:
    """The deploy's version of the shell: ``PWA_VERSION``, else a hash of the files themselves."""
    if settings.PWA_VERSION:
        return settings.PWA_VERSION
    digest = hashlib.sha256()
    for name in (*SHELL, WORKER):
        digest.update(name.encode())
        digest.update(_source(name).read_bytes())
    return digest.hexdigest()[:12]


def shell_urls() -> list[str]:
    """The shell's URLs as pages ask for them (hashed names under the manifest storage)."""
    return [static(name) for name in SHELL]


def worker_source() -> str:
    return _source(WORKER).read_text()
