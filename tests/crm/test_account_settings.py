from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from crm.models import User
from tests.factories import InteractionFactory, PersonFactory


def _settings(**overrides: str) -> dict[str, str]:
    return {
        "display_name": "Liv",
        "time_zone": "Pacific/Auckland",
        "digest": "weekly",
        "digest_weekday": "0",
        "digest_hour": "8",
        "date_lead_days": "7",
        **overrides,
    }


@pytest.mark.django_db
def test_it_saves_display_name_and_time_zone(owner_client: Client, owner: User) -> None:
    response = owner_client.post(reverse("account_settings"), _settings(), follow=True)

    assert "Settings saved." in response.content.decode()
    owner.refresh_from_db()
    assert (owner.display_name, owner.time_zone) == ("Liv", "Pacific/Auckland")


@pytest.mark.django_db
def test_it_rejects_a_time_zone_that_does_not_exist(owner_client: Client, owner: User) -> None:
    response = owner_client.post(reverse("account_settings"), _settings(time_zone="Nowhere/Land"))

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    owner.refresh_from_db()
    assert owner.time_zone == "Europe/London"


@pytest.mark.django_db
def test_it_shows_times_in_the_users_time_zone(owner_client: Client, owner: User) -> None:
    import datetime as dt

    person = PersonFactory(workspace=owner.current_workspace, first_name="Tama")
    InteractionFactory(
        workspace=owner.current_workspace,
        people=[person],
        summary="Late call",
        occurred_at=dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.UTC),
    )
    owner.time_zone = "Pacific/Auckland"
    owner.save()

    page = owner_client.get(reverse("people:detail", args=[person.pk])).content.decode()

    # 23:30 UTC on 1 March is 12:30 on 2 March in Auckland (NZDT, UTC+13).
    assert "2 Mar 2026, 12:30" in page
