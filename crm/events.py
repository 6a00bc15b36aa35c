"""What happened in a workspace, said by the services that did it, for apps above to act on.

A service calls ``publish`` inside its own transaction ("person.created", with the ids); an
app higher up the layers (the webhooks in ``api``) registers a handler once at start-up with
``subscribe`` and writes its own rows in that same transaction, so an event is recorded exactly
when the change commits, and never for a change that rolled back. The ground floor knows no
handler: lower apps stay free of what is built on them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from crm.models import Workspace

Handler = Callable[..., None]
_handlers: list[Handler] = []

# The events services publish (the webhooks page offers these).
PERSON_CREATED = "person.created"
PERSON_UPDATED = "person.updated"
PERSON_DELETED = "person.deleted"
CONVERSATION_LOGGED = "conversation.logged"
NEED_SOLVED = "need.solved"


def subscribe(handler: Handler) -> None:
    """``handler(workspace=, event=, ids=)`` is called for every event from now on."""
    if handler not in _handlers:
        _handlers.append(handler)


def publish(*, workspace: Workspace, event: str, ids: list[int], **extra: Any) -> None:
    """Tell every handler that ``event`` happened to the objects ``ids`` of ``workspace``."""
    for handler in _handlers:
        handler(workspace=workspace, event=event, ids=ids, **extra)
