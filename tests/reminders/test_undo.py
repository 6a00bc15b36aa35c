"""Snooze and Done update the row in place, with an Undo that puts back exactly what was there
(issue 16: a snoozed Friday follow-up vanished, yet was still due on Saturday)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from crm.models import User, Workspace
from interactions.models import FollowUp
from people.models import Person
from reminders import services
from reminders.models import DismissedDate
from tests.factories import PersonFactory, cadenced_person

LONDON = ZoneInfo("Europe/London")
FRIDAY = datetime(2026, 3, 6, 9, 0, tzinfo=LONDON)  # the week ends on Sunday 8 March
HX = {"HTTP_HX_REQUEST": "true"}

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _on_friday() -> Iterator[None]:
    with time_machine.travel(FRIDAY, tick=False):
        yield


def _board(client: Client):
    response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    return response.context["board"]


def _undo_form(body: str) -> tuple[str, dict[str, str]]:
    """The Undo form in a row or message: where it posts, and its fields (CSRF left out)."""
    match = re.search(r'<form[^>]*action="([^"]+/undo/)"[^>]*>(.*?)</form>', body, re.S)
    assert match, "no Undo form"
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', match.group(2)))
    fields.pop("csrfmiddlewaretoken", None)
    return html.unescape(match.group(1)), {k: html.unescape(v) for k, v in fields.items()}


def _undo(client: Client, body: str, **headers: str):
    url, fields = _undo_form(body)
    return client.post(url, fields, **headers)


@pytest.fixture
def friday_follow_up(owner: User, workspace: Workspace) -> FollowUp:
    ada = PersonFactory(workspace=workspace, first_name="Ada", last_name="Lovelace", owner=owner)
    return services.follow_up_create(person=ada, due_on=date(2026, 3, 6), note="Send the quote")


def test_it_snoozes_a_friday_follow_up_by_a_day_and_the_row_says_saturday_with_an_undo(
    owner_client: Client, friday_follow_up: FollowUp
) -> None:
    url = reverse("reminders:follow_up_snooze", args=[friday_follow_up.pk])
    response = owner_client.post(url, {"snooze": "1d", "row": "due", "next": "/"}, **HX)

    body = response.content.decode()
    assert response.status_code == 200
    assert "Snoozed to Sat 7 Mar." in body
    assert 'data-due="2026-03-07"' in body
    assert "Saturday" in body
    assert ">Undo</button>" in body
    # And a reload agrees: Saturday, in the rest of the week.
    board = _board(owner_client)
    assert [(i.person.first_name, i.due) for i in board.this_week] == [("Ada", date(2026, 3, 7))]
    assert board.due_today == []


def test_undo_puts_back_the_snooze_it_had_before_and_a_second_click_is_harmless(
    owner_client: Client, friday_follow_up: FollowUp
) -> None:
    FollowUp.objects.filter(pk=friday_follow_up.pk).update(snoozed_until=date(2026, 3, 5))  # an old snooze
    url = reverse("reminders:follow_up_snooze", args=[friday_follow_up.pk])
    snoozed = owner_client.post(url, {"snooze": "1w", "row": "due"}, **HX).content.decode()

    first = _undo(owner_client, snoozed, **HX)
    second = _undo(owner_client, snoozed, **HX)

    friday_follow_up.refresh_from_db()
    assert friday_follow_up.snoozed_until == date(2026, 3, 5)
    assert "Undone: due Fri 6 Mar again." in first.content.decode()
    assert "today" in first.content.decode()
    assert "Already undone." in second.content.decode()
    assert ">Undo</button>" not in second.content.decode()
    assert [i.person.first_name for i in _board(owner_client).due_today] == ["Ada"]


def test_done_shows_the_row_done_and_undo_brings_it_back(owner_client: Client, friday_follow_up: FollowUp) -> None:
    url = reverse("reminders:follow_up_done", args=[friday_follow_up.pk])
    done = owner_client.post(url, {"occurrence": "0", "row": "due"}, **HX).content.decode()

    assert "Done: follow-up with Ada Lovelace." in done
    assert "<s>Send the quote</s>" in done
    assert ">Done</button>" not in done  # nothing left to do on it
    assert _board(owner_client).due_today == []

    _undo(owner_client, done, **HX)

    friday_follow_up.refresh_from_db()
    assert friday_follow_up.done_at is None
    assert [i.person.first_name for i in _board(owner_client).due_today] == ["Ada"]


def test_undoing_done_on_a_series_restores_the_occurrence_and_its_snooze(
    owner_client: Client, owner: User, workspace: Workspace
) -> None:
    person = PersonFactory(workspace=workspace, owner=owner)
    weekly = services.follow_up_create(person=person, due_on=date(2026, 3, 2), repeat_every=1, repeat_unit="weeks")
    FollowUp.objects.filter(pk=weekly.pk).update(snoozed_until=date(2026, 3, 6))
    before = FollowUp.objects.values("due_on", "anchor_on", "occurrence", "snoozed_until", "done_at").get()

    url = reverse("reminders:follow_up_done", args=[weekly.pk])
    done = owner_client.post(url, {"occurrence": "0", "row": "due"}, **HX).content.decode()
    assert "Next follow-up with" in done
    assert "Mon 9 Mar" in done
    assert FollowUp.objects.get().occurrence == 1

    _undo(owner_client, done, **HX)

    assert FollowUp.objects.values("due_on", "anchor_on", "occurrence", "snoozed_until", "done_at").get() == before


def test_an_undo_never_overwrites_a_later_change(owner_client: Client, friday_follow_up: FollowUp) -> None:
    url = reverse("reminders:follow_up_snooze", args=[friday_follow_up.pk])
    first = owner_client.post(url, {"snooze": "1d", "row": "due"}, **HX).content.decode()
    owner_client.post(url, {"snooze": "1w", "row": "due"}, **HX)  # another tab snoozes it again

    response = _undo(owner_client, first, **HX)

    assert "It changed since, so it was left as it is now." in response.content.decode()
    friday_follow_up.refresh_from_db()
    assert friday_follow_up.snoozed_until == date(2026, 3, 13)


def test_an_undo_is_for_its_own_item_user_and_a_few_minutes(
    owner_client: Client, member_client: Client, friday_follow_up: FollowUp, owner: User, workspace: Workspace
) -> None:
    url = reverse("reminders:follow_up_snooze", args=[friday_follow_up.pk])
    snoozed = owner_client.post(url, {"snooze": "1d", "row": "due"}, **HX).content.decode()
    undo_url, fields = _undo_form(snoozed)
    other = services.follow_up_create(person=friday_follow_up.person, due_on=date(2026, 3, 6))

    elsewhere = owner_client.post(reverse("reminders:follow_up_undo", args=[other.pk]), fields, **HX)
    teammate = member_client.post(undo_url, fields, **HX)
    forged = owner_client.post(undo_url, {**fields, "token": fields["token"][:-2] + "xx"}, **HX)
    with time_machine.travel(FRIDAY + timedelta(minutes=16), tick=False):
        late = owner_client.post(undo_url, fields, **HX)

    assert (elsewhere.status_code, teammate.status_code, forged.status_code) == (422, 422, 422)
    assert "That Undo is not valid any more." in teammate.content.decode()
    assert "Too late to undo" in late.content.decode()
    friday_follow_up.refresh_from_db()
    assert friday_follow_up.snoozed_until == date(2026, 3, 7)


def test_another_workspaces_undo_is_a_404_and_a_viewer_cannot_undo(
    owner_client: Client,
    outsider_client: Client,
    viewer_client: Client,
    friday_follow_up: FollowUp,
) -> None:
    url = reverse("reminders:follow_up_snooze", args=[friday_follow_up.pk])
    snoozed = owner_client.post(url, {"snooze": "1d", "row": "due"}, **HX).content.decode()
    undo_url, fields = _undo_form(snoozed)
    person = friday_follow_up.person

    assert outsider_client.post(undo_url, fields).status_code == 404
    assert outsider_client.post(reverse("reminders:cadence_snooze_undo", args=[person.pk]), fields).status_code == 404
    date_fields = {**fields, "key": f"person:{person.pk}:birthday", "on": "2026-03-07"}
    assert outsider_client.post(reverse("reminders:date_undo"), date_fields).status_code == 404
    assert viewer_client.post(undo_url, fields).status_code == 403
    friday_follow_up.refresh_from_db()
    assert friday_follow_up.snoozed_until == date(2026, 3, 7)


def test_without_javascript_the_message_carries_the_undo(owner_client: Client, friday_follow_up: FollowUp) -> None:
    url = reverse("reminders:follow_up_snooze", args=[friday_follow_up.pk])
    page = owner_client.post(url, {"snooze": "1d", "next": reverse("dashboard")}, follow=True).content.decode()

    assert "Snoozed to Sat 7 Mar." in page
    undone = _undo(owner_client, page, follow=True)

    assert undone.redirect_chain[-1][0] == reverse("dashboard")
    assert "Undone: due Fri 6 Mar again." in undone.content.decode()
    friday_follow_up.refresh_from_db()
    assert friday_follow_up.snoozed_until is None


def test_a_bad_snooze_says_why_in_the_row(owner_client: Client, friday_follow_up: FollowUp) -> None:
    url = reverse("reminders:follow_up_snooze", args=[friday_follow_up.pk])
    response = owner_client.post(url, {"until": "2026-03-01", "row": "due"}, **HX)

    assert response.status_code == 422
    assert 'role="alert"' in response.content.decode()
    assert "Snooze to a day after today." in response.content.decode()
    assert ">Done</button>" in response.content.decode()  # the row is still there, as it was


def test_on_the_person_page_the_row_comes_back_in_the_pages_own_markup(
    owner_client: Client, friday_follow_up: FollowUp
) -> None:
    url = reverse("reminders:follow_up_snooze", args=[friday_follow_up.pk])
    response = owner_client.post(url, {"snooze": "3d", "row": "person"}, **HX)

    body = response.content.decode()
    assert "Mon 9 Mar" in body
    assert "(snoozed)" in body
    assert reverse("reminders:follow_up_edit", args=[friday_follow_up.pk]) in body
    assert ">Undo</button>" in body


def test_snoozing_stay_in_touch_by_a_day_moves_them_to_tomorrow_not_off_the_page(
    owner_client: Client, owner: User, workspace: Workspace
) -> None:
    grace = cadenced_person(workspace, owner, "Grace", last_days_ago=14)  # due today
    assert [p.first_name for p in (i.person for i in _board(owner_client).due_today)] == ["Grace"]

    url = reverse("reminders:cadence_snooze", args=[grace.pk])
    snoozed = owner_client.post(url, {"snooze": "1d", "row": "due"}, **HX).content.decode()

    assert "snoozed to Sat 7 Mar." in snoozed
    assert "Saturday" in snoozed
    board = _board(owner_client)
    assert board.due_today == []
    assert [(i.person.first_name, i.due) for i in board.this_week] == [("Grace", date(2026, 3, 7))]

    _undo(owner_client, snoozed, **HX)
    assert Person.objects.get(pk=grace.pk).cadence_snoozed_until is None
    assert [i.person.first_name for i in _board(owner_client).due_today] == ["Grace"]


def test_snoozing_someone_going_cold_says_until_when(owner_client: Client, owner: User, workspace: Workspace) -> None:
    cold = cadenced_person(workspace, owner, "Cold", last_days_ago=60)
    url = reverse("reminders:cadence_snooze", args=[cold.pk])
    response = owner_client.post(url, {"snooze": "1w", "row": "cold"}, **HX).content.decode()

    assert "snoozed to Fri 13 Mar" in response
    assert ">Undo</button>" in response


def test_a_birthday_marked_done_shows_done_and_undo_makes_it_due_again(
    owner_client: Client, owner: User, workspace: Workspace
) -> None:
    anna = PersonFactory(workspace=workspace, owner=owner, first_name="Anna", birthday_day=7, birthday_month=3)
    key = f"person:{anna.pk}:birthday"
    fields = {"key": key, "on": "2026-03-07", "row": "date"}

    done = owner_client.post(reverse("reminders:date_dismiss"), fields, **HX).content.decode()
    assert "Marked done." in done
    assert "✓" in done
    assert ">Done</button>" not in done
    assert _board(owner_client).dates[0].dismissed

    first = _undo(owner_client, done, **HX).content.decode()
    second = _undo(owner_client, done, **HX).content.decode()

    assert "Undone: not done yet." in first
    assert ">Done</button>" in first
    assert "Already undone." in second
    assert not DismissedDate.objects.exists()
    assert not _board(owner_client).dates[0].dismissed
