"""Private text sealed at rest: health, religion, politics and topics to avoid are encrypted in
the database and in backups with FIELD_ENCRYPTION_KEYS, read back on the pages, found by no
search, and resealed with a new key by ``rotate_encryption_key``."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings

from crm import crypto
from crm.models import User, Workspace
from exports.backup import workspace_zip
from imports import services as import_services
from people.models import Person, ProfileFact
from people.services import fact_add
from tests.factories import PersonFactory, WorkspaceFactory
from tests.imports.test_restore import upload as upload_backup
from tests.trust import summary

pytestmark = pytest.mark.django_db
SECRET = "Recovering from a bad back"
AVOID = "Her brother's divorce"


@pytest.fixture(autouse=True)
def _keys_read_again() -> Iterator[None]:
    crypto.forget_keys()
    yield
    crypto.forget_keys()


def _raw(table: str, column: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} ORDER BY id")  # noqa: S608 - names from this test
        return [row[0] for row in cursor.fetchall()]


def _anna(workspace: Workspace, owner_client: Client) -> Person:
    anna = PersonFactory(workspace=workspace, first_name="Anna", last_name="Berg")
    profile = reverse("people:profile", args=[anna.pk])
    owner_client.post(profile, {"fact_type": "health", "value": SECRET, "learned_on": "2026-03-01"})
    owner_client.post(profile, {"fact_type": "hobbies", "value": "Sails on Sundays", "learned_on": "2026-03-01"})
    owner_client.post(
        reverse("people:preferences", args=[anna.pk]), {"topics_to_avoid": AVOID, "contact_every_unit": "weeks"}
    )
    return anna


@pytest.mark.trust
def test_private_text_is_sealed_in_the_database_and_shown_on_the_page(
    owner_client: Client, workspace: Workspace
) -> None:
    anna = _anna(workspace, owner_client)
    facts = dict(zip(_raw("people_profilefact", "fact_type"), _raw("people_profilefact", "value"), strict=True))
    assert facts["hobbies"] == "Sails on Sundays"  # not private: plain, and searchable
    assert facts["health"].startswith("fernet:")
    (avoid,) = _raw("people_person", "topics_to_avoid")
    assert avoid.startswith("fernet:")
    every_text = json.dumps([_raw("people_profilefact", "value"), _raw("people_person", "topics_to_avoid")])
    summary.record(
        "sealed",
        private_values_stored=2,
        readable_in_the_database=every_text.count(SECRET) + every_text.count("divorce"),
    )
    assert SECRET not in every_text
    assert "divorce" not in every_text

    page = owner_client.get(reverse("people:profile", args=[anna.pk])).content.decode()
    assert SECRET in page
    assert "divorce" in owner_client.get(reverse("people:detail", args=[anna.pk])).content.decode()
    assert ProfileFact.objects.get(fact_type="health").value == SECRET


def test_no_search_finds_private_text(owner_client: Client, workspace: Workspace) -> None:
    _anna(workspace, owner_client)
    assert "Anna Berg" in owner_client.get(reverse("interactions:interested"), {"topic": "sails"}).content.decode()
    for topic in ("bad back", "divorce"):
        page = owner_client.get(reverse("interactions:interested"), {"topic": topic}).content.decode()
        assert "Anna Berg" not in page, topic
    assert not ProfileFact.objects.filter(value__icontains="back").exists()


def test_a_backup_keeps_it_sealed_and_restores_it_readable(
    owner_client: Client, owner: User, workspace: Workspace
) -> None:
    source = WorkspaceFactory(name="Source")
    fact_add(person=PersonFactory(workspace=source, first_name="Anna", topics_to_avoid=AVOID), fact_type="religion",
             value=SECRET)  # fmt: skip
    backup = b"".join(workspace_zip(source))
    with zipfile.ZipFile(io.BytesIO(backup)) as archive:
        document = b"".join(archive.read(name) for name in archive.namelist()).decode(errors="replace")
    assert SECRET not in document
    assert "divorce" not in document
    assert document.count("fernet:") == 2

    job_id = int(upload_backup(owner_client, backup)["Location"].rstrip("/").split("/")[-1])
    import_services.import_read(job_id=job_id)
    owner_client.post(reverse("imports:go", args=[job_id]), {"default_action": "create"})
    import_services.import_run(job_id=job_id)
    restored = Person.objects.for_workspace(workspace).get()
    assert restored.topics_to_avoid == AVOID
    assert restored.facts.get().value == SECRET
    assert SECRET not in json.dumps(_raw("people_profilefact", "value"))


def test_a_new_key_first_and_the_rotation_reseal_everything_then_the_old_key_can_go(
    owner_client: Client, workspace: Workspace, settings: Settings
) -> None:
    old, new = settings.FIELD_ENCRYPTION_KEYS[0], Fernet.generate_key().decode()
    anna = _anna(workspace, owner_client)
    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    out = io.StringIO()
    call_command("rotate_encryption_key", stdout=out)
    assert "people.ProfileFact.value: 1 sealed" in out.getvalue()
    assert "people.Person.topics_to_avoid: 1 sealed" in out.getvalue()

    settings.FIELD_ENCRYPTION_KEYS = [new]  # the old key is gone
    crypto.forget_keys()
    assert ProfileFact.objects.get(fact_type="health").value == SECRET
    assert Person.objects.get(pk=anna.pk).topics_to_avoid == AVOID
    assert ProfileFact.objects.get(fact_type="hobbies").value == "Sails on Sundays"


def test_a_key_that_opens_nothing_fails_loudly_never_shows_the_sealed_text(
    owner_client: Client, workspace: Workspace, settings: Settings
) -> None:
    _anna(workspace, owner_client)
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    crypto.forget_keys()
    with pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_KEYS"):
        ProfileFact.objects.get(fact_type="health")
    settings.FIELD_ENCRYPTION_KEYS = ["not-a-key"]
    crypto.forget_keys()
    with pytest.raises(ImproperlyConfigured, match="not a Fernet key"):
        crypto.seal("anything")
