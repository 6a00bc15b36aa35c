"""Importing address books: upload, read (with duplicate detection), then write, in the background.

1. ``import_upload`` checks the file and stores it on a job (CSV files stop for the column mapping).
2. ``import_read`` (a task) reads every card or row into ``ImportRow``s, each with the existing
   person it may duplicate and a default action (merge when it matches, else create).
3. The user looks at the preview and may change actions; ``import_start`` queues the run.
4. ``import_run`` (a task) writes rows in batches, each batch in one transaction, and counts.

Every step is safe to repeat: reading starts over from nothing, and running only touches rows
still pending, so a worker killed half-way resumes without doing any row twice. Reading and
running claim the job first (a conditional UPDATE of ``claimed_at``), so two messages for one
job never work on it at once; a claim that stops moving is taken over by the sweeper. Merging adds
only what the person does not have yet, so importing the same file again creates nobody.
"""

from __future__ import annotations

import base64
import logging
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from difflib import SequenceMatcher

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.template.defaultfilters import filesizeformat, pluralize
from django.utils import timezone

from crm import permissions
from crm.models import User, Workspace
from crm.queue import SWEEP_BATCH, claim_timeout, enqueue, enqueue_on_commit
from imports import backup
from imports.contact import Contact, as_partial_date
from imports.csvfile import (
    TARGET_KEYS,
    CsvFileError,
    column_plan,
    guess_mapping,
    open_csv,
    recognised_format,
    row_to_contact,
)
from imports.models import WAITING, ImportJob, ImportRow
from imports.vcard import VCardFileError, read_vcards
from people.matching import fuller_name, method_key, phone_key, same_relative
from people.models import Company, ContactMethod, FamilyMember, ImportantDate, Person, Tag
from people.services import normalise_tag, process_photo, tags_for_names
from people.stay_in_touch import people_refresh_stay_due

logger = logging.getLogger(__name__)

READ_BATCH = 1000
RUN_BATCH = 250


class ImportFileError(ValidationError):
    """The file as a whole cannot be imported; the message says why."""


# --- matching -------------------------------------------------------------------------------


def name_key(first: str, last: str) -> str:
    """Case, accents, punctuation and word order do not make two names different."""
    text = unicodedata.normalize("NFKD", f"{first} {last}".casefold())
    words = "".join(c if c.isalnum() else " " for c in text if not unicodedata.combining(c)).split()
    return " ".join(sorted(words))


SIMILAR = 0.8  # "Jon"/"John", "Katherine"/"Catherine"; "Ann"/"Anna" too, the user decides


@dataclass
class Index:
    """Who is already in the workspace, by email, phone and name: one pass over the tables."""

    emails: dict[str, int]
    phones: dict[str, int]
    names: dict[str, int]
    # Last name -> (first name, id), to catch "Jon Smith" for "John Smith".
    surnames: dict[str, list[tuple[str, int]]] = field(default_factory=dict)

    @classmethod
    def of_workspace(cls, workspace: Workspace) -> Index:
        index = cls({}, {}, {})
        methods = ContactMethod.objects.for_workspace(workspace).filter(kind__in=("email", "phone"))
        for kind, value, person_id in methods.values_list("kind", "value", "person_id").iterator(chunk_size=5000):
            if kind == "email":
                index.emails.setdefault(value.strip().lower(), person_id)
            elif key := phone_key(value):
                index.phones.setdefault(key, person_id)
        people = Person.objects.for_workspace(workspace).values_list("first_name", "last_name", "id")
        for first, last, person_id in people.iterator(chunk_size=5000):
            index.names.setdefault(name_key(first, last), person_id)
            if last:
                index.surnames.setdefault(name_key("", last), []).append((name_key(first, ""), person_id))
        return index

    def match(self, contact: Contact) -> tuple[int | None, str]:
        for email in contact.emails():
            if (found := self.emails.get(email.strip().lower())) is not None:
                return found, f"same email {email}"
        for phone in contact.phones():
            if (key := phone_key(phone)) and (found := self.phones.get(key)) is not None:
                return found, f"same phone {phone}"
        if (key := name_key(contact.first_name, contact.last_name)) and (found := self.names.get(key)) is not None:
            return found, "same name"
        first = name_key(contact.first_name, "")
        if contact.last_name and len(first) >= 3:
            for other_first, person_id in self.surnames.get(name_key("", contact.last_name), [])[:50]:
                if len(other_first) >= 3 and SequenceMatcher(None, first, other_first).ratio() >= SIMILAR:
                    return person_id, "very similar name"
        return None, ""


