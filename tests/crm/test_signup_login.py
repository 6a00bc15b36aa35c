from __future__ import annotations

import re
import smtplib
from datetime import UTC, datetime, timedelta
from unittest.mock import patch

import pytest
import time_machine
from django.contrib.auth.hashers import check_password
from django.core import mail
from django.core.mail import EmailMessage
from django.db import connection
from django.http import HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pytest_django.fixtures import Settings as SettingsWrapper

from crm import services
from crm.models import Membership, Signup, User
from crm.tasks import send_signup_email_task
from tests.factories import PASSWORD, UserFactory


def _sign_up(client: Client, **overrides: str) -> HttpResponse:
    data = {
        "email": "Ada@Example.com",
        "display_name": "Ada Lovelace",
        "time_zone": "Europe/Berlin",
        "password1": PASSWORD,
        "password2": PASSWORD,
        **overrides,
    }
    return client.post(reverse("signup"), data)


def _deliver() -> list[EmailMessage]:
    """What the worker does with the sign-up emails queued so far; returns the messages sent."""
    before = len(mail.outbox)
    for signup in Signup.objects.order_by("pk"):
        send_signup_email_task.apply(args=[signup.pk])
    return mail.outbox[before:]


def _link_in(message: EmailMessage) -> str:
    match = re.search(r"http://testserver(/signup/confirm/\S+/)", message.body)
    assert match, message.body
    return match.group(1)


def _sign_up_and_get_link(client: Client, settings: SettingsWrapper, **overrides: str) -> str:
    settings.SITE_URL = "http://testserver"
    assert _sign_up(client, **overrides).status_code == 200
    (message,) = _deliver()
    return _link_in(message)


def _app_query(sql: str) -> bool:
    """A query of the app's own, not of the rate-limit counters: they are the same work for any
    address (a counter per address and per client), but the run's first request creates the
    client's counter (with its savepoints), later ones update it."""
    return "rapport_cache" not in sql and not sql.startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO"))


