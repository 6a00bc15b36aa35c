from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings as SettingsWrapper

from crm import services
from crm.models import PasswordResetRequest, User
from tests.factories import PASSWORD


def _request_reset(client: Client, email: str, capture, **extra: str) -> tuple[object, list]:
    with capture() as callbacks:
        response = client.post(reverse("password_reset"), {"email": email}, follow=True, **extra)
    return response, callbacks


@pytest.mark.django_db
def test_it_queues_the_reset_email_and_the_worker_sends_a_site_url_link(
    client: Client, owner: User, settings: SettingsWrapper, django_capture_on_commit_callbacks
) -> None:
    settings.SITE_URL = "https://rapport.example.com"
    settings.ALLOWED_HOSTS = ["evil.example.net"]
    response, callbacks = _request_reset(
        client, "Owner@example.com", django_capture_on_commit_callbacks, HTTP_HOST="evil.example.net"
    )

    assert "Check your email" in response.content.decode()
    assert len(callbacks) == 1
    assert services.password_reset_send(request_id=PasswordResetRequest.objects.get(user=owner).pk)  # the task
    message = mail.outbox[0]
    assert message.to == ["owner@example.com"]
    assert message.subject == "Reset your Rapport password"
    assert "https://rapport.example.com/password/reset/" in message.body
    assert "evil.example.net" not in message.body
    html = message.alternatives[0][0]
    assert "https://rapport.example.com/password/reset/" in html
    assert "evil.example.net" not in html


@pytest.mark.django_db
def test_it_does_not_reveal_whether_an_email_has_an_account(
    client: Client, owner: User, django_capture_on_commit_callbacks
) -> None:
    known, queued_for_known = _request_reset(client, "owner@example.com", django_capture_on_commit_callbacks)
    unknown, queued_for_unknown = _request_reset(client, "nobody@example.com", django_capture_on_commit_callbacks)

    assert known.status_code == unknown.status_code == 200
    assert known.redirect_chain == unknown.redirect_chain
    assert known.content == unknown.content
    assert (len(queued_for_known), len(queued_for_unknown)) == (1, 0)


@pytest.mark.django_db
def test_it_sets_a_new_password_from_the_link(client: Client, owner: User, settings: SettingsWrapper) -> None:
    services.password_reset_send(request_id=services.password_reset_request(user=owner).pk)
    link = re.search(re.escape(settings.SITE_URL) + r"(/password/reset/\S+/)", mail.outbox[0].body).group(1)

    form_page = client.get(link, follow=True)
    assert "Choose a new password" in form_page.content.decode()
    new = "a brand new passphrase 42"
    done = client.post(form_page.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})

    assert done.status_code == 302
    owner.refresh_from_db()
    assert owner.check_password(new)
    # The link works once.
    assert "no longer works" in client.get(link, follow=True).content.decode()


@pytest.mark.django_db
def test_it_changes_the_password_of_a_signed_in_user(owner_client: Client, owner: User) -> None:
    new = "another long passphrase 7"
    response = owner_client.post(
        reverse("password_change"), {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
    )

    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.check_password(new)
    # Still signed in after the change (the session hash was updated).
    assert owner_client.get(reverse("dashboard")).status_code == 200


@pytest.mark.django_db
def test_it_refuses_a_wrong_old_password(owner_client: Client, owner: User) -> None:
    response = owner_client.post(
        reverse("password_change"), {"old_password": "wrong", "new_password1": "x" * 12, "new_password2": "x" * 12}
    )

    assert response.status_code == 200
    assert "Your old password was entered incorrectly" in response.content.decode()
