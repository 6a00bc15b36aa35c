"""Field history: "changed by … on …" for a record's fields, kept by django-auditlog.

An app registers a model with ``track`` (which fields, never private ones); every ``save()`` of
it then leaves a ``LogEntry`` with the fields that changed, old and new, written in the save's
transaction. Who made the change is the user of the request being served (a page's session or
an API token: DRF sets the request's user when it authenticates), read when the entry is
written; from where is ``crm.audit``'s origin. A task or a command records no one.

A record's history goes with the record: its model declares
``AuditlogHistoryField(delete_related=True)``, so deleting it (erasing a person, deleting a
workspace) deletes its entries with it, and no entry is written for the deletion itself:
nothing of a removed person's fields is left (the audit log keeps the deletion, by number).
Bulk updates that bypass ``save()`` (a bulk archive, a change of owner for many) are in the
audit log as bulk actions instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from auditlog.models import LogEntry
from auditlog.registry import auditlog
from auditlog.signals import pre_log
from django.db import models
from django.db.models.signals import pre_save

from crm import audit
from crm.models import User


@dataclass(frozen=True)
class Change:
    field: str
    old: str
    new: str


@dataclass(frozen=True)
class HistoryEntry:
    when: datetime
    who: User | None
    created: bool
    changes: list[Change]


_tracked: set[type[models.Model]] = set()


def track(model: type[models.Model], *, fields: Iterable[str]) -> None:
    """Keep the history of these fields of ``model`` (leave private ones out)."""
    auditlog.register(model, include_fields=list(fields))
    _tracked.add(model)


def _no_entry_for_a_deletion(sender: type[models.Model], action: int, **kwargs: Any) -> bool | None:
    # The entry would name the record (its object_repr) after the record and its history are gone.
    return False if sender in _tracked and action == LogEntry.Action.DELETE else None


pre_log.connect(_no_entry_for_a_deletion, dispatch_uid="history-no-deletions")


def _stamp(sender: type[LogEntry], instance: LogEntry, **kwargs: Any) -> None:
    if instance.actor_id is None and (user := audit.current_user()) is not None:
        instance.actor = user
    origin = audit.current_origin()
    if origin is not None and origin.ip_address:
        instance.remote_addr = origin.ip_address


pre_save.connect(_stamp, sender=LogEntry, dispatch_uid="history-stamp")


def _newest_first(obj: models.Model) -> Any:
    return LogEntry.objects.get_for_object(obj).select_related("actor").order_by("-timestamp", "-id")


def history_of(obj: models.Model, *, limit: int = 10) -> list[HistoryEntry]:
    """The latest changes to ``obj``'s tracked fields, newest first, with who made them."""
    entries = _newest_first(obj)[:limit]
    out = []
    for entry in entries:
        created = entry.action == LogEntry.Action.CREATE
        changes = [
            Change(field=str(name).capitalize(), old=_shown(values[0]), new=_shown(values[1]))
            for name, values in entry.changes_display_dict.items()
            if len(values) == 2
        ]
        if changes or created:
            out.append(HistoryEntry(when=entry.timestamp, who=entry.actor, created=created, changes=changes))
    return out


def _shown(value: Any) -> str:
    return "" if value in (None, "None") else str(value)


def last_change(obj: models.Model) -> HistoryEntry | None:
    """Who changed ``obj``'s tracked fields last, and when (one query; the fields not read)."""
    entry = _newest_first(obj).first()
    if entry is None:
        return None
    return HistoryEntry(
        when=entry.timestamp, who=entry.actor, created=entry.action == LogEntry.Action.CREATE, changes=[]
    )
