"""Reminder notifications under a real worker that is killed in the middle of a batch.

Runs on both tiers. The killed worker's batch message is redelivered (acks_late, rejected on
worker loss) or sent again by the next dispatch; the unique occurrence row and the conditional
pending -> notified claim decide, so every reminder is notified once: none lost, none twice.
"""

from __future__ import annotations

import datetime as dt
import os
import signal

import pytest
from django.utils import timezone

from crm.models import Membership, User, Workspace
from interactions.models import FollowUp
from people.models import Person
from reminders.models import ReminderOccurrence
from reminders.tasks import dispatch_reminders_task
from tests.processes import celery_worker, wait_for
from tests.trust.summary import record

pytestmark = pytest.mark.trust

USERS = 400  # two batches of 200: enough work to kill the worker in the middle of it


def _users_with_a_due_follow_up(workspace: Workspace) -> None:
    users = User.objects.bulk_create(
        User(email=f"k{i}@example.com", time_zone="UTC", current_workspace=workspace) for i in range(USERS)
    )
    Membership.objects.bulk_create(Membership(workspace=workspace, user=u) for u in users)
    people = Person.objects.bulk_create(
        Person(workspace=workspace, first_name=f"Customer {i}", owner=u) for i, u in enumerate(users)
    )
    FollowUp.objects.bulk_create(
        FollowUp(workspace=workspace, person=p, due_on=dt.date(2000, 1, 1), note="Call back", created_by=p.owner)
        for p in people
    )


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_every_reminder_is_notified_once_though_the_worker_is_killed(workspace: Workspace) -> None:
    _users_with_a_due_follow_up(workspace)
    notified = ReminderOccurrence.objects.filter(state=ReminderOccurrence.State.NOTIFIED)

    with celery_worker() as worker:
        dispatch_reminders_task.delay()
        wait_for(lambda: notified.count() >= 50, what="the first notifications")
        os.killpg(worker.pid, signal.SIGKILL)  # in the middle of the batches
        worker.wait()
    done_before = notified.count()
    assert done_before < USERS, "the worker finished before it could be killed"
    stamps = dict(notified.values_list("pk", "notified_at"))

    with celery_worker(purge=False):

        def all_notified() -> bool:
            if notified.count() < USERS:
                dispatch_reminders_task.delay()  # as beat does every 15 minutes
                return False
            return True

        wait_for(all_notified, timeout=180, what=f"{USERS} notified reminders")

    occurrences = ReminderOccurrence.objects.filter(workspace=workspace)
    lost = USERS - notified.count()
    twice = occurrences.count() - occurrences.values("user", "key", "due_on").distinct().count()
    # A reminder notified before the kill was not notified again afterwards.
    renotified = sum(
        1 for pk, at in notified.filter(pk__in=stamps).values_list("pk", "notified_at") if at != stamps[pk]
    )
    record("faults", faults_injected=1, notifications_lost=lost, notifications_duplicated=twice + renotified)
    assert (lost, twice, renotified) == (0, 0, 0)
    assert occurrences.count() == USERS
    assert not occurrences.filter(notified_at__gt=timezone.now()).exists()
