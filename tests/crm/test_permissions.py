"""Roles: owners do everything, members work the book, viewers look (see crm/permissions.py).

Each capability is refused in its service (PermissionDenied) and in its view (the 403 page,
saying what was refused and which owner to ask), and allowed to the owner.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from crm import permissions
from crm.models import Membership, User, Workspace
from exports import services as export_services
from exports.backup import workspace_zip
from exports.models import CalendarFeed
from imports import services as import_services
from imports.models import ImportJob
from interactions import services as interaction_services
from interactions.models import Interaction
from people import services as people_services
from people.models import Person
from tests.factories import MembershipFactory, PersonFactory, WorkspaceFactory

OWNER_NAMED = "Ask an owner of Acme Bakery: Olivia Owner."


@pytest.fixture
def anna(workspace: Workspace) -> Person:
    person = PersonFactory(workspace=workspace, first_name="Anna", last_name="Berg")
    people_services.fact_add(person=person, fact_type="hobbies", value="Rowing")
    people_services.fact_add(person=person, fact_type="health", value="Bad back")
    return person


def _membership(user: User) -> Membership:
    return Membership.objects.select_related("workspace").get(user=user, workspace=user.current_workspace)


def _body(response) -> str:
    return (b"".join(response.streaming_content) if response.streaming else response.content).decode()


def _refused(response, reason: str) -> None:
    """The friendly 403 page: what was refused, and which owner can do it."""
    assert response.status_code == 403
    page = response.content.decode()
    assert "You can't do that here" in page
    assert reason in page
    assert OWNER_NAMED in page


# --- the table -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_gives_each_role_its_row_of_the_table(owner: User, member: User, viewer: User) -> None:
    allowed = {
        user.email: {name for name in permissions.EVERY_CAPABILITY if permissions.can(_membership(user), name)}
        for user in (owner, member, viewer)
    }

    assert allowed["owner@example.com"] == permissions.EVERY_CAPABILITY
    assert allowed["member@example.com"] == {"view", "write", "import", "export"}
    assert allowed["viewer@example.com"] == {"view", "see_team"}
    assert not permissions.can(None, "view")  # no membership, no access
    with pytest.raises(ValueError, match="Not a capability"):
        permissions.can(_membership(owner), "delete")  # a typo is an error, never a silent "no"


# --- in the services -------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["member", "viewer"])
def test_it_lets_only_owners_delete_people_in_the_service(
    request: pytest.FixtureRequest, role: str, owner: User, anna: Person, workspace: Workspace
) -> None:
    people = Person.objects.for_workspace(workspace)
    with pytest.raises(PermissionDenied, match="Deleting people is for owners"):
        interaction_services.people_delete(membership=_membership(request.getfixturevalue(role)), people=people)
    assert people.count() == 1

    assert interaction_services.people_delete(membership=_membership(owner), people=people) == 1
    assert not people.exists()


@pytest.mark.django_db
def test_it_lets_only_owners_export_private_facts_in_the_service(
    owner: User, member: User, anna: Person, workspace: Workspace
) -> None:
    people = Person.objects.for_workspace(workspace)
    with pytest.raises(PermissionDenied, match="Private facts"):
        export_services.export_people(people, membership=_membership(member), include_private=True)

    shared = "".join(export_services.vcards(export_services.export_people(people, membership=_membership(member))))
    everything = "".join(
        export_services.vcards(
            export_services.export_people(people, membership=_membership(owner), include_private=True)
        )
    )
    assert "Rowing" in shared
    assert "Bad back" not in shared
    assert "Bad back" in everything


@pytest.mark.django_db
def test_it_never_writes_private_facts_in_a_csv_even_when_they_were_read(
    owner: User, anna: Person, workspace: Workspace
) -> None:
    people = export_services.export_people(
        Person.objects.for_workspace(workspace), membership=_membership(owner), include_private=True
    )

    csv = "".join(export_services.csv_rows(people))

    assert "Rowing" in csv
    assert "Bad back" not in csv


@pytest.mark.django_db
def test_it_lets_viewers_export_nothing_in_the_service(viewer: User, anna: Person, workspace: Workspace) -> None:
    with pytest.raises(PermissionDenied, match="Exporting people is for owners and members"):
        export_services.export_people(Person.objects.for_workspace(workspace), membership=_membership(viewer))


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["member", "viewer"])
def test_it_lets_only_owners_take_a_backup_in_the_service(
    request: pytest.FixtureRequest, role: str, owner: User, anna: Person
) -> None:
    with pytest.raises(PermissionDenied, match="only owners download it"):
        export_services.workspace_backup(membership=_membership(request.getfixturevalue(role)))

    assert b"".join(export_services.workspace_backup(membership=_membership(owner))).startswith(b"PK")


@pytest.mark.django_db
def test_it_lets_only_owners_restore_a_backup_in_the_service(
    owner: User, member: User, anna: Person, workspace: Workspace
) -> None:
    archive = b"".join(workspace_zip(workspace))
    target = WorkspaceFactory(name="Fresh start")
    MembershipFactory(workspace=target, user=owner, role=Membership.Role.OWNER)
    MembershipFactory(workspace=target, user=member, role=Membership.Role.MEMBER)

    with pytest.raises(PermissionDenied, match="Restoring a backup"):
        import_services.import_upload(workspace=target, user=member, file_name="backup.zip", data=archive)
    assert not ImportJob.objects.for_workspace(target).exists()

    job = import_services.import_upload(
        workspace=target, user=owner, file_name="backup.zip", data=archive, background=False
    )
    assert job.kind == ImportJob.Kind.BACKUP


@pytest.mark.django_db
def test_it_lets_viewers_import_nothing_in_the_service(viewer: User, member: User, workspace: Workspace) -> None:
    card = b"BEGIN:VCARD\nVERSION:3.0\nFN:Carl\nEND:VCARD\n"
    with pytest.raises(PermissionDenied, match="Importing contacts is for owners and members"):
        import_services.import_upload(workspace=workspace, user=viewer, file_name="a.vcf", data=card)

    job = import_services.import_upload(
        workspace=workspace, user=member, file_name="a.vcf", data=card, background=False
    )
    assert ImportJob.objects.for_workspace(workspace).get() == job


@pytest.mark.django_db
def test_it_lets_viewers_log_nothing_in_the_service(
    viewer: User, member: User, anna: Person, workspace: Workspace
) -> None:
    with pytest.raises(PermissionDenied, match="Viewers can look"):
        interaction_services.interaction_log(workspace=workspace, user=viewer, people=[anna], summary="Coffee")
    assert not Interaction.objects.exists()

    interaction_services.interaction_log(workspace=workspace, user=member, people=[anna], summary="Coffee")
    assert Interaction.objects.get().summary == "Coffee"


@pytest.mark.django_db
def test_it_lets_viewers_change_nothing_in_bulk_in_the_service(
    viewer: User, member: User, anna: Person, workspace: Workspace
) -> None:
    people = Person.objects.for_workspace(workspace)
    with pytest.raises(PermissionDenied, match="Viewers can look"):
        people_services.people_bulk_update(membership=_membership(viewer), people=people, action="archive")
    assert not people.filter(archived_at__isnull=False).exists()

    people_services.people_bulk_update(membership=_membership(member), people=people, action="archive")
    assert people.filter(archived_at__isnull=False).count() == 1


# --- in the views ----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.trust
@pytest.mark.parametrize("confirm", ["", "yes"])
def test_a_member_posting_bulk_delete_deletes_nothing_and_is_told_why(
    member_client: Client, owner: User, anna: Person, workspace: Workspace, confirm: str
) -> None:
    PersonFactory(workspace=workspace, first_name="Ben")
    everyone = list(Person.objects.for_workspace(workspace).values_list("pk", flat=True))

    response = member_client.post(reverse("people:bulk"), {"ids": everyone, "action": "delete", "confirm": confirm})

    _refused(response, "Deleting people is for owners: they cannot be brought back. Members archive people instead.")
    assert Person.objects.for_workspace(workspace).count() == 2


@pytest.mark.django_db
def test_an_owner_deletes_in_bulk(owner_client: Client, anna: Person, workspace: Workspace) -> None:
    ids = [anna.pk, PersonFactory(workspace=workspace).pk]

    confirm_page = owner_client.post(reverse("people:bulk"), {"ids": ids, "action": "delete"})
    response = owner_client.post(reverse("people:bulk"), {"ids": ids, "action": "delete", "confirm": "yes"})

    assert confirm_page.status_code == 200  # asked to confirm first
    assert response.status_code == 302
    assert not Person.objects.for_workspace(workspace).exists()


@pytest.mark.django_db
def test_a_member_cannot_delete_one_person_either(member_client: Client, owner: User, anna: Person) -> None:
    url = reverse("people:delete", args=[anna.pk])

    _refused(member_client.get(url), "Deleting people is for owners")
    _refused(member_client.post(url), "Deleting people is for owners")
    assert Person.objects.filter(pk=anna.pk).exists()


@pytest.mark.django_db
@pytest.mark.trust
def test_a_member_ticking_private_facts_gets_none(member_client: Client, owner: User, anna: Person) -> None:
    # What the export form sends when the box is ticked, by GET, and the same by POST.
    csv = member_client.get(reverse("exports:csv"), {"include_private": "on"})
    posted = member_client.post(reverse("exports:csv"), {"include_private": "on"})
    vcard = member_client.get(reverse("exports:vcf"), {"include_private": "on"})

    assert csv.status_code == 200
    assert "Rowing" in _body(csv)
    assert "Bad back" not in _body(csv)
    assert "Bad back" not in _body(posted)
    _refused(vcard, "Private facts (health, religion, politics, topics to avoid) leave the workspace only with")


@pytest.mark.django_db
def test_a_member_is_refused_the_backup_with_the_reason(member_client: Client, owner: User, anna: Person) -> None:
    _refused(member_client.get(reverse("exports:backup")), "The full workspace backup holds private facts")


@pytest.mark.django_db
def test_a_member_uploading_a_backup_is_told_only_owners_restore(
    member_client: Client, owner: User, workspace: Workspace
) -> None:
    upload = SimpleUploadedFile("backup.zip", b"PK\x03\x04 anything", content_type="application/zip")

    response = member_client.post(reverse("imports:page"), {"file": upload})

    _refused(response, "Restoring a backup replaces the whole book: only owners do it.")
    assert not ImportJob.objects.exists()


@pytest.mark.django_db
@pytest.mark.trust
def test_a_viewer_reads_but_every_write_is_refused(
    viewer_client: Client, owner: User, anna: Person, workspace: Workspace
) -> None:
    assert viewer_client.get(reverse("people:detail", args=[anna.pk])).status_code == 200
    assert viewer_client.get(reverse("people:list")).status_code == 200
    assert viewer_client.get(reverse("dashboard")).status_code == 200
    quick = {"person": anna.pk, "summary": "Coffee", "kind": "call"}

    _refused(
        viewer_client.post(reverse("interactions:quick"), quick), "Viewers can look, but not add or change anything."
    )
    _refused(viewer_client.get(reverse("people:create")), "Viewers can look")
    _refused(viewer_client.get(reverse("people:edit", args=[anna.pk])), "Viewers can look")
    _refused(viewer_client.get(reverse("interactions:create")), "Viewers can look")
    _refused(viewer_client.post(reverse("people:bulk"), {"ids": [anna.pk], "action": "archive"}), "Viewers can look")
    _refused(viewer_client.post(reverse("people:archive", args=[anna.pk])), "Viewers can look")
    _refused(viewer_client.get(reverse("imports:page")), "Importing contacts is for owners and members")
    _refused(viewer_client.get(reverse("exports:csv")), "Exporting people is for owners and members")
    anna.refresh_from_db()
    assert anna.archived_at is None
    assert not Interaction.objects.exists()


@pytest.mark.django_db
def test_a_viewer_keeps_their_own_calendar_link(viewer_client: Client, viewer: User, workspace: Workspace) -> None:
    response = viewer_client.post(reverse("exports:feed_create"))

    assert response.status_code == 302
    assert CalendarFeed.objects.filter(user=viewer, workspace=workspace).exists()


@pytest.mark.django_db
def test_the_outsider_gets_404_for_what_members_are_refused(outsider_client: Client, anna: Person) -> None:
    assert outsider_client.get(reverse("people:delete", args=[anna.pk])).status_code == 404
    assert outsider_client.post(reverse("people:delete", args=[anna.pk])).status_code == 404
    response = outsider_client.post(reverse("people:bulk"), {"ids": [anna.pk], "action": "delete", "confirm": "yes"})
    assert response.status_code == 404
    assert Person.objects.filter(pk=anna.pk).exists()


# --- what the pages offer --------------------------------------------------------------------


@pytest.mark.django_db
def test_members_are_not_offered_what_they_cannot_do(member_client: Client, owner: User, anna: Person) -> None:
    people = member_client.get(reverse("people:list")).content.decode()
    person = member_client.get(reverse("people:detail", args=[anna.pk])).content.decode()
    export = member_client.get(reverse("exports:page")).content.decode()

    assert '<option value="delete">' not in people
    assert "Deleting people is for owners; archive instead." in people
    assert reverse("people:delete", args=[anna.pk]) not in person
    assert reverse("people:edit", args=[anna.pk]) in person  # members work the book
    assert 'name="include_private"' not in export
    assert "only an owner can export them (Olivia Owner)" in export
    assert reverse("exports:backup") not in export
    assert "only an owner downloads it (Olivia Owner)" in export


@pytest.mark.django_db
def test_owners_are_offered_everything(owner_client: Client, anna: Person) -> None:
    people = owner_client.get(reverse("people:list")).content.decode()
    person = owner_client.get(reverse("people:detail", args=[anna.pk])).content.decode()
    export = owner_client.get(reverse("exports:page")).content.decode()

    assert '<option value="delete">' in people
    assert reverse("people:delete", args=[anna.pk]) in person
    assert 'name="include_private"' in export
    assert reverse("exports:backup") in export


@pytest.mark.django_db
def test_viewers_see_no_write_buttons(viewer_client: Client, anna: Person) -> None:
    person = viewer_client.get(reverse("people:detail", args=[anna.pk])).content.decode()
    people = viewer_client.get(reverse("people:list")).content.decode()
    export = viewer_client.get(reverse("exports:page")).content.decode()

    for page in (person, people):
        assert reverse("interactions:create") not in page  # no Log button, no quick log
        assert reverse("people:create") not in page
        assert 'name="ids"' not in page
    assert reverse("people:edit", args=[anna.pk]) not in person
    assert "Anna Berg" in people
    assert "Viewers can look people up but not export them" in export
    assert reverse("exports:feed_create") in export  # their own calendar link


@pytest.mark.django_db
def test_an_owner_makes_a_member_a_viewer(owner_client: Client, member: User, member_client: Client) -> None:
    membership = _membership(member)
    page = owner_client.get(reverse("members")).content.decode()

    response = owner_client.post(reverse("member_role", args=[membership.pk]), {"role": "viewer"}, follow=True)

    assert '<option value="viewer">Viewer</option>' in page
    assert "What each role can do" in page
    assert "Mo Member is now viewer." in response.content.decode()
    _refused(member_client.get(reverse("people:create")), "Viewers can look")


@pytest.mark.django_db
def test_a_viewer_starts_on_the_team_dashboard(viewer_client: Client, owner: User, workspace: Workspace) -> None:
    PersonFactory(workspace=workspace, first_name="Anna", owner=owner)

    page = viewer_client.get(reverse("dashboard")).content.decode()

    assert "whole team" in page


@pytest.mark.django_db
def test_a_member_cannot_start_a_restore_an_owner_uploaded(
    owner: User, member: User, member_client: Client, anna: Person, workspace: Workspace
) -> None:
    target = WorkspaceFactory(name="Fresh start")
    MembershipFactory(workspace=target, user=owner, role=Membership.Role.OWNER)
    MembershipFactory(workspace=target, user=member, role=Membership.Role.MEMBER)
    User.objects.filter(pk=member.pk).update(current_workspace=target)
    archive = b"".join(workspace_zip(workspace))
    job = import_services.import_upload(
        workspace=target, user=owner, file_name="backup.zip", data=archive, background=False
    )
    import_services.import_read(job_id=job.pk)

    response = member_client.post(reverse("imports:go", args=[job.pk]), {"default_action": "create"})

    assert response.status_code == 403
    assert "Restoring a backup replaces the whole book" in response.content.decode()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.READY
    assert not Person.objects.for_workspace(target).exists()