# --- upload and mapping ---------------------------------------------------------------------


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
        job.status = ImportJob.Status.READING
        job.moved_at = timezone.now()
        job.save()
        if background:
            _queue_read(job)
        return job
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


# --- claims and takeovers -------------------------------------------------------------------


def _claim(*, job_id: int, status: str) -> ImportJob | None:
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


def _still_mine(job: ImportJob, **progress: object) -> bool:
    """Record progress if the job is still this worker's claim; False when it was taken over."""
    mine = ImportJob.objects.filter(pk=job.pk, status=job.status, claimed_at=job.claimed_at)
    return mine.update(moved_at=timezone.now(), **progress) == 1


def import_takeover(*, now: datetime) -> int:
    """Hint again every reading or running job that stopped moving; returns the hints sent.

    A job no worker took (its message was lost) gets another message. A job whose worker
    stopped moving for ``CLAIM_TIMEOUT_SECONDS`` (killed, or stuck) is released for another
    worker, at most ``IMPORT_MAX_TAKEOVERS`` times: then it fails, with a message on its page.
    """
    from imports.tasks import read_import_task, run_import_task

    tasks = {ImportJob.Status.READING: read_import_task, ImportJob.Status.RUNNING: run_import_task}
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
        _fail(job, f"Reading this file stopped {times} without finishing; nothing was written. Try a smaller file.")
        return
    _stopped(job, reason=f"stopped {times} without finishing")


# --- reading --------------------------------------------------------------------------------


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
    job = _claim(job_id=job_id, status=ImportJob.Status.READING)
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
                    if not _still_mine(job, processed=count):
                        return
                    ImportRow.objects.bulk_create(batch)
                batch = []
        with transaction.atomic():
            if not _still_mine(job):
                return
            ImportRow.objects.bulk_create(batch)
    except (VCardFileError, CsvFileError) as exc:
        _fail(job, str(exc))
        return
    except Exception:
        # Never a job stuck in "reading": the user hears it failed, and we get the traceback.
        logger.exception("reading import %s failed", job.pk)
        _fail(job, "This file could not be read because of an error on our side; nothing was written.")
        raise
    if count == 0:
        _fail(job, "The file has no contacts in it.")
        return
    ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.READING, claimed_at=job.claimed_at).update(
        status=ImportJob.Status.READY, total=count, processed=0, claimed_at=None
    )


def _read_backup(job: ImportJob) -> None:
    backup.restore_read(job=job)


def _fail(job: ImportJob, error: str) -> None:
    ImportRow.objects.filter(job=job).delete()
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.FAILED, error=error, data=b"", processed=0, finished_at=timezone.now()
    )


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
    person_id, reason = index.match(contact)
    if person_id is not None:
        row.duplicate_of_id, row.match_reason, row.action = person_id, reason[:300], ImportRow.Action.MERGE
        return row
    earlier, reason = seen.match(contact)
    if earlier is not None:
        row.match_reason = f"{reason}, as card or line {earlier} of this file"[:300]
        row.action = ImportRow.Action.SKIP
        return row
    for email in contact.emails():
        seen.emails.setdefault(email.strip().lower(), number)
    for phone in contact.phones():
        if key := phone_key(phone):
            seen.phones.setdefault(key, number)
    seen.names.setdefault(name_key(contact.first_name, contact.last_name), number)
    return row


