from __future__ import annotations

import re

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


# --- Theme (issue 18) ------------------------------------------------------------------------


def _html_tag(page: str) -> str:
    return page[page.index("<html") : page.index(">", page.index("<html")) + 1]


@pytest.mark.django_db
def test_it_renders_the_chosen_theme_on_the_html_element(owner_client: Client, owner: User) -> None:
    owner.theme = User.Theme.DARK
    owner.save()

    page = owner_client.get(reverse("dashboard")).content.decode()

    # On <html> from the server: the first paint is already dark, no flash of light.
    assert 'data-bs-theme="dark"' in _html_tag(page)
    assert 'data-theme="dark"' in _html_tag(page)


@pytest.mark.django_db
def test_it_saves_the_theme_switch(owner_client: Client, owner: User) -> None:
    response = owner_client.post(reverse("account_settings"), _settings(theme="dark"), follow=True)

    assert "Settings saved." in response.content.decode()
    assert 'data-bs-theme="dark"' in _html_tag(response.content.decode())
    owner.refresh_from_db()
    assert owner.theme == "dark"

    owner_client.post(reverse("account_settings"), _settings(theme="system"))
    owner.refresh_from_db()
    assert owner.theme == "system"


@pytest.mark.django_db
def test_it_offers_light_dark_and_the_system_on_the_settings_page(owner_client: Client) -> None:
    page = owner_client.get(reverse("account_settings")).content.decode()

    choices = re.findall(r'name="theme" value="(\w+)"\s+id="(id_theme_\d)"( checked)?', page)
    labels = {
        for_id: " ".join(text.split()) for for_id, text in re.findall(r'<label for="(id_theme_\d)"[^>]*>([^<]+)<', page)
    }

    assert [(value, labels[for_id], bool(checked)) for value, for_id, checked in choices] == [
        ("system", "Follow the system", True),
        ("light", "Light", False),
        ("dark", "Dark", False),
    ]


@pytest.mark.django_db
def test_it_keeps_the_theme_when_a_post_leaves_it_out(owner_client: Client, owner: User) -> None:
    owner.theme = User.Theme.LIGHT
    owner.save()

    owner_client.post(reverse("account_settings"), _settings())

    owner.refresh_from_db()
    assert owner.theme == "light"


@pytest.mark.django_db
def test_it_rejects_a_theme_that_does_not_exist(owner_client: Client, owner: User) -> None:
    response = owner_client.post(reverse("account_settings"), _settings(theme="sepia"))

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    owner.refresh_from_db()
    assert owner.theme == "system"


@pytest.mark.django_db
def test_it_follows_the_system_for_anonymous_visitors(client: Client) -> None:
    page = client.get(reverse("login")).content.decode()

    # Light until static/js/theme.js asks the system; the page loads that script first.
    assert 'data-bs-theme="light" data-theme="system"' in _html_tag(page)
    assert page.index("js/theme.js") < page.index("bootstrap.min.css")


@pytest.mark.django_db
def test_an_outsider_sees_their_own_theme_not_the_owners(outsider_client: Client, owner: User) -> None:
    owner.theme = User.Theme.DARK
    owner.save()
    person = PersonFactory(workspace=owner.current_workspace)

    response = outsider_client.get(reverse("people:detail", args=[person.pk]))

    assert response.status_code == 404
    assert 'data-theme="system"' in _html_tag(response.content.decode())
