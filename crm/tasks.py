"""Background work for accounts: each task takes ids and calls one service."""

from __future__ import annotations

import smtplib

from celery import shared_task
from django.utils import timezone

from crm import queue, services

# SMTP down or refusing: worth retrying with backoff. Anything else is a bug and surfaces.
RETRYABLE = (smtplib.SMTPException, OSError)


@shared_task(bind=True, acks_late=True, max_retries=5)
def send_invitation_task(self, invitation_id: int) -> None:
    try:
        services.invitation_send(invitation_id=invitation_id)
    except RETRYABLE as exc:
        if self.request.retries >= self.max_retries:
            services.invitation_mark_failed(invitation_id=invitation_id, error=str(exc))
            return
        raise self.retry(exc=exc, countdown=30 * 2**self.request.retries) from exc


@shared_task(bind=True, acks_late=True, max_retries=5)
def send_password_reset_task(self, request_id: int) -> None:
    try:
        services.password_reset_send(request_id=request_id)
    except RETRYABLE as exc:
        if self.request.retries >= self.max_retries:
            services.password_reset_mark_failed(request_id=request_id, error=str(exc))
            return
        raise self.retry(exc=exc, countdown=30 * 2**self.request.retries) from exc


@shared_task(acks_late=True)
def sweep_outbox_task() -> dict[str, int]:
    return queue.outbox_sweep(now=timezone.now())


@shared_task(acks_late=True)
def heartbeat_task() -> None:
    services.heartbeat_record(name="beat")