def _page_text(response: HttpResponse) -> str:
    """The page as a user reads it: the CSRF token differs per visitor, nothing else may."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())


@pytest.mark.django_db
@pytest.mark.trust
def test_it_answers_a_new_and_an_existing_address_the_same_and_emails_each_its_own_kind(
    owner: User, settings: SettingsWrapper, django_capture_on_commit_callbacks
) -> None:
    settings.SITE_URL = "http://testserver"
    hashes = []
    real_make_password = services.make_password

    def counting_make_password(password: str) -> str:
        hashes.append(password)
        return real_make_password(password)

    answers, queued, queries = [], [], []
    with patch.object(services, "make_password", counting_make_password):
        for address in ("ada@example.com", "OWNER@example.com"):
            with django_capture_on_commit_callbacks() as callbacks, CaptureQueriesContext(connection) as ran:
                answers.append(_sign_up(Client(), email=address))
            queued.append(len(callbacks))
            queries.append(len([q for q in ran.captured_queries if _app_query(q["sql"])]))
    new, existing = answers

    assert new.status_code == existing.status_code == 200
    assert [t.name for t in new.templates] == [t.name for t in existing.templates]
    assert _page_text(new) == _page_text(existing)
    assert "Check your email to continue" in new.content.decode()
    assert "already" not in new.content.decode()
    # The same work on both paths: one password hash, the same queries, one email queued.
    assert hashes == [PASSWORD, PASSWORD]
    assert queries[0] == queries[1]
    assert queued == [1, 1]
    to_new, to_owner = _deliver()
    assert to_new.to == ["ada@example.com"]
    assert to_new.subject == "Confirm your email to finish signing up for Rapport"
    assert "/signup/confirm/" in to_new.body
    assert to_owner.to == ["owner@example.com"]
    assert to_owner.subject == "Someone tried to sign up for Rapport with your address"
    assert "http://testserver/login/" in to_owner.body
    assert "http://testserver/password/reset/" in to_owner.body
    assert "/signup/confirm/" not in to_owner.body + to_owner.alternatives[0][0]
    assert _deliver() == []  # a redelivered task sends nothing twice
    # No account created or changed yet; only the password's hash is kept.
    assert list(User.objects.values_list("email", flat=True)) == ["owner@example.com"]
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)
    assert Membership.objects.filter(user=owner).count() == 1
    pending = Signup.objects.get(email="ada@example.com")
    assert PASSWORD not in pending.password
    assert check_password(PASSWORD, pending.password)
    assert Signup.objects.get(email="owner@example.com").password == ""


@pytest.mark.django_db
def test_the_emailed_link_creates_the_account_logs_in_and_lands_on_the_dashboard(
    client: Client, settings: SettingsWrapper
) -> None:
    link = _sign_up_and_get_link(client, settings)

    landing = client.get(link)  # what a link scanner does: shows the page, creates nothing
    assert landing.status_code == 200
    assert "ada@example.com" in landing.content.decode()
    assert not User.objects.exists()
    response = client.post(link, {"password": PASSWORD})

    assert response.status_code == 302
    assert response.url == reverse("dashboard")
    user = User.objects.get(email="ada@example.com")
    assert (user.display_name, user.time_zone) == ("Ada Lovelace", "Europe/Berlin")
    assert user.check_password(PASSWORD)
    membership = Membership.objects.get(user=user)
    assert membership.role == Membership.Role.OWNER
    assert user.current_workspace == membership.workspace
    assert membership.workspace.name == "Ada Lovelace's workspace"
    page = client.get(reverse("dashboard"))
    assert page.status_code == 200
    assert "Welcome to Rapport! Your workspace “Ada Lovelace&#x27;s workspace” is ready." in page.content.decode()
    assert Client().post(reverse("login"), {"username": "ada@example.com", "password": PASSWORD}).status_code == 302


@pytest.mark.django_db
def test_the_link_works_once(client: Client, settings: SettingsWrapper) -> None:
    link = _sign_up_and_get_link(client, settings)
    client.post(link, {"password": PASSWORD})

    again = Client().post(link, {"password": PASSWORD})

    assert again.status_code == 410
    assert "already been used" in again.content.decode()
    assert User.objects.count() == 1
    assert Client().get(link).status_code == 410


@pytest.mark.django_db
def test_the_link_expires_and_the_page_offers_to_start_again(client: Client, settings: SettingsWrapper) -> None:
    signed_up = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)
    with time_machine.travel(signed_up, tick=False):
        link = _sign_up_and_get_link(client, settings)
    with time_machine.travel(signed_up + timedelta(hours=47), tick=False):
        assert client.get(link).status_code == 200

    with time_machine.travel(signed_up + timedelta(hours=49), tick=False):
        response = client.post(link, {"password": PASSWORD})

    assert response.status_code == 410
    page = response.content.decode()
    assert "This sign-up link has expired" in page
    assert f'href="{reverse("signup")}"' in page
    assert not User.objects.exists()


@pytest.mark.django_db
def test_a_second_sign_up_for_the_address_replaces_the_first(client: Client, settings: SettingsWrapper) -> None:
    first = _sign_up_and_get_link(client, settings)
    mail.outbox.clear()
    _sign_up(client, display_name="Ada King")
    (message,) = _deliver()  # only the newest sign-up's email goes out
    second = _link_in(message)

    refused = client.post(first, {"password": PASSWORD})
    created = client.post(second, {"password": PASSWORD})

    assert refused.status_code == 410
    assert "replaced this link" in refused.content.decode()
    assert created.status_code == 302
    assert User.objects.get().display_name == "Ada King"


@pytest.mark.django_db
def test_a_link_followed_after_the_address_got_an_account_logs_nobody_in(
    client: Client, settings: SettingsWrapper
) -> None:
    link = _sign_up_and_get_link(client, settings)
    UserFactory(email="ada@example.com")  # e.g. through an invitation, meanwhile

    response = client.post(link, {"password": PASSWORD})

    assert response.status_code == 409
    assert "already exists. Log in instead." in response.content.decode()
    assert client.get(reverse("dashboard")).status_code == 302
    assert not Membership.objects.exists()


@pytest.mark.django_db
def test_a_forged_link_is_refused(client: Client, settings: SettingsWrapper) -> None:
    link = _sign_up_and_get_link(client, settings)

    assert client.post(link[:-4] + "xx/", {"password": PASSWORD}).status_code == 410
    assert client.post(reverse("signup_confirm", args=["not-a-token"])).status_code == 410
    assert not User.objects.exists()


@pytest.mark.django_db
def test_a_failed_email_is_retried_then_left_failed_with_the_reason(client: Client) -> None:
    _sign_up(client)
    signup = Signup.objects.get()

    with patch("crm.services.make_message", side_effect=smtplib.SMTPServerDisconnected("Connection closed")):
        send_signup_email_task.apply(args=[signup.pk], retries=send_signup_email_task.max_retries)

    signup.refresh_from_db()
    assert (signup.email_state, signup.email_error) == ("failed", "Connection closed")
    assert services.signup_email_send(signup_id=signup.pk) is True  # the next run sends it
    assert len(mail.outbox) == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"password1": "12345", "password2": "12345"}, "This password is too short"),
        ({"password2": "something else entirely"}, "The two password fields didn’t match"),
        ({"time_zone": "Mars/Olympus_Mons"}, "Select a valid choice"),
        ({"email": "not-an-email"}, "Enter a valid email address"),
    ],
)
def test_it_creates_nothing_and_sends_nothing_when_the_form_is_invalid(
    client: Client, overrides: dict[str, str], error: str, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        response = _sign_up(client, **overrides)

    assert response.status_code == 200
    assert error in response.content.decode()
    assert not Signup.objects.exists()
    assert not User.objects.exists()
    assert callbacks == []


@pytest.mark.django_db
def test_it_offers_every_iana_time_zone_and_presets_it_from_the_browser(client: Client) -> None:
    page = client.get(reverse("signup")).content.decode()

    assert 'value="Pacific/Auckland"' in page
    assert 'value="America/Los_Angeles"' in page
    assert "data-browser-timezone" in page


@pytest.mark.django_db
def test_a_logged_in_user_is_sent_to_the_dashboard_not_to_sign_up(outsider_client: Client) -> None:
    response = outsider_client.post(reverse("signup"), {"email": "new@example.com"})

    assert response.status_code == 302
    assert response.url == reverse("dashboard")
    assert not Signup.objects.exists()


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
def test_a_very_long_name_still_gets_a_workspace(client: Client, settings: SettingsWrapper) -> None:
    link = _sign_up_and_get_link(client, settings, display_name="A" * 150)

    response = client.post(link, {"password": PASSWORD})

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


@pytest.mark.django_db
def test_whoever_signs_up_with_someone_elses_address_cannot_get_into_their_account(
    client: Client, settings: SettingsWrapper
) -> None:
    # The attacker signs up as Ada with a password of theirs; Ada gets the email and clicks.
    link = _sign_up_and_get_link(client, settings)
    ada = Client()

    shown = ada.get(link).content.decode()
    refused = ada.post(link, {"password": "what-ada-would-type"})

    assert "Type the password you chose when signing up" in shown
    assert refused.status_code == 200
    assert "That is not the password chosen when signing up with this address." in refused.content.decode()
    assert not User.objects.filter(email="ada@example.com").exists()
    assert Signup.objects.get(email="ada@example.com").status == Signup.Status.PENDING
    # Ada signs up again herself: the attacker's link is replaced and never works.
    assert _sign_up(ada, password1="adas-own-long-secret", password2="adas-own-long-secret").status_code == 200
    assert client.post(link, {"password": PASSWORD}).status_code == 410
    assert not User.objects.filter(email="ada@example.com").exists()
