"""Broker messages are hints: the committed row is the work, the message only says "now".

Every piece of background work is a row with a state (an outbox): an email to send, a digest,
an import job. Sending its message can fail (Redis down, restarting, unreachable): that is
logged and the request carries on, because the row is already committed and the sweeper
(``outbox_sweep``, on the beat every minute) sends the hint again for every row that should
have moved and has not. A task may therefore run more than once for one row; each claims its
row with a conditional UPDATE, so the work itself is done once.

Adding an outbox is one line in ``OUTBOXES`` (a model with ``state``, ``claimed_at`` and
``created_at`` fields, queued/sending states, and a task that takes its id and claims it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from celery import Task
from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import Model, Q
from django.utils.module_loading import import_string
from kombu.exceptions import KombuError, OperationalError
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# What publishing raises with the broker down: kombu wraps connection errors in its
# OperationalError; the rest are what can escape it (a socket error, a Redis error).
BROKER_ERRORS = (OperationalError, KombuError, RedisError, OSError)

# Rows hinted per outbox per sweep: after a long outage the backlog drains over a few
# sweeps instead of one sweep flooding the broker.
SWEEP_BATCH = 500


def claim_timeout() -> timedelta:
    """How long a claim may show no sign of life before it counts as abandoned."""
    return timedelta(seconds=settings.CLAIM_TIMEOUT_SECONDS)


def claim(model: type[Model], *, pk: int, now: datetime) -> bool:
    """Claim one outbox row for sending: queued, or a sending claim older than the claim timeout
    (its worker died). A conditional UPDATE, so of two workers exactly one gets True."""
    claimable = Q(state="queued") | Q(state="sending", claimed_at__lt=now - claim_timeout())
    with transaction.atomic():
        return model._default_manager.filter(claimable, pk=pk).update(state="sending", claimed_at=now) == 1


def enqueue(task: Task, *args: Any) -> bool:
    """Send ``task``'s message now; False (logged) when the broker cannot take it."""
    try:
        task.apply_async(args)
    except BROKER_ERRORS:
        logger.warning(
            "broker unavailable: %s%r not sent now; the sweeper will send it", task.name, args, exc_info=True
        )
        return False
    return True


def enqueue_on_commit(task: Task, *args: Any) -> None:
    """Send ``task``'s message once the current transaction commits (at once outside one).

    Never raises for a broker fault: the caller's row is committed and the sweeper finds it.
    """
    transaction.on_commit(lambda: enqueue(task, *args))


@dataclass(frozen=True)
class Outbox:
    """Rows of ``model`` that ``task`` (given a row id) works on."""

    model: str
    task: str
    state: str = "state"
    claimed_at: str = "claimed_at"
    only: dict[str, Any] = field(default_factory=dict)  # further conditions on the rows

    def due(self, *, now: datetime) -> list[int]:
        """Rows queued whose hint was never taken, and claims abandoned by a dead worker."""
        never_taken = Q(
            **{self.state: "queued", f"{self.claimed_at}__isnull": True},
            created_at__lt=now - timedelta(seconds=settings.HINT_RESEND_SECONDS),
        )
        # A claimed row back in "queued" is waiting for a retry; one left in "sending" lost
        # its worker. Either way, after the claim timeout nobody is coming back for it.
        abandoned = Q(**{f"{self.state}__in": ("queued", "sending"), f"{self.claimed_at}__lt": now - claim_timeout()})
        rows = apps.get_model(self.model).objects.filter(never_taken | abandoned, **self.only)
        return list(rows.order_by("pk").values_list("pk", flat=True)[:SWEEP_BATCH])


OUTBOXES: tuple[Outbox, ...] = (
    Outbox("crm.PasswordResetRequest", "crm.tasks.send_password_reset_task"),
    Outbox(
        "crm.Invitation",
        "crm.tasks.send_invitation_task",
        state="email_state",
        claimed_at="email_claimed_at",
        only={"status": "pending"},
    ),
    Outbox(
        "crm.Signup",
        "crm.tasks.send_signup_email_task",
        state="email_state",
        claimed_at="email_claimed_at",
        only={"status": "pending"},  # a replaced sign-up's link no longer works: never sent
    ),
    Outbox(
        "crm.SecurityNotice",
        "crm.tasks.send_security_notice_task",
        state="email_state",
        claimed_at="email_claimed_at",
    ),
    # Scheduled digests are hinted again by their own dispatcher every few minutes; the
    # test digest, which no dispatcher looks at, is swept here.
    Outbox("digests.DigestRun", "digests.tasks.send_digest_task", only={"period__isnull": True}),
)

# Jobs with more to them than an email (progress, a bounded number of takeovers): each kind's
# service finds its own stalled jobs, takes them over and hints them; it returns how many.
JOB_SWEEPS: tuple[str, ...] = ("imports.services.import_takeover",)


def outbox_sweep(*, now: datetime) -> dict[str, int]:
    """Hint again every row that should have moved and has not. Returns hints sent per kind.

    Safe to run at any time and any number of times: a hint for a row already done, or
    claimed by a live worker, finds nothing to claim and does nothing.
    """
    sent: dict[str, int] = {}
    for outbox in OUTBOXES:
        task = import_string(outbox.task)
        sent[outbox.model] = sum(enqueue(task, pk) for pk in outbox.due(now=now))
    for path in JOB_SWEEPS:
        sent[path] = import_string(path)(now=now)
    return sent
