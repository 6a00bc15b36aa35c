"""The digest email in a real browser (issue 18): its HTML at 600 px, the width mail programs
give it on a desktop, and at a phone's 375 px; nothing runs off sideways, the buttons are big
enough to tap, and axe and the HTML checker pass. Screenshots: var/screenshots/digest-600.png
and digest-375.png."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core import mail
from playwright.sync_api import expect

from crm.models import Membership, User, Workspace
from digests import services
from interactions import services as interaction_services
from people.models import FamilyMember, Pet
from reminders import services as reminder_services
from tests.e2e.browser import SCREENSHOTS, Visitor
from tests.factories import PersonFactory, UserFactory

TUESDAY_0800_LONDON = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)


@pytest.fixture
def digest_html(db: None, workspace: Workspace) -> str:
    user: User = UserFactory(
        email="dana@example.com",
        time_zone="Europe/London",
        digest="weekly",
        digest_weekday=1,
        digest_hour=8,
        digest_always=True,
        digest_since=datetime(2020, 1, 1, tzinfo=UTC),
        current_workspace=workspace,
    )
    Membership.objects.create(workspace=workspace, user=user, role="owner")
    anna = PersonFactory(workspace=workspace, owner=user, first_name="Anna", last_name="Berg-Featherstonehaugh")
    Pet.objects.create(workspace=workspace, person=anna, name="Max", species="dog")
    FamilyMember.objects.create(
        workspace=workspace, person=anna, name="Ada", relation=FamilyMember.Relation.CHILD, interests="ponies"
    )
    ben = PersonFactory(workspace=workspace, owner=user, first_name="Ben", last_name="Carter", birthday_day=5)
    ben.birthday_month = 3
    ben.save()
    reminder_services.follow_up_create(person=ben, due_on=date(2026, 3, 1), note="Chase the invoice")
    reminder_services.follow_up_create(
        person=anna, due_on=date(2026, 3, 3), note="Send the quote for the wedding cake, three tiers, by Friday"
    )
    interaction_services.promise_create(person=anna, user=user, text="Bring samples", due_on=date(2026, 3, 6))
    with time_machine.travel(TUESDAY_0800_LONDON, tick=False):
        (run_id,) = services.digest_dispatch(users=[user], now=TUESDAY_0800_LONDON)
        assert services.digest_send(run_id=run_id) == "sent"
    (message,) = mail.outbox
    return message.alternatives[0][0]


@pytest.mark.parametrize("width", [600, 375])
def test_the_digest_fits_a_mail_window_and_a_phone(visit: Callable[..., Visitor], digest_html: str, width: int) -> None:
    me = visit(phone=width < 600)
    page = me.page
    page.set_viewport_size({"width": width, "height": 900})
    me.show_email(digest_html)

    expect(page.get_by_role("heading", name="Today")).to_be_visible()
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the digest scrolls sideways by {overflow}px at {width}px"
    for button in page.get_by_role("link", name="Log it").all():
        box = button.locator("xpath=..").bounding_box()  # the cell is the button
        assert box is not None
        assert box["height"] >= 30
        assert box["x"] + box["width"] <= width
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"digest-{width}.png"), full_page=True)
