"""Import jobs whose message was lost, or whose worker died, are taken over by the sweeper a
bounded number of times, then failed with a message on their page; never stuck for ever."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings

from crm import queue
from crm.models import Workspace
from imports import services
from imports.models import ImportJob
from imports.services import running
from imports.tasks import read_import_task, run_import_task
from people.models import Person
from tests.hints import LATER, NOW, broker_down, broker_up, sweep_twice_then_work

pytestmark = pytest.mark.django_db

ANDROID = Path(__file__).resolve().parents[1] / "fixtures" / "vcard" / "mangstadt_ez-vcard__John_Doe_ANDROID.vcf"


@pytest.fixture(autouse=True)
def _clock() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def _upload_with_broker_down(client: Client, capture: object) -> ImportJob:
    with broker_down(read_import_task), capture(execute=True):  # type: ignore[operator]
        response = client.post(reverse("imports:page"), {"file": SimpleUploadedFile("a.vcf", ANDROID.read_bytes())})
    assert response.status_code == 302
    return ImportJob.objects.get()


def test_it_queues_an_upload_with_the_broker_down_and_the_sweeper_reads_it_once(
    owner_client: Client, django_capture_on_commit_callbacks
) -> None:
    job = _upload_with_broker_down(owner_client, django_capture_on_commit_callbacks)

    page = owner_client.get(job.get_absolute_url()).content.decode()
    assert "Queued: it will start shortly." in page
    assert job.status == ImportJob.Status.READING

    assert sweep_twice_then_work(read_import_task) == 1  # the second sweep finds it hinted already
    job.refresh_from_db()
    assert (job.status, job.total) == (ImportJob.Status.READY, 6)
    assert job.rows.count() == 6


def test_it_ignores_a_second_message_for_a_job_a_worker_is_reading(
    owner_client: Client, django_capture_on_commit_callbacks
) -> None:
    job = _upload_with_broker_down(owner_client, django_capture_on_commit_callbacks)
    ImportJob.objects.filter(pk=job.pk).update(claimed_at=NOW)  # a worker has it

    services.import_read(job_id=job.pk)

    job.refresh_from_db()
    assert (job.status, job.rows.count()) == (ImportJob.Status.READING, 0)


def test_it_takes_over_a_run_whose_worker_died_without_doing_a_row_twice(
    owner_client: Client,
    workspace: Workspace,
    monkeypatch: pytest.MonkeyPatch,
    settings: Settings,
    django_capture_on_commit_callbacks,
) -> None:
    job = _upload_with_broker_down(owner_client, django_capture_on_commit_callbacks)
    services.import_read(job_id=job.pk)
    with broker_up(run_import_task):
        owner_client.post(reverse("imports:go", args=[job.pk]), {"default_action": "merge"})
    monkeypatch.setattr(running, "RUN_BATCH", 2)
    real_batch, batches = running._run_batch, []

    def batch_then_die(*args: object) -> None:
        if len(batches) == 2:
            raise SystemExit("worker killed")  # like SIGKILL: no handler runs, the job stays running
        batches.append(args)
        real_batch(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(running, "_run_batch", batch_then_die)
    with pytest.raises(SystemExit):
        services.import_run(job_id=job.pk)
    monkeypatch.setattr(running, "_run_batch", real_batch)
    services.import_run(job_id=job.pk)  # the message redelivered at once: the claim is not stale yet
    job.refresh_from_db()
    assert (job.status, job.processed) == (ImportJob.Status.RUNNING, 4)

    later = NOW + timedelta(seconds=settings.CLAIM_TIMEOUT_SECONDS + 1)
    with broker_up(run_import_task) as hints:
        queue.outbox_sweep(now=later)
    with time_machine.travel(later, tick=False):
        for args in hints:
            run_import_task.apply(args)

    job.refresh_from_db()
    assert (job.status, job.processed, job.created, job.skipped, job.takeovers) == (ImportJob.Status.DONE, 6, 5, 1, 1)
    assert Person.objects.for_workspace(workspace).count() == 5  # card 5 repeats card 4's phone
    services.import_run(job_id=job.pk)  # and once more, after it finished: nothing happens
    assert Person.objects.for_workspace(workspace).count() == 5


def test_it_fails_a_job_that_keeps_stalling_with_a_message_on_its_page(
    owner_client: Client, django_capture_on_commit_callbacks, settings: Settings
) -> None:
    settings.IMPORT_MAX_TAKEOVERS = 2
    job = _upload_with_broker_down(owner_client, django_capture_on_commit_callbacks)
    when = NOW
    with broker_up(read_import_task) as hints:
        for _ in range(4):
            # A worker takes it and dies (its claim never moves again).
            ImportJob.objects.filter(pk=job.pk).update(claimed_at=when, moved_at=when)
            when += timedelta(seconds=settings.CLAIM_TIMEOUT_SECONDS + 1)
            queue.outbox_sweep(now=when)

    job.refresh_from_db()
    assert len(hints) == 2
    assert job.status == ImportJob.Status.FAILED
    page = owner_client.get(job.get_absolute_url()).content.decode()
    assert "Reading this file stopped 3 times without finishing; nothing was written." in page


def test_it_hints_nothing_for_a_job_that_is_moving(owner_client: Client, django_capture_on_commit_callbacks) -> None:
    job = _upload_with_broker_down(owner_client, django_capture_on_commit_callbacks)
    ImportJob.objects.filter(pk=job.pk).update(claimed_at=NOW, moved_at=LATER)

    with broker_up(read_import_task) as hints:
        queue.outbox_sweep(now=LATER + timedelta(seconds=30))

    assert hints == []
