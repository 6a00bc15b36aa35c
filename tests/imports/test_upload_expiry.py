"""An upload left waiting for its column mapping or go-ahead is deleted, file and rows, after a week."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings

from crm.celery import app
from crm.models import Workspace
from imports import services
from imports.models import ImportJob, ImportRow
from imports.tasks import expire_import_uploads_task
from people.models import Person

UPLOADED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CSV = b"First Name,Last Name,E-mail Address\nAnn,Lee,ann@example.org\n"
CARDS = b"BEGIN:VCARD\r\nVERSION:3.0\r\nN:Lee;Ann\r\nEMAIL:ann@example.org\r\nEND:VCARD\r\n"


def upload(client: Client, name: str, data: bytes) -> ImportJob:
    response = client.post(reverse("imports:page"), {"file": SimpleUploadedFile(name, data)})
    return ImportJob.objects.get(pk=response["Location"].rstrip("/").split("/")[-1])


@pytest.fixture
def waiting(owner_client: Client) -> dict[str, ImportJob]:
    """Uploaded on 2 March: a CSV waiting for its mapping, and a vCard read and waiting for the go-ahead."""
    with time_machine.travel(UPLOADED, tick=False):
        mapping = upload(owner_client, "contacts.csv", CSV)
        ready = upload(owner_client, "contacts.vcf", CARDS)
        services.import_read(job_id=ready.pk)
    assert ImportJob.objects.get(pk=ready.pk).status == ImportJob.Status.READY
    return {"mapping": mapping, "ready": ready}


def test_it_deletes_uploads_left_waiting_after_seven_days_and_only_then(waiting: dict[str, ImportJob]) -> None:
    with time_machine.travel(UPLOADED + timedelta(days=7, minutes=-1), tick=False):
        assert expire_import_uploads_task() == 0
    assert {j.status for j in ImportJob.objects.all()} == {ImportJob.Status.MAPPING, ImportJob.Status.READY}

    with time_machine.travel(UPLOADED + timedelta(days=7, minutes=1), tick=False):
        assert expire_import_uploads_task() == 2
        assert expire_import_uploads_task() == 0  # a second run changes nothing

    for job in ImportJob.objects.all():
        assert (job.status, bytes(job.data)) == (ImportJob.Status.EXPIRED, b"")
        assert job.finished_at == UPLOADED + timedelta(days=7, minutes=1)
    assert not ImportRow.objects.exists()  # the rows as read held the contacts too


def test_it_keeps_uploads_as_long_as_the_setting_says(waiting: dict[str, ImportJob], settings: Settings) -> None:
    settings.IMPORT_UPLOAD_MAX_AGE_DAYS = 30
    with time_machine.travel(UPLOADED + timedelta(days=29), tick=False):
        assert services.import_expire_uploads() == 0
    with time_machine.travel(UPLOADED + timedelta(days=31), tick=False):
        assert services.import_expire_uploads() == 2


def test_it_never_expires_a_job_being_read_or_imported_right_now(owner_client: Client, workspace: Workspace) -> None:
    with time_machine.travel(UPLOADED, tick=False):
        reading = upload(owner_client, "big.vcf", CARDS)  # the worker has not finished reading it
        running = upload(owner_client, "contacts.vcf", CARDS)
        services.import_read(job_id=running.pk)
        owner_client.post(reverse("imports:go", args=[running.pk]), {"default_action": "merge"})

    with time_machine.travel(UPLOADED + timedelta(days=30), tick=False):
        assert services.import_expire_uploads() == 0
        services.import_run(job_id=running.pk)  # the worker gets to it at last
        services.import_read(job_id=reading.pk)

    assert ImportJob.objects.get(pk=running.pk).status == ImportJob.Status.DONE
    assert ImportJob.objects.get(pk=reading.pk).status == ImportJob.Status.READY
    assert Person.objects.for_workspace(workspace).count() == 1


def test_a_mapping_sent_from_a_page_shown_before_the_upload_expired_changes_nothing(
    waiting: dict[str, ImportJob],
) -> None:
    shown = waiting["mapping"]  # as the mapping page read it, before the beat ran
    with time_machine.travel(UPLOADED + timedelta(days=8), tick=False):
        services.import_expire_uploads()

    with pytest.raises(ValidationError, match="past the column mapping"):
        services.import_set_mapping(job=shown, mapping=["first_name", "last_name", "email"], background=False)
    assert ImportJob.objects.get(pk=shown.pk).status == ImportJob.Status.EXPIRED


def test_it_says_how_long_uploads_are_kept_and_what_became_of_an_expired_one(
    owner_client: Client, outsider_client: Client, waiting: dict[str, ImportJob], settings: Settings
) -> None:
    page = owner_client.get(reverse("imports:page")).content.decode()
    assert "Uploads waiting for you are kept for 7 days" in page
    with time_machine.travel(UPLOADED + timedelta(days=8), tick=False):
        services.import_expire_uploads()

    for job in waiting.values():
        response = owner_client.get(job.get_absolute_url())
        assert response.status_code == 200
        text = response.content.decode()
        assert "This upload waited more than 7 days for you, so it was deleted with its file" in text
        assert f'href="{reverse("imports:page")}">Upload the file again</a>' in text
        assert outsider_client.get(job.get_absolute_url()).status_code == 404
    assert "Expired (the upload waited too long)" in owner_client.get(reverse("imports:page")).content.decode()

    # What was on the page before it expired still answers, with a message, never a 500.
    mapping, ready = waiting["mapping"], waiting["ready"]
    response = owner_client.post(reverse("imports:mapping", args=[mapping.pk]), {"col_0": "first_name"})
    assert response.status_code == 400
    assert "so it was deleted with its file" in response.content.decode()
    response = owner_client.post(reverse("imports:go", args=[ready.pk]), {"default_action": "merge"}, follow=True)
    assert "no longer waiting for a go-ahead" in response.content.decode()
    assert ImportJob.objects.get(pk=ready.pk).status == ImportJob.Status.EXPIRED
    response = owner_client.post(reverse("imports:cancel", args=[ready.pk]), follow=True)
    assert response.status_code == 200

    settings.IMPORT_UPLOAD_MAX_AGE_DAYS = 1
    assert "kept for 1 day," in owner_client.get(reverse("imports:page")).content.decode()


def test_the_beat_runs_the_expiry_every_hour() -> None:
    entry = next(e for e in app.conf.beat_schedule.values() if e["task"].endswith("expire_import_uploads_task"))
    assert entry["task"] == expire_import_uploads_task.name
    assert entry["schedule"] == 3600
