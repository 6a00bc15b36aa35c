"""The background worker really runs: a task goes through the broker of this tier (filesystem
on the embedded default, Redis on the services tier) to a real Celery worker process, which
writes to the real database (SQLite file or PostgreSQL) and sends through a real SMTP server."""

from __future__ import annotations

import pytest

from crm import services
from crm.models import Invitation, Membership, User
from tests.processes import celery_worker, smtp_sink, wait_for


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_the_invitation_and_records_it(owner: User) -> None:
    membership = Membership.objects.get(user=owner)
    with smtp_sink() as (port, received), celery_worker(EMAIL_URL=f"smtp://127.0.0.1:{port}"):
        invitation = services.invitation_create(membership=membership, email="teammate@example.com")

        wait_for(lambda: received, what="the invitation email at the SMTP sink")
        wait_for(
            lambda: Invitation.objects.get(pk=invitation.pk).email_state == Invitation.EmailState.SENT,
            what="the worker to mark the invitation sent",
        )

    assert len(received) == 1
    assert received[0]["To"] == "teammate@example.com"
    assert "invited you to Acme Bakery" in received[0]["Subject"]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_scheduler_heartbeat(owner: User) -> None:
    from crm.models import SchedulerHeartbeat
    from crm.tasks import heartbeat_task

    with celery_worker():
        heartbeat_task.delay()
        wait_for(lambda: SchedulerHeartbeat.objects.filter(name="beat").exists(), what="the heartbeat row")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_materialises_reminders_from_the_dispatcher(owner: User, member: User) -> None:
    import datetime as dt

    from reminders import services as reminder_services
    from reminders.models import ReminderOccurrence
    from reminders.tasks import dispatch_reminders_task
    from tests.factories import PersonFactory

    person = PersonFactory(workspace=owner.current_workspace, owner=owner)
    reminder_services.follow_up_create(person=person, due_on=dt.date(2000, 1, 1), note="Long overdue")

    with celery_worker():
        dispatch_reminders_task.delay()
        wait_for(
            lambda: ReminderOccurrence.objects.filter(user=owner, state="notified").exists(), what="a notified reminder"
        )
        # The second run must really happen before we look: it also has a newcomer's reminder to
        # notify (same batch as the owner's), so once that one is notified the run is over.
        newcomer = PersonFactory(workspace=owner.current_workspace, owner=member)
        reminder_services.follow_up_create(person=newcomer, due_on=dt.date(2000, 1, 1), note="Also overdue")
        dispatch_reminders_task.delay()
        wait_for(
            lambda: ReminderOccurrence.objects.filter(user=member, state="notified").exists(),
            what="the second run to notify the newcomer's reminder",
        )

    assert ReminderOccurrence.objects.filter(user=owner).count() == 1  # the second run changed nothing of the owner's
    assert ReminderOccurrence.objects.filter(user=member).count() == 1
