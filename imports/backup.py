"""Restoring a workspace backup (``exports.backup``) into an empty workspace, as an import job.

The file is untrusted: every value goes through its model field's own validation, every id is
mapped to a row created here (never to an existing row of any workspace), and users are found
by email among this workspace's members only.

The same limits as any import apply (``IMPORT_MAX_CONTACTS`` people, and what the ZIP unpacks
to), said at upload before anything is stored. Reading (``restore_read``) then checks every row
as it will be written, so a bad row fails the job with nothing written. Writing
(``restore_run``) goes in chunks, each its own short transaction (a 60,000-person restore in
one transaction held the database for 39 seconds; on SQLite that stops every other writer),
so the job's ``processed`` moves like an import's. Each chunk commits with a record of the ids
it created (an ``ImportRow`` named after the model), which is both how a redelivered task
resumes without creating anything twice and how a failure deletes everything this restore
wrote: the workspace ends restored or as empty as it was, never half-restored.
"""

from __future__ import annotations

import io
import itertools
import json
import logging
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any, TypeVar

import ijson
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import DataError, IntegrityError, models, transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from crm.audit import Action, audit_record, people_count
from crm.models import Membership, User, Workspace, WorkspaceScoped
from exports.backup import FORMAT, MODELS, is_user_field, label, m2m_fields, row_fields, through_model
from imports.models import ImportJob, ImportRow
from interactions.models import Interaction
from people.models import Company, FamilyMember, ImportantDate, Person, Pet, Tag
from people.services import process_photo
from people.stay_in_touch import people_refresh_stay_due
from reminders.models import DismissedDate

M = TypeVar("M", bound=models.Model)

logger = logging.getLogger(__name__)

# A ZIP may unpack to this many times the upload limit (200 MB by default): JSON compresses
# about twelvefold, so a 10,000-person workspace's backup (7 MB zipped) unpacks to about 80 MB,
# while a zip bomb unpacks to a thousand times its size.
MAX_UNPACKED = 10
CHUNK = 1000  # rows per transaction while writing: short enough to let other writers in
PEOPLE = label(Person)


class BackupError(ValidationError):
    pass


def is_backup(data: bytes) -> bool:
    return data[:4] == b"PK\x03\x04" or (data.lstrip()[:1] == b"{" and FORMAT.encode() in data[:500])


ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    OSError,
    EOFError,
    RuntimeError,
    NotImplementedError,
    ValueError,
)


# --- reading the file, within the limits ------------------------------------------------------


class _Unpacked:
    """Every byte read out of the ZIP counted against one budget: the sizes in a ZIP's headers
    are the file's own word, so they are checked before reading and the real bytes as they come."""

    def __init__(self, archive: zipfile.ZipFile, *, max_bytes: int) -> None:
        self.archive = archive
        self.limit = max_bytes * MAX_UNPACKED
        if sum(i.file_size for i in archive.infolist()) > self.limit:
            raise self.too_big()
        self.left = self.limit

    def too_big(self) -> BackupError:
        return BackupError(
            f"This ZIP unpacks to far more than the import limit ({filesizeformat(self.limit)} unpacked)."
        )

    def take(self, size: int) -> None:
        self.left -= size
        if self.left < 0:
            raise self.too_big()

    def open(self, name: str) -> _Counted:
        return _Counted(self.archive.open(name), self)

    def read(self, name: str) -> bytes:
        with self.open(name) as entry:
            return entry.read()


class _Counted(io.RawIOBase):
    def __init__(self, entry: IO[bytes], budget: _Unpacked) -> None:
        self.entry, self.budget = entry, budget

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.entry.read(min(len(buffer), 1 << 16))
        self.budget.take(len(data))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self.entry.close()
        super().close()


