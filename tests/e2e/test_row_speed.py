"""Speed you can feel on This week (issue 18): Done changes the row at once, before the server
answers; the row the server sends back keeps the old row's room, so the rows below do not
move; Snooze puts its notice where the buttons were and they come back with the Undo gone;
a request that fails puts the row back as it was, saying nothing changed."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from playwright.sync_api import Route, expect

from crm.models import Membership, User
from interactions.models import FollowUp
from people.models import FamilyMember, Pet
from reminders.services import follow_up_create
from tests.e2e.browser import Visitor, log_in
from tests.factories import MembershipFactory, PersonFactory, UserFactory, WorkspaceFactory

WEDNESDAY = datetime(2026, 3, 18, 9, 30, tzinfo=ZoneInfo("Europe/London"))


@pytest.fixture
def seller(db: None) -> Iterator[User]:
    with time_machine.travel(WEDNESDAY, tick=True):
        workspace = WorkspaceFactory(name="Seller's workspace")
        user = UserFactory(email="sam@example.com", display_name="Sam Seller", current_workspace=workspace)
        MembershipFactory(workspace=workspace, user=user, role=Membership.Role.OWNER)
        for first, note in (("Ada", "Send the quote"), ("Ben", "Book the tasting"), ("Cleo", "Chase the invoice")):
            person = PersonFactory(workspace=workspace, first_name=first, last_name="Lovelace", owner=user)
            Pet.objects.create(workspace=workspace, person=person, name=f"{first}'s cat", species="cat")
            FamilyMember.objects.create(
                workspace=workspace, person=person, name="Max", relation=FamilyMember.Relation.CHILD
            )
            follow_up_create(person=person, due_on=WEDNESDAY.date(), note=note, user=user)
        yield user


def _top(visitor: Visitor, name: str) -> float:
    box = visitor.page.get_by_role("region", name="To do").get_by_role("listitem").filter(has_text=name).bounding_box()
    assert box is not None
    return box["y"]


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_done_is_instant_and_nothing_below_the_row_moves(
    visit: Callable[..., Visitor], seller: User, phone: bool
) -> None:
    me = visit(phone=phone)
    page = me.page
    log_in(me, seller.email)
    todo = page.get_by_role("region", name="To do")
    ada = todo.get_by_role("listitem").filter(has_text="Ada Lovelace")
    below = _top(me, "Ben Lovelace")
    held: list[Route] = []
    page.route("**/follow-ups/*/done/", lambda route: held.append(route))  # the answer waits for the test

    ada.get_by_role("button", name="Done").click()

    # Before the server has answered: the row already says done, without its buttons.
    expect(ada.get_by_role("status")).to_have_text("Done.")
    expect(ada.get_by_role("button", name="Done")).to_be_hidden()
    assert _top(me, "Ben Lovelace") == below
    page.wait_for_function("() => true")
    assert len(held) == 1
    held[0].continue_()
    expect(ada).to_contain_text("Done: follow-up with Ada Lovelace.")
    expect(ada.get_by_role("button", name="Undo")).to_be_visible()
    assert _top(me, "Ben Lovelace") == below  # the server's row took no less room
    page.unroute("**/follow-ups/*/done/")
    me.audit()


def test_snooze_stands_in_for_the_buttons_and_a_failed_request_changes_nothing(
    visit: Callable[..., Visitor], seller: User
) -> None:
    me = visit()
    page = me.page
    log_in(me, seller.email)
    todo = page.get_by_role("region", name="To do")
    ben = todo.get_by_role("listitem").filter(has_text="Ben Lovelace")
    below = _top(me, "Cleo Lovelace")

    ben.get_by_role("button", name="Snooze").click()
    ben.get_by_role("button", name="1 day").click()
    expect(ben).to_contain_text("Snoozed to Thu 19 Mar.")
    expect(ben.get_by_role("button", name="Log it")).to_be_hidden()  # the notice stands in for them
    assert _top(me, "Cleo Lovelace") == below
    me.audit()

    # Cut for the whole browser, service worker included: the outbox keeps the failed Done and
    # Background Sync sends it from the worker, which a page route does not see.
    me.context.route("**/follow-ups/*/done/", lambda route: route.abort())
    cleo = todo.get_by_role("listitem").filter(has_text="Cleo Lovelace")
    cleo.get_by_role("button", name="Done").click()
    expect(cleo.get_by_role("alert")).to_contain_text("Not saved")
    expect(cleo.get_by_role("button", name="Done")).to_be_visible()  # as it was: try again
    assert FollowUp.objects.get(note="Chase the invoice").done_at is None
    kept = page.get_by_role("region", name=re.compile("^Kept on this phone"))
    expect(kept).to_contain_text("1 waiting to send")  # and sent when the server can be reached
    # The browser and htmx report the request this test cut off; nothing else may be in the console.
    expected = ("htmx:afterRequest", "htmx:sendError", "net::ERR_FAILED")
    me.problems = [p for p in me.problems if not any(e in p for e in expected)]
