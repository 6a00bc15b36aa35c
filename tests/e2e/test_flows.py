"""What a new user does in the browser, step by step, each page audited on the way
(axe-core, console, valid HTML: see browser.py)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from email.message import Message
from io import StringIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from crm.models import Membership, User
from interactions.models import FollowUp, Promise
from people.models import Person
from reminders.services import follow_up_create
from tests.e2e.browser import Visitor, field, log_in
from tests.factories import PASSWORD, CompanyFactory, MembershipFactory, PersonFactory, UserFactory, WorkspaceFactory
from tests.processes import wait_for

# A Sunday: the dashboard's "week ahead" then runs to next Sunday, so a follow-up next week is
# on it. Time ticks on from there, in this process (the live server) only.
SUNDAY = datetime(2026, 3, 15, 9, 30, tzinfo=ZoneInfo("Europe/London"))
TODAY = SUNDAY.date()
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "vcard"


@pytest.fixture
def on_sunday() -> Iterator[date]:
    with time_machine.travel(SUNDAY, tick=True):
        yield TODAY


def _fill_partial_date(visitor: Visitor, prefix: str, day: int, month: str, year: int | None = None) -> None:
    visitor.page.locator(f"[name={prefix}_day]").fill(str(day))
    visitor.page.locator(f"[name={prefix}_month]").select_option(label=month)
    if year:
        visitor.page.locator(f"[name={prefix}_year]").fill(str(year))


def test_it_signs_up_and_records_a_person_with_family_pets_and_preferences(
    visit: Callable[..., Visitor], on_sunday: date, mail_worker: list[Message]
) -> None:
    me = visit()
    page = me.page
    me.goto("/")
    page.get_by_role("link", name="Sign up").click()
    me.audit()
    field(me, "Your name").fill("Sam Seller")
    field(me, "Email").fill("sam@example.com")
    field(me, "Password").fill(PASSWORD)
    field(me, "Password confirmation").fill(PASSWORD)
    expect(field(me, "Time zone")).to_have_value("Europe/London")  # app.js presets the browser's zone
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Check your email to continue")).to_be_visible()
    me.audit()
    confirmation = wait_for(
        lambda: next((m for m in mail_worker if m["To"] == "sam@example.com"), None), what="the confirmation email"
    )
    mail_worker.remove(confirmation)  # the list is the package's: later tests look for sam's digest in it
    assert confirmation["Subject"] == "Confirm your email to finish signing up for Rapport"
    me.goto(_link_in(confirmation, r"http://127\.0\.0\.1:\d+/signup/confirm/\S+/"))
    field(me, "Your password").fill(PASSWORD)
    page.get_by_role("button", name="Create my account").click()
    expect(page.get_by_text("Welcome to Rapport!")).to_be_visible()
    expect(page.get_by_text("Your book of customers is empty")).to_be_visible()
    me.audit()

    page.get_by_role("link", name="Add a person").first.click()
    me.audit()
    field(me, "First name").fill("Ada")
    field(me, "Last name").fill("Lovelace")
    field(me, "Company").fill("Analytical Engines Ltd")
    field(me, "Job title").fill("Head of Computing")
    _fill_partial_date(me, "birthday", 20, "March")  # no year: five days from "today"
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Ada Lovelace")).to_be_visible()
    me.audit()
    ada = Person.objects.get(first_name="Ada")
    assert (ada.birthday_day, ada.birthday_month, ada.birthday_year) == (20, 3, None)

    page.get_by_role("region", name="Family").get_by_role("link", name="Edit").click()
    me.audit()
    page.locator("[name=items-0-relation]").select_option(label="Spouse")
    page.locator("[name=items-0-name]").fill("William King")
    page.get_by_role("button", name="Save").click()
    me.audit()
    page.get_by_role("region", name="Family").get_by_role("link", name="Edit").click()
    me.audit()
    page.locator("[name=items-1-relation]").select_option(label="Child")
    page.locator("[name=items-1-name]").fill("Byron")
    _fill_partial_date(me, "items-1-birthday", 12, "May", 2016)
    page.locator("[name=items-1-interests]").fill("mathematics, horses")
    page.get_by_role("button", name="Save").click()
    me.audit()

    page.get_by_role("region", name="Pets").get_by_role("link", name="Edit").click()
    me.audit()
    field(me, "Name").fill("Max")
    field(me, "Species").fill("dog")
    page.get_by_role("button", name="Save").click()
    me.audit()

    page.get_by_role("region", name="How they want to be treated").get_by_role("link", name="Edit").click()
    me.audit()
    field(me, "Preferred channel").select_option(label="Phone")
    field(me, "Best time").fill("weekday mornings")
    field(me, "Stay in touch every").fill("3")
    field(me, "Unit").select_option(label="weeks")
    field(me, "Likes").fill("Early music")
    page.get_by_role("button", name="Save preferences").click()
    expect(page.get_by_text("Preferences of Ada Lovelace saved.")).to_be_visible()
    me.audit()

    family = page.get_by_role("region", name="Family")
    expect(family).to_contain_text("William King, spouse")
    expect(family).to_contain_text("Byron, child")
    expect(family).to_contain_text("Into mathematics, horses")
    expect(page.get_by_role("region", name="Pets")).to_contain_text("Max, dog")
    expect(page.get_by_role("region", name="Dates")).to_contain_text("Birthday: 20 March")
    prefs = page.get_by_role("region", name="How they want to be treated")
    expect(prefs).to_contain_text("Phone, weekday mornings")
    expect(prefs).to_contain_text("every 3 weeks")

    page.get_by_role("link", name="This week").click()
    me.audit()
    expect(page.get_by_role("region", name="Dates in the next two weeks")).to_contain_text("Fri 20 Mar")


@pytest.fixture
def seller(db: None) -> User:
    """A user with a workspace of their own and one customer in it, Ada."""
    workspace = WorkspaceFactory(name="Seller's workspace")
    user = UserFactory(email="sam@example.com", display_name="Sam Seller", current_workspace=workspace)
    MembershipFactory(workspace=workspace, user=user, role=Membership.Role.OWNER)
    company = CompanyFactory(workspace=workspace, name="Analytical Engines Ltd")
    PersonFactory(workspace=workspace, first_name="Ada", last_name="Lovelace", company=company, owner=user)
    return user


def test_it_quick_logs_a_call_from_the_keyboard_and_works_the_follow_up_on_the_dashboard(
    visit: Callable[..., Visitor], seller: User, on_sunday: date
) -> None:
    me = visit()
    page = me.page
    log_in(me, seller.email)
    next_week = on_sunday + timedelta(days=3)

    page.keyboard.press("l")
    dialog = page.get_by_role("dialog", name="Log a conversation")
    expect(dialog).to_be_visible()
    me.audit()
    page.keyboard.type("Ada")
    expect(dialog.locator("datalist option")).to_have_count(1)
    page.keyboard.press("Enter")  # picks the suggestion
    expect(dialog.get_by_label("With")).to_have_value(str(Person.objects.get(first_name="Ada").pk))
    page.keyboard.press("Tab")
    expect(dialog.get_by_label("Kind")).to_be_focused()
    expect(dialog.get_by_label("Kind")).to_have_value("call")
    page.keyboard.press("Tab")
    # The date is typed as the user writes dates (signed up from an en-GB browser: dd/mm/yyyy),
    # not as Chromium's own date field would lay it out (issue 16).
    page.keyboard.type(next_week.strftime("%d/%m/%Y"))
    expect(dialog.get_by_label("Follow up on")).to_have_value(next_week.strftime("%d/%m/%Y"))
    page.keyboard.press("Tab")  # the date field's calendar button
    page.keyboard.press("Tab")  # the follow-up date chips: one tab stop (test_quick_log_details.py)
    expect(
        dialog.get_by_role("toolbar", name="Follow up").get_by_role("button", name=re.compile("^Tomorrow"))
    ).to_be_focused()
    page.keyboard.press("Tab")
    expect(field(me, "Summary")).to_be_focused()
    page.keyboard.type("Asked about the new engine")
    page.keyboard.press("Tab")
    expect(field(me, "I promised")).to_be_focused()
    page.keyboard.type("Send the quote")
    me.audit()
    page.keyboard.press("Enter")

    expect(page.get_by_text("Logged call with Ada Lovelace. Follow-up on 18 Mar.")).to_be_visible()
    me.audit()
    todo = page.get_by_role("region", name="To do")
    item = todo.get_by_role("listitem").filter(has_text="Ada Lovelace")
    expect(item).to_contain_text("Follow up")
    expect(item).to_contain_text("Wednesday")
    expect(page.get_by_role("region", name="Open promises")).to_contain_text(
        "You promised Send the quote · Ada Lovelace"
    )
    expect(page.get_by_role("region", name="Recent conversations")).to_contain_text("Asked about the new engine")

    item.get_by_role("button", name="Snooze").click()
    item.get_by_role("button", name="1 week").click()
    expect(item).to_contain_text("Snoozed to Sun 22 Mar.")  # the row stays, with its new day
    expect(item).to_contain_text("Sunday")
    page.reload()
    me.audit()
    expect(item).to_contain_text("Sunday")  # a week from today: still on this week's page
    follow_up = FollowUp.objects.get()
    assert follow_up.snoozed_until == on_sunday + timedelta(days=7)

    item.get_by_role("button", name="Done").click()
    expect(item).to_contain_text("Done: follow-up with Ada Lovelace.")
    page.reload()
    me.audit()
    expect(todo).to_contain_text("Nothing else this week.")
    assert not FollowUp.objects.filter(done_at__isnull=True).exists()
    assert Promise.objects.get().text == "Send the quote"


def test_it_snoozes_a_friday_follow_up_by_a_day_undoes_it_and_marks_it_done(
    visit: Callable[..., Visitor], seller: User
) -> None:
    friday = datetime(2026, 3, 20, 9, 30, tzinfo=ZoneInfo("Europe/London"))
    with time_machine.travel(friday, tick=True):
        follow_up = follow_up_create(person=Person.objects.get(first_name="Ada"), due_on=friday.date(), note="Quote")
        me = visit()
        page = me.page
        log_in(me, seller.email)
        todo = page.get_by_role("region", name="To do")
        item = todo.get_by_role("listitem").filter(has_text="Ada Lovelace")
        expect(item).to_contain_text("today")

        item.get_by_role("button", name="Snooze").click()
        item.get_by_role("button", name="1 day").click()
        expect(item).to_contain_text("Snoozed to Sat 21 Mar.")  # still there, with its new day
        expect(item).to_contain_text("Saturday")
        undo = item.get_by_role("button", name="Undo")
        expect(undo).to_be_visible()
        assert undo.is_visible()
        me.audit()
        undo.click()
        expect(item).to_contain_text("Undone: due Fri 20 Mar again.")
        expect(item.get_by_role("button", name="Undo")).to_have_count(0)
        expect(item).to_contain_text("today")
        follow_up.refresh_from_db()
        assert follow_up.snoozed_until is None
        page.reload()
        me.audit()
        expect(item).to_contain_text("today")  # the reload agrees: back on today

        item.get_by_role("button", name="Snooze").click()
        item.get_by_role("button", name="1 day").click()
        expect(item).to_contain_text("Snoozed to Sat 21 Mar.")
        page.reload()
        me.audit()
        expect(item).to_contain_text("Saturday")  # in the rest of the week, as the row said
        expect(todo).to_contain_text("Nothing due today.")

        item.get_by_role("button", name="Done").click()
        expect(item).to_contain_text("Done: follow-up with Ada Lovelace.")
        expect(item.get_by_role("button", name="Undo")).to_be_visible()
        expect(item.get_by_role("button", name="Done")).to_have_count(0)
        me.audit()
        page.reload()
        me.audit()
        expect(item).to_have_count(0)  # done: off the list, as the row said
        expect(todo).to_contain_text("Nothing else this week.")
        follow_up.refresh_from_db()
        assert follow_up.done_at is not None


def test_it_finds_a_person_by_a_fragment_of_their_company_and_exports_the_result(
    visit: Callable[..., Visitor], seller: User
) -> None:
    PersonFactory(workspace=seller.current_workspace, first_name="Charles", last_name="Babbage")
    me = visit()
    page = me.page
    log_in(me, seller.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="People").click()
    me.audit()
    results = page.locator("#people-results")
    expect(results).to_contain_text("2 people")

    field(me, "Search").fill("ytical eng")  # a fragment from the middle of "Analytical Engines Ltd"
    expect(results).to_contain_text("1 person")
    expect(results).to_contain_text("Ada Lovelace")
    expect(results).not_to_contain_text("Charles Babbage")
    expect(page).to_have_url(re.compile(r"/people/\?q=ytical%20eng"))
    me.audit()
    page.reload()  # the address htmx put in the bar shows the same list
    expect(results).to_contain_text("1 person")
    me.audit()

    page.get_by_role("link", name="Export").click()
    expect(page.get_by_role("heading", name="People (the filtered list)")).to_be_visible()
    me.audit()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download vCard").click()
    vcard = download.value.path().read_text()
    assert download.value.suggested_filename.endswith(".vcf")
    assert "FN:Ada Lovelace" in vcard
    assert "ORG:Analytical Engines Ltd" in vcard
    assert "Babbage" not in vcard
    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    rows = download.value.path().read_text().splitlines()
    assert len(rows) == 2
    assert "Ada" in rows[1]
    assert "Analytical Engines Ltd" in rows[1]


def test_it_searches_everything_from_the_top_bar_with_the_slash_key(
    visit: Callable[..., Visitor], seller: User
) -> None:
    from interactions import services as interaction_services

    ada = Person.objects.get(first_name="Ada")
    interaction_services.need_open(person=ada, title="Cheaper shipping to Abuja")
    interaction_services.promise_create(person=ada, text="Send the Abuja warehouse rates")
    me = visit()
    page = me.page
    log_in(me, seller.email)

    page.keyboard.press("/")  # from anywhere on the page, straight into the box
    box = page.locator("#site-search")
    expect(box).to_be_focused()
    page.keyboard.type("abuja")
    dropdown = page.locator("#site-search-results")
    expect(dropdown).to_contain_text("Cheaper shipping to Abuja")  # as you type
    expect(dropdown).to_contain_text("Send the Abuja warehouse rates")
    me.audit()
    page.keyboard.press("Escape")
    expect(dropdown).to_be_hidden()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Search results for “abuja”")).to_be_visible()
    expect(page.locator("#search-needs")).to_contain_text("Cheaper shipping to Abuja")
    expect(page.locator("#search-promises")).to_contain_text("Send the Abuja warehouse rates")
    expect(page.locator("#search-people")).to_contain_text("No people match")
    me.audit()
    page.get_by_role("link", name="Cheaper shipping to Abuja").click()
    expect(page.get_by_role("heading", name="Cheaper shipping to Abuja")).to_be_visible()
    me.audit()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="People").click()
    me.audit()
    field(me, "Search").fill("abuja")  # nobody is called that, but it is written about Ada
    expect(page.locator("#note-mentions")).to_contain_text("Ada Lovelace (need, promise)")
    me.audit()


def _link_in(message: Message, pattern: str) -> str:
    text = next(part for part in message.walk() if part.get_content_type() == "text/plain")
    body = text.get_payload(decode=True).decode()
    return re.search(pattern, body).group(0)


def test_it_invites_a_teammate_who_joins_and_logs_in(
    visit: Callable[..., Visitor], seller: User, mail_worker: list[Message]
) -> None:
    me = visit()
    page = me.page
    log_in(me, seller.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Team").click()
    me.audit()
    field(me, "Teammate's email").fill("tess@example.com")
    page.get_by_role("button", name="Send invitation").click()
    expect(
        page.get_by_text("Invitation to tess@example.com queued: it will be sent shortly. The link works for 7 days.")
    ).to_be_visible()
    me.audit()

    invitation = wait_for(
        lambda: next((m for m in mail_worker if m["To"] == "tess@example.com"), None), what="the invitation email"
    )
    assert "invited you to Seller's workspace" in invitation["Subject"]
    link = _link_in(invitation, r"http://127\.0\.0\.1:\d+/invite/\S+/")

    tess = visit()
    tess.goto(link)
    expect(tess.page.get_by_role("heading", name="Join “Seller's workspace”")).to_be_visible()
    tess.page.get_by_role("link", name="Create an account to join").click()
    tess.audit()
    expect(field(tess, "Email")).to_have_value("tess@example.com")
    expect(field(tess, "Email")).to_be_disabled()  # the invited address, and only it
    field(tess, "Your name").fill("Tess Teammate")
    field(tess, "Password").fill(PASSWORD)
    field(tess, "Password confirmation").fill(PASSWORD)
    tess.page.get_by_role("button", name="Sign up").click()
    # Confirmed by an email to the invited address, as every sign-up is.
    expect(tess.page.get_by_role("heading", name="Check your email to continue")).to_be_visible()
    confirmation = wait_for(
        lambda: next((m for m in mail_worker if m["To"] == "tess@example.com" and "Confirm" in m["Subject"]), None),
        what="the confirmation email",
    )
    tess.goto(_link_in(confirmation, r"http://127\.0\.0\.1:\d+/signup/confirm/\S+/"))
    field(tess, "Your password").fill(PASSWORD)
    tess.page.get_by_role("button", name="Create my account").click()
    expect(tess.page.get_by_text("Welcome to Rapport! You joined “Seller's workspace”.")).to_be_visible()
    tess.audit()

    tess.page.get_by_role("button", name="Tess Teammate").click()
    tess.page.get_by_role("button", name="Log out").click()
    # The phone's kept pages are cleared before the form goes (static/js/pwa.js): the login
    # page comes a moment after the click.
    expect(tess.page.get_by_role("heading", name="Log in to Rapport")).to_be_visible()
    tess.audit()
    log_in(tess, "tess@example.com")
    tess.page.get_by_role("navigation", name="Main").get_by_role("link", name="People").click()
    tess.audit()
    expect(tess.page.locator("#people-results")).to_contain_text("Ada Lovelace")
    joined = Membership.objects.get(user__email="tess@example.com", workspace=seller.current_workspace)
    assert joined.role == Membership.Role.MEMBER

    page.reload()
    expect(page.get_by_role("region", name="Members")).to_contain_text("Tess Teammate")
    me.audit()


def test_it_switches_to_a_weekly_digest_and_sends_a_test_digest(
    visit: Callable[..., Visitor], seller: User, mail_worker: list[Message]
) -> None:
    User.objects.filter(pk=seller.pk).update(digest=User.Digest.DAILY)
    ada = Person.objects.get(first_name="Ada")
    follow_up_create(person=ada, due_on=timezone.localdate(), note="Call about the quote", user=seller)
    me = visit()
    page = me.page
    log_in(me, seller.email)
    page.get_by_role("button", name="Sam Seller").click()
    page.get_by_role("link", name="Settings").click()
    me.audit()
    expect(field(me, "On (weekly)")).to_be_hidden()  # a daily digest has no day to choose
    field(me, "Email digest").select_option(label="Weekly")
    expect(field(me, "On (weekly)")).to_be_visible()
    field(me, "On (weekly)").select_option(label="Friday")
    field(me, "At").select_option(label="07:00")
    page.get_by_role("button", name="Save settings").click()
    me.audit()
    # Whatever day the test runs on, the page says when the first weekly digest comes.
    next_digest = re.compile(r"Settings saved\. Next digest: (today|tomorrow|Friday \d+ [A-Z][a-z]+) 07:00 \(")
    expect(page.get_by_text(next_digest)).to_be_visible()
    seller.refresh_from_db()
    assert (seller.digest, seller.digest_weekday, seller.digest_hour) == (User.Digest.WEEKLY, 4, 7)

    page.get_by_role("link", name="Preview the next digest").click()
    me.audit()
    page.go_back()
    page.get_by_role("button", name="Send me a test digest now").click()
    expect(page.get_by_text("A test digest to sam@example.com is queued: it will be sent shortly.")).to_be_visible()
    me.audit()
    digest = wait_for(
        lambda: next((m for m in mail_worker if m["To"] == "sam@example.com"), None), what="the test digest"
    )
    page.reload()
    expect(page.get_by_text("Test: Sent")).to_be_visible()
    me.audit()

    html = next(part for part in digest.walk() if part.get_content_type() == "text/html")
    for visitor in (me, visit(phone=True)):
        visitor.show_email(html.get_payload(decode=True).decode())
        expect(visitor.page.get_by_role("link", name="Ada Lovelace")).to_be_visible()
        visitor.screenshot("digest")


@pytest.fixture
def demo(db: None) -> Person:
    """The demo workspace of `make run`; returns the person whose page shows the most."""
    call_command("seed_demo", stdout=StringIO())
    people = Person.objects.filter(family__isnull=False, pets__isnull=False).distinct()

    def shows(person: Person) -> tuple[bool, bool, bool, int]:
        return (
            person.birthday_month is not None,
            person.promises.filter(kept_at__isnull=True).exists(),
            person.follow_ups.filter(done_at__isnull=True).exists(),
            person.interactions.count(),
        )

    return max(people.order_by("pk"), key=shows)


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_it_fits_the_screen_and_logs_from_the_top_bar(visit: Callable[..., Visitor], demo: Person, phone: bool) -> None:
    """Nothing scrolls sideways, even at 375 px, and the quick log fits; the screenshots of both
    widths land in var/screenshots/ (docs/ keeps copies of the dashboard and person page)."""
    me = visit(phone=phone)
    page = me.page
    log_in(me, "demo@example.com", "demo")
    pages = [("dashboard", "/"), ("people", "/people/"), ("person", demo.get_absolute_url())]
    for name, path in pages:
        me.goto(path)
        overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
        me.screenshot(name)
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at {page.viewport_size['width']}px"

    page.get_by_role("navigation", name="Main").get_by_role("link", name=re.compile(r"^Log\b")).click()
    dialog = page.get_by_role("dialog", name="Log a conversation")
    expect(dialog).to_be_visible()
    box = dialog.locator(".modal-content").bounding_box()
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= page.viewport_size["width"]
    me.audit()
    search = dialog.get_by_label("Search people by name")
    search.fill(demo.full_name)
    expect(dialog.locator("datalist option").first).to_have_attribute(
        "value", re.compile(f"^{re.escape(demo.full_name)}")
    )
    search.press("Enter")  # picks the first suggestion
    field(me, "Summary").fill("Quick hello from the car park")
    me.screenshot("quick-log")
    dialog.get_by_role("button", name="Log it").click()
    expect(page.get_by_text(f"Logged call with {demo.full_name}.")).to_be_visible()
    me.audit()
    assert demo.interactions.filter(summary="Quick hello from the car park").exists()


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_it_switches_to_dark_mode_and_every_main_page_reads_well_in_it(
    visit: Callable[..., Visitor], demo: Person, phone: bool
) -> None:
    """Dark mode from the settings switch; axe (contrast included) passes on the main pages in
    it, and their screenshots land in var/screenshots/ as NAME-dark-desktop.png / -phone.png."""
    me = visit(phone=phone)
    page = me.page
    log_in(me, "demo@example.com", "demo")
    # "Follow the system" (the default) on a system that prefers dark: dark from the first paint.
    page.emulate_media(color_scheme="dark")
    me.goto("/")
    expect(page.locator("html")).to_have_attribute("data-bs-theme", "dark")
    page.emulate_media(color_scheme="light")
    me.goto("/settings/")
    expect(page.locator("html")).to_have_attribute("data-bs-theme", "light")

    page.get_by_role("radio", name="Dark").check()
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Settings saved.")).to_be_visible()
    me.audit()
    assert User.objects.get(email="demo@example.com").theme == "dark"
    # Chosen, it holds whatever the system prefers.
    expect(page.locator("html")).to_have_attribute("data-bs-theme", "dark")
    me.screenshot("settings-dark")

    pages = [("dashboard", "/"), ("people", "/people/"), ("person", demo.get_absolute_url())]
    for name, path in pages:
        me.goto(path)
        expect(page.locator("html")).to_have_attribute("data-bs-theme", "dark")
        me.screenshot(f"{name}-dark")


def test_it_imports_a_vcard_file_and_watches_the_progress_bar_finish(
    visit: Callable[..., Visitor], seller: User, mail_worker: list[Message], tmp_path: Path
) -> None:
    from devtools.import_bench import sample_vcards

    me = visit()
    page = me.page
    log_in(me, seller.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="People").click()
    me.audit()
    page.get_by_role("link", name="Import").click()
    expect(page.get_by_role("heading", name="Bring your address book")).to_be_visible()
    me.audit()

    # Google's export from the fixtures: the worker reads it, the page turns into the preview.
    field(me, "vCard, CSV or backup file").set_input_files(
        FIXTURES / "audriga_jmap-php-icalendar_vcard__google_takeout_contacts.vcf"
    )
    page.get_by_role("button", name="Upload and preview").click()
    expect(page.get_by_role("heading", name="Preview: nothing is written yet")).to_be_visible(timeout=60_000)
    me.audit()
    page.get_by_role("button", name=re.compile(r"^Import 9 new")).click()
    expect(page.get_by_text("9 created")).to_be_visible(timeout=60_000)
    me.audit()

    # A bigger book, to see the bar move: each poll shows how far the worker got.
    big = tmp_path / "address-book.vcf"
    big.write_bytes(sample_vcards(5000))
    page.get_by_role("link", name="Import another file").click()
    me.audit()
    field(me, "vCard, CSV or backup file").set_input_files(big)
    page.get_by_role("button", name="Upload and preview").click()
    expect(page.get_by_role("heading", name="Preview: nothing is written yet")).to_be_visible(timeout=60_000)
    page.get_by_role("button", name=re.compile(r"^Import 5000 new")).click()
    bar = page.get_by_role("progressbar", name="Import progress")
    expect(bar).to_be_visible()
    me.audit()
    seen = set()
    deadline = time.monotonic() + 120
    while page.get_by_text("5000 created").count() == 0:
        assert time.monotonic() < deadline, "the import did not finish in two minutes"
        text = page.locator("#import-progress").inner_text() if page.locator("#import-progress").count() else ""
        if match := re.search(r"Importing: (\d+) of 5000", text):
            seen.add(int(match[1]))
        page.wait_for_timeout(200)
    me.audit()
    assert len(seen) >= 2  # the bar moved while we watched
    assert Person.objects.filter(workspace=seller.current_workspace).count() == 1 + 9 + 5000
