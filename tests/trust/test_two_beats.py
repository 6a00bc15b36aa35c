"""Two real ``celery beat`` processes at once (a deploy mistake) notify and send nothing twice.

A real worker consumes both beats' dispatchers, ticking every second instead of every few
minutes, on this tier's broker and database. The database decides what exists: each reminder
occurrence is one row claimed once, each digest one row per user and period.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from crm.models import SchedulerHeartbeat, Workspace
from digests.models import DigestRun
from reminders import services as reminder_services
from reminders.models import ReminderOccurrence
from tests.factories import PersonFactory, daily_digest_member
from tests.processes import celery_beat, celery_worker, smtp_sink, wait_for
from tests.trust.summary import record_digests

USERS = 8


def _users_with_a_due_reminder_and_digest(workspace: Workspace) -> None:
    for i in range(USERS):
        user = daily_digest_member(workspace, f"beat{i}@example.com")
        person = PersonFactory(workspace=workspace, owner=user)
        reminder_services.follow_up_create(person=person, due_on=date(2000, 1, 1), note=f"Call back {i}")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_beats_at_once_notify_each_reminder_and_send_each_digest_once(workspace: Workspace, tmp_path: Path) -> None:
    _users_with_a_due_reminder_and_digest(workspace)
    notified = ReminderOccurrence.objects.filter(state=ReminderOccurrence.State.NOTIFIED)
    with smtp_sink() as (port, received):
        env = {"EMAIL_URL": f"smtp://127.0.0.1:{port}", "BEAT_INTERVAL_SECONDS": "1"}
        with celery_worker(**env), celery_beat(tmp_path / "a", **env), celery_beat(tmp_path / "b", **env):
            wait_for(lambda: len(received) >= USERS and notified.count() >= USERS, what="every digest and reminder")
            first_notice = dict(notified.values_list("pk", "notified_at"))
            # Both beats keep dispatching every second. The worker takes messages in order, so
            # a heartbeat it records three seconds on comes after several more rounds of both
            # beats' dispatchers: any duplicate they could cause has had its chance.
            later = timezone.now() + timedelta(seconds=3)
            wait_for(
                lambda: SchedulerHeartbeat.objects.filter(last_beat_at__gt=later).exists(),
                what="more rounds of both beats",
            )
            wait_for(lambda: DigestRun.objects.filter(state="sent").count() == USERS, what="every run marked sent")

    twice = sum(1 for pk, at in notified.values_list("pk", "notified_at") if first_notice.get(pk) != at)
    record_digests(received, users=USERS, reminders_lost=USERS - len(first_notice), reminders_twice=twice)
    assert sorted(m["To"] for m in received) == sorted(f"beat{i}@example.com" for i in range(USERS))
    assert DigestRun.objects.count() == USERS
    assert ReminderOccurrence.objects.count() == USERS
    # Notified once: a second claim would have moved notified_at.
    assert dict(notified.values_list("pk", "notified_at")) == first_notice
