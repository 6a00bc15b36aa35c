"""Rapport as an installed phone app, in Debian's Chromium: installable, readable offline, a quick
log kept on the phone and sent exactly once, and nothing left behind for the next user.

Every page is audited on the way (axe, console, HTML checker: see browser.py). "Offline" is
Chromium's own network emulation (``context.set_offline``), which also cuts the service worker off.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import Browser, Dialog, Page, Route, expect
from pytest_django.live_server_helper import LiveServer

from crm.models import Membership, User
from interactions.models import FollowUp, Interaction
from people.models import Person
from reminders.services import follow_up_create
from tests.e2e.browser import CHROMIUM, CHROMIUM_ARGS, Visitor, log_in
from tests.factories import MembershipFactory, PersonFactory, UserFactory, WorkspaceFactory

SHELL_INSTALL_MS = 60_000
TUESDAY = datetime(2026, 3, 17, 10, 42, tzinfo=ZoneInfo("Europe/London"))


@pytest.fixture
def on_tuesday() -> Iterator[date]:
    with time_machine.travel(TUESDAY, tick=True):
        yield TUESDAY.date()


@pytest.fixture
def seller(db: None, on_tuesday: date) -> User:
    """Sam, whose customer Ada is to be followed up today."""
    workspace = WorkspaceFactory(name="Seller's workspace")
    user = UserFactory(email="sam@example.com", display_name="Sam Seller", current_workspace=workspace)
    MembershipFactory(workspace=workspace, user=user, role=Membership.Role.OWNER)
    ada = PersonFactory(workspace=workspace, first_name="Ada", last_name="Lovelace", owner=user)
    follow_up_create(person=ada, due_on=on_tuesday, note="Send the brochure")
    return user


def _controlled(page: Page) -> None:
    """Wait until the service worker is active and controls this page (it claims the page).

    Installing fetches the whole app shell first: on a busy CI machine that can outlast
    Playwright's default wait, so this one waits longer. It is a bound, not a measure."""
    page.wait_for_function("() => navigator.serviceWorker.ready.then(() => true)", timeout=SHELL_INSTALL_MS)
    if not page.evaluate("() => !!navigator.serviceWorker.controller"):
        page.wait_for_function("() => !!navigator.serviceWorker.controller", timeout=SHELL_INSTALL_MS)


def _on_the_phone(visit: Callable[..., Visitor], user: User) -> Visitor:
    """The user signed in on a phone-width browser whose service worker controls the page."""
    me = visit(phone=True)
    log_in(me, user.email)
    _controlled(me.page)
    return me


def _cache_names(page: Page) -> list[str]:
    return sorted(page.evaluate("() => caches.keys()"))


def test_it_is_installable_and_its_worker_controls_the_page(
    visit: Callable[..., Visitor], seller: User, on_tuesday: date
) -> None:
    me = _on_the_phone(visit, seller)
    page = me.page

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


def test_this_week_and_a_person_page_read_offline_marked_as_of_when(
    visit: Callable[..., Visitor], seller: User, on_tuesday: date
) -> None:
    ada = Person.objects.get(first_name="Ada")
    me = _on_the_phone(visit, seller)
    page = me.page
    me.goto("/")  # now through the worker, which keeps it
    me.goto(ada.get_absolute_url())
    expect(page.locator("#rp-offline")).to_be_hidden()

    me.context.set_offline(True)
    me.goto("/")
    banner = page.get_by_role("status").filter(has_text="Offline")
    expect(banner).to_have_text(re.compile(r"^Offline, as of \d\d:\d\d\. What you log is kept on this phone"))
    expect(page.get_by_role("heading", name="This week")).to_be_visible()
    page.get_by_role("link", name="Ada Lovelace").first.click()
    me.audit()
    expect(page.get_by_role("heading", name="Ada Lovelace")).to_be_visible()
    expect(banner).to_be_visible()

    response = page.goto("/people/")  # never visited: the worker says so and lists what it has
    assert response is not None
    assert response.headers["x-rapport-offline"] == "1"
    me.audit()
    expect(page.get_by_role("heading", name="You are offline")).to_be_visible()
    expect(page.get_by_role("link", name="Ada Lovelace")).to_be_visible()
    expect(page.get_by_role("link", name="This week")).to_be_visible()


