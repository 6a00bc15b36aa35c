"""The person page's header carries what you need before a call (issue 18): how to reach them
and when, the last contact, the next thing due, their family's and pets' names; the profile is
one line until it has facts; the timeline filter is one compact control."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm.models import User, Workspace
from interactions import services as interaction_services
from people.models import FamilyMember, Person, Pet
from people.stay_in_touch import person_set_preferences
from reminders import services as reminder_services
from tests.factories import InteractionFactory, PersonFactory

LONDON = ZoneInfo("Europe/London")
WEDNESDAY = datetime(2026, 3, 4, 9, 0, tzinfo=LONDON)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _on_wednesday() -> Iterator[None]:
    with time_machine.travel(WEDNESDAY, tick=False):
        yield


def _header(client: Client, person: Person) -> str:
    page = client.get(reverse("people:detail", args=[person.pk])).content.decode()
    found = re.search(r'<header class="rp-person-head.*?</header>', page, re.S)
    assert found, "no header"
    return found.group(0).replace("&#x27;", "'")


def _anna(workspace: Workspace, owner: User) -> Person:
    anna = PersonFactory(workspace=workspace, owner=owner, first_name="Anna", last_name="Berg")
    person_set_preferences(person=anna, preferred_channel="phone", best_time="after 4pm")
    FamilyMember.objects.create(workspace=workspace, person=anna, name="Max", relation=FamilyMember.Relation.CHILD)
    Pet.objects.create(workspace=workspace, person=anna, name="Bingo", species="dog")
    return Person.objects.get(pk=anna.pk)


def test_the_header_says_how_and_when_to_reach_them_and_names_family_and_pets(
    owner_client: Client, owner: User, workspace: Workspace, outsider_client: Client
) -> None:
    anna = _anna(workspace, owner)

    header = _header(owner_client, anna)

    assert "prefers <strong>phone</strong>, after 4pm" in header
    assert "Last contact" in header
    assert "never" in header
    assert '<li class="rp-chip">Max <span>child</span></li>' in header
    assert '<li class="rp-chip">Bingo <span>dog</span></li>' in header
    assert outsider_client.get(reverse("people:detail", args=[anna.pk])).status_code == 404


def test_the_header_shows_the_soonest_thing_due(owner: User, owner_client: Client, workspace: Workspace) -> None:
    anna = _anna(workspace, owner)
    reminder_services.follow_up_create(person=anna, due_on=date(2026, 3, 10), note="Book the tasting")
    reminder_services.follow_up_create(person=anna, due_on=date(2026, 3, 2), note="Send the quote")
    interaction_services.promise_create(person=anna, user=owner, text="Call back", due_on=date(2026, 3, 6))

    header = _header(owner_client, anna)

    assert "Send the quote · was due Mon 2 Mar" in header
    assert "Book the tasting" not in header


def test_a_header_with_nothing_due_says_so(owner: User, owner_client: Client, workspace: Workspace) -> None:
    anna = PersonFactory(workspace=workspace, owner=owner, last_contacted_at=timezone.now() - timedelta(days=3))

    header = _header(owner_client, anna)

    assert "nothing due" in header
    assert "3\xa0days ago" in header


def test_the_profile_is_one_line_until_it_has_facts(owner: User, owner_client: Client, workspace: Workspace) -> None:
    anna = _anna(workspace, owner)

    page = owner_client.get(reverse("people:detail", args=[anna.pk])).content.decode()

    assert '<details class="card-body pt-0 rp-profile-sections">' in page  # closed
    assert "Next thing to learn:" in page


def test_the_timeline_filter_offers_the_kinds_had_with_them_most_frequent_first(
    owner: User, owner_client: Client, workspace: Workspace
) -> None:
    anna = _anna(workspace, owner)
    for kind in ("email", "email", "call"):
        InteractionFactory(workspace=workspace, people=[anna], kind=kind)

    page = owner_client.get(reverse("people:detail", args=[anna.pk])).content.decode()
    segments = re.search(r'<div class="btn-group[^"]*rp-segments".*?</div>', page, re.S)

    assert segments
    assert re.findall(r">(\w+)</a>", segments.group(0)) == ["All", "Email", "Call"]
    select = re.search(r'<select[^>]*id="timeline-kind".*?</select>', page, re.S)
    assert select
    assert re.findall(r">(\w+)</option>", select.group(0)) == ["Everything", "Email", "Call"]  # never had: not offered
