from __future__ import annotations

from datetime import UTC, datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db.models import Max
from django.test import Client
from django.urls import reverse
from faker import Faker

from crm.models import Membership, User
from interactions.models import Interaction
from people.models import Company, Person


@pytest.mark.django_db
def test_it_creates_a_demo_login_with_a_lived_in_workspace() -> None:
    out = StringIO()
    call_command("seed_demo", "--people", "30", "--interactions", "200", stdout=out)

    assert "Log in as demo@example.com / demo" in out.getvalue()
    client = Client()
    assert client.post(reverse("login"), {"username": "demo@example.com", "password": "demo"}).status_code == 302
    user = User.objects.get(email="demo@example.com")
    workspace = user.current_workspace
    assert Person.objects.for_workspace(workspace).count() == 30
    assert Interaction.objects.for_workspace(workspace).count() == 200
    assert Membership.objects.filter(workspace=workspace).count() == 2  # the demo user and a teammate
    board = client.get(reverse("dashboard")).context["board"]
    assert board.dates, "no birthdays in the next two weeks"
    assert board.overdue or board.due_today or board.this_week


@pytest.mark.django_db
def test_last_contacted_matches_the_latest_interaction() -> None:
    call_command("seed_demo", "--people", "20", "--interactions", "150", stdout=StringIO())

    people = Person.objects.annotate(latest=Max("interactions__occurred_at"))
    assert people.exists()
    for person in people:
        assert person.last_contacted_at == person.latest


@pytest.mark.django_db
def test_it_loads_only_once_with_skip_if_exists() -> None:
    call_command("seed_demo", "--people", "5", "--interactions", "5", stdout=StringIO())
    out = StringIO()
    call_command("seed_demo", "--skip-if-exists", stdout=out)

    assert "already loaded" in out.getvalue()
    assert Person.objects.count() == 5


@pytest.mark.django_db
def test_it_makes_large_workspaces_for_other_users() -> None:
    call_command(
        "seed_demo", "--email", "bench@example.com", "--people", "500", "--interactions", "6000", stdout=StringIO()
    )

    user = User.objects.get(email="bench@example.com")
    assert Person.objects.for_workspace(user.current_workspace).count() == 500
    assert Interaction.objects.for_workspace(user.current_workspace).count() == 6000


@pytest.mark.django_db
def test_it_exercises_every_feature_so_far() -> None:
    from interactions.models import FollowUp, Need, Promise
    from people.models import ContactMethod, FamilyMember, Pet, ProfileFact, Tag
    from people.profile import SECTIONS

    call_command("seed_demo", "--people", "60", "--interactions", "300", stdout=StringIO())

    assert {f.section for f in ProfileFact.objects.all()} == {s.key for s in SECTIONS}
    assert ProfileFact.objects.filter(is_private=True).exists()
    assert FamilyMember.objects.filter(relation="spouse").exists()
    assert FamilyMember.objects.filter(relation="child", birthday_year__isnull=True).exists()
    assert FamilyMember.objects.filter(linked_person__isnull=False).exists()
    assert Pet.objects.exists()
    assert ContactMethod.objects.filter(kind="phone").exists()
    assert Tag.objects.filter(kind="interest").exists()
    assert Person.objects.filter(birthday_year__isnull=True, birthday_day__isnull=False).exists()
    assert Person.objects.filter(contact_every__isnull=False).exists()
    assert set(Need.objects.values_list("status", flat=True)) >= {"open", "solved"}
    assert Promise.objects.exists()
    assert FollowUp.objects.exists()


@pytest.mark.django_db
@time_machine.travel(datetime(2026, 3, 4, 9, 0, tzinfo=UTC), tick=False)  # a Wednesday: a week has a rest
def test_the_demo_dashboard_has_items_in_every_section_today() -> None:
    call_command("seed_demo", stdout=StringIO())
    client = Client()
    client.post(reverse("login"), {"username": "demo@example.com", "password": "demo"})

    board = client.get(reverse("dashboard")).context["board"]  # the demo user's own people

    for section in ("overdue", "this_week", "dates", "going_cold", "promises", "quiet_needs", "recent"):
        assert getattr(board, section), section


@pytest.mark.django_db
def test_it_seeds_companies_whose_names_differ_only_in_case(monkeypatch: pytest.MonkeyPatch) -> None:
    # At 100,000 people Faker draws such pairs; the unique constraint on company names ignores case.
    names = iter(["Smith Ltd", "SMITH LTD", "smith ltd", "Jones plc"] * 100)
    monkeypatch.setattr(Faker, "company", lambda self: next(names), raising=False)
    call_command("seed_demo", "--people", "40", "--interactions", "10", stdout=StringIO())

    workspace = User.objects.get(email="demo@example.com").current_workspace
    assert sorted(c.name.lower() for c in Company.objects.for_workspace(workspace)) == ["jones plc", "smith ltd"]
