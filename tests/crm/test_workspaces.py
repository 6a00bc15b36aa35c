from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from crm.models import Membership, User, Workspace
from tests.factories import PersonFactory


@pytest.mark.django_db
@pytest.mark.trust
def test_removed_members_lose_access_at_once(
    owner_client: Client, member_client: Client, member: User, workspace: Workspace
) -> None:
    person = PersonFactory(workspace=workspace)
    assert member_client.get(reverse("people:detail", args=[person.pk])).status_code == 200
    membership = Membership.objects.get(user=member)

    response = owner_client.post(reverse("member_remove", args=[membership.pk]), follow=True)

    assert "no longer have access" in response.content.decode()
    assert member_client.get(reverse("people:detail", args=[person.pk])).status_code == 302
    assert member_client.get(reverse("dashboard")).url == reverse("workspace_create")


@pytest.mark.django_db
@pytest.mark.trust
def test_members_cannot_manage_members(member_client: Client, owner: User) -> None:
    owner_membership = Membership.objects.get(user=owner)

    assert member_client.post(reverse("member_remove", args=[owner_membership.pk])).status_code == 403
    assert member_client.post(reverse("member_role", args=[owner_membership.pk]), {"role": "member"}).status_code == 403
    assert member_client.get(reverse("workspace_rename")).status_code == 403
    assert Membership.objects.filter(user=owner, role="owner").exists()


@pytest.mark.django_db
def test_members_see_the_team_without_management_buttons(member_client: Client, owner: User) -> None:
    page = member_client.get(reverse("members")).content.decode()

    assert "Olivia Owner" in page
    assert "Send invitation" not in page
    assert "Remove" not in page


@pytest.mark.django_db
def test_an_owner_promotes_a_member(owner_client: Client, member: User) -> None:
    membership = Membership.objects.get(user=member)

    owner_client.post(reverse("member_role", args=[membership.pk]), {"role": "owner"})

    membership.refresh_from_db()
    assert membership.role == "owner"


@pytest.mark.django_db
def test_the_last_owner_cannot_step_down(owner_client: Client, owner: User) -> None:
    membership = Membership.objects.get(user=owner)

    response = owner_client.post(reverse("member_role", args=[membership.pk]), {"role": "member"}, follow=True)

    assert "at least one owner" in response.content.decode()
    membership.refresh_from_db()
    assert membership.role == "owner"


@pytest.mark.django_db
def test_owners_cannot_manage_another_workspaces_members(owner_client: Client, outsider: User) -> None:
    foreign = Membership.objects.get(user=outsider)

    assert owner_client.post(reverse("member_remove", args=[foreign.pk])).status_code == 404
    assert owner_client.post(reverse("member_role", args=[foreign.pk]), {"role": "member"}).status_code == 404
    assert Membership.objects.filter(pk=foreign.pk, role="owner").exists()


@pytest.mark.django_db
def test_nobody_switches_into_a_workspace_they_are_not_in(outsider_client: Client, workspace: Workspace) -> None:
    response = outsider_client.post(reverse("workspace_switch", args=[workspace.pk]))

    assert response.status_code == 404


@pytest.mark.django_db
def test_a_user_creates_a_second_workspace_and_owns_it(owner_client: Client, owner: User) -> None:
    response = owner_client.post(reverse("workspace_create"), {"name": "Side project"}, follow=True)

    assert "Workspace “Side project” created" in response.content.decode()
    owner.refresh_from_db()
    assert owner.current_workspace.name == "Side project"
    assert Membership.objects.get(user=owner, workspace=owner.current_workspace).role == "owner"
    assert Membership.objects.filter(user=owner).count() == 2


@pytest.mark.django_db
def test_an_owner_renames_the_workspace(owner_client: Client, workspace: Workspace) -> None:
    owner_client.post(reverse("workspace_rename"), {"name": "Acme & Sons"})

    workspace.refresh_from_db()
    assert workspace.name == "Acme & Sons"


@pytest.mark.django_db
def test_a_blank_workspace_name_is_refused(owner_client: Client) -> None:
    response = owner_client.post(reverse("workspace_create"), {"name": ""})

    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