@contextmanager
def _document(data: bytes, *, max_bytes: int) -> Iterator[IO[bytes]]:
    """The backup's JSON as a stream, whether uploaded bare or as workspace.json in a ZIP."""
    if data[:4] != b"PK\x03\x04":
        yield io.BytesIO(data)
        return
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entry = _Unpacked(archive, max_bytes=max_bytes).open("workspace.json")
    except KeyError as exc:
        raise BackupError("This ZIP is not a Rapport backup: it has no workspace.json.") from exc
    except ZIP_ERRORS as exc:
        raise BackupError("This ZIP file is damaged or encrypted and cannot be read.") from exc
    with archive, entry:
        yield io.BufferedReader(entry)


def _check_people(count: int) -> None:
    limit = settings.IMPORT_MAX_CONTACTS
    if count > limit:
        raise BackupError(
            f"This backup holds {count:,} {'person' if count == 1 else 'people'}; a restore takes at most {limit:,}."
        )


# ijson's events that begin a value (a list item's keys come as "map_key" at the item's prefix)
VALUE_STARTS = {"start_map", "start_array", "string", "number", "boolean", "null"}


def peek(data: bytes, *, max_bytes: int) -> None:
    """A look at upload time: is this a backup, and within the limits? Streamed up to the end of
    its people (exports write them first), so even a big backup is checked in a moment."""
    if data[:4] != b"PK\x03\x04" and FORMAT.encode() not in data[:500]:
        raise BackupError("This is not a Rapport workspace backup.")
    seen_format, people = False, 0
    try:
        with _document(data, max_bytes=max_bytes) as stream:
            for prefix, event, value in ijson.parse(stream):
                if prefix == "format":
                    seen_format = value == FORMAT
                elif prefix == "version" and value != 1:
                    raise BackupError("This backup comes from a newer version of Rapport.")
                elif prefix == f"models.{PEOPLE}.item" and event in VALUE_STARTS:
                    people += 1
                elif prefix == f"models.{PEOPLE}" and event == "end_array":
                    break
    except ijson.JSONError as exc:
        raise BackupError("The backup's JSON cannot be read.") from exc
    except ZIP_ERRORS as exc:
        raise BackupError("This ZIP file is damaged or encrypted and cannot be read.") from exc
    if not seen_format:
        raise BackupError("This is not a Rapport workspace backup.")
    _check_people(people)


def load(data: bytes, *, max_bytes: int) -> dict[str, Any]:
    """The backup's JSON document (photos stay in the ZIP until a person needs one)."""
    with _document(data, max_bytes=max_bytes) as stream:
        try:
            text = stream.read()
        except ZIP_ERRORS as exc:
            raise BackupError("This ZIP file is damaged or encrypted and cannot be read.") from exc
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise BackupError("The backup's JSON cannot be read.") from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or not isinstance(doc.get("models"), dict):
        raise BackupError("This is not a Rapport workspace backup.")
    if doc.get("version") != 1:
        raise BackupError("This backup comes from a newer version of Rapport.")
    for model in MODELS:
        if not isinstance(doc["models"].get(label(model), []), list):
            raise BackupError(f"The backup's {label(model)} is not a list.")
    _check_people(len(doc["models"].get(PEOPLE, [])))
    return doc


class _Photos:
    """Photos read from the ZIP on demand, each at most once (one file, one person)."""

    def __init__(self, data: bytes, *, max_bytes: int) -> None:
        self.archive = (
            _Unpacked(zipfile.ZipFile(io.BytesIO(data)), max_bytes=max_bytes) if data[:4] == b"PK\x03\x04" else None
        )
        self.used: set[str] = set()

    def take(self, name: object) -> bytes | None:
        if self.archive is None or not isinstance(name, str) or not name or name in self.used:
            return None
        self.used.add(name)
        try:
            return self.archive.read(f"photos/{name}")
        except (KeyError, *ZIP_ERRORS):
            return None


