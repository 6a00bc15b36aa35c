"""Background work for accounts: each task takes ids and calls one service."""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from functools import partial

from celery import Task, shared_task
from django.utils import timezone

from crm import audit, housekeeping, queue, services, sessions

# SMTP down or refusing: worth retrying with backoff. Anything else is a bug and surfaces.
RETRYABLE = (smtplib.SMTPException, OSError)


@shared_task(bind=True, acks_late=True, max_retries=5)
def send_invitation_task(self: Task, invitation_id: int) -> None:
    _send_or_retry(
        self,
        send=partial(services.invitation_send, invitation_id=invitation_id),
        mark_failed=partial(services.invitation_mark_failed, invitation_id=invitation_id),
    )


@shared_task(bind=True, acks_late=True, max_retries=5)
def send_signup_email_task(self: Task, signup_id: int) -> None:
    _send_or_retry(
        self,
        send=partial(services.signup_email_send, signup_id=signup_id),
        mark_failed=partial(services.signup_mark_failed, signup_id=signup_id),
    )


def _send_or_retry(task: Task, *, send: Callable[[], bool], mark_failed: Callable[..., None]) -> None:
    """Send a row's email; retry with backoff on SMTP trouble, and after the last retry mark the
    row failed with the reason, so the failure shows instead of staying "queued"."""
    try:
        send()
    except RETRYABLE as exc:
        if task.max_retries is not None and task.request.retries >= task.max_retries:
            mark_failed(error=str(exc))
            return
        raise task.retry(exc=exc, countdown=30 * 2**task.request.retries) from exc


@shared_task(bind=True, acks_late=True, max_retries=5)
def send_password_reset_task(self: Task, request_id: int) -> None:
    _send_or_retry(
        self,
        send=partial(services.password_reset_send, request_id=request_id),
        mark_failed=partial(services.password_reset_mark_failed, request_id=request_id),
    )


@shared_task(acks_late=True)
def sweep_outbox_task() -> dict[str, int]:
    return queue.outbox_sweep(now=timezone.now())


@shared_task(acks_late=True)
def heartbeat_task() -> None:
    services.heartbeat_record(name="beat")


@shared_task(acks_late=True)
def housekeeping_task() -> dict[str, int]:
    return housekeeping.housekeeping_prune(now=timezone.now())


@shared_task(acks_late=True)
def audit_prune_task() -> int:
    return audit.audit_prune(now=timezone.now())


@shared_task(bind=True, acks_late=True, max_retries=5)
def send_security_notice_task(self: Task, notice_id: int) -> None:
    _send_or_retry(
        self,
        send=partial(sessions.notice_send, notice_id=notice_id),
        mark_failed=partial(sessions.notice_mark_failed, notice_id=notice_id),
    )
