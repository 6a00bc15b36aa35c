"""Running: writing the rows the user said go ahead to, in batches of ``RUN_BATCH``.

Each batch commits in one transaction with the job's counters, under the job row's lock and
only while the claim is still this worker's; only rows still pending are written, so a worker
killed half-way is resumed without doing any row twice.
"""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from crm.audit import Action, audit_record
from imports import backup
from imports.contact import Contact
from imports.models import ImportJob, ImportRow
from imports.services.jobs import claim, outcome_counts, stopped
from imports.services.writing import create_people, merge_contact, validation_message

logger = logging.getLogger(__name__)

RUN_BATCH = 250


def import_run(*, job_id: int) -> None:
    """Write the pending rows in batches; each batch commits with the job's counters."""
    job = claim(job_id=job_id, status=ImportJob.Status.RUNNING)
    if job is None:
        return
    if job.kind == ImportJob.Kind.BACKUP:
        _run_backup(job)
        return
    pending = ImportRow.objects.filter(job=job, outcome=ImportRow.Outcome.PENDING).order_by("number")
    try:
        while True:
            with transaction.atomic():
                # The job row is the lock, and the claim must still be ours: a worker the job
                # was taken from waits here, then stops; the rows it did stay done.
                mine = ImportJob.objects.select_for_update().filter(pk=job.pk, status=job.status)
                if not mine.filter(claimed_at=job.claimed_at).exists():
                    return
                rows = list(pending.select_related("duplicate_of")[:RUN_BATCH])
                if not rows:
                    break
                _run_batch(job, rows)
    except Exception:
        logger.exception("import %s stopped", job.pk)
        stopped(job, reason="stopped because of an error on our side")
        raise
    counts = outcome_counts(job)
    with transaction.atomic():
        updated = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.RUNNING).update(
            status=ImportJob.Status.DONE, data=b"", finished_at=timezone.now(), **counts
        )
        if updated:
            audit_import_finished(job, counts)
    if updated:
        # The result page lists failures and warnings; the other rows (with their photos) can go.
        ImportRow.objects.filter(job=job, error="", has_warnings=False).delete()


def audit_import_finished(job: ImportJob, counts: dict[str, int]) -> None:
    audit_record(
        action=Action.IMPORT_FINISHED,
        actor=job.created_by,
        workspace=job.workspace,
        # Not the file's name, which may be a customer's: the log names none.
        summary=f"Import finished ({job.get_kind_display()}): {counts['created']} new, {counts['merged']} merged, "
        f"{counts['failed']} failed",
        details={"kind": job.kind, **counts},
    )


def _run_backup(job: ImportJob) -> None:
    backup.restore_run(job=job)


def _run_batch(job: ImportJob, rows: list[ImportRow]) -> None:
    creates: list[tuple[ImportRow, Contact]] = []
    for row in rows:
        if row.error:
            row.outcome = ImportRow.Outcome.FAILED
        elif row.action == ImportRow.Action.SKIP:
            row.outcome = ImportRow.Outcome.SKIPPED
        elif row.action == ImportRow.Action.MERGE and row.duplicate_of is not None:
            try:
                with transaction.atomic():
                    merge_contact(person=row.duplicate_of, contact=Contact.from_json(row.contact))
                row.person, row.outcome = row.duplicate_of, ImportRow.Outcome.MERGED
            except ValidationError as exc:
                row.outcome, row.error = ImportRow.Outcome.FAILED, validation_message(exc)
        else:
            creates.append((row, Contact.from_json(row.contact)))
    if creates:
        create_people(workspace=job.workspace, owner=job.created_by, rows=creates)
    _save_outcomes(rows)
    ImportJob.objects.filter(pk=job.pk).update(moved_at=timezone.now(), **outcome_counts(job))


def _save_outcomes(rows: list[ImportRow]) -> None:
    """One UPDATE per outcome; rows need their own only to link a person the user should check."""
    by_outcome: dict[str, list[int]] = {}
    for row in rows:
        if row.error or row.has_warnings:
            warnings = Contact.from_json(row.contact).warnings if row.contact else []
            ImportRow.objects.filter(pk=row.pk).update(
                outcome=row.outcome,
                error=row.error,
                person=row.person,
                has_warnings=row.has_warnings,
                contact={"warnings": warnings},  # the result page needs no more; photos are big
            )
        else:
            by_outcome.setdefault(row.outcome, []).append(row.pk)
    for outcome, ids in by_outcome.items():
        rows_qs = ImportRow.objects.filter(pk__in=ids)
        if outcome == ImportRow.Outcome.MERGED:
            rows_qs.update(outcome=outcome, person=F("duplicate_of"))
        else:
            rows_qs.update(outcome=outcome)
