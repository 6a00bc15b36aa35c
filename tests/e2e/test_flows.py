"""What a new user does in the browser, step by step, each page audited on the way
(axe-core, console, valid HTML: see conftest.py)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from playwright.sync_api import Locator, expect

from crm.models import Membership, User
from interactions.models import Promise
from people.models import Person
from reminders.models import FollowUp
from tests.e2e.conftest import Visitor
from tests.factories import PASSWORD, CompanyFactory, MembershipFactory, PersonFactory, UserFactory, WorkspaceFactory

# A Sunday: the dashboard's "week ahead" then runs to next Sunday, so a follow-up next week is
# on it. Time ticks on from there, in this process (the live server) only.
SUNDAY = datetime(2026, 3, 15, 9, 30, tzinfo=ZoneInfo("Europe/London"))
TODAY = SUNDAY.date()


@pytest.fixture
def on_sunday() -> Iterator[date]:
    with time_machine.travel(SUNDAY, tick=True):
        yield TODAY


def _log_in(visitor: Visitor, email: str, password: str = PASSWORD) -> None:
    visitor.goto("/login/")
    field(visitor, "Email").fill(email)
    field(visitor, "Password").fill(password)
    visitor.page.get_by_role("button", name="Log in").click()
    expect(visitor.page.get_by_role("heading", name="This week")).to_be_visible()
    visitor.audit()


def field(visitor: Visitor, label: str) -> Locator:
    """The form field labelled exactly ``label`` (crispy-forms adds "*" to required ones)."""
    return visitor.page.get_by_label(re.compile(rf"^\s*{re.escape(label)}\s*\*?\s*$"))


def _fill_partial_date(visitor: Visitor, prefix: str, day: int, month: str, year: int | None = None) -> None:
    visitor.page.locator(f"[name={prefix}_day]").fill(str(day))
    visitor.page.locator(f"[name={prefix}_month]").select_option(label=month)
    if year:
        visitor.page.locator(f"[name={prefix}_year]").fill(str(year))


def test_it_signs_up_and_records_a_person_with_family_pets_and_preferences(
    visit: Callable[..., Visitor], on_sunday: date
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
    page.get_by_role("button", name="Sign up").click()
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
    me.screenshot("person")

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
    _log_in(me, seller.email)
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
    # Chromium lays its date field out in the browser's own language (en-US here: mm/dd/yyyy),
    # not the page's; typing moves through its parts.
    page.keyboard.type(next_week.strftime("%m%d%Y"))
    expect(dialog.get_by_label("Follow up on")).to_have_value(next_week.isoformat())
    page.keyboard.press("Tab")  # the date field's calendar button
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
    expect(page.get_by_role("region", name="Open promises")).to_contain_text("I promised Send the quote · Ada Lovelace")
    expect(page.get_by_role("region", name="Recent conversations")).to_contain_text("Asked about the new engine")

    item.get_by_role("button", name="Snooze").click()
    item.get_by_role("button", name="1 week").click()
    expect(item).to_have_count(0)  # htmx took it off the page
    page.reload()
    me.audit()
    expect(item).to_contain_text("Sunday")  # a week from today: still on this week's page
    follow_up = FollowUp.objects.get()
    assert follow_up.snoozed_until == on_sunday + timedelta(days=7)

    item.get_by_role("button", name="Done").click()
    expect(item).to_have_count(0)
    page.reload()
    me.audit()
    expect(todo).to_contain_text("Nothing else this week.")
    assert not FollowUp.objects.filter(done_at__isnull=True).exists()
    assert Promise.objects.get().text == "Send the quote"
