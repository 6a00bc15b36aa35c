from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from crm.access import current_membership, memberships_of
from crm.selectors import scheduler_last_beat

SCHEDULER_STALE_AFTER = timedelta(hours=1)


def workspace(request: HttpRequest) -> dict[str, Any]:
    """Navigation context: current workspace, the user's other workspaces, scheduler health."""
    if not request.user.is_authenticated:
        return {}
    last_beat = scheduler_last_beat()
    return {
        "current_membership": current_membership(request),
        "all_memberships": memberships_of(request),
        "scheduler_last_beat": last_beat,
        "scheduler_stale": last_beat is None or timezone.now() - last_beat > SCHEDULER_STALE_AFTER,
    }
