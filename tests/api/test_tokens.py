"""Tokens: made in settings (shown once, stored hashed), scoped, revocable, rate-limited."""

from __future__ import annotations

import hashlib

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from pytest_django.fixtures import Settings

from api import services
from api.models import ApiToken
from crm.models import User, Workspace
from tests.api.conftest import MakeClient
from tests.factories import PersonFactory

PEOPLE = "/api/v1/people/"


@pytest.mark.django_db
def test_it_shows_a_new_token_once_and_stores_only_its_hash(owner_client: Client, owner: User) -> None:
    response = owner_client.post("/settings/api/", {"name": "Web shop", "write": "1"}, follow=True)
    assert "Copy it now" in response.content.decode()
    secret = response.context["new_secret"]
    assert secret.startswith("rpt_")
    token = ApiToken.objects.get(user=owner)
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(ApiToken.objects.values_list().get())
    again = owner_client.get("/settings/api/").content.decode()
    assert secret not in again
    assert "Web shop" in again
    assert Client(headers={"Authorization": f"Bearer {secret}"}).get(PEOPLE).status_code == 200


@pytest.mark.django_db
def test_it_refuses_a_revoked_token_with_a_problem_document(
    owner_client: Client, owner: User, workspace: Workspace
) -> None:
    token, secret = services.token_create(user=owner, workspace=workspace, name="Script")
    api = Client(headers={"Authorization": f"Bearer {secret}"})
    assert api.get(PEOPLE).status_code == 200
    owner_client.post(f"/settings/api/tokens/{token.pk}/revoke/")
    response = api.get(PEOPLE)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.django_db
def test_it_notes_when_a_token_was_last_used(owner: User, workspace: Workspace) -> None:
    token, secret = services.token_create(user=owner, workspace=workspace, name="Script")
    with time_machine.travel("2026-05-04 10:00Z", tick=False):
        Client(headers={"Authorization": f"Bearer {secret}"}).get(PEOPLE)
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert token.last_used_at.isoformat().startswith("2026-05-04T10:00")


@pytest.mark.django_db
def test_a_token_reaches_only_its_own_workspace(
    outsider: User, other_workspace: Workspace, workspace: Workspace, api_client: MakeClient
) -> None:
    theirs = PersonFactory(workspace=workspace, first_name="Hidden")
    api = api_client(outsider, other_workspace)
    assert api.get(f"{PEOPLE}{theirs.pk}/").status_code == 404
    assert "Hidden" not in api.get(PEOPLE).content.decode()


@pytest.mark.django_db
def test_a_read_token_cannot_write(api_client: MakeClient, owner: User, workspace: Workspace) -> None:
    api = api_client(owner, workspace, write=False)
    response = api.post(PEOPLE, {"first_name": "Anna"}, content_type="application/json")
    assert response.status_code == 403
    assert "read-only" in response.json()["detail"]


@pytest.mark.django_db
def test_a_viewer_gets_no_write_token_and_a_member_no_private_one(
    viewer: User, member: User, workspace: Workspace
) -> None:
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.token_create(user=viewer, workspace=workspace, name="x", write=True)
    with pytest.raises(PermissionDenied):
        services.token_create(user=member, workspace=workspace, name="x", private=True)


@pytest.mark.django_db
def test_a_member_demoted_to_viewer_can_no_longer_write_with_their_token(
    api_client: MakeClient, member: User, workspace: Workspace
) -> None:
    api = api_client(member, workspace)
    member.memberships.update(role="viewer")
    assert api.post(PEOPLE, {"first_name": "Anna"}, content_type="application/json").status_code == 403
    assert api.get(PEOPLE).status_code == 200


@pytest.mark.django_db
def test_it_answers_429_with_retry_after_past_the_rate(owner_api: Client, settings: Settings) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "api_per_token": "3/m"}
    with time_machine.travel("2026-05-04 10:00Z", tick=False):
        codes = [owner_api.get(PEOPLE).status_code for _ in range(4)]
        response = owner_api.get(PEOPLE)
    assert codes == [200, 200, 200, 429]
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.django_db
def test_the_command_prints_a_working_token(owner: User, capsys: pytest.CaptureFixture[str]) -> None:
    call_command("api_token", "create", "--user", "OWNER@example.com", "--name", "Set-up", "--write")
    secret = capsys.readouterr().out.strip()
    api = Client(headers={"Authorization": f"Bearer {secret}"})
    assert api.post(PEOPLE, {"first_name": "Anna"}, content_type="application/json").status_code == 201
    assert ApiToken.objects.get().scope == "write"


@pytest.mark.django_db
def test_the_outsider_cannot_revoke_someone_elses_token(
    owner: User, workspace: Workspace, outsider_client: Client
) -> None:
    token, _ = services.token_create(user=owner, workspace=workspace, name="Script")
    assert outsider_client.post(f"/settings/api/tokens/{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
