from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from crm import permissions
from crm.access import current_membership, memberships_of
from crm.selectors import scheduler_last_beat

SCHEDULER_STALE_AFTER = timedelta(hours=1)


def workspace(request: HttpRequest) -> dict[str, Any]:
    """Navigation context: current workspace and what the role can do there (``can.write``), the
    user's other workspaces, scheduler health."""
    if not request.user.is_authenticated:
        return {}
    last_beat = scheduler_last_beat()
    membership = current_membership(request)
    return {
        "current_membership": membership,
        "can": permissions.capabilities(membership),
        "all_memberships": memberships_of(request),
        "scheduler_last_beat": last_beat,
        "scheduler_stale": last_beat is None or timezone.now() - last_beat > SCHEDULER_STALE_AFTER,
    }
