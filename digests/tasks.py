"""Digest background work: a dispatcher on the static beat schedule and one send per run."""

from __future__ import annotations

import smtplib

from celery import shared_task
from django.utils import timezone

from crm.models import User
from crm.queue import enqueue
from digests import services

BATCH = 1000
RETRYABLE = (smtplib.SMTPException, OSError)


@shared_task(acks_late=True)
def dispatch_digests_task() -> int:
    """Create the due digest rows for every user with digests on, and queue their sends."""
    now = timezone.now()
    queued = 0
    users = User.objects.filter(is_active=True).exclude(digest=User.Digest.OFF).order_by("pk")
    last = 0
    while True:
        batch = list(users.filter(pk__gt=last)[:BATCH])
        if not batch:
            return queued
        last = batch[-1].pk
        for run_id in services.digest_dispatch(users=batch, now=now):
            queued += enqueue(send_digest_task, run_id)


@shared_task(bind=True, acks_late=True, max_retries=5)
def send_digest_task(self, run_id: int) -> str:
    try:
        return services.digest_send(run_id=run_id)
    except RETRYABLE as exc:
        if self.request.retries >= self.max_retries:
            services.digest_mark_failed(run_id=run_id, error=str(exc))
            return "failed"
        raise self.retry(exc=exc, countdown=60 * 2**self.request.retries) from exc
