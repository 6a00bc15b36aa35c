"""The Mackay profile counts what the person's record already holds, and never asks for it."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from crm.models import User, Workspace
from people import services
from people.models import Company, FamilyMember, Person, Pet
from people.stay_in_touch import person_set_preferences
from tests.factories import PersonFactory

NOON = datetime(2026, 11, 19, 12, 0, tzinfo=ZoneInfo("Europe/London"))


def _mackay(workspace: Workspace, owner: User) -> Person:
    """After adding a spouse, a child, a dog, a birthday and a company, as the newcomer did."""
    person = PersonFactory(
        workspace=workspace,
        owner=owner,
        first_name="Adaeze",
        last_name="Okafor",
        company=Company.objects.create(workspace=workspace, name="Okafor Foods"),
        birthday_day=15,
        birthday_month=4,
    )
    FamilyMember.objects.create(workspace=workspace, person=person, relation="spouse", name="Chidi")
    FamilyMember.objects.create(workspace=workspace, person=person, relation="child", name="Tobi")
    Pet.objects.create(workspace=workspace, person=person, name="Rex", species="dog")
    return person


def _section(page: str, label: str) -> str:
    """ "3 of 8" for a section of the person page's profile card."""
    found = re.search(
        rf'<div class="fw-semibold">{re.escape(label)}</div><div class="text-body-secondary">([^<]*)</div>', page
    )
    assert found, label
    return found.group(1)


@pytest.mark.django_db
@time_machine.travel(NOON, tick=False)
def test_it_counts_family_pets_birthday_and_company_from_the_record(
    owner_client: Client, owner: User, workspace: Workspace, outsider_client: Client
) -> None:
    person = _mackay(workspace, owner)

    page = owner_client.get(reverse("people:detail", args=[person.pk])).content.decode()

    # Spouse (marital status), child, dog: 3 of the family's 8; birthday; company.
    assert _section(page, "Family") == "3 of 8"
    assert _section(page, "Basics") == "1 of 6"
    assert _section(page, "Business background") == "1 of 7"
    assert "Profile · 11% known" in page
    assert "0% known" not in page
    assert outsider_client.get(reverse("people:detail", args=[person.pk])).status_code == 404


@pytest.mark.django_db
@time_machine.travel(NOON, tick=False)
def test_the_next_thing_to_learn_is_never_what_the_page_already_shows(
    owner_client: Client, owner: User, workspace: Workspace
) -> None:
    person = _mackay(workspace, owner)
    person_set_preferences(person=person, preferred_channel="phone", best_time="mornings")

    for url in (reverse("people:detail", args=[person.pk]), reverse("people:profile", args=[person.pk])):
        page = owner_client.get(url).content.decode()
        for already_shown in (
            "Married, partnered, single?",
            "When is their birthday?",
            "Do they have children?",
            "Any pets?",
            "Where do they work",
            "How and when do they like to be contacted?",
        ):
            assert already_shown not in page
        assert "Which school did they go to?" in page  # education: the emptiest section first


@pytest.mark.django_db
@time_machine.travel(NOON, tick=False)
def test_the_profile_page_lists_what_the_record_answers(
    owner_client: Client, owner: User, workspace: Workspace, outsider_client: Client
) -> None:
    person = _mackay(workspace, owner)
    person.how_we_met = "Lagos trade fair"
    person.save()
    person.tags.set(services.tags_for_names(workspace, ["sailing"], kind="interest"))
    person_set_preferences(person=person, contact_every=2, contact_every_unit="weeks")

    page = owner_client.get(reverse("people:profile", args=[person.pk])).content.decode()

    assert "Marital status:</span> Chidi (spouse)" in page
    assert "Children:</span> Tobi" in page
    assert "Pets:</span> Rex (dog)" in page
    assert "Birthday:</span> 15 April" in page
    assert "Company and role:</span> Okafor Foods" in page
    assert "Interests:</span> sailing" in page
    assert "How we met:</span> Lagos trade fair" in page
    assert "How to reach them:</span> every 2 weeks" in page
    assert page.count("· from their record") == 8
    assert outsider_client.get(reverse("people:profile", args=[person.pk])).status_code == 404
