"""One honest stay-in-touch state: someone never contacted is never shown as "In touch"."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm.models import User, Workspace
from interactions.services import interaction_log
from people import stay_in_touch
from people.models import Person
from tests.factories import PersonFactory

THURSDAY = datetime(2026, 11, 19, 10, 0, tzinfo=ZoneInfo("Europe/London"))


def _new_person(workspace: Workspace, owner: User, *, created_days_ago: int = 0) -> Person:
    person = PersonFactory(
        workspace=workspace,
        owner=owner,
        first_name="Ada",
        last_name="Obi",
        created_at=timezone.now() - timedelta(days=created_days_ago),
    )
    return stay_in_touch.person_set_preferences(person=person, contact_every=2, contact_every_unit="weeks")


@pytest.mark.django_db
@time_machine.travel(THURSDAY, tick=False)
def test_a_new_person_with_a_cadence_is_never_contacted_with_a_first_contact_due(
    owner_client: Client, owner: User, workspace: Workspace, outsider_client: Client
) -> None:
    ada = _new_person(workspace, owner)

    listing = owner_client.get(reverse("people:list")).content.decode()
    page = owner_client.get(reverse("people:detail", args=[ada.pk])).content.decode()

    for html in (listing, page):
        assert ">First contact due 3 Dec</span>" in html
        assert "never contacted" in html.lower()
        assert "In touch" not in html
    assert outsider_client.get(reverse("people:detail", args=[ada.pk])).status_code == 404


@pytest.mark.django_db
@time_machine.travel(THURSDAY, tick=False)
def test_after_the_first_conversation_they_are_in_touch(
    owner_client: Client, owner: User, workspace: Workspace
) -> None:
    ada = _new_person(workspace, owner)
    interaction_log(workspace=workspace, user=owner, people=[ada], kind="call", summary="Hello")

    page = owner_client.get(reverse("people:detail", args=[ada.pk])).content.decode()

    assert ">In touch</span>" in page
    assert "First contact" not in page
    assert "never contacted" not in page


@pytest.mark.django_db
@time_machine.travel(THURSDAY, tick=False)
def test_a_missed_first_contact_says_so_in_the_list_and_on_the_dashboard(
    owner_client: Client, owner: User, workspace: Workspace
) -> None:
    _new_person(workspace, owner, created_days_ago=20)  # due 13 Nov: overdue, not yet going cold

    listing = owner_client.get(reverse("people:list")).content.decode()
    dashboard = owner_client.get(reverse("dashboard")).content.decode()

    assert ">First contact was due 13 Nov</span>" in listing
    assert ">First contact</span>" in dashboard
    assert "Stay in touch</span>" not in dashboard
    assert "never contacted" in dashboard