def _quick_log_offline(me: Visitor, summary: str) -> None:
    page = me.page
    page.get_by_role("region", name="To do").get_by_role("link", name="Log it").click()
    dialog = page.get_by_role("dialog", name="Log a conversation")
    expect(dialog.get_by_label("With")).to_have_value(str(Person.objects.get(first_name="Ada").pk))
    dialog.get_by_label("Summary").fill(summary)
    dialog.get_by_role("button", name="Log it").click()
    expect(dialog).to_be_hidden()


def test_a_quick_log_made_offline_is_sent_exactly_once_back_online(
    visit: Callable[..., Visitor], seller: User, on_tuesday: date
) -> None:
    me = _on_the_phone(visit, seller)
    page = me.page
    me.goto("/")

    me.context.set_offline(True)
    _quick_log_offline(me, "Visited the shop, no signal there")
    kept = page.get_by_role("region", name=re.compile("^Kept on this phone"))
    expect(kept).to_contain_text("Kept on this phone: 1 waiting to send.")
    expect(kept).to_contain_text("Waiting to send Call with Ada Lovelace: Visited the shop, no signal there")
    assert not Interaction.objects.exists()

    page.reload()  # still offline: the page from the phone, the entry still waiting
    me.audit()
    expect(kept).to_contain_text("1 waiting to send")

    # Back online, the server stumbles once (500): the entry keeps waiting and goes again.
    posts: list[str] = []

    def stumble_once(route: Route) -> None:
        posts.append(route.request.post_data or "")
        if len(posts) == 1:
            route.fulfill(status=500, body="Server Error")
        else:
            route.continue_()

    me.context.route("**/interactions/quick/", stumble_once)
    me.context.set_offline(False)
    expect(kept).to_be_hidden(timeout=30_000)
    # The browser logs the 500 it was answered: expected here, and only here.
    me.problems[:] = [p for p in me.problems if "status of 500" not in p]
    assert len(posts) >= 2
    logged = Interaction.objects.get()
    assert logged.summary == "Visited the shop, no signal there"
    assert logged.kind == "call"
    assert all(f"quick-client_id={logged.client_id}" in post for post in posts)

    page.reload()  # nothing left to send: nothing is sent again
    me.audit()
    expect(page.get_by_role("region", name="Recent conversations")).to_contain_text("Visited the shop, no signal there")
    assert Interaction.objects.count() == 1


def test_done_offline_is_sent_once_and_a_log_for_someone_archived_meanwhile_is_kept_with_why(
    visit: Callable[..., Visitor], seller: User, on_tuesday: date
) -> None:
    ada = Person.objects.get(first_name="Ada")
    me = _on_the_phone(visit, seller)
    page = me.page
    me.goto("/")

    me.context.set_offline(True)
    row = page.get_by_role("region", name="To do").get_by_role("listitem").filter(has_text="Ada Lovelace")
    row.get_by_role("button", name="Done").click()
    expect(row.get_by_role("button", name="Waiting to send")).to_be_disabled()
    _quick_log_offline(me, "Left the brochure at reception")
    kept = page.get_by_role("region", name=re.compile("^Kept on this phone"))
    expect(kept).to_contain_text("2 waiting to send")
    Person.objects.filter(pk=ada.pk).update(archived_at=timezone.now())  # a teammate archives her meanwhile

    me.context.set_offline(False)
    expect(kept).to_contain_text("Kept on this phone: 1 could not be sent.")
    failed = kept.get_by_role("listitem")
    expect(failed).to_contain_text("Could not send Call with Ada Lovelace: Left the brochure at reception")
    expect(failed).to_contain_text("Ada Lovelace was archived meanwhile: restore them, or log it with someone else.")
    # The browser logs the refusal it was answered: expected here.
    me.problems[:] = [p for p in me.problems if "status of 400" not in p]
    follow_up = FollowUp.objects.get()
    assert follow_up.done_at is not None
    assert not Interaction.objects.exists()

    page.reload()  # what could not be sent stays, to fix or copy
    me.audit()
    expect(failed).to_contain_text("Left the brochure at reception")
    page.once("dialog", lambda dialog: dialog.accept())
    failed.get_by_role("button", name="Discard").click()
    expect(kept).to_be_hidden()


