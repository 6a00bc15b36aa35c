"""Importing address books: upload, read (with duplicate detection), then write, in the background.

1. ``import_upload`` checks the file and stores it on a job (CSV files stop for the column mapping).
2. ``import_read`` (a task) reads every card or row into ``ImportRow``s, each with the existing
   person it may duplicate and a default action (merge when it matches, else create).
3. The user looks at the preview and may change actions; ``import_start`` queues the run.
4. ``import_run`` (a task) writes rows in batches, each batch in one transaction, and counts.

Every step is safe to repeat: reading starts over from nothing, and running only touches rows
still pending, so a worker killed half-way resumes without doing any row twice. Merging adds
only what the person does not have yet, so importing the same file again creates nobody.
"""

from __future__ import annotations

import base64
import functools
import logging
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from difflib import SequenceMatcher

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import DataError, IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Lower
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from crm import permissions
from crm.models import User, Workspace
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
from imports.models import ImportJob, ImportRow
from imports.vcard import VCardFileError, read_vcards
from people.models import Company, ContactMethod, FamilyMember, ImportantDate, Person, Tag
from people.services import normalise_tag, people_refresh_stay_due, process_photo, tags_for_names

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


@functools.lru_cache(maxsize=65536)
def phone_key(value: str) -> str:
    """The number in E.164 when it parses, else its digits; short numbers never match."""
    try:
        number = phonenumbers.parse(value, settings.PHONE_DEFAULT_REGION)
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    except phonenumbers.NumberParseException:
        pass
    digits = "".join(c for c in value if c.isdigit())
    return digits if len(digits) >= 6 else ""


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
    job.mapping = mapping
    job.status = ImportJob.Status.READING
    job.save(update_fields=["mapping", "status"])
    if background:
        _queue_read(job)


def _queue_read(job: ImportJob) -> None:
    from imports.tasks import read_import_task

    read_import_task.delay_on_commit(job.pk)


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
    job = ImportJob.objects.get(pk=job_id)
    if job.status != ImportJob.Status.READING:
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
                ImportRow.objects.bulk_create(batch)
                batch = []
                ImportJob.objects.filter(pk=job.pk).update(processed=count)
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
    ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.READING).update(
        status=ImportJob.Status.READY, total=count, processed=0
    )


def _read_backup(job: ImportJob) -> None:
    try:
        doc = backup.load(bytes(job.data), max_bytes=settings.IMPORT_MAX_BYTES)
    except ValidationError as exc:
        _fail(job, " ".join(exc.messages))
        return
    ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.READING).update(
        status=ImportJob.Status.READY, header=backup.counts(doc), total=1, processed=0
    )


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
        raise ValidationError("This import has already started.")
    valid = set(ImportRow.Action.values)
    if default_action not in valid or not set(actions.values()) <= valid:
        raise ValidationError("Choose skip, merge or create for each possible duplicate.")
    duplicates = ImportRow.objects.filter(job=job, error="", duplicate_of__isnull=False)
    duplicates.update(action=default_action)
    for action in valid:
        ids = [row_id for row_id, chosen in actions.items() if chosen == action]
        if ids:
            duplicates.filter(pk__in=ids).update(action=action)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING, processed=0)
    if background:
        run_import_task.delay_on_commit(job.pk)


def import_cancel(*, job: ImportJob) -> bool:
    """Cancel an import that has not started writing; False when it is past that point."""
    updated = ImportJob.objects.filter(pk=job.pk, status__in=(ImportJob.Status.MAPPING, ImportJob.Status.READY)).update(
        status=ImportJob.Status.CANCELLED, data=b"", finished_at=timezone.now()
    )
    if updated:
        ImportRow.objects.filter(job=job).delete()
    return bool(updated)


# --- running --------------------------------------------------------------------------------