# --- the go-ahead ---------------------------------------------------------------------------


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


# --- running --------------------------------------------------------------------------------


def import_run(*, job_id: int) -> None:
    """Write the pending rows in batches; each batch commits with the job's counters."""
    job = _claim(job_id=job_id, status=ImportJob.Status.RUNNING)
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
        _stopped(job, reason="stopped because of an error on our side")
        raise
    counts = _outcome_counts(job)
    updated = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.RUNNING).update(
        status=ImportJob.Status.DONE, data=b"", finished_at=timezone.now(), **counts
    )
    if updated:
        # The result page lists failures and warnings; the other rows (with their photos) can go.
        ImportRow.objects.filter(job=job, error="", has_warnings=False).delete()


def _stopped(job: ImportJob, *, reason: str) -> None:
    """Fail a run part-way: what was written stays, and the page says how to finish."""
    done = _outcome_counts(job)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.FAILED,
        error=f"The import {reason}, after {done['processed']} contacts; those are imported. "
        "Import the file again: the ones already here are recognised and merged.",
        data=b"",
        finished_at=timezone.now(),
        **done,
    )


def _run_backup(job: ImportJob) -> None:
    backup.restore_run(job=job)


def _outcome_counts(job: ImportJob) -> dict[str, int]:
    from django.db.models import Count

    outcome = ImportRow.Outcome
    return ImportRow.objects.filter(job=job).aggregate(
        processed=Count("id", filter=~Q(outcome=outcome.PENDING)),
        created=Count("id", filter=Q(outcome=outcome.CREATED)),
        merged=Count("id", filter=Q(outcome=outcome.MERGED)),
        skipped=Count("id", filter=Q(outcome=outcome.SKIPPED)),
        failed=Count("id", filter=Q(outcome=outcome.FAILED)),
    )


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
                row.outcome, row.error = ImportRow.Outcome.FAILED, _message(exc)
        else:
            creates.append((row, Contact.from_json(row.contact)))
    if creates:
        create_people(workspace=job.workspace, owner=job.created_by, rows=creates)
    _save_outcomes(rows)
    ImportJob.objects.filter(pk=job.pk).update(moved_at=timezone.now(), **_outcome_counts(job))


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