def counts(doc: dict[str, Any]) -> list[list[Any]]:
    """Rows per model, for the preview."""
    out = []
    for model in MODELS:
        rows = doc["models"].get(label(model), [])
        if rows:
            out.append([str(model._meta.verbose_name_plural), len(rows)])
    return out


def check_empty(workspace: Workspace) -> None:
    for model in (Person, Company, Tag, Interaction):
        if model.objects.for_workspace(workspace).exists():
            raise BackupError(
                "A backup can only be restored into an empty workspace. Create a new workspace "
                "(menu → New workspace…) and restore it there."
            )


# --- building rows ----------------------------------------------------------------------------

IdMaps = dict[str, dict[Any, int]]


def _objects(
    doc: dict[str, Any],
    model: type[WorkspaceScoped],
    *,
    workspace: Workspace,
    user: User,
    members: dict[str, int],
    id_maps: IdMaps,
    photos: _Photos | None,
) -> Iterator[tuple[dict[str, Any], WorkspaceScoped]]:
    """The model's rows as unsaved objects, checked; rows already in ``id_maps`` are skipped."""
    fields = row_fields(model)
    done = id_maps.get(label(model), {})
    for number, row in enumerate(doc["models"].get(label(model), []), start=1):
        if not isinstance(row, dict) or not isinstance(row.get("id"), int):
            raise BackupError(f"Row {number} of {label(model)} is not an object with an id.")
        if row["id"] in done:
            continue
        if model is DismissedDate:
            row = {**row, "key": _remap_key(row.get("key"), id_maps)}
            if not row["key"]:
                continue  # a dismissal of something not in the backup
        try:
            obj = _build(model, fields, row, workspace=workspace, user=user, members=members, id_maps=id_maps)
        except ValidationError as exc:
            raise BackupError(f"Row {number} of {label(model)}: {' '.join(exc.messages)}") from exc
        if photos is not None and isinstance(obj, Person) and (photo := photos.take(row.get("photo"))):
            _restore_photo(obj, photo)
        yield row, obj


def _members(workspace: Workspace) -> dict[str, int]:
    return dict(Membership.objects.for_workspace(workspace).values_list("user__email", "user_id"))


def check_rows(doc: dict[str, Any], *, workspace: Workspace, user: User) -> int:
    """Every row checked as the restore will build it, nothing written; how many rows it writes."""
    members, total = _members(workspace), 0
    id_maps: dict[str, dict[Any, int]] = {}
    for model in MODELS:
        ids: dict[Any, int] = {}
        for row, _obj in _objects(
            doc, model, workspace=workspace, user=user, members=members, id_maps=id_maps, photos=None
        ):
            if row["id"] in ids:
                raise BackupError(f"Two rows of {label(model)} have the id {row['id']}.")
            ids[row["id"]] = row["id"]  # stands in for the new id: only "is it in the backup" matters here
        id_maps[label(model)] = ids
        total += len(ids)
    return total


# --- the job ----------------------------------------------------------------------------------


def _fail(job: ImportJob, message: str) -> None:
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.FAILED, error=message, data=b"", processed=0, finished_at=timezone.now()
    )


def restore_read(*, job: ImportJob) -> None:
    """Read and check the whole backup; the preview shows its counts, or the job says what is wrong."""
    try:
        doc = load(bytes(job.data), max_bytes=settings.IMPORT_MAX_BYTES)
        # created_by is None only when its user was deleted meanwhile: the restore then fails.
        total = check_rows(doc, workspace=job.workspace, user=job.created_by)  # type: ignore[arg-type]
    except ValidationError as exc:
        _fail(job, " ".join(exc.messages))
        return
    except Exception:
        # Never a job stuck in "reading": the user hears it failed, and we get the traceback.
        logger.exception("reading backup %s failed", job.pk)
        _fail(job, "This backup could not be read because of an error on our side; nothing was written.")
        raise
    # Only while the claim is this worker's: a reader the job was taken from changes nothing.
    ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.READING, claimed_at=job.claimed_at).update(
        status=ImportJob.Status.READY, header=counts(doc), total=total, processed=0, claimed_at=None
    )


