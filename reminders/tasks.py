"""Background work for reminders: a dispatcher on a static beat schedule fans out to batches.

Every task is idempotent (the database decides what exists and what was notified), so a
duplicated, redelivered or late message is harmless.
"""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from crm.models import User
from crm.queue import enqueue
from reminders import services

BATCH = 200


@shared_task(acks_late=True)
def dispatch_reminders_task() -> int:
    """Fan out all active users with a workspace to batch tasks; returns the number of batches."""
    ids = list(
        User.objects.filter(is_active=True, memberships__isnull=False)
        .distinct()
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    batches = [ids[i : i + BATCH] for i in range(0, len(ids), BATCH)]
    for batch in batches:
        # A batch not sent now is covered by the next dispatch: the work is idempotent.
        enqueue(materialise_reminders_task, batch)
    return len(batches)


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=30, max_retries=5)
def materialise_reminders_task(user_ids: list[int]) -> int:
    """Materialise and notify due reminders for a batch of users, each on their own local day."""
    created = 0
    for user in User.objects.filter(pk__in=user_ids, is_active=True):
        with timezone.override(user.zone):
            created += services.occurrences_materialise(user=user, today=timezone.localdate())
            services.occurrences_notify(user=user)
    return created