def import_run(*, job_id: int) -> None:
    """Write the pending rows in batches; each batch commits with the job's counters."""
    job = ImportJob.objects.select_related("workspace", "created_by").get(pk=job_id)
    if job.status != ImportJob.Status.RUNNING:
        return
    if job.kind == ImportJob.Kind.BACKUP:
        _run_backup(job)
        return
    pending = ImportRow.objects.filter(job=job, outcome=ImportRow.Outcome.PENDING).order_by("number")
    try:
        while True:
            with transaction.atomic():
                # The job row is the lock: a redelivered task waits here, then finds no pending rows.
                if not ImportJob.objects.select_for_update().filter(pk=job.pk, status=job.status).exists():
                    return
                rows = list(pending.select_related("duplicate_of")[:RUN_BATCH])
                if not rows:
                    break
                _run_batch(job, rows)
    except Exception:
        logger.exception("import %s stopped", job.pk)
        done = _outcome_counts(job)
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.FAILED,
            error=f"The import stopped after {done['processed']} contacts because of an error on our side; "
            "those are imported. Import the file again: the ones already here are recognised and merged.",
            data=b"",
            finished_at=timezone.now(),
            **done,
        )
        raise
    counts = _outcome_counts(job)
    updated = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.RUNNING).update(
        status=ImportJob.Status.DONE, data=b"", finished_at=timezone.now(), **counts
    )
    if updated:
        # The result page lists failures and warnings; the other rows (with their photos) can go.
        ImportRow.objects.filter(job=job, error="", has_warnings=False).delete()


def _run_backup(job: ImportJob) -> None:
    data = bytes(ImportJob.objects.only("data").get(pk=job.pk).data)
    try:
        people = backup.workspace_restore(
            workspace=job.workspace, user=job.created_by, data=data, max_bytes=settings.IMPORT_MAX_BYTES
        )
    except (ValidationError, IntegrityError, DataError, OSError) as exc:
        if isinstance(exc, OSError):
            logger.exception("restoring backup %s failed", job.pk)
        message = (
            " ".join(exc.messages)
            if isinstance(exc, ValidationError)
            else "The backup contradicts itself (two rows that must be unique, or a value too large)."
            if not isinstance(exc, OSError)
            else "The backup could not be restored because of an error on our side."
        )
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.FAILED,
            error=f"{message} Nothing was restored.",
            data=b"",
            finished_at=timezone.now(),
        )
        return
    ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.RUNNING).update(
        status=ImportJob.Status.DONE, created=people, processed=1, data=b"", finished_at=timezone.now()
    )


def _outcome_counts(job: ImportJob) -> dict[str, int]:
    from django.db.models import Count, Q

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
    ImportJob.objects.filter(pk=job.pk).update(**_outcome_counts(job))


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
    tag_names = {normalise_tag(t) for _, c, _ in valid for t in c.tags} - {""}
    tags = {t.name: t for t in tags_for_names(workspace, tag_names)} if tag_names else {}
    for row, contact, person in valid:
        row.person, row.outcome = person, ImportRow.Outcome.CREATED
        methods += _methods(person, contact, existing=[])
        dates += _dates(person, contact, existing=set())
        family += _family(person, contact, existing=set())
        tag_links += [
            Person.tags.through(person_id=person.pk, tag_id=tags[n].pk)
            for n in {normalise_tag(t) for t in contact.tags}
            if n in tags
        ]
        if contact.photo:
            _save_photo(person, contact)
            row.has_warnings = bool(contact.warnings)  # the photo may have been left out
    ContactMethod.objects.bulk_create(methods)
    ImportantDate.objects.bulk_create(dates)
    FamilyMember.objects.bulk_create(family)
    Person.tags.through.objects.bulk_create(tag_links, ignore_conflicts=True)
    people_refresh_stay_due(Person.objects.filter(pk__in=[p.pk for _, _, p in valid]))


def _methods(person: Person, contact: Contact, *, existing: list[ContactMethod]) -> list[ContactMethod]:
    have = {(m.kind, m.value.strip().lower()) for m in existing}
    have_primary = {m.kind for m in existing if m.is_primary}
    out = []
    for kind, label, value, primary in contact.methods:
        value = _store_phone(value) if kind == "phone" else value
        if (kind, value.strip().lower()) in have or kind not in ContactMethod.Kind.values:
            continue
        have.add((kind, value.strip().lower()))
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


def _family(person: Person, contact: Contact, *, existing: set[tuple[str, str]]) -> list[FamilyMember]:
    return [
        FamilyMember(workspace_id=person.workspace_id, person=person, relation=relation, name=name[:200])
        for relation, name in contact.family
        if (relation, name.lower()) not in existing
    ]


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
    have_family = {(f.relation, f.name.lower()) for f in person.family.all()}
    FamilyMember.objects.bulk_create(_family(person, contact, existing=have_family))
    if contact.tags:
        person.tags.add(*tags_for_names(person.workspace, contact.tags, kind=Tag.Kind.LABEL))
        people_refresh_stay_due(Person.objects.filter(pk=person.pk))
    if contact.photo and not person.photo:
        _save_photo(person, contact)
    return person