def test_logging_out_clears_the_saved_pages_and_the_queue_after_a_warning(
    visit: Callable[..., Visitor], seller: User, on_tuesday: date
) -> None:
    me = visit()
    page = me.page
    log_in(me, seller.email)
    _controlled(page)
    me.goto("/")
    me.goto(Person.objects.get(first_name="Ada").get_absolute_url())
    assert "rapport-pages" in _cache_names(page)
    me.goto("/")
    me.context.route("**/interactions/quick/", lambda route: route.fulfill(status=503, body="Down"))
    me.context.set_offline(True)
    _quick_log_offline(me, "Asked about the invoice")
    me.context.set_offline(False)
    kept = page.get_by_role("region", name=re.compile("^Kept on this phone"))
    expect(kept).to_contain_text("1 waiting to send")

    warnings: list[str] = []

    def answer(dialog: Dialog) -> None:
        warnings.append(dialog.message)
        dialog.dismiss() if len(warnings) == 1 else dialog.accept()

    page.on("dialog", answer)
    page.get_by_role("button", name="Sam Seller").click()
    with page.expect_event("dialog"):
        page.get_by_role("button", name="Log out").click()
    expect(kept).to_contain_text("1 waiting to send")  # said no: still here, still logged in
    assert warnings == ["1 entry was not sent yet and will be deleted from this phone. Go on?"]

    page.get_by_role("button", name="Sam Seller").click()
    with page.expect_event("dialog"):
        page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("link", name="Log in")).to_be_visible()
    me.audit()
    # With a route set, Playwright reports the login page the logout redirected to under the
    # logout's address. It is the login page, audited just now.
    me.audited.add(me.navigations[-1].url)
    assert len(warnings) == 2
    assert [n for n in _cache_names(page) if not n.startswith("rapport-static-")] == []
    queue = page.evaluate("() => RapportOutbox.all().then(rows => rows.length)")
    assert queue == 0
    me.problems[:] = [p for p in me.problems if "status of 503" not in p]


def test_the_installed_app_on_a_phone_and_its_notification_settings(
    visit: Callable[..., Visitor], seller: User, on_tuesday: date
) -> None:
    """Screenshots of the installed app (standalone, phone width) for the README, and the
    notification settings page audited like every other."""
    me = _on_the_phone(visit, seller)
    page = me.page
    # The installed app shows the page and nothing else (no address bar): what a headless
    # screenshot holds. Chromium's CDP cannot emulate (display-mode: standalone), and Rapport's
    # CSS does not depend on it, so the picture is the same.
    me.goto("/?source=app")  # the manifest's start_url
    me.screenshot("app")

    me.context.set_offline(True)
    me.goto("/")
    _quick_log_offline(me, "Visited the shop, no signal there")
    expect(page.get_by_role("region", name=re.compile("^Kept on this phone"))).to_contain_text("1 waiting to send")
    page.evaluate("() => window.scrollTo(0, 0)")
    me.screenshot("app-offline")
    me.context.route("**/interactions/quick/", lambda route: route.fulfill(status=503, body="Down"))
    me.context.set_offline(False)

    me.goto("/settings/")
    page.get_by_role("link", name="Notifications on your phone").click()
    me.audit()
    expect(page.get_by_role("heading", name="Notifications on your devices")).to_be_visible()
    expect(page.get_by_role("button", name="Turn on for this device")).to_be_enabled()
    expect(page.get_by_text("No device gets notifications yet.")).to_be_visible()
    me.problems[:] = [p for p in me.problems if "status of 503" not in p]
