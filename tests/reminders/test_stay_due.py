"""The stored stay-in-touch due instant follows every write of what it is made of.

The dashboard finds who is due from ``Person.stay_due_at`` (indexed); a write that forgot to
refresh it would hide someone from "To do". Each path that changes last contact, a cadence,
tags or a tag's default is walked here, and the stored value compared with the definition.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse

from crm.models import User, Workspace
from exports.backup import workspace_json
from imports import services as import_services
from interactions.services import interaction_delete, interaction_log, interaction_update
from people import stay_in_touch
from people.dates import LATEST_INSTANT
from people.merge import person_merge
from people.models import Person, TagCadence
from people.services import people_bulk_update, person_create, person_save
from reminders import services
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db


def _expected(person: Person) -> datetime | None:
    """The definition: last contact (or creation) + own cadence, else the shortest tag default."""
    defaults = TagCadence.objects.filter(workspace_id=person.workspace_id, tag__in=person.tags.all())
    cadence = person.cadence or min((d.duration for d in defaults), default=None)
    return (person.last_contacted_at or person.created_at) + cadence if cadence else None


def _assert_kept(workspace: Workspace) -> None:
    people = list(Person.objects.for_workspace(workspace))
    assert people
    assert {p.full_name: p.stay_due_at for p in people} == {p.full_name: _expected(p) for p in people}


def test_every_write_keeps_the_stored_due_instant(workspace: Workspace, owner: User) -> None:
    anna = person_create(workspace=workspace, created_by=owner, first_name="Anna", tag_names=["key"])
    ben = person_create(workspace=workspace, created_by=owner, first_name="Ben")
    _assert_kept(workspace)
    assert anna.stay_due_at is None  # no cadence anywhere yet

    services.tag_cadence_set(workspace=workspace, tag_name="key", every=2, unit="weeks")
    _assert_kept(workspace)
    assert Person.objects.get(pk=anna.pk).stay_due_at is not None

    stay_in_touch.person_set_preferences(person=ben, contact_every=1, contact_every_unit="months")
    _assert_kept(workspace)

    talk = interaction_log(workspace=workspace, user=owner, people=[anna], summary="Coffee")
    _assert_kept(workspace)
    assert Person.objects.get(pk=anna.pk).stay_due_at == talk.occurred_at + timedelta(weeks=2)

    interaction_update(
        interaction=talk,
        people=[ben],
        summary="Coffee with Ben after all",
        kind=talk.kind,
        occurred_at=talk.occurred_at,
    )
    _assert_kept(workspace)
    interaction_delete(interaction=talk)
    _assert_kept(workspace)

    people_bulk_update(
        membership=owner.memberships.get(), people=Person.objects.filter(pk=ben.pk), action="add_tag", tag="key"
    )
    stay_in_touch.person_set_preferences(person=ben, contact_every=None)  # now the tag's default applies
    _assert_kept(workspace)
    assert Person.objects.get(pk=ben.pk).stay_due_at == ben.created_at + timedelta(weeks=2)
    people_bulk_update(
        membership=owner.memberships.get(), people=Person.objects.filter(pk=ben.pk), action="remove_tag", tag="key"
    )
    _assert_kept(workspace)

    anna.refresh_from_db()
    person_save(person=anna, tag_names=[])  # the edit form takes the tag away
    _assert_kept(workspace)
    person_save(person=anna, tag_names=["key"])
    services.tag_cadence_delete(cadence=TagCadence.objects.get(workspace=workspace))
    _assert_kept(workspace)
    assert Person.objects.get(pk=anna.pk).stay_due_at is None

    stay_in_touch.person_set_preferences(person=ben, contact_every=3, contact_every_unit="weeks")
    person_merge(keep=Person.objects.get(pk=anna.pk), other=Person.objects.get(pk=ben.pk), take_from_other=set())
    _assert_kept(workspace)  # Anna has no cadence of her own; Ben's went with him
    assert Person.objects.for_workspace(workspace).count() == 1


def test_imported_people_and_merges_get_their_tags_default(workspace: Workspace, owner: User, tmp_path: Path) -> None:
    person_create(workspace=workspace, created_by=owner, first_name="Cara", last_name="Old", tag_names=["vip"])
    services.tag_cadence_set(workspace=workspace, tag_name="vip", every=10, unit="days")
    cards = tmp_path / "people.vcf"
    cards.write_text(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Dan New\r\nN:New;Dan;;;\r\nCATEGORIES:vip\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Cara Old\r\nN:Old;Cara;;;\r\nCATEGORIES:vip,friends\r\nEND:VCARD\r\n"
    )

    call_command("import_contacts", str(cards), "--user", owner.email, stdout=StringIO(), stderr=StringIO())

    assert Person.objects.for_workspace(workspace).count() == 2
    _assert_kept(workspace)
    assert Person.objects.get(first_name="Dan").stay_due_at is not None


def test_a_restored_backup_has_its_due_instants(workspace: Workspace, owner: User) -> None:
    person_create(workspace=workspace, created_by=owner, first_name="Eve", tag_names=["vip"])
    services.tag_cadence_set(workspace=workspace, tag_name="vip", every=1, unit="weeks")
    data = "".join(workspace_json(workspace)).encode()
    target = WorkspaceFactory(name="Restored")
    restorer = UserFactory(email="restorer@example.com", current_workspace=target)
    MembershipFactory(workspace=target, user=restorer, role="owner")

    job = import_services.import_upload(
        workspace=target, user=restorer, file_name="backup.json", data=data, background=False
    )
    import_services.import_read(job_id=job.pk)
    import_services.import_start(job=job, default_action="create", actions={}, background=False)
    import_services.import_run(job_id=job.pk)

    _assert_kept(target)
    assert Person.objects.for_workspace(target).get().stay_due_at is not None


@pytest.mark.services_only
@pytest.mark.django_db(transaction=True)
def test_a_tag_default_set_while_someone_is_being_tagged_reaches_them(workspace: Workspace, owner: User) -> None:
    """Ben is tagged in a transaction still open when the owner sets the tag's default: neither
    sees the other's write, so without a second look after commit he would keep no due date."""
    person_create(workspace=workspace, created_by=owner, first_name="Anna", tag_names=["vip"])
    ben = person_create(workspace=workspace, created_by=owner, first_name="Ben")
    tagged, release = threading.Event(), threading.Event()

    def tag_ben() -> None:
        try:
            with transaction.atomic():
                person_save(person=Person.objects.get(pk=ben.pk), tag_names=["vip"])
                tagged.set()
                release.wait(30)
        finally:
            connection.close()

    def set_default() -> None:
        try:
            services.tag_cadence_set(workspace=workspace, tag_name="vip", every=1, unit="weeks")
        finally:
            connection.close()

    tagger = threading.Thread(target=tag_ben)
    tagger.start()
    assert tagged.wait(30)
    setter = threading.Thread(target=set_default)
    setter.start()
    setter.join(30)  # the default is saved (and committed) while Ben's tagging is still open
    release.set()
    tagger.join(30)
    setter.join(30)

    _assert_kept(workspace)
    assert Person.objects.get(pk=ben.pk).stay_due_at == ben.created_at + timedelta(weeks=1)


@time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False)
def test_a_last_contact_stored_in_year_9999_counts_from_the_end_of_the_range(
    workspace: Workspace, owner: User, owner_client: Client
) -> None:
    anna = person_create(workspace=workspace, created_by=owner, first_name="Anna", owner=owner)
    # Stored before conversations had a range; adding a cadence to it overflowed.
    Person.objects.filter(pk=anna.pk).update(last_contacted_at=datetime(9999, 12, 31, 23, 59, tzinfo=UTC))

    stay_in_touch.person_set_preferences(
        person=Person.objects.get(pk=anna.pk), contact_every=2, contact_every_unit="weeks"
    )

    assert Person.objects.get(pk=anna.pk).stay_due_at == LATEST_INSTANT + timedelta(weeks=2)
    assert owner_client.get(reverse("people:list") + "?sort=stay_due").status_code == 200
