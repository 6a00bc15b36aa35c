"""Restoring a backup: the import limits said at upload, a job with progress, never half a workspace."""

from __future__ import annotations

import io
import re
import struct
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings

from crm.models import User, Workspace
from exports.backup import workspace_zip
from imports import backup, services
from imports.models import ImportJob, ImportRow
from imports.tasks import run_import_task
from interactions.models import Interaction
from people.models import Company, Person
from tests.factories import InteractionFactory, PersonFactory, WorkspaceFactory
from tests.hints import broker_up
from tests.processes import celery_worker, wait_for


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(datetime(2026, 3, 12, 9, 0, tzinfo=UTC), tick=False):
        yield


def backup_of(people: int, *, interactions: int = 0) -> bytes:
    """A ZIP exported from another workspace with this many people (each with a company)."""
    source = WorkspaceFactory(name="Source")
    made = PersonFactory.create_batch(people, workspace=source)
    for i in range(interactions):
        InteractionFactory(workspace=source, people=[made[i % people]])
    return b"".join(workspace_zip(source))


def upload(client: Client, data: bytes, name: str = "backup.zip") -> Any:
    return client.post(reverse("imports:page"), {"file": SimpleUploadedFile(name, data)})


def nothing_in(workspace: Workspace) -> bool:
    return not any(
        m.objects.for_workspace(workspace).exists()  # type: ignore[attr-defined]
        for m in (Person, Company, Interaction)
    )


def test_it_refuses_a_backup_of_more_people_than_an_import_takes_before_storing_it(
    owner_client: Client, workspace: Workspace, settings: Settings
) -> None:
    settings.IMPORT_MAX_CONTACTS = 50
    data = backup_of(51)

    response = upload(owner_client, data)

    assert response.status_code == 200  # the form again, with the reason next to the field
    assert "This backup holds 51 people; a restore takes at most 50." in response.content.decode()
    assert not ImportJob.objects.exists()
    assert nothing_in(workspace)


def test_it_checks_the_people_again_when_reading_and_writes_nothing(
    owner_client: Client, workspace: Workspace, settings: Settings
) -> None:
    """The limit holds in the worker too (it was lowered after the upload, or the upload's look was fooled)."""
    job = ImportJob.objects.get(pk=upload(owner_client, backup_of(51))["Location"].rstrip("/").split("/")[-1])
    settings.IMPORT_MAX_CONTACTS = 50

    services.import_read(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert (
        "This backup holds 51 people; a restore takes at most 50."
        in owner_client.get(job.get_absolute_url()).content.decode()
    )
    assert nothing_in(workspace)


def bomb(*, lie: bool) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "workspace.json", b'{"format": "rapport-workspace", "version": 1, "models": {' + b" " * 5_000_000
        )
    data = bytearray(out.getvalue())
    if lie:  # both headers say the member unpacks to 1 KB
        struct.pack_into("<I", data, 22, 1000)
        struct.pack_into("<I", data, data.find(b"PK\x01\x02") + 24, 1000)
    return bytes(data)


@pytest.mark.parametrize(
    ("lie", "message"),
    [(False, "This ZIP unpacks to far more than the import limit (976.6\xa0KB unpacked)."), (True, "damaged")],
)
def test_it_refuses_a_zip_that_unpacks_to_more_than_the_limit(
    owner_client: Client, workspace: Workspace, settings: Settings, lie: bool, message: str
) -> None:
    settings.IMPORT_MAX_BYTES = 100_000
    data = bomb(lie=lie)
    assert len(data) < 100_000

    response = upload(owner_client, data, "b.zip")

    assert message in response.content.decode()
    assert not ImportJob.objects.exists()


