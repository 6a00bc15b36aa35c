"""The job row: claims and takeovers, how a job ends, and the user's go-ahead or cancel.

Reading and running claim the job first (a conditional UPDATE of ``claimed_at``), so two
messages for one job never work on it at once; a claim that stops moving is taken over by the
sweeper (``import_takeover``), a bounded number of times.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, Q
from django.template.defaultfilters import pluralize
from django.utils import timezone

from crm.queue import SWEEP_BATCH, claim_timeout, enqueue, enqueue_on_commit
from imports.models import WAITING, ImportJob, ImportRow

if TYPE_CHECKING:
    from celery import Task

logger = logging.getLogger(__name__)


# --- claims -------------------------------------------------------------------------------


def claim(*, job_id: int, status: str) -> ImportJob | None:
    """Take the job for this worker, or None when it is not in ``status`` or already taken.

    The claim is the ``claimed_at`` value written here: every later step checks it is still
    this worker's, so a worker the sweeper took the job from stops at its next batch.
    """
    now = timezone.now()
    claimed = ImportJob.objects.filter(pk=job_id, status=status, claimed_at__isnull=True).update(
        claimed_at=now, moved_at=now
    )
    if claimed != 1:
        return None
    return ImportJob.objects.select_related("workspace", "created_by").get(pk=job_id)


def still_mine(job: ImportJob, **progress: object) -> bool:
    """Record progress if the job is still this worker's claim; False when it was taken over."""
    mine = ImportJob.objects.filter(pk=job.pk, status=job.status, claimed_at=job.claimed_at)
    return mine.update(moved_at=timezone.now(), **progress) == 1


# --- how a job ends -----------------------------------------------------------------------


def fail(job: ImportJob, error: str) -> None:
    """Fail a read: no rows are kept, and the page says why."""
    ImportRow.objects.filter(job=job).delete()
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.FAILED, error=error, data=b"", processed=0, finished_at=timezone.now()
    )


def stopped(job: ImportJob, *, reason: str) -> None:
    """Fail a run part-way: what was written stays, and the page says how to finish."""
    done = outcome_counts(job)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.FAILED,
        error=f"The import {reason}, after {done['processed']} contacts; those are imported. "
        "Import the file again: the ones already here are recognised and merged.",
        data=b"",
        finished_at=timezone.now(),
        **done,
    )


def outcome_counts(job: ImportJob) -> dict[str, int]:
    """The job's counters as its rows say: what is done, created, merged, skipped, failed."""
    outcome = ImportRow.Outcome
    return ImportRow.objects.filter(job=job).aggregate(
        processed=Count("id", filter=~Q(outcome=outcome.PENDING)),
        created=Count("id", filter=Q(outcome=outcome.CREATED)),
        merged=Count("id", filter=Q(outcome=outcome.MERGED)),
        skipped=Count("id", filter=Q(outcome=outcome.SKIPPED)),
        failed=Count("id", filter=Q(outcome=outcome.FAILED)),
    )


# --- takeovers ----------------------------------------------------------------------------


