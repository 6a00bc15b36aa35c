"""Background work of the exports floor: each task calls one service."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from exports import retention


@shared_task(acks_late=True)
def retention_task() -> int:
    return retention.retention_dispatch(now=timezone.now())
