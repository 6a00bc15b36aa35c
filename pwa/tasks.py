"""Web Push background work: a dispatcher on the static beat schedule and one send per run."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone
from pywebpush import WebPushException

from crm.queue import enqueue
from pwa import services

RETRYABLE = (WebPushException, OSError)


@shared_task(acks_late=True)
def dispatch_push_task() -> int:
    """Create the due morning rows for every subscribed device, and queue their sends."""
    return sum(enqueue(send_push_task, run_id) for run_id in services.push_dispatch(now=timezone.now()))


@shared_task(bind=True, acks_late=True, max_retries=5)
def send_push_task(self, run_id: int) -> str:
    try:
        return services.push_send(run_id=run_id)
    except RETRYABLE as exc:
        if self.request.retries >= self.max_retries:
            services.push_mark_failed(run_id=run_id, error=str(exc))
            return "failed"
        raise self.retry(exc=exc, countdown=60 * 2**self.request.retries) from exc
