"""The installable app's files: the manifest and the service worker at the site's root."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.test import Client
from PIL import Image
from pytest_django.fixtures import Settings

from pwa import shell


def test_the_manifest_makes_rapport_installable_at_this_week(client: Client) -> None:
    response = client.get("/manifest.webmanifest")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = response.json()
    assert manifest["short_name"] == "Rapport"
    assert manifest["start_url"].startswith("/")
    assert manifest["display"] == "standalone"
    assert manifest["theme_color"] == "#4f46e5"
    sizes = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]}
    assert sizes == {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")}


def test_the_icons_are_the_sizes_they_say(client: Client) -> None:
    folder = Path(settings.BASE_DIR) / "static" / "img" / "icons"
    for icon in client.get("/manifest.webmanifest").json()["icons"]:
        with Image.open(folder / Path(icon["src"]).name) as image:
            assert f"{image.width}x{image.height}" == icon["sizes"]
    with Image.open(folder / "apple-touch-icon.png") as apple:
        assert apple.size == (180, 180)
        assert apple.mode == "RGB"  # iOS shows transparency as black


def test_the_worker_is_served_from_the_root_never_cached(client: Client) -> None:
    response = client.get("/sw.js")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    assert response["Cache-Control"] == "no-cache"
    body = response.content.decode()
    assert f'"version": "{shell.version()}"' in body
    assert "/static/css/app.css" in body


def test_a_deploy_version_names_the_cache(client: Client, settings: Settings) -> None:
    shell.version.cache_clear()
    settings.PWA_VERSION = "2026.12.1"
    try:
        assert '"version": "2026.12.1"' in client.get("/sw.js").content.decode()
    finally:
        shell.version.cache_clear()


def test_every_page_links_the_manifest_and_the_worker(owner_client: Client) -> None:
    page = owner_client.get("/").content.decode()

    assert '<link rel="manifest" href="/manifest.webmanifest">' in page
    assert 'data-sw="/sw.js"' in page
    assert "/static/js/pwa.js" in page
