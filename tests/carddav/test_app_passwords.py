"""App passwords: made on the settings page or by command, shown once, DAV only, throttled like
logins, revocable, and scoped to the memberships of the moment."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from carddav.models import AppPassword
from crm.models import Membership, User, Workspace
from tests.carddav.helpers import basic, book_url, device

PROPFIND = '<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop><d:displayname/></d:prop></d:propfind>'


def _propfind(client: Client, url: str, auth: dict[str, str]) -> int:
    return client.generic("PROPFIND", url, PROPFIND, content_type="application/xml", HTTP_DEPTH="0", **auth).status_code


@pytest.mark.django_db
def test_it_shows_a_new_app_password_once_and_lists_it(owner_client: Client, owner: User) -> None:
    response = owner_client.post(reverse("carddav:settings"), {"name": "Ngozi's iPhone"}, follow=True)
    text = response.content.decode()
    password = re.search(r'id="app-password-value" value="([^"]+)"', text)[1]
    assert "shown only this once" in text
    assert "Ngozi&#x27;s iPhone" in text
    again = owner_client.get(reverse("carddav:settings")).content.decode()
    assert password not in again
    assert "not used yet" in again
    assert AppPassword.objects.get().digest != password  # only the hash is kept
    assert _propfind(Client(), book_url(owner, owner.current_workspace_id), basic(owner.email, password)) == 207
    assert "last synced" in owner_client.get(reverse("carddav:settings")).content.decode()


@pytest.mark.django_db
def test_it_asks_for_a_device_name(owner_client: Client) -> None:
    response = owner_client.post(reverse("carddav:settings"), {"name": "  "})
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    assert not AppPassword.objects.exists()


@pytest.mark.django_db
def test_the_command_prints_a_password_that_syncs(owner: User, workspace: Workspace) -> None:
    out = StringIO()
    call_command("dav_password", "create", "--user", "OWNER@example.com", "--name", "script", stdout=out)
    password = out.getvalue().strip()
    assert _propfind(Client(), book_url(owner, workspace.pk), basic(owner.email, password)) == 207
    call_command("dav_password", "revoke", "--user", owner.email, "--name", "script", stdout=StringIO())
    assert _propfind(Client(), book_url(owner, workspace.pk), basic(owner.email, password)) == 401


@pytest.mark.django_db
def test_an_app_password_never_signs_in_to_the_web(owner: User, client: Client) -> None:
    auth = device(owner)
    password = __import__("base64").b64decode(auth["HTTP_AUTHORIZATION"].split()[1]).decode().split(":", 1)[1]
    response = client.post(reverse("login"), {"username": owner.email, "password": password})
    assert response.status_code == 200  # the form again, with its error
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("dashboard"), **auth).status_code == 302  # Basic auth is no session either


@pytest.mark.django_db
def test_the_account_password_does_not_sync(owner: User, workspace: Workspace, client: Client) -> None:
    owner.set_password("Account-pass-123")
    owner.save()
    assert _propfind(client, book_url(owner, workspace.pk), basic(owner.email, "Account-pass-123")) == 401


@pytest.mark.django_db
def test_revoking_stops_the_device(owner_client: Client, owner: User, workspace: Workspace) -> None:
    auth = device(owner, "old phone")
    assert _propfind(Client(), book_url(owner, workspace.pk), auth) == 207
    app_password = AppPassword.objects.get()
    response = owner_client.post(reverse("carddav:password_revoke", args=[app_password.pk]), follow=True)
    assert "“old phone” can no longer sync" in response.content.decode()
    assert _propfind(Client(), book_url(owner, workspace.pk), auth) == 401
    assert "old phone" not in owner_client.get(reverse("carddav:settings")).content.decode()


@pytest.mark.django_db
def test_a_removed_members_phone_stops_seeing_the_workspace_at_once(member: User, workspace: Workspace) -> None:
    auth = device(member)
    assert _propfind(Client(), book_url(member, workspace.pk), auth) == 207
    Membership.objects.filter(user=member, workspace=workspace).delete()
    assert _propfind(Client(), book_url(member, workspace.pk), auth) == 404


@pytest.mark.django_db
@pytest.mark.trust
def test_wrong_app_passwords_are_throttled_like_logins(owner: User, workspace: Workspace, settings) -> None:
    good = device(owner)
    client = Client()
    answers = [_propfind(client, book_url(owner, workspace.pk), basic(owner.email, "guess")) for _ in range(10)]
    assert answers == [401] * (settings.AXES_FAILURE_LIMIT - 1) + [429] * (11 - settings.AXES_FAILURE_LIMIT)
    assert _propfind(client, book_url(owner, workspace.pk), good) == 429  # locked, even the right one
    assert client.post(reverse("login"), {"username": owner.email, "password": "x"}).status_code == 429


@pytest.mark.django_db
def test_the_scope_choice_is_kept_per_workspace(owner_client: Client, owner: User, workspace: Workspace) -> None:
    response = owner_client.post(
        reverse("carddav:book_scope", args=[workspace.pk]), {f"ws{workspace.pk}-scope": "mine"}, follow=True
    )
    assert "only my people, from the next sync" in response.content.decode()
    bad = owner_client.post(
        reverse("carddav:book_scope", args=[workspace.pk]), {f"ws{workspace.pk}-scope": "x"}, follow=True
    )
    assert "Choose" in bad.content.decode()
