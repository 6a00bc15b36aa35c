"""Rapport as an installed phone app, in Debian's Chromium: installable, readable offline, a quick
log kept on the phone and sent exactly once, and nothing left behind for the next user.

Every page is audited on the way (axe, console, HTML checker: see browser.py). "Offline" is
Chromium's own network emulation (``context.set_offline``), which also cuts the service worker off.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from playwright.sync_api import Browser, Page
from pytest_django.live_server_helper import LiveServer

from crm.models import Membership, User
from tests.e2e.browser import CHROMIUM, CHROMIUM_ARGS, Visitor, log_in
from tests.factories import MembershipFactory, PersonFactory, UserFactory, WorkspaceFactory

TUESDAY = datetime(2026, 3, 17, 10, 42, tzinfo=ZoneInfo("Europe/London"))


@pytest.fixture
def on_tuesday() -> Iterator[date]:
    with time_machine.travel(TUESDAY, tick=True):
        yield TUESDAY.date()


@pytest.fixture
def seller(db: None) -> User:
    workspace = WorkspaceFactory(name="Seller's workspace")
    user = UserFactory(email="sam@example.com", display_name="Sam Seller", current_workspace=workspace)
    MembershipFactory(workspace=workspace, user=user, role=Membership.Role.OWNER)
    PersonFactory(workspace=workspace, first_name="Ada", last_name="Lovelace", owner=user)
    return user


def _controlled(page: Page) -> None:
    """Wait until the service worker is active and controls this page (first visit: a reload)."""
    page.wait_for_function("() => navigator.serviceWorker.ready.then(() => true)")
    if not page.evaluate("() => !!navigator.serviceWorker.controller"):
        page.wait_for_function("() => !!navigator.serviceWorker.controller")


def _cache_names(page: Page) -> list[str]:
    return sorted(page.evaluate("() => caches.keys()"))


def test_it_is_installable_and_its_worker_controls_the_page(
    visit: Callable[..., Visitor], seller: User, on_tuesday: date
) -> None:
    me = visit(phone=True)
    page = me.page
    log_in(me, seller.email)
    _controlled(page)

    cdp = me.context.new_cdp_session(page)
    manifest = cdp.send("Page.getAppManifest")
    assert not manifest["errors"], manifest["errors"]
    assert manifest["url"].endswith("/manifest.webmanifest")
    assert '"short_name": "Rapport"' in manifest["data"]
    # Playwright's contexts are incognito, where Chromium installs nothing: that is all it finds.
    errors = [e["errorId"] for e in cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]]
    assert errors == ["in-incognito"]
    for icon in ("icon-192.png", "icon-512.png", "maskable-512.png", "apple-touch-icon.png"):
        response = page.request.get(f"/static/img/icons/{icon}")
        assert response.ok
        assert response.headers["content-type"] == "image/png"

    names = _cache_names(page)
    assert [n for n in names if n.startswith("rapport-static-")], names
    shell = page.evaluate("""async () => {
        const name = (await caches.keys()).find(n => n.startsWith("rapport-static-"));
        return (await (await caches.open(name)).keys()).map(r => new URL(r.url).pathname);
    }""")
    assert "/static/css/app.css" in shell
    assert "/static/js/outbox.js" in shell


def test_chromium_offers_to_install_it(browser: Browser, live_server: LiveServer, tmp_path: Path) -> None:
    """In a browser profile of its own (not incognito), Chromium finds nothing stopping the install."""
    context = browser.browser_type.launch_persistent_context(
        tmp_path / "profile", executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS, base_url=live_server.url
    )
    try:
        page = context.new_page()
        page.goto("/login/")
        _controlled(page)
        cdp = context.new_cdp_session(page)
        assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []
    finally:
        context.close()
