"""Restoring a workspace backup (``exports.backup``) into an empty workspace, all or nothing.

The file is untrusted: every value goes through its model field's own validation, every id is
mapped to a row created here (never to an existing row of any workspace), and users are found
by email among this workspace's members only.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import models, transaction

from crm.models import Membership, User, Workspace
from exports.backup import FORMAT, MODELS, is_user_field, label, m2m_fields, row_fields
from interactions.models import Interaction
from people.models import Company, FamilyMember, ImportantDate, Person, Pet, Tag
from people.services import people_refresh_stay_due, process_photo
from reminders.models import DismissedDate

MAX_UNPACKED = 10  # times the upload limit: a ZIP that unpacks to more is refused (zip bomb)


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


def peek(data: bytes, *, max_bytes: int) -> None:
    """A quick look at upload time (the full read happens in the background): is this a backup?"""
    if data[:4] != b"PK\x03\x04":
        if FORMAT.encode() not in data[:500]:
            raise BackupError("This is not a Rapport workspace backup.")
        return
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            _check_sizes(archive, max_bytes)
            with archive.open("workspace.json") as entry:
                start = entry.read(500)
    except KeyError as exc:
        raise BackupError("This ZIP is not a Rapport backup: it has no workspace.json.") from exc
    except ZIP_ERRORS as exc:
        raise BackupError("This ZIP file is damaged or encrypted and cannot be read.") from exc
    if FORMAT.encode() not in start:
        raise BackupError("This is not a Rapport workspace backup.")


def _check_sizes(archive: zipfile.ZipFile, max_bytes: int) -> None:
    if sum(i.file_size for i in archive.infolist()) > max_bytes * MAX_UNPACKED:
        raise BackupError("This ZIP unpacks to far more than the import limit.")


def load(data: bytes, *, max_bytes: int) -> dict[str, Any]:
    """The backup's JSON document (photos stay in the ZIP until a person needs one)."""
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                _check_sizes(archive, max_bytes)
                text = archive.read("workspace.json")
        except KeyError as exc:
            raise BackupError("This ZIP is not a Rapport backup: it has no workspace.json.") from exc
        except ZIP_ERRORS as exc:
            raise BackupError("This ZIP file is damaged or encrypted and cannot be read.") from exc
    else:
        text = data
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise BackupError("The backup's JSON cannot be read.") from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or not isinstance(doc.get("models"), dict):
        raise BackupError("This is not a Rapport workspace backup.")
    if doc.get("version") != 1:
        raise BackupError("This backup comes from a newer version of Rapport.")
    return doc


class _Photos:
    """Photos read from the ZIP on demand, each at most once (one file, one person)."""

    def __init__(self, data: bytes) -> None:
        self.archive = zipfile.ZipFile(io.BytesIO(data)) if data[:4] == b"PK\x03\x04" else None
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
        if isinstance(rows, list) and rows:
            out.append([str(model._meta.verbose_name_plural), len(rows)])
    return out


def check_empty(workspace: Workspace) -> None:
    for model in (Person, Company, Tag, Interaction):
        if model.objects.for_workspace(workspace).exists():  # type: ignore[attr-defined]
            raise BackupError(
                "A backup can only be restored into an empty workspace. Create a new workspace "
                "(menu → New workspace…) and restore it there."
            )


@transaction.atomic
def workspace_restore(*, workspace: Workspace, user: User, data: bytes, max_bytes: int) -> int:
    """Create every row of the backup in ``workspace``; returns how many people were restored."""
    doc = load(data, max_bytes=max_bytes)
    Workspace.objects.select_for_update().get(pk=workspace.pk)  # one restore at a time
    check_empty(workspace)
    photos = _Photos(data)
    members = dict(Membership.objects.filter(workspace=workspace).values_list("user__email", "user_id"))
    id_maps: dict[str, dict[Any, int]] = {}
    for model in MODELS:
        rows = doc["models"].get(label(model), [])
        if not isinstance(rows, list):
            raise BackupError(f"The backup's {label(model)} is not a list.")
        fields = row_fields(model)
        objects, old_ids = [], []
        for number, row in enumerate(rows, start=1):
            if not isinstance(row, dict) or not isinstance(row.get("id"), int):
                raise BackupError(f"Row {number} of {label(model)} is not an object with an id.")
            if model is DismissedDate:
                row = {**row, "key": _remap_key(row.get("key"), id_maps)}
                if not row["key"]:
                    continue  # a dismissal of something not in the backup
            try:
                obj = _build(model, fields, row, workspace=workspace, user=user, members=members, id_maps=id_maps)
            except ValidationError as exc:
                raise BackupError(f"Row {number} of {label(model)}: {' '.join(exc.messages)}") from exc
            if isinstance(obj, Person) and (photo := photos.take(row.get("photo"))):
                _restore_photo(obj, photo)
            objects.append(obj)
            old_ids.append(row["id"])
        created = model.objects.bulk_create(objects, batch_size=1000)  # type: ignore[attr-defined]
        id_maps[label(model)] = {old: obj.pk for old, obj in zip(old_ids, created, strict=True)}
    for model in MODELS:
        for field in m2m_fields(model):
            _restore_links(model, field, doc["models"].get(label(model), []), id_maps)
    people_refresh_stay_due(Person.objects.for_workspace(workspace))
    return len(id_maps[label(Person)])


def _build(
    model: type[models.Model],
    fields: list[models.Field],
    row: dict[str, Any],
    *,
    workspace: Workspace,
    user: User,
    members: dict[str, int],
    id_maps: dict[str, dict[Any, int]],
) -> models.Model:
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
            target = id_maps.get(label(field.related_model), {})  # type: ignore[arg-type]
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
    relations = [f.name for f in fields if f.is_relation or isinstance(f, models.FileField)]
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
    through = field.remote_field.through
    source, target = field.m2m_field_name(), field.m2m_reverse_field_name()
    own, other = id_maps[label(model)], id_maps.get(label(field.related_model), {})  # type: ignore[arg-type]
    links = []
    for row in rows:
        values = row.get(field.name, []) if isinstance(row, dict) else []
        if not isinstance(values, list) or row.get("id") not in own:
            continue
        for value in values:
            if isinstance(value, int) and value in other:
                links.append(through(**{f"{source}_id": own[row["id"]], f"{target}_id": other[value]}))
    through.objects.bulk_create(links, batch_size=2000, ignore_conflicts=True)
