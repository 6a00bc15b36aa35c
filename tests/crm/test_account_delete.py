"""Deleting one's own account: the page says what happens to each workspace; a workspace whose
only owner one is must get another owner first; one's solo workspace goes with the account."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from crm.models import AuditEvent, Membership, User, Workspace
from tests.factories import PASSWORD, MembershipFactory, PersonFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db


def test_the_only_owner_of_a_shared_workspace_must_hand_it_over_first(
    owner_client: Client, owner: User, member: User, workspace: Workspace
) -> None:
    solo = WorkspaceFactory(name="Side project")
    MembershipFactory(workspace=solo, user=owner, role=Membership.Role.OWNER)
    PersonFactory(workspace=solo)
    page = owner_client.get(reverse("account_delete")).content.decode()
    assert "you are its only owner" in page
    assert "deleted with your account, with its 2 records" in page  # the person and their company

    refused = owner_client.post(reverse("account_delete"), {"password": PASSWORD})
    assert "Make someone else an owner of Acme Bakery first" in refused.content.decode()
    wrong = owner_client.post(reverse("account_delete"), {"password": "nope"})
    assert "That is not your password." in wrong.content.decode()
    assert User.objects.filter(pk=owner.pk).exists()

    Membership.objects.filter(user=member).update(role=Membership.Role.OWNER)
    audit_id = AuditEvent.objects.create(
        workspace=workspace, actor=owner, actor_email=owner.email, action="login", summary="x"
    ).pk
    done = owner_client.post(reverse("account_delete"), {"password": PASSWORD})

    assert done["Location"] == reverse("login")
    assert not User.objects.filter(pk=owner.pk).exists()
    assert not Workspace.objects.filter(pk=solo.pk).exists()
    assert Workspace.objects.filter(pk=workspace.pk).exists()
    assert AuditEvent.objects.get(pk=audit_id).actor_email == ""
    assert AuditEvent.objects.filter(action="account_deleted", workspace=workspace).count() == 1
    assert Client().post(reverse("login"), {"username": "owner@example.com", "password": PASSWORD}).status_code == 200