class _Superseded(Exception):
    """Another worker (a redelivered task) has written this job's next chunk."""


def restore_run(*, job: ImportJob) -> None:
    """Write the backup in chunks, resuming after what earlier runs of this job committed.

    On any failure everything this job wrote is deleted again, so the workspace is left as
    empty as it was and the job says why.
    """
    data = bytes(ImportJob.objects.only("data").get(pk=job.pk).data)
    try:
        _restore(job, data)
    except _Superseded:
        return
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
        restore_undo(job=job)
        _fail(job, message)  # the job page adds "Nothing was written."
    except Exception:
        logger.exception("restoring backup %s failed", job.pk)
        restore_undo(job=job)
        _fail(job, "The backup could not be restored because of an error on our side.")
        raise


def _restore(job: ImportJob, data: bytes) -> None:
    workspace, user = job.workspace, job.created_by
    doc = load(data, max_bytes=settings.IMPORT_MAX_BYTES)
    members, photos = _members(workspace), _Photos(data, max_bytes=settings.IMPORT_MAX_BYTES)
    chunks = ImportRow.objects.filter(job=job)
    id_maps: IdMaps = {}
    written = 0
    for name, record in chunks.order_by("number").values_list("name", "contact"):
        id_maps.setdefault(name, {}).update((old, new) for old, new in record["ids"])
        written += len(record["ids"])
    seq = chunks.count()
    # While the claim is this worker's: one the job was taken from (stalled) stops at its next chunk.
    running = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.RUNNING, claimed_at=job.claimed_at)
    for model in MODELS:
        # user (created_by) is None only when deleted meanwhile: the restore then fails (see restore_run).
        rows = _objects(doc, model, workspace=workspace, user=user, members=members, id_maps=id_maps, photos=photos)  # type: ignore[arg-type]
        while batch := list(itertools.islice(rows, CHUNK)):
            with transaction.atomic():
                # The job row is the lock, and the chunk count the claim: a redelivered task
                # waits here, then sees the other run has moved on and leaves it alone.
                if not running.select_for_update().exists() or chunks.count() != seq:
                    raise _Superseded
                if seq == 0:
                    Workspace.objects.select_for_update().get(pk=workspace.pk)  # one restore at a time
                    check_empty(workspace)
                created = model.objects.bulk_create([obj for _, obj in batch])
                pairs = [(row["id"], obj.pk) for (row, _), obj in zip(batch, created, strict=True)]
                id_maps.setdefault(label(model), {}).update(pairs)
                for field in m2m_fields(model):
                    _restore_links(model, field, [row for row, _ in batch], id_maps)
                seq += 1
                written += len(pairs)
                ImportRow.objects.create(
                    workspace=workspace,
                    job=job,
                    number=seq,
                    name=label(model),
                    contact={"ids": pairs},
                    outcome=ImportRow.Outcome.CREATED,
                )
                running.update(processed=written, moved_at=timezone.now())  # progress, and a sign of life
    with transaction.atomic():
        people_refresh_stay_due(Person.objects.for_workspace(workspace))
        audit_record(
            action=Action.BACKUP_RESTORED,
            actor=user,
            workspace=workspace,
            summary=f"Restored a backup: {people_count(len(id_maps.get(PEOPLE, {})))}",
            details={"people": len(id_maps.get(PEOPLE, {})), "rows": written},
        )
        running.update(
            status=ImportJob.Status.DONE,
            created=len(id_maps.get(PEOPLE, {})),
            processed=written,
            data=b"",
            finished_at=timezone.now(),
        )
        chunks.delete()