def _message(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        return "; ".join(f"{field.replace('_', ' ')}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
    return " ".join(exc.messages)


# --- writing people -------------------------------------------------------------------------


def _companies(workspace: Workspace, names: Iterable[str]) -> dict[str, Company]:
    """The workspace's companies of these names by Python's lower case, created when missing.

    The database's LOWER() and Python's lower() disagree on some letters (SQLite lowers ASCII
    only), so results are keyed here, in Python, and a name the database sees as taken under
    another case simply comes back without a company rather than failing the batch.
    """
    wanted = {n.lower(): n for n in names if n}
    if not wanted:
        return {}
    companies = Company.objects.for_workspace(workspace)

    def fetch() -> dict[str, Company]:
        by_lower = companies.annotate(key=Lower("name")).filter(key__in=[n.lower() for n in wanted.values()])
        exact = companies.filter(name__in=list(wanted.values()))
        return {c.name.lower(): c for c in [*by_lower, *exact]}

    found = fetch()
    missing = [Company(workspace=workspace, name=wanted[k]) for k in wanted.keys() - found.keys()]
    if missing:
        Company.objects.bulk_create(missing, ignore_conflicts=True)
        found = fetch()
    return found


def _store_phone(value: str) -> str:
    key = phone_key(value)
    return key if key.startswith("+") else value


def _notes(contact: Contact) -> str:
    return "\n\n".join(contact.notes)[:20000]


def _set_dates(person: Person, contact: Contact, *, only_empty: bool) -> None:
    for prefix in ("birthday", "anniversary"):
        value = as_partial_date(getattr(contact, prefix))
        if value is None or (only_empty and getattr(person, f"{prefix}_month")):
            continue
        setattr(person, f"{prefix}_day", value.day)
        setattr(person, f"{prefix}_month", value.month)
        setattr(person, f"{prefix}_year", value.year)


def create_people(*, workspace: Workspace, owner: User | None, rows: list[tuple[ImportRow, Contact]]) -> None:
    """Create one person per row with everything read, in few queries (bulk inserts)."""
    companies = _companies(workspace, (c.company for _, c in rows))
    valid: list[tuple[ImportRow, Contact, Person]] = []
    for row, contact in rows:
        person = Person(
            workspace=workspace,
            owner=owner,
            first_name=contact.first_name,
            last_name=contact.last_name,
            nickname=contact.nickname,
            company=companies.get(contact.company.lower()) if contact.company else None,
            job_title=contact.job_title,
            notes=_notes(contact),
        )
        _set_dates(person, contact, only_empty=False)
        try:
            person.full_clean(exclude=["photo", "company", "owner", "workspace"], validate_constraints=False)
        except ValidationError as exc:
            row.outcome, row.error = ImportRow.Outcome.FAILED, _message(exc)
            continue
        valid.append((row, contact, person))
    Person.objects.bulk_create([p for _, _, p in valid])
    methods, dates, family, tag_links = [], [], [], []
    tags = {kind: _tags_of(workspace, [c for _, c, _ in valid], kind=kind) for kind in Tag.Kind.values}
    for row, contact, person in valid:
        row.person, row.outcome = person, ImportRow.Outcome.CREATED
        methods += _methods(person, contact, existing=[])
        dates += _dates(person, contact, existing=set())
        family += _family(person, contact, existing=[])
        tag_links += [
            Person.tags.through(person_id=person.pk, tag_id=tags[kind][n].pk)
            for kind in Tag.Kind.values
            for n in {normalise_tag(t) for t in _names(contact, kind)}
            if n in tags[kind]
        ]
        if contact.photo:
            _save_photo(person, contact)
            row.has_warnings = bool(contact.warnings)  # the photo may have been left out
    ContactMethod.objects.bulk_create(methods)
    ImportantDate.objects.bulk_create(dates)
    FamilyMember.objects.bulk_create(family)
    Person.tags.through.objects.bulk_create(tag_links, ignore_conflicts=True)
    people_refresh_stay_due(Person.objects.filter(pk__in=[p.pk for _, _, p in valid]))


def _names(contact: Contact, kind: str) -> list[str]:
    """A card's categories are tags; its INTEREST/HOBBY lines are interests."""
    return contact.interests if kind == Tag.Kind.INTEREST else contact.tags


def _tags_of(workspace: Workspace, contacts: list[Contact], *, kind: str) -> dict[str, Tag]:
    names = {normalise_tag(n) for c in contacts for n in _names(c, kind)} - {""}
    return {t.name: t for t in tags_for_names(workspace, names, kind=kind)} if names else {}


def _methods(person: Person, contact: Contact, *, existing: list[ContactMethod]) -> list[ContactMethod]:
    have = {method_key(m.kind, m.value) for m in existing}
    have_primary = {m.kind for m in existing if m.is_primary}
    out = []
    for kind, label, value, primary in contact.methods:
        value = _store_phone(value) if kind == "phone" else value
        if method_key(kind, value) in have or kind not in ContactMethod.Kind.values:
            continue
        have.add(method_key(kind, value))
        is_primary = kind not in have_primary and (primary or not any(m[0] == kind and m[3] for m in contact.methods))
        if is_primary:
            have_primary.add(kind)
        out.append(
            ContactMethod(
                workspace_id=person.workspace_id,
                person=person,
                kind=kind,
                label=label[:50],
                value=value[:500],
                is_primary=is_primary,
            )
        )
    return out


def _dates(person: Person, contact: Contact, *, existing: set[tuple[str, int, int]]) -> list[ImportantDate]:
    out = []
    for label, day, month, year in contact.dates:
        if (label.lower(), day, month) in existing:
            continue
        out.append(
            ImportantDate(
                workspace_id=person.workspace_id,
                person=person,
                label=label[:100],
                date_day=day,
                date_month=month,
                date_year=year,
            )
        )
    return out


def _family(person: Person, contact: Contact, *, existing: list[FamilyMember]) -> list[FamilyMember]:
    """The card's relatives the record lacks. One it already has (spouse "Chidi" for the card's
    "Chidi Okafor") is kept once, under the fuller name."""
    out: list[FamilyMember] = []
    for relation, name in contact.family:
        known = next((f for f in [*existing, *out] if same_relative(f.relation, f.name, relation, name)), None)
        if known is None:
            out.append(
                FamilyMember(workspace_id=person.workspace_id, person=person, relation=relation, name=name[:200])
            )
        elif (fuller := fuller_name(known.name, name[:200])) != known.name:
            known.name = fuller
            if known.pk:
                FamilyMember.objects.filter(pk=known.pk).update(name=fuller)
    return out


def _save_photo(person: Person, contact: Contact) -> None:
    try:
        image = process_photo(ContentFile(base64.b64decode(contact.photo), name="photo"))
    except (ValidationError, ValueError):
        contact.warnings.append("The photo is not an image we can read; left out.")
        return
    # Stored before the batch commits; if the batch rolls back, the file is an unreferenced
    # leftover (rare, harmless), never a person pointing at a missing file.
    person.photo.save("photo.jpg", image, save=False)
    Person.objects.filter(pk=person.pk).update(photo=person.photo.name)


def merge_contact(*, person: Person, contact: Contact) -> Person:
    """Add what a card knows and the person's record lacks; never overwrite, never repeat."""
    # A fresh, locked copy: an earlier card of the same batch may have just merged into them.
    person = Person.objects.select_for_update().select_related("workspace").get(pk=person.pk)
    changed = []
    for field_name in ("nickname", "job_title"):
        if not getattr(person, field_name) and getattr(contact, field_name):
            setattr(person, field_name, getattr(contact, field_name))
            changed.append(field_name)
    if person.company_id is None and contact.company:
        person.company = _companies(person.workspace, [contact.company]).get(contact.company.lower())
        changed.append("company")
    before = (person.birthday_month, person.anniversary_month)
    _set_dates(person, contact, only_empty=True)
    if (person.birthday_month, person.anniversary_month) != before:
        changed += [f"{p}_{part}" for p in ("birthday", "anniversary") for part in ("day", "month", "year")]
    new_notes = [n for n in contact.notes if n.strip() and n.strip() not in person.notes]
    if new_notes:
        person.notes = "\n\n".join([person.notes, *new_notes]).strip()[:20000]
        changed.append("notes")
    if changed:
        person.full_clean(exclude=["photo", "company", "owner", "workspace"], validate_constraints=False)
        person.save(update_fields=[*set(changed), "updated_at"])
    existing_methods = list(person.contact_methods.all())
    ContactMethod.objects.bulk_create(_methods(person, contact, existing=existing_methods))
    have_dates = {(d.label.lower(), d.date_day, d.date_month) for d in person.important_dates.all()}
    ImportantDate.objects.bulk_create(_dates(person, contact, existing=have_dates))
    FamilyMember.objects.bulk_create(_family(person, contact, existing=list(person.family.all())))
    if contact.tags or contact.interests:
        for kind in Tag.Kind.values:
            if names := _names(contact, kind):
                person.tags.add(*tags_for_names(person.workspace, names, kind=kind))
        people_refresh_stay_due(Person.objects.filter(pk=person.pk))
    if contact.photo and not person.photo:
        _save_photo(person, contact)
    return person
