from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from reminders.models import ReminderOccurrence


def notifications(request: HttpRequest) -> dict[str, Any]:
    """How many reminders the scheduler delivered that the user has not looked at yet."""
    if not request.user.is_authenticated:
        return {}
    unseen = ReminderOccurrence.objects.visible_to(request.user).filter(state=ReminderOccurrence.State.NOTIFIED)
    return {"unseen_reminders": unseen.count()}