@transaction.atomic
def restore_undo(*, job: ImportJob) -> None:
    """Delete every row this restore job wrote (its chunk records name them), last model first."""
    chunks = ImportRow.objects.filter(job=job)
    written: dict[str, list[int]] = {}
    for name, record in chunks.values_list("name", "contact"):
        written.setdefault(name, []).extend(new for _, new in record.get("ids", []))
    for model in reversed(MODELS):
        ids = written.get(label(model), [])
        for start in range(0, len(ids), CHUNK):
            model.objects.for_workspace(job.workspace).filter(pk__in=ids[start : start + CHUNK]).delete()
    chunks.delete()


def _build(
    model: type[M],
    fields: list[models.Field],
    row: dict[str, Any],
    *,
    workspace: Workspace,
    user: User,
    members: dict[str, int],
    id_maps: dict[str, dict[Any, int]],
) -> M:
    values: dict[str, Any] = {}
    for field in fields:
        if field.name not in row or isinstance(field, models.FileField):
            continue
        value = row[field.name]
        if is_user_field(field):
            # Authors who are not members here become the person restoring; owners become nobody.
            values[field.attname] = members.get(value) if isinstance(value, str) else None
            if values[field.attname] is None and not field.null:
                values[field.attname] = user.pk
        elif field.is_relation:
            related = field.related_model  # a model class once the apps are loaded
            target = id_maps.get(label(related), {}) if isinstance(related, type) else {}
            mapped = target.get(value) if value is not None and not isinstance(value, (list, dict)) else None
            if mapped is None and not field.null:
                raise ValidationError(f"{field.name} points at a row that is not in the backup.")
            values[field.attname] = mapped
        else:
            if value is None and not field.null:
                continue  # the field's default applies
            try:
                values[field.attname] = field.to_python(value)
            except (TypeError, ValueError, OverflowError) as exc:
                raise ValidationError(f"{field.name} has a value of the wrong kind.") from exc
    obj = model(workspace=workspace, **values)
    # Relations are mapped above, and the workspace is this one: checking them again would cost
    # a query per row (that made a 60,000-person restore take 39 seconds).
    relations = ["workspace", *(f.name for f in fields if f.is_relation or isinstance(f, models.FileField))]
    # Every value as a form would check it, and the model's own rules (no 31 February).
    obj.full_clean(exclude=relations, validate_unique=False, validate_constraints=False)
    return obj


# Dismissed dates name what they dismiss by id ("person:12:birthday"): ids are new here.
KEY_MODELS = {"person": Person, "family": FamilyMember, "pet": Pet, "date": ImportantDate}


def _remap_key(key: object, id_maps: dict[str, dict[Any, int]]) -> str:
    if not isinstance(key, str):
        return ""
    kind, _, rest = key.partition(":")
    old, _, tail = rest.partition(":")
    model = KEY_MODELS.get(kind)
    if model is None or not old.isascii() or not old.isdigit():
        return ""
    new = id_maps.get(label(model), {}).get(int(old))
    return f"{kind}:{new}" + (f":{tail}" if tail else "") if new else ""


def _restore_photo(person: Person, data: bytes) -> None:
    try:
        image = process_photo(ContentFile(data, name="photo"))
    except (ValidationError, ValueError):
        return  # a photo that is not an image is left out; the person is restored
    person.photo.save("photo.jpg", image, save=False)


def _restore_links(
    model: type[models.Model], field: models.ManyToManyField, rows: list[Any], id_maps: dict[str, dict[Any, int]]
) -> None:
    through = through_model(field)
    source, target = field.m2m_field_name(), field.m2m_reverse_field_name()
    own, other = id_maps[label(model)], id_maps.get(label(field.related_model), {})
    links = []
    for row in rows:
        values = row.get(field.name, []) if isinstance(row, dict) else []
        if not isinstance(values, list) or row.get("id") not in own:
            continue
        for value in values:
            if isinstance(value, int) and value in other:
                links.append(through(**{f"{source}_id": own[row["id"]], f"{target}_id": other[value]}))
    through._default_manager.bulk_create(links, batch_size=2000, ignore_conflicts=True)
