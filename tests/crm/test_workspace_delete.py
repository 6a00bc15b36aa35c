"""Deleting a workspace: owners only, after reading what goes and typing its name; all or nothing."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import DatabaseError
from django.test import Client
from django.urls import reverse

from crm.models import Invitation, Membership, User, Workspace
from interactions import services as interaction_services
from interactions.models import FollowUp, Interaction, Need, Promise
from people.models import Company, FamilyMember, Person, Pet
from reminders import services as reminder_services
from tests.factories import InteractionFactory, MembershipFactory, PersonFactory, WorkspaceFactory

pytestmark = pytest.mark.trust


@pytest.fixture
def filled(workspace: Workspace, owner: User, member: User) -> Person:
    anna = PersonFactory(workspace=workspace, first_name="Anna", company__name="Anna Ltd")
    PersonFactory(workspace=workspace, first_name="Ben", company=anna.company)
    FamilyMember.objects.create(workspace=workspace, person=anna, relation="spouse", name="Carl")
    Pet.objects.create(workspace=workspace, person=anna, name="Max")
    InteractionFactory(workspace=workspace, people=[anna])
    InteractionFactory(workspace=workspace, people=[anna])
    interaction_services.need_open(person=anna, title="A new roof")
    interaction_services.promise_create(person=anna, text="Send the quote")
    reminder_services.follow_up_create(person=anna, due_on=date(2026, 3, 4), note="Call back")
    return anna


def _delete_url(workspace: Workspace) -> str:
    return reverse("workspace_delete", args=[workspace.pk])


@pytest.mark.django_db
def test_it_says_what_will_be_deleted_before_asking_for_the_name(
    owner_client: Client, workspace: Workspace, filled: Person
) -> None:
    page = owner_client.get(_delete_url(workspace)).content.decode()

    assert "Delete the workspace “Acme Bakery”?" in page
    assert "2 people and 1 company" in page
    assert "2 conversations, 1 need and 1 promise" in page
    assert "1 follow-up" in page
    assert "2 members lose access" in page
    assert "Type the workspace name to confirm" in page


@pytest.mark.django_db
def test_it_deletes_nothing_until_the_name_is_typed(owner_client: Client, workspace: Workspace, filled: Person) -> None:
    response = owner_client.post(_delete_url(workspace), {"confirm_name": "Acme"})

    assert response.status_code == 200
    assert "Type “Acme Bakery” exactly" in response.content.decode()
    assert Person.objects.for_workspace(workspace).count() == 2


@pytest.mark.django_db
def test_it_deletes_everything_and_lands_the_owner_in_another_workspace(
    owner_client: Client, owner: User, workspace: Workspace, filled: Person, other_workspace: Workspace
) -> None:
    side = WorkspaceFactory(name="Side project")
    MembershipFactory(workspace=side, user=owner, role=Membership.Role.MEMBER)
    kept = PersonFactory(workspace=side, first_name="Kept")
    Invitation.objects.create(workspace=workspace, email="new@example.com")

    response = owner_client.post(_delete_url(workspace), {"confirm_name": " Acme Bakery "}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("dashboard")
    page = response.content.decode()
    assert "Workspace “Acme Bakery” and everything in it deleted." in page
    assert "Side project" in page
    assert not Workspace.objects.filter(pk=workspace.pk).exists()
    for model in (Person, Company, Interaction, Need, Promise, FollowUp, FamilyMember, Pet, Invitation):
        assert not model.objects.filter(workspace_id=workspace.pk).exists(), model
    assert not Membership.objects.filter(workspace_id=workspace.pk).exists()
    assert Person.objects.filter(pk=kept.pk).exists()
    owner.refresh_from_db()
    assert owner.current_workspace == side


@pytest.mark.django_db
def test_an_owner_without_another_workspace_is_asked_to_create_one(
    owner_client: Client, workspace: Workspace, member_client: Client
) -> None:
    response = owner_client.post(_delete_url(workspace), {"confirm_name": "Acme Bakery"})

    assert response.url == reverse("workspace_create")
    # The other member loses it at once too.
    assert member_client.get(reverse("dashboard")).url == reverse("workspace_create")


@pytest.mark.django_db
def test_members_are_refused_and_see_no_button(
    member_client: Client, owner_client: Client, workspace: Workspace, filled: Person
) -> None:
    assert member_client.get(_delete_url(workspace)).status_code == 403
    assert member_client.post(_delete_url(workspace), {"confirm_name": "Acme Bakery"}).status_code == 403
    assert "Delete workspace" not in member_client.get(reverse("members")).content.decode()
    assert "Delete workspace" in owner_client.get(reverse("members")).content.decode()
    assert Person.objects.for_workspace(workspace).count() == 2


@pytest.mark.django_db
def test_outsiders_get_a_404(outsider_client: Client, workspace: Workspace, filled: Person) -> None:
    assert outsider_client.get(_delete_url(workspace)).status_code == 404
    assert outsider_client.post(_delete_url(workspace), {"confirm_name": "Acme Bakery"}).status_code == 404
    assert Workspace.objects.filter(pk=workspace.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_a_failure_half_way_deletes_nothing(
    owner_client: Client, workspace: Workspace, filled: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise DatabaseError("disk full")

    # The people go first, then the workspace row fails: the people must come back.
    monkeypatch.setattr(Workspace, "delete", lambda self: (Person.objects.for_workspace(self).delete(), fail()))
    owner_client.raise_request_exception = False

    response = owner_client.post(_delete_url(workspace), {"confirm_name": "Acme Bakery"})

    assert response.status_code == 500
    assert Person.objects.for_workspace(workspace).count() == 2
    assert Workspace.objects.filter(pk=workspace.pk).exists()
