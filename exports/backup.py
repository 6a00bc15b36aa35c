"""The whole workspace as JSON (in a ZIP with the photos): everything a user entered, restorable.

One list of models, in dependency order, serves both directions: ``workspace_json`` streams every
row (foreign keys as the old ids, users as email addresses) and ``imports.backup`` reads the same
file back into an empty workspace, mapping old ids to new ones.
"""

from __future__ import annotations

import datetime
import json
import zipfile
from collections.abc import Iterator
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

from crm.crypto import SealedTextField
from crm.models import Membership, User, Workspace, WorkspaceScoped
from interactions.models import FollowUp, Interaction, Need, NeedUpdate, Promise
from people.models import (
    Company,
    ContactMethod,
    FamilyMember,
    Handover,
    ImportantDate,
    Person,
    Pet,
    ProfileFact,
    Tag,
    TagCadence,
)
from reminders.models import DismissedDate

FORMAT = "rapport-workspace"
VERSION = 1
# Dependency order: every foreign key points to a model earlier in the list (or to a user).
MODELS: list[type[WorkspaceScoped]] = [
    Company,
    Tag,
    Person,
    Handover,  # who had whom before: history a restore keeps
    ContactMethod,
    ImportantDate,
    FamilyMember,
    Pet,
    Interaction,
    ProfileFact,
    Need,
    NeedUpdate,
    Promise,
    FollowUp,
    TagCadence,
    DismissedDate,
]
CHUNK = 2000


class BackupEncoder(DjangoJSONEncoder):
    """Django's encoder, but datetimes keep their microseconds: a backup loses nothing."""

    def default(self, o: Any) -> Any:
        if isinstance(o, datetime.datetime):
            return o.isoformat()
        return super().default(o)


# A backup names each model as it was named when the format was defined: models that have moved
# app since keep their old names, so every backup restores, older or newer.
MOVED_LABELS: dict[type[models.Model], str] = {FollowUp: "reminders.followup", TagCadence: "reminders.tagcadence"}


def label(model: type[models.Model]) -> str:
    return MOVED_LABELS.get(model, model._meta.label_lower)


def row_fields(model: type[models.Model]) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if f.name not in {"id", "workspace"}]


def m2m_fields(model: type[models.Model]) -> list[models.ManyToManyField]:
    return list(model._meta.many_to_many)


def is_user_field(field: models.Field) -> bool:
    return field.is_relation and field.related_model is User


def _row(
    obj: models.Model, fields: list[models.Field], m2m: dict[str, dict[int, list[int]]], emails: dict[int, str]
) -> dict[str, Any]:
    row: dict[str, Any] = {"id": obj.pk}
    for field in fields:
        if field.is_relation:
            value = getattr(obj, field.attname)
            row[field.name] = emails.get(value) if is_user_field(field) and value else value
        elif isinstance(field, models.FileField):
            row[field.name] = getattr(obj, field.attname).name or ""
        elif isinstance(field, SealedTextField):
            row[field.name] = field.stored_value(obj)  # private text stays sealed in the file
        else:
            row[field.name] = getattr(obj, field.attname)
    for name, links in m2m.items():
        row[name] = links.get(obj.pk, [])
    return row


def workspace_json(workspace: Workspace) -> Iterator[str]:
    """The workspace as one JSON document, streamed model by model, row by row."""
    # People and conversations name their owner or author by email: ids mean nothing elsewhere.
    emails = dict(Membership.objects.for_workspace(workspace).values_list("user_id", "user__email"))
    encoder = BackupEncoder()
    yield json.dumps({"format": FORMAT, "version": VERSION, "exported_at": timezone.now(), "workspace": workspace.name},
                     cls=DjangoJSONEncoder)[:-1] + ', "models": {'  # fmt: skip
    for index, model in enumerate(MODELS):
        fields = row_fields(model)
        yield ("," if index else "") + json.dumps(label(model)) + ": ["
        qs = model.objects.for_workspace(workspace).order_by("pk")
        last, first = 0, True
        while True:
            batch = list(qs.filter(pk__gt=last)[:CHUNK])
            if not batch:
                break
            last = batch[-1].pk
            m2m = {
                f.name: _links(f, [o.pk for o in batch])
                for f in m2m_fields(model)
            }  # fmt: skip
            for obj in batch:
                yield ("" if first else ",") + encoder.encode(_row(obj, fields, m2m, emails))
                first = False
        yield "]"
    yield "}}"


def through_model(field: models.ManyToManyField) -> type[models.Model]:
    """The model of a many-to-many field's link rows (always there once the apps are loaded)."""
    through = field.remote_field.through
    if through is None:
        raise TypeError(f"{field} has no link model")
    return through


def _links(field: models.ManyToManyField, ids: list[int]) -> dict[int, list[int]]:
    through = through_model(field)
    source = field.m2m_field_name()
    target = field.m2m_reverse_field_name()
    links: dict[int, list[int]] = {}
    for a, b in through._default_manager.filter(**{f"{source}_id__in": ids}).values_list(
        f"{source}_id", f"{target}_id"
    ):
        links.setdefault(a, []).append(b)
    return links


class _Sink:
    """A write-only file that hands back what was written, so a ZIP can be streamed."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.offset = 0

    def write(self, data: bytes) -> int:
        self.chunks.append(bytes(data))
        self.offset += len(data)
        return len(data)

    def tell(self) -> int:
        return self.offset

    def close(self) -> None:
        """Nothing to release; here so the sink is a writable file to ZipFile."""

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        out = b"".join(self.chunks)
        self.chunks.clear()
        return out


def workspace_zip(workspace: Workspace) -> Iterator[bytes]:
    """A ZIP of workspace.json and the people's photos, streamed without a temporary file."""
    sink = _Sink()
    with zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("workspace.json", mode="w", force_zip64=True) as entry:
            for text in workspace_json(workspace):
                entry.write(text.encode())
                if sink.offset and sink.chunks:
                    yield sink.take()
        photos = Person.objects.for_workspace(workspace).exclude(photo="").values_list("photo", flat=True)
        storage = Person._meta.get_field("photo").storage
        for name in photos.iterator():
            if storage.exists(name):
                with storage.open(name, "rb") as photo:
                    archive.writestr(f"photos/{name}", photo.read())
                yield sink.take()
    yield sink.take()
