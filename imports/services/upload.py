"""Uploading: checking a file and keeping it on a new job, and the CSV column mapping.

vCards and backups go straight on to reading (in a worker); a CSV file waits for the user to
say what each column holds.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from crm import permissions
from crm.models import User, Workspace
from crm.queue import enqueue_on_commit
from imports import backup
from imports.csvfile import TARGET_KEYS, CsvFileError, guess_mapping, open_csv, recognised_format
from imports.models import ImportJob


class ImportFileError(ValidationError):
    """The file as a whole cannot be imported; the message says why."""


def _kind_of(name: str, data: bytes) -> str:
    if name.lower().endswith((".zip", ".json")) or backup.is_backup(data):
        return ImportJob.Kind.BACKUP
    if name.lower().endswith((".vcf", ".vcard")) or b"BEGIN:VCARD" in data[:4096].upper().replace(b"\x00", b""):
        return ImportJob.Kind.VCARD
    return ImportJob.Kind.CSV


def import_upload(
    *, workspace: Workspace, user: User, file_name: str, data: bytes, background: bool = True
) -> ImportJob:
    """Check an uploaded file and keep it on a new job; vCards start reading at once.

    ``background=False`` (the command line) leaves reading to the caller instead of a worker.
    Owners and members import; a backup is restored by owners only.
    """
    membership = permissions.require_user(user=user, workspace=workspace, capability="import")
    limit = settings.IMPORT_MAX_BYTES
    if len(data) > limit:
        raise ImportFileError(
            f"The file is {filesizeformat(len(data))}; the most we import at once is {filesizeformat(limit)}."
        )
    if not data.strip():
        raise ImportFileError("The file is empty.")
    job = ImportJob(workspace=workspace, created_by=user, file_name=file_name[:255], data=data)
    job.kind = _kind_of(file_name, data)
    if job.kind == ImportJob.Kind.BACKUP:
        permissions.require(membership, "restore")
        # A quick look now, so a wrong file or a non-empty workspace is said next to the field;
        # the full read (counts for the preview) happens in the background like any import.
        backup.peek(data, max_bytes=limit)
        backup.check_empty(workspace)
        return _start_reading(job, background=background)
    if job.kind == ImportJob.Kind.CSV:
        try:
            table = open_csv(data)
        except CsvFileError as exc:
            raise ImportFileError(str(exc)) from exc
        job.header = table.header
        job.mapping = guess_mapping(table.header)
        job.recognised_as = recognised_format(table.header)
        job.status = ImportJob.Status.MAPPING
        job.save()
        return job
    return _start_reading(job, background=background)


def _start_reading(job: ImportJob, *, background: bool) -> ImportJob:
    """The file is stored: on to reading it (in the background unless asked not to)."""
    job.status = ImportJob.Status.READING
    job.moved_at = timezone.now()
    job.save()
    if background:
        _queue_read(job)
    return job


def import_set_mapping(*, job: ImportJob, mapping: list[str], background: bool = True) -> None:
    """Take the user's column mapping and start reading the rows."""
    if job.status != ImportJob.Status.MAPPING:
        raise ValidationError("This import is past the column mapping.")
    if len(mapping) != len(job.header) or not set(mapping) <= TARGET_KEYS:
        raise ValidationError("Choose what each column holds.")
    names = {"first_name", "last_name", "full_name", "email", "phone", "company", "nickname"}
    if not names & set(mapping):
        raise ValidationError("Map at least one column to a name, an email, a phone or a company.")
    # Conditional: the upload may have expired or been cancelled since the page was shown.
    waiting = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.MAPPING)
    now = timezone.now()
    if not waiting.update(mapping=mapping, status=ImportJob.Status.READING, moved_at=now):
        raise ValidationError("This import is past the column mapping.")
    job.mapping, job.status, job.moved_at = mapping, ImportJob.Status.READING, now
    if background:
        _queue_read(job)


def _queue_read(job: ImportJob) -> None:
    from imports.tasks import read_import_task

    enqueue_on_commit(read_import_task, job.pk)
