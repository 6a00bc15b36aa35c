"""Data-subject rights: everything held about one person as a ZIP, and erasure that leaves no
trace of their name or email in any text column of any table, nor their photo in media."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test import Client
from django.urls import reverse

from crm.models import AuditEvent, User, Workspace
from interactions.models import Interaction
from people import services as people_services
from people.models import ContactMethod, FamilyMember, Person
from tests.factories import InteractionFactory, PersonFactory
from tests.trust import summary

pytestmark = pytest.mark.django_db
NAME, EMAIL = "Zanzibar Quixote", "zq@example.org"


@pytest.fixture
def zanzibar(workspace: Workspace, owner: User) -> Person:
    person = PersonFactory(workspace=workspace, first_name="Zanzibar", last_name="Quixote", owner=owner)
    ContactMethod.objects.create(workspace=workspace, person=person, kind="email", value=EMAIL, is_primary=True)
    people_services.fact_add(person=person, fact_type="health", value="Allergic to nuts")
    person.photo.save("z.jpg", ContentFile(b"\xff\xd8 a photo"), save=True)
    other = PersonFactory(workspace=workspace, first_name="Olga", last_name="Other", owner=owner)
    FamilyMember.objects.create(workspace=workspace, person=other, relation="friend", name=NAME, linked_person=person)
    InteractionFactory(workspace=workspace, people=[person], summary="Lunch alone")
    InteractionFactory(
        workspace=workspace,
        people=[person, other],
        summary=f"Met {NAME} and Olga",
        notes=f"Write to {EMAIL.upper()} about the order; zanzibar quixote liked it.",
    )
    InteractionFactory(workspace=workspace, people=[other], summary="Call", notes=f"Olga says {NAME} moved away.")
    Person.objects.filter(pk=other.pk).update(notes=f"Introduced by {NAME}.")
    return person


def _every_text_value() -> list[tuple[str, str, str]]:
    """(table, column, value) of every text column of every table in the database."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            for column in connection.introspection.get_table_description(cursor, table):
                kind = connection.introspection.get_field_type(column.type_code, column)
                if kind not in {"CharField", "TextField", "JSONField"}:
                    continue
                cursor.execute(f'SELECT "{column.name}" FROM "{table}"')  # noqa: S608 (names from the schema)
                found += [(table, column.name, str(value)) for (value,) in cursor.fetchall() if value]
    return found


def test_the_subject_access_zip_holds_everything_about_them(
    owner_client: Client, zanzibar: Person, workspace: Workspace
) -> None:
    response = owner_client.get(reverse("exports:subject_access", args=[zanzibar.pk]))

    archive = zipfile.ZipFile(io.BytesIO(response.content))
    data = json.loads(archive.read("person.json"))
    assert data["person"]["first_name"] == "Zanzibar"
    assert [m["value"] for m in data["contact_methods"]] == [EMAIL]
    assert [f["value"] for f in data["facts"]] == ["Allergic to nuts"]  # private ones too
    summaries = sorted(c["summary"] for c in data["conversations"])
    assert summaries == ["Call", "Lunch alone", f"Met {NAME} and Olga"]  # the one naming them too
    assert archive.read("photo.jpg") == b"\xff\xd8 a photo"
    event = AuditEvent.objects.get(action="subject_access")
    assert NAME not in event.summary


@pytest.mark.trust
def test_erasure_leaves_no_trace_of_the_name_or_email_anywhere(
    owner_client: Client, zanzibar: Person, workspace: Workspace
) -> None:
    photo = zanzibar.photo.path
    page = owner_client.get(reverse("exports:person_privacy", args=[zanzibar.pk]))
    assert page.status_code == 200
    wrong = owner_client.post(reverse("exports:person_privacy", args=[zanzibar.pk]), {"confirm_name": "Zanzibar"})
    assert "exactly to erase" in wrong.content.decode()
    with django_capture_on_commit():
        done = owner_client.post(reverse("exports:person_privacy", args=[zanzibar.pk]), {"confirm_name": NAME.lower()})

    assert done.status_code == 302
    searched = _every_text_value()
    leftovers = [
        (table, column, value)
        for table, column, value in searched
        if any(term in value.lower() for term in ("zanzibar", "quixote", EMAIL))
    ]
    summary.record("erasure", text_values_searched=len(searched), traces_left=len(leftovers))
    assert leftovers == []
    assert not Person.objects.filter(pk=zanzibar.pk).exists()
    shared = Interaction.objects.get(summary__startswith="Met")
    assert shared.summary == "Met a removed person and Olga"
    assert "a removed person" in shared.notes
    assert Interaction.objects.filter(summary="Call").exists()
    assert not Interaction.objects.filter(summary="Lunch alone").exists()
    import os

    assert not os.path.exists(photo)
    assert AuditEvent.objects.filter(action="person_erased").count() == 1


def django_capture_on_commit():  # the photo is deleted on commit, which a test transaction never reaches
    from django.test import TestCase

    return TestCase.captureOnCommitCallbacks(execute=True)


def test_only_owners_and_only_of_their_workspace(
    member_client: Client, outsider_client: Client, zanzibar: Person
) -> None:
    assert member_client.get(reverse("exports:person_privacy", args=[zanzibar.pk])).status_code == 403
    assert member_client.get(reverse("exports:subject_access", args=[zanzibar.pk])).status_code == 403
    assert outsider_client.get(reverse("exports:person_privacy", args=[zanzibar.pk])).status_code == 404
    assert (
        outsider_client.post(reverse("exports:person_privacy", args=[zanzibar.pk]), {"confirm_name": NAME}).status_code
        == 404
    )
    assert Person.objects.filter(pk=zanzibar.pk).exists()
    assert not AuditEvent.objects.exists()
