"""Two real ``celery beat`` processes at once (a deploy mistake) notify and send nothing twice.

A real worker consumes both beats' dispatchers, ticking every second instead of every few
minutes, on this tier's broker and database. The database decides what exists: each reminder
occurrence is one row claimed once, each digest one row per user and period.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from crm.models import Membership, SchedulerHeartbeat, User, Workspace
from digests.models import DigestRun
from reminders import services as reminder_services
from reminders.models import ReminderOccurrence
from tests.factories import PersonFactory, UserFactory
from tests.processes import celery_beat, celery_worker, smtp_sink, wait_for
from tests.trust.summary import record

USERS = 8


def _users_with_a_due_reminder_and_digest(workspace: Workspace) -> list[User]:
    users = []
    for i in range(USERS):
        user = UserFactory(
            email=f"beat{i}@example.com",
            time_zone="UTC",
            digest=User.Digest.DAILY,
            digest_hour=0,
            digest_always=True,
            digest_since=datetime(2020, 1, 1, tzinfo=UTC),
        )
        Membership.objects.create(workspace=workspace, user=user, role="member")
        person = PersonFactory(workspace=workspace, owner=user)
        reminder_services.follow_up_create(person=person, due_on=date(2000, 1, 1), note=f"Call back {i}")
        users.append(user)
    return users


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

    per_user: dict[str, set[str]] = {}
    for message in received:
        per_user.setdefault(message["To"], set()).add(message["Message-ID"])
    record(
        "faults",
        faults_injected=1,
        notifications_lost=2 * USERS - len(per_user) - len(first_notice),
        notifications_duplicated=(len(received) - len(per_user)) + (notified.count() - len(first_notice)),
    )
    assert sorted(per_user) == sorted(f"beat{i}@example.com" for i in range(USERS))
    assert len(received) == USERS
    assert DigestRun.objects.count() == USERS
    assert ReminderOccurrence.objects.count() == USERS
    # Notified once: a second claim would have moved notified_at.
    assert dict(notified.values_list("pk", "notified_at")) == first_notice
