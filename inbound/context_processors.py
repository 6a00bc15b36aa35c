from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from inbound.selectors import mailbox_health


def mailbox(request: HttpRequest) -> dict[str, Any]:
    """The footer's warning when fetching the mailbox fails (one query, only with IMAP set)."""
    if not settings.INBOUND_IMAP_URL or not request.user.is_authenticated:
        return {}
    poll = mailbox_health()
    return {"mailbox_failing": poll if poll is not None and poll.failing else None}
