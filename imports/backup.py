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
from people.models import Company, Person, Tag
from people.services import process_photo

MAX_UNPACKED = 10  # times the upload limit: a ZIP that unpacks to more is refused (zip bomb)


class BackupError(ValidationError):
    pass


def is_backup(data: bytes) -> bool:
    return data[:4] == b"PK\x03\x04" or (data.lstrip()[:1] == b"{" and FORMAT.encode() in data[:500])


def load(data: bytes, *, max_bytes: int) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The backup's JSON document and its photos (by stored name)."""
    photos: dict[str, bytes] = {}
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                infos = archive.infolist()
                if sum(i.file_size for i in infos) > max_bytes * MAX_UNPACKED:
                    raise BackupError("This ZIP unpacks to far more than the import limit.")
                names = {i.filename for i in infos}
                if "workspace.json" not in names:
                    raise BackupError("This ZIP is not a Rapport backup: it has no workspace.json.")
                text = archive.read("workspace.json")
                for name in names:
                    if name.startswith("photos/") and not name.endswith("/"):
                        photos[name.removeprefix("photos/")] = archive.read(name)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
            raise BackupError("This ZIP file is damaged and cannot be read.") from exc
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
    return doc, photos


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
    doc, photos = load(data, max_bytes=max_bytes)
    check_empty(workspace)
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
            try:
                obj = _build(model, fields, row, workspace=workspace, user=user, members=members, id_maps=id_maps)
            except ValidationError as exc:
                raise BackupError(f"Row {number} of {label(model)}: {' '.join(exc.messages)}") from exc
            if isinstance(obj, Person) and row.get("photo") in photos:
                _restore_photo(obj, photos[row["photo"]])
            objects.append(obj)
            old_ids.append(row["id"])
        created = model.objects.bulk_create(objects, batch_size=1000)  # type: ignore[attr-defined]
        id_maps[label(model)] = {old: obj.pk for old, obj in zip(old_ids, created, strict=True)}
    for model in MODELS:
        for field in m2m_fields(model):
            _restore_links(model, field, doc["models"].get(label(model), []), id_maps)
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
            values[field.attname] = field.clean(value, None)
    return model(workspace=workspace, **values)


def _restore_photo(person: Person, data: bytes) -> None:
    try:
        image = process_photo(ContentFile(data, name="photo"))
    except ValidationError:
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
