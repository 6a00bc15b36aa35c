from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from crm.models import Membership, User
from tests.factories import PASSWORD


def _sign_up(client: Client, **overrides: str):
    data = {
        "email": "Ada@Example.com",
        "display_name": "Ada Lovelace",
        "time_zone": "Europe/Berlin",
        "password1": PASSWORD,
        "password2": PASSWORD,
        **overrides,
    }
    return client.post(reverse("signup"), data)


@pytest.mark.django_db
def test_it_creates_a_workspace_owned_by_the_new_user(client: Client) -> None:
    response = _sign_up(client)

    assert response.status_code == 302
    assert response.url == reverse("dashboard")
    user = User.objects.get(email="ada@example.com")
    assert user.time_zone == "Europe/Berlin"
    membership = Membership.objects.get(user=user)
    assert membership.role == Membership.Role.OWNER
    assert user.current_workspace == membership.workspace
    assert membership.workspace.name == "Ada Lovelace's workspace"
    page = client.get(reverse("dashboard"))
    assert page.status_code == 200
    assert "Ada Lovelace&#x27;s workspace" in page.content.decode()


@pytest.mark.django_db
def test_it_refuses_an_email_already_taken_whatever_its_case(client: Client, owner: User) -> None:
    response = _sign_up(client, email="OWNER@example.com")

    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert User.objects.count() == 1


@pytest.mark.django_db
def test_it_refuses_a_weak_password_next_to_the_field(client: Client) -> None:
    response = _sign_up(client, password1="12345", password2="12345")

    assert response.status_code == 200
    assert "This password is too short" in response.content.decode()
    assert not User.objects.exists()


@pytest.mark.django_db
def test_it_refuses_an_unknown_time_zone(client: Client) -> None:
    response = _sign_up(client, time_zone="Mars/Olympus_Mons")

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


@pytest.mark.django_db
def test_it_offers_every_iana_time_zone_and_presets_it_from_the_browser(client: Client) -> None:
    page = client.get(reverse("signup")).content.decode()

    assert 'value="Pacific/Auckland"' in page
    assert 'value="America/Los_Angeles"' in page
    assert "data-browser-timezone" in page


@pytest.mark.django_db
@pytest.mark.trust
def test_it_logs_in_by_email_in_any_case_and_rotates_the_session(client: Client, owner: User) -> None:
    session = client.session
    session["seen"] = True
    session.save()
    before = session.session_key
    response = client.post(reverse("login"), {"username": "Owner@Example.com", "password": PASSWORD})

    assert response.status_code == 302
    assert response.url == reverse("dashboard")
    assert before
    assert client.cookies["sessionid"].value != before
    assert client.get(reverse("dashboard")).status_code == 200


@pytest.mark.django_db
def test_it_says_when_the_password_is_wrong(client: Client, owner: User) -> None:
    response = client.post(reverse("login"), {"username": "owner@example.com", "password": "nope"})

    assert response.status_code == 200
    assert "Please enter a correct email and password" in response.content.decode()


@pytest.mark.django_db
def test_it_logs_out_with_a_post(owner_client: Client) -> None:
    response = owner_client.post(reverse("logout"))

    assert response.status_code == 302
    assert owner_client.get(reverse("dashboard")).url.startswith(reverse("login"))


@pytest.mark.django_db
def test_it_sends_anonymous_visitors_to_login(client: Client) -> None:
    response = client.get(reverse("people:list"))

    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={reverse('people:list')}"


@pytest.mark.django_db
def test_a_very_long_name_still_gets_a_workspace(client: Client) -> None:
    response = _sign_up(client, display_name="A" * 150)

    assert response.status_code == 302
    assert User.objects.get().current_workspace.name == "A" * 80 + "'s workspace"


@pytest.mark.django_db
@pytest.mark.trust
def test_logins_are_throttled_per_account_and_address(client: Client, owner: User, member: User, settings) -> None:
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            reverse("login"), {"username": "OWNER@example.com" if attempt % 2 else "owner@example.com", "password": "x"}
        )

    locked = client.post(reverse("login"), {"username": "owner@example.com", "password": PASSWORD})
    other = Client().post(reverse("login"), {"username": "member@example.com", "password": PASSWORD})

    assert locked.status_code == 429
    assert "Too many wrong passwords" in locked.content.decode()
    assert other.status_code == 302  # another account is not affected


@pytest.mark.django_db
@pytest.mark.trust
def test_log_out_everywhere_ends_every_session(owner: User) -> None:
    phone, laptop = Client(), Client()
    for device in (phone, laptop):
        device.post(reverse("login"), {"username": "owner@example.com", "password": PASSWORD})
        assert device.get(reverse("dashboard")).status_code == 200

    response = laptop.post(reverse("log_out_everywhere"), follow=True)

    assert "logged out on every device" in response.content.decode()
    assert phone.get(reverse("dashboard")).status_code == 302
    assert laptop.get(reverse("dashboard")).status_code == 302
    again = Client()
    again.post(reverse("login"), {"username": "owner@example.com", "password": PASSWORD})
    assert again.get(reverse("dashboard")).status_code == 200
