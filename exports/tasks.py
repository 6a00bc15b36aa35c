"""Background work of the exports floor: each task calls one service."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from exports import retention, services


@shared_task(acks_late=True)
def retention_task() -> int:
    return retention.retention_dispatch(now=timezone.now())


@shared_task(acks_late=True)
def feed_changes_prune_task() -> int:
    return services.feed_changes_prune()
