"""Reading: the uploaded file into ``ImportRow``s, each with the person it may duplicate and a
default action (merge when it matches someone, skip when it repeats the file, else create).

A retried read starts over from no rows; rows are written in batches, each with the claim
checked in the same transaction, so a reader the job was taken from writes nothing more.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from django.conf import settings
from django.db import transaction

from imports import backup
from imports.contact import Contact
from imports.csvfile import CsvFileError, column_plan, open_csv, row_to_contact
from imports.models import ImportJob, ImportRow
from imports.services.jobs import claim, fail, still_mine
from imports.services.matching import Index
from imports.vcard import VCardFileError, read_vcards

logger = logging.getLogger(__name__)

READ_BATCH = 1000


def _parsed(job: ImportJob) -> Iterator[tuple[int, Contact | None, str]]:
    data = bytes(job.data)
    if job.kind == ImportJob.Kind.VCARD:
        for card in read_vcards(data, max_cards=settings.IMPORT_MAX_CONTACTS):
            yield card.number, card.contact, card.error
        return
    table = open_csv(data)
    plan = column_plan(job.header, job.mapping)
    for number, row in enumerate(table.rows, start=2):  # line 1 is the header
        if not any(cell.strip() for cell in row):
            continue
        if number - 1 > settings.IMPORT_MAX_CONTACTS:
            raise CsvFileError(
                f"The file has more than {settings.IMPORT_MAX_CONTACTS:,} rows; split it into smaller files."
            )
        contact = row_to_contact(plan, row)
        yield number, contact, contact.finish() or ""


def import_read(*, job_id: int) -> None:
    """Read the job's file into rows with duplicates marked; the file's own faults fail the job."""
    job = claim(job_id=job_id, status=ImportJob.Status.READING)
    if job is None:
        return
    if job.kind == ImportJob.Kind.BACKUP:
        _read_backup(job)
        return
    ImportRow.objects.filter(job=job).delete()  # a retried read starts over
    index = Index.of_workspace(job.workspace)
    seen = Index({}, {}, {})
    batch: list[ImportRow] = []
    count = 0
    try:
        for number, contact, error in _parsed(job):
            batch.append(_row(job, number, contact, error, index, seen))
            count += 1
            if len(batch) >= READ_BATCH:
                # With the claim checked in the same transaction: a reader the job was taken
                # from writes nothing more (the new reader starts over from no rows).
                with transaction.atomic():
                    if not still_mine(job, processed=count):
                        return
                    ImportRow.objects.bulk_create(batch)
                batch = []
        with transaction.atomic():
            if not still_mine(job):
                return
            ImportRow.objects.bulk_create(batch)
    except (VCardFileError, CsvFileError) as exc:
        fail(job, str(exc))
        return
    except Exception:
        # Never a job stuck in "reading": the user hears it failed, and we get the traceback.
        logger.exception("reading import %s failed", job.pk)
        fail(job, "This file could not be read because of an error on our side; nothing was written.")
        raise
    if count == 0:
        fail(job, "The file has no contacts in it.")
        return
    ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.READING, claimed_at=job.claimed_at).update(
        status=ImportJob.Status.READY, total=count, processed=0, claimed_at=None
    )


def _read_backup(job: ImportJob) -> None:
    backup.restore_read(job=job)


def _row(job: ImportJob, number: int, contact: Contact | None, error: str, index: Index, seen: Index) -> ImportRow:
    row = ImportRow(workspace_id=job.workspace_id, job=job, number=number, error=error)
    if contact is None:
        row.action = ImportRow.Action.SKIP
        return row
    row.contact = contact.as_json()
    row.has_warnings = bool(contact.warnings)
    row.name = contact.display_name[:300]
    if error:
        row.action = ImportRow.Action.SKIP
        return row
    match = index.match(contact)
    if match.found is not None:
        row.duplicate_of_id, row.action = match.found, ImportRow.Action.MERGE
        row.match_kind, row.match_reason = match.kind, match.reason[:300]
        return row
    earlier = seen.match(contact)
    if earlier.found is not None:
        row.match_kind = ImportRow.MatchKind.IN_FILE
        row.match_reason = f"{earlier.reason}, as card or line {earlier.found} of this file"[:300]
        row.action = ImportRow.Action.SKIP
        return row
    seen.remember(contact, number)
    return row