def import_takeover(*, now: datetime) -> int:
    """Hint again every reading or running job that stopped moving; returns the hints sent.

    A job no worker took (its message was lost) gets another message. A job whose worker
    stopped moving for ``CLAIM_TIMEOUT_SECONDS`` (killed, or stuck) is released for another
    worker, at most ``IMPORT_MAX_TAKEOVERS`` times: then it fails, with a message on its page.
    """
    from imports.tasks import read_import_task, run_import_task

    tasks: dict[str, Task[[int], None]] = {
        ImportJob.Status.READING: read_import_task,
        ImportJob.Status.RUNNING: run_import_task,
    }
    never_taken = Q(claimed_at__isnull=True, moved_at__lt=now - timedelta(seconds=settings.HINT_RESEND_SECONDS))
    abandoned = Q(claimed_at__isnull=False, moved_at__lt=now - claim_timeout())
    stalled = ImportJob.objects.filter(never_taken | abandoned, status__in=list(tasks)).order_by("pk")
    hinted = 0
    for job in stalled.only("pk", "status", "claimed_at", "moved_at", "takeovers", "workspace_id")[:SWEEP_BATCH]:
        taken_over = job.claimed_at is not None
        if taken_over and job.takeovers >= settings.IMPORT_MAX_TAKEOVERS:
            _stalled_for_good(job)
            continue
        # Conditional on the job not having moved since it was read: a worker that just
        # came back to life keeps its claim.
        released = ImportJob.objects.filter(pk=job.pk, status=job.status, moved_at=job.moved_at).update(
            claimed_at=None, moved_at=now, takeovers=F("takeovers") + int(taken_over)
        )
        if released:
            if taken_over:
                logger.warning("import %s stopped moving while %s; taken over", job.pk, job.status)
            hinted += enqueue(tasks[job.status], job.pk)
    return hinted


def _stalled_for_good(job: ImportJob) -> None:
    times = f"{job.takeovers + 1} times"
    if job.status == ImportJob.Status.READING:
        fail(job, f"Reading this file stopped {times} without finishing; nothing was written. Try a smaller file.")
        return
    stopped(job, reason=f"stopped {times} without finishing")


# --- the user's go-ahead, cancelling, expiry ----------------------------------------------


@transaction.atomic
def import_start(*, job: ImportJob, default_action: str, actions: dict[int, str], background: bool = True) -> None:
    """Apply the user's choices for possible duplicates and queue the import."""
    from imports.tasks import run_import_task

    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status != ImportJob.Status.READY:
        raise ValidationError("This import is no longer waiting for a go-ahead (it has started, or expired).")
    valid = set(ImportRow.Action.values)
    if default_action not in valid or not set(actions.values()) <= valid:
        raise ValidationError("Choose skip, merge or create for each possible duplicate.")
    duplicates = ImportRow.objects.filter(job=job, error="", duplicate_of__isnull=False)
    duplicates.update(action=default_action)
    for action in valid:
        ids = [row_id for row_id, chosen in actions.items() if chosen == action]
        if ids:
            duplicates.filter(pk__in=ids).update(action=action)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.RUNNING, processed=0, moved_at=timezone.now(), claimed_at=None
    )
    if background:
        enqueue_on_commit(run_import_task, job.pk)


def import_cancel(*, job: ImportJob) -> bool:
    """Cancel an import that has not started writing; False when it is past that point."""
    updated = ImportJob.objects.filter(pk=job.pk, status__in=(ImportJob.Status.MAPPING, ImportJob.Status.READY)).update(
        status=ImportJob.Status.CANCELLED, data=b"", finished_at=timezone.now()
    )
    if updated:
        ImportRow.objects.filter(job=job).delete()
    return bool(updated)


def import_expire_uploads() -> int:
    """Delete the file and rows of every upload left waiting for the user longer than
    ``IMPORT_UPLOAD_MAX_AGE_DAYS``, marking its job expired; returns how many expired.

    Only jobs waiting for the user: one being read or imported right now is never touched.
    The conditional UPDATE decides, so a job whose go-ahead commits at the same moment is
    either started or expired, never both, and running this twice changes nothing.
    """
    days = settings.IMPORT_UPLOAD_MAX_AGE_DAYS
    now = timezone.now()
    with transaction.atomic():
        expired = ImportJob.objects.filter(status__in=WAITING, created_at__lt=now - timedelta(days=days)).update(
            status=ImportJob.Status.EXPIRED,
            data=b"",
            finished_at=now,
            error=f"This upload waited more than {days} day{pluralize(days)} for you, so it was deleted "
            "with its file; nothing was imported.",
        )
        ImportRow.objects.filter(job__status=ImportJob.Status.EXPIRED).delete()
    return expired
