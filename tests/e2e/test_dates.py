"""Dates in a real browser look as the user's date style says, in the field and on the page;
the time-zone choice filters as one types. Each page audited (see browser.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from playwright.sync_api import expect

from crm.models import User
from people.models import Person
from tests.e2e.browser import Visitor, field, log_in
from tests.factories import MembershipFactory, PersonFactory, UserFactory, WorkspaceFactory

NOW = datetime(2026, 3, 15, 9, 30, tzinfo=ZoneInfo("Europe/London"))
MET = date(2025, 3, 5)


@pytest.fixture
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=True):
        yield


def _user_with_person(style: str) -> tuple[User, Person]:
    workspace = WorkspaceFactory()
    user = UserFactory(email=f"{style}@example.com", display_name=f"User {style}", date_style=style,
                       current_workspace=workspace)  # fmt: skip
    MembershipFactory(workspace=workspace, user=user, role="owner")
    person = PersonFactory(workspace=workspace, owner=user, first_name="Ada", last_name="Lovelace",
                           how_we_met="Trade fair", met_on=MET)  # fmt: skip
    return user, person


@pytest.mark.parametrize(
    ("style", "shown", "in_field", "placeholder", "typed", "shown_after", "picked"),
    [
        ("en-us", "Mar 5, 2025", "03/05/2025", "mm/dd/yyyy", "04/07/2025", "Apr 7, 2025", "12/24/2025"),
        ("en-gb", "5 Mar 2025", "05/03/2025", "dd/mm/yyyy", "04/07/2025", "4 Jul 2025", "24/12/2025"),
    ],
)
def test_the_date_field_and_the_page_show_the_users_format(
    visit: Callable[..., Visitor],
    frozen: None,
    style: str,
    shown: str,
    in_field: str,
    placeholder: str,
    typed: str,
    shown_after: str,
    picked: str,
) -> None:
    user, person = _user_with_person(style)
    me = visit()  # a browser in British English: the setting, not the browser, decides
    page = me.page
    log_in(me, user.email)
    me.goto(f"/people/{person.pk}/")
    expect(page.get_by_text(f"How we met: Trade fair ({shown})")).to_be_visible()

    page.get_by_role("link", name="Edit", exact=True).first.click()
    me.audit()
    met_on = field(me, "Met on")
    expect(met_on).to_be_visible()
    expect(met_on).to_have_value(in_field)
    expect(met_on).to_have_attribute("placeholder", placeholder)

    # The calendar beside it writes the chosen day in the same format.
    expect(page.get_by_role("button", name="Pick from a calendar").first).to_be_visible()
    met_on.evaluate(
        """input => { const native = input.parentNode.querySelector('.date-native');
                      native.value = '2025-12-24'; native.dispatchEvent(new Event('change')); }"""
    )
    expect(met_on).to_have_value(picked)

    met_on.fill(typed)
    page.get_by_role("button", name="Save").click()
    me.audit()
    expect(page.get_by_text(f"How we met: Trade fair ({shown_after})")).to_be_visible()
    person.refresh_from_db()
    assert person.met_on == (date(2025, 4, 7) if style == "en-us" else date(2025, 7, 4))


def test_a_date_that_does_not_fit_says_so_visibly_next_to_the_field(
    visit: Callable[..., Visitor], frozen: None
) -> None:
    user, person = _user_with_person("en-us")
    me = visit()
    log_in(me, user.email)
    me.goto(f"/people/{person.pk}/edit/")
    field(me, "Met on").fill("13/05/2025")
    me.page.get_by_role("button", name="Save").click()
    me.audit()

    message = "Enter a valid date as mm/dd/yyyy, for example 12/31/2025."
    expect(me.page.get_by_text(message, exact=True)).to_be_visible()  # next to the field
    expect(me.page.get_by_role("link", name=f"Met on: {message}")).to_be_visible()  # and in the summary
    expect(field(me, "Met on")).to_have_value("13/05/2025")


def test_the_time_zone_list_filters_as_one_types(visit: Callable[..., Visitor], frozen: None) -> None:
    user, _ = _user_with_person("en-gb")
    me = visit()
    page = me.page
    log_in(me, user.email)
    me.goto("/settings/")
    zone = page.locator("select[name=time_zone]")
    expect(zone).to_have_value("Europe/London")

    page.get_by_label("Filter time zones").fill("lagos")
    expect(zone).to_have_value("Africa/Lagos")
    expect(page.get_by_text("1 zone matches")).to_be_visible()
    assert zone.locator("option:not([hidden])").all_text_contents() == ["Lagos (UTC+01:00)"]

    page.get_by_role("button", name="Save settings").click()
    me.audit()
    expect(page.get_by_text("Settings saved.")).to_be_visible()
    user.refresh_from_db()
    assert user.time_zone == "Africa/Lagos"