def test_it_counts_what_a_zip_really_unpacks_to_whatever_its_headers_say(settings: Settings) -> None:
    """The budget is kept on the bytes read: a reader that gives more than the headers said is stopped."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("workspace.json", b"x" * 900)
    budget = backup._Unpacked(zipfile.ZipFile(out), max_bytes=100)  # 1,000 bytes unpacked at most
    budget.take(200)  # as if an earlier member had unpacked to more than its header said
    with pytest.raises(backup.BackupError, match="unpacks to far more"), budget.open("workspace.json") as entry:
        entry.read()


def restore_page(client: Client, job: ImportJob) -> str:
    return client.get(reverse("imports:progress", args=[job.pk])).content.decode()


def test_it_restores_in_chunks_with_progress_and_shows_the_result(
    owner_client: Client, workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backup, "CHUNK", 10)
    response = upload(owner_client, backup_of(25, interactions=30))
    job = ImportJob.objects.get(workspace=workspace)
    assert response["Location"] == job.get_absolute_url()
    services.import_read(job_id=job.pk)  # what the worker does: every row checked, nothing written
    job.refresh_from_db()
    assert (job.status, job.total) == (ImportJob.Status.READY, 25 + 25 + 30)  # companies, people, conversations
    assert nothing_in(workspace)
    assert "25 people" in owner_client.get(job.get_absolute_url()).content.decode()
    owner_client.post(reverse("imports:go", args=[job.pk]), {"default_action": "create"})

    seen = []
    write_chunk = ImportRow.objects.create

    def watch(**kwargs: Any) -> ImportRow:
        # Each chunk commits with its record; the progress page polled in between tells how far it is.
        text = restore_page(owner_client, job)
        seen.append(re.search(r"(\d+) of 80 records", text)[1])  # type: ignore[index]
        assert 'aria-label="Restore progress"' in text
        return write_chunk(**kwargs)

    monkeypatch.setattr(ImportRow.objects, "create", watch)
    services.import_run(job_id=job.pk)

    assert seen == ["0", "10", "20", "25", "35", "45", "50", "60", "70"]  # a chunk never spans two tables
    job.refresh_from_db()
    assert (job.status, job.processed, job.created) == (ImportJob.Status.DONE, 80, 25)
    assert Person.objects.for_workspace(workspace).count() == 25
    assert Interaction.objects.for_workspace(workspace).count() == 30
    assert not ImportRow.objects.filter(job=job).exists()  # the chunk records go with the data
    page = owner_client.get(job.get_absolute_url()).content.decode()
    assert "Workspace restored: 25 people" in page


def test_it_resumes_a_restore_whose_worker_died_without_doing_anything_twice(
    owner_client: Client, workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backup, "CHUNK", 10)
    upload(owner_client, backup_of(25, interactions=5))
    job = ImportJob.objects.get(workspace=workspace)
    started = datetime(2026, 6, 1, 9, tzinfo=UTC)
    with time_machine.travel(started, tick=False):
        services.import_read(job_id=job.pk)
        services.import_start(job=job, default_action="create", actions={}, background=False)

    class Killed(BaseException):
        pass

    write_chunk, calls = ImportRow.objects.create, []

    def dies_on_the_fifth(**kwargs: Any) -> ImportRow:
        calls.append(1)
        if len(calls) == 5:
            raise Killed
        return write_chunk(**kwargs)

    monkeypatch.setattr(ImportRow.objects, "create", dies_on_the_fifth)
    with time_machine.travel(started, tick=False), pytest.raises(Killed):
        services.import_run(job_id=job.pk)
    assert Person.objects.for_workspace(workspace).count() == 10  # three chunks of companies, one of people
    monkeypatch.setattr(ImportRow.objects, "create", write_chunk)

    services.import_run(job_id=job.pk)  # redelivered at once: the claim is still the dead worker's
    assert ImportJob.objects.get(pk=job.pk).processed < 55
    later = started + timedelta(seconds=settings.CLAIM_TIMEOUT_SECONDS + 1)
    with broker_up(run_import_task) as hints, time_machine.travel(later, tick=False):
        services.import_takeover(now=later)  # what the beat's sweeper does
        for args in hints:
            run_import_task.apply(args)

    job.refresh_from_db()
    assert (job.status, job.created, job.processed) == (ImportJob.Status.DONE, 25, 55)
    assert Person.objects.for_workspace(workspace).count() == 25
    assert Company.objects.for_workspace(workspace).count() == 25
    assert sorted(p.company.name for p in Person.objects.for_workspace(workspace)) == sorted(
        c.name for c in Company.objects.for_workspace(workspace)
    )


def test_it_deletes_what_it_wrote_when_a_restore_fails_half_way(
    owner_client: Client, workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backup, "CHUNK", 1)
    data = (
        b'{"format": "rapport-workspace", "version": 1, "models": {"people.company": [{"id": 1, "name": "Acme"}],'
        b' "people.tag": [{"id": 1, "name": "x", "kind": "label"}, {"id": 2, "name": "x", "kind": "label"}]}}'
    )
    upload(owner_client, data, "backup.json")
    job = ImportJob.objects.get(workspace=workspace)
    services.import_read(job_id=job.pk)
    services.import_start(job=job, default_action="create", actions={}, background=False)

    services.import_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert "contradicts itself" in job.error
    assert not Company.objects.for_workspace(workspace).exists()  # written in the first chunk, then deleted
    assert not ImportRow.objects.filter(job=job).exists()


def test_an_outsider_cannot_see_a_restore_job(
    owner_client: Client, outsider_client: Client, workspace: Workspace
) -> None:
    upload(owner_client, backup_of(2))
    job = ImportJob.objects.get(workspace=workspace)

    assert owner_client.get(job.get_absolute_url()).status_code == 200
    for name in ("detail", "progress"):
        assert outsider_client.get(reverse(f"imports:{name}", args=[job.pk])).status_code == 404
    assert outsider_client.post(reverse("imports:go", args=[job.pk]), {"default_action": "create"}).status_code == 404


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_restores_an_uploaded_backup(owner: User, workspace: Workspace) -> None:
    client = Client()
    client.force_login(owner)
    data = backup_of(60, interactions=40)

    with celery_worker():
        job = ImportJob.objects.get(pk=upload(client, data)["Location"].rstrip("/").split("/")[-1])
        wait_for(lambda: ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.READY, what="the backup read")
        assert "60 people" in client.get(job.get_absolute_url()).content.decode()
        client.post(reverse("imports:go", args=[job.pk]), {"default_action": "create"})
        wait_for(lambda: ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.DONE, what="the restore")

    job.refresh_from_db()
    assert (job.created, job.processed, job.total) == (60, 160, 160)
    assert Interaction.objects.for_workspace(workspace).count() == 40
    assert "Workspace restored: 60 people" in client.get(job.get_absolute_url()).content.decode()
