"""The quick log in the browser: a follow-up in one key with the date chips, and "More details"
taking everything typed to the full form (each page audited on the way: see browser.py)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from crm.models import Membership, User
from interactions.forms import follow_up_chips
from interactions.models import FollowUp, Interaction
from people.models import Person
from tests.e2e.browser import Visitor, field, log_in
from tests.factories import MembershipFactory, PersonFactory, UserFactory, WorkspaceFactory

# Noon in London on Friday 20 March; in Kiritimati (UTC+14), where the seller lives, it is
# already 02:00 on Saturday. The browser is in London: its clock and zone must not date a chip.
FRIDAY_NOON_UTC = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
ZONE = "Pacific/Kiritimati"


@pytest.fixture
def far_east(db: None) -> Iterator[date]:
    """The seller's today, as the server works it out (time ticks on from there)."""
    with time_machine.travel(FRIDAY_NOON_UTC, tick=True):
        yield timezone.localdate(timezone=ZoneInfo(ZONE))


@pytest.fixture
def ngozi(db: None) -> Person:
    workspace = WorkspaceFactory(name="Seller's workspace")
    user = UserFactory(email="sam@example.com", current_workspace=workspace, time_zone=ZONE)
    MembershipFactory(workspace=workspace, user=user, role=Membership.Role.OWNER)
    return PersonFactory(
        workspace=workspace, first_name="Ngozi", last_name="Okafor", owner=user, preferred_channel="whatsapp"
    )


def test_it_dates_a_follow_up_with_one_key_and_takes_it_all_to_the_full_form(
    visit: Callable[..., Visitor], ngozi: Person, far_east: date
) -> None:
    chips = dict(follow_up_chips(far_east))
    assert far_east == date(2026, 3, 21)  # Saturday there, whatever the browser thinks
    me = visit()
    page = me.page
    log_in(me, User.objects.get().email)
    me.goto(ngozi.get_absolute_url())

    page.locator(f'[data-quick-log-person="{ngozi.pk}"]').click()
    dialog = page.get_by_role("dialog", name="Log a conversation")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("With")).to_have_value(str(ngozi.pk))
    expect(dialog.get_by_label("Kind")).to_have_value("whatsapp")  # what she prefers
    expect(field(me, "Summary")).to_be_focused()
    page.keyboard.type("Asked about the spring catalogue")

    # Back from the summary to the chips (one tab stop, just before it), along, Enter.
    follow_up = dialog.get_by_label("Follow up on")
    page.keyboard.press("Shift+Tab")
    toolbar = dialog.get_by_role("toolbar", name="Follow up")
    tomorrow = toolbar.get_by_role("button", name=re.compile(r"^Tomorrow"))
    expect(tomorrow).to_be_focused()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    next_week = toolbar.get_by_role("button", name=re.compile(r"^Next week"))
    expect(next_week).to_be_focused()
    page.keyboard.press("Enter")
    expect(follow_up).to_have_value(typed(chips["Next week"]))
    expect(next_week).to_have_attribute("aria-pressed", "true")
    expect(tomorrow).to_have_attribute("aria-pressed", "false")
    page.keyboard.press("Tab")
    expect(field(me, "Summary")).to_be_focused()  # the chips were one tab stop
    field(me, "I promised").fill("Send the price list")
    me.audit()

    dialog.get_by_role("button", name="More details").click()
    expect(page.get_by_role("heading", name="Log a conversation")).to_be_visible()
    me.audit()
    expect(page.locator("#id_people")).to_have_values([str(ngozi.pk)])
    expect(page.locator("#id_people")).to_be_visible()
    expect(page.locator("#id_people option:checked")).to_have_text("Ngozi Okafor")
    expect(page.locator("#id_kind")).to_have_value("whatsapp")
    expect(page.locator("#id_summary")).to_have_value("Asked about the spring catalogue")
    expect(page.locator("#id_follow_up_on")).to_have_value(typed(chips["Next week"]))
    expect(page.locator("#id_promises-0-text")).to_have_value("Send the price list")
    assert not Interaction.objects.exists()

    # The full form has the chips too: a month, then the notes the quick log had no room for.
    page.get_by_role("toolbar", name="Follow up").get_by_role("button", name=re.compile(r"^In a month")).click()
    expect(page.locator("#id_follow_up_on")).to_have_value(typed(chips["In a month"]))
    field(me, "Notes").fill("She wants it in print too")
    page.get_by_role("button", name="Log it").click()
    expect(page.get_by_text("Logged: Asked about the spring catalogue")).to_be_visible()
    expect(page.get_by_role("heading", name="Ngozi Okafor")).to_be_visible()
    me.audit()

    interaction = Interaction.objects.get()
    assert (interaction.kind, interaction.notes) == ("whatsapp", "She wants it in print too")
    assert list(interaction.people.all()) == [ngozi]
    assert FollowUp.objects.get().due_on == chips["In a month"] == date(2026, 4, 21)
    assert [p.text for p in interaction.promises.all()] == ["Send the price list"]


def typed(day: date) -> str:
    """A day as the seller types and reads it: their date style, UK here (dd/mm/yyyy)."""
    return day.strftime("%d/%m/%Y")
