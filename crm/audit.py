"""The audit log: who did what to the book, when and from where (``crm.models.AuditEvent``).

Every app records through ``audit_record`` from its own service, inside the service's
transaction: the row commits with the action or not at all. It lives on the ground floor so
that every app above may call it. Where the request came from (address, browser) is read from
the request being served, which ``AuditContextMiddleware`` makes known for the length of it, so
services need not carry the request; a task records with no address.

Append-only for the app: nothing here or in a view edits or deletes a row but
``audit_prune``, which beat runs to drop rows older than AUDIT_RETENTION_DAYS.
"""

from __future__ import annotations

import contextvars
import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse

from crm.clientip import UNKNOWN, client_ip
from crm.models import AuditEvent, Membership, User, Workspace

Action = AuditEvent.Action


@dataclass(frozen=True)
class Origin:
    ip_address: str | None
    user_agent: str


_origin: contextvars.ContextVar[Origin | None] = contextvars.ContextVar("rapport_audit_origin", default=None)
_request: contextvars.ContextVar[HttpRequest | None] = contextvars.ContextVar("rapport_audit_request", default=None)


class AuditContextMiddleware:
    """Makes the client's address and browser known to ``audit_record`` while a request is served."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token, served = _origin.set(origin_of(request)), _request.set(request)
        try:
            return self.get_response(request)
        finally:
            _request.reset(served)
            _origin.reset(token)


def current_origin() -> Origin | None:
    """Where the request being served came from (None in a task or a command)."""
    return _origin.get()


def current_user() -> User | None:
    """The signed-in user of the request being served, read now: a page's session user, or an
    API token's user once DRF has authenticated it. None outside a request."""
    request = _request.get()
    user = getattr(request, "user", None) if request is not None else None
    return user if isinstance(user, User) and user.is_authenticated else None


def origin_of(request: HttpRequest) -> Origin:
    address = client_ip(request)
    return Origin(
        ip_address=None if address == UNKNOWN else address, user_agent=request.headers.get("User-Agent", "")[:300]
    )


def audit_record(
    *,
    action: str,
    summary: str,
    actor: User | None = None,
    membership: Membership | None = None,
    workspace: Workspace | None = None,
    actor_email: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """One event, in the caller's transaction (a failed action rolls it back with itself).

    ``membership`` gives both who and which workspace; an account event (a login) has no
    workspace. ``summary`` is what the log shows; it must name no customer (people go in as
    counts or numbers: an erased person leaves nothing here).
    """
    if membership is not None:
        actor = actor or membership.user
        workspace = workspace or membership.workspace
    origin = _origin.get() or Origin(ip_address=None, user_agent="")
    event = AuditEvent(
        workspace=workspace,
        actor=actor,
        actor_email=actor.email if actor is not None else actor_email[:254],
        action=action,
        summary=summary[:300],
        details=details or {},
        ip_address=origin.ip_address,
        user_agent=origin.user_agent,
    )
    # The two keys are objects the caller holds: checking that they exist would cost two queries
    # on every action for nothing.
    event.full_clean(exclude=["workspace", "actor"])
    event.save()
    return event


def people_count(count: int) -> str:
    return f"{count} {'person' if count == 1 else 'people'}"


# --- Reads --------------------------------------------------------------------------------------


def audit_events_of_workspace(workspace: Workspace) -> Any:
    """What an owner sees: the workspace's events and its members' account events."""
    return AuditEvent.objects.for_workspace(workspace).select_related("actor")


def audit_events_of_user(user: User) -> Any:
    """What anyone sees of themselves: everything they did, in any workspace."""
    return AuditEvent.objects.filter(actor=user).select_related("actor")


CSV_HEADER = ("time (UTC)", "who", "action", "what", "address", "browser", "details")


def audit_csv(events: Iterable[AuditEvent]) -> Iterator[str]:
    """The log as CSV, one row at a time (a streaming download); cells a spreadsheet would run
    as a formula are neutralised with a leading quote, as exports do."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def row(values: Iterable[object]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([_safe(value) for value in values])
        return buffer.getvalue()

    yield row(CSV_HEADER)
    for event in events:
        yield row(
            (
                event.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                event.actor_email,
                event.get_action_display(),
                event.summary,
                event.ip_address or "",
                event.user_agent,
                ", ".join(f"{key}={value}" for key, value in sorted(event.details.items())),
            )
        )


def _safe(value: object) -> str:
    text = str(value)
    return "'" + text if text[:1] in {"=", "+", "-", "@", "\t", "\r"} else text


# --- Retention ----------------------------------------------------------------------------------


@transaction.atomic
def audit_prune(*, now: datetime) -> int:
    """Deletes events older than AUDIT_RETENTION_DAYS; the only delete of audit rows there is."""
    cutoff = now - timedelta(days=settings.AUDIT_RETENTION_DAYS)
    deleted, _ = AuditEvent.objects.filter(created_at__lt=cutoff).delete()
    return deleted
