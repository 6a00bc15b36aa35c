"""Redis stopped and started again: nothing the users asked for meanwhile is lost or done twice.

The test runs its own ``redis-server`` (never the machine's), a real Celery worker and an SMTP
sink. With Redis stopped, a password reset, an invitation, a test digest and an import upload
all answer without an error and say "queued"; their rows are committed and their messages
lost. Redis comes back on the same port, empty, the worker reconnects, and the sweeper (run
twice, as two beats would) hints every row again: each email arrives once, the import finishes.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from email.message import Message
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.fixtures import Settings

from crm import queue
from crm.models import SchedulerHeartbeat, Workspace
from crm.tasks import heartbeat_task
from imports.models import ImportJob
from people.models import Person
from tests.processes import celery_worker, redis_server, smtp_sink, wait_for
from tests.trust.summary import record

ANDROID = Path(__file__).resolve().parents[1] / "fixtures" / "vcard" / "mangstadt_ez-vcard__John_Doe_ANDROID.vcf"
RESET, INVITATION = "Reset your Rapport password", "Olivia Owner invited you to Acme Bakery on Rapport"
EMAILS = {("owner@example.com", RESET), ("newbie@example.com", INVITATION), ("owner@example.com", "digest")}


def _worker_has_drained(since: datetime) -> None:
    """The worker is solo and takes messages in order: once a heartbeat sent now is done,
    every message sent before it is done too."""
    queue.enqueue(heartbeat_task)
    wait_for(
        lambda: SchedulerHeartbeat.objects.filter(name="beat", last_beat_at__gt=since).exists(),
        timeout=90,
        what="the worker to take a message",
    )


def _asks_with_the_broker_down(client: Client, owner_client: Client) -> dict[str, str]:
    pages = {
        "reset": client.post(reverse("password_reset"), {"email": "owner@example.com"}, follow=True),
        "invite": owner_client.post(reverse("members"), {"email": "newbie@example.com"}, follow=True),
        "digest": owner_client.post(reverse("digests:send_test"), follow=True),
        "import": owner_client.post(
            reverse("imports:page"), {"file": SimpleUploadedFile("a.vcf", ANDROID.read_bytes())}, follow=True
        ),
    }
    assert {name: page.status_code for name, page in pages.items()} == dict.fromkeys(pages, 200)
    return {name: page.content.decode() for name, page in pages.items()}


def _kind(message: Message) -> tuple[str, str]:
    """Who got which email; a digest's subject says what is due, so it is just "digest"."""
    subject = str(message["Subject"])
    return str(message["To"]), subject if subject in {RESET, INVITATION} else "digest"


@pytest.mark.slow
@pytest.mark.trust
@pytest.mark.services_only
@pytest.mark.django_db(transaction=True)
def test_it_loses_nothing_and_does_nothing_twice_when_redis_stops_and_starts_again(
    client: Client, owner_client: Client, workspace: Workspace, settings: Settings, tmp_path: Path
) -> None:
    settings.HINT_RESEND_SECONDS = 0  # the sweep below comes "later" at once
    with (
        smtp_sink() as (port, received),
        redis_server(tmp_path) as redis,
        celery_worker(CELERY_BROKER_URL=redis.url, EMAIL_URL=f"smtp://127.0.0.1:{port}"),
    ):
        _worker_has_drained(since=timezone.now() - timedelta(days=1))
        redis.stop()

        pages = _asks_with_the_broker_down(client, owner_client)

        assert "is queued and will be sent shortly" in pages["reset"]
        assert "Invitation to newbie@example.com queued: it will be sent shortly" in pages["invite"]
        assert "A test digest to owner@example.com is queued: it will be sent shortly" in pages["digest"]
        assert "Queued: it will start shortly." in pages["import"]

        redis.start()
        started = timezone.now()
        queue.outbox_sweep(now=timezone.now())
        queue.outbox_sweep(now=timezone.now())  # a second beat, or a beat a minute later
        job = ImportJob.objects.get()
        wait_for(lambda: ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.READY, what="the file read")
        assert owner_client.post(reverse("imports:go", args=[job.pk]), {"default_action": "merge"}).status_code == 302
        wait_for(lambda: ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.DONE, what="the import done")
        wait_for(lambda: len(received) >= len(EMAILS), what="every email at the SMTP sink")
        queue.outbox_sweep(now=timezone.now())  # nothing left to hint; anything hinted anyway is a no-op
        _worker_has_drained(since=started)

    arrived = Counter(_kind(m) for m in received)
    people = Person.objects.for_workspace(workspace).count()
    lost = len(EMAILS - set(arrived)) + (people == 0)
    twice = sum(n - 1 for n in arrived.values()) + max(people - 5, 0)
    record("broker", broker_stops=1, jobs_lost=lost, jobs_done_twice=twice)
    assert set(arrived) == EMAILS
    assert (lost, twice) == (0, 0)
    assert people == 5  # six cards, the last repeats the fifth's phone
