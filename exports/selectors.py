"""Reads for the export pages and the calendar feed."""

from __future__ import annotations

from crm.models import User, Workspace
from exports.models import CalendarFeed


def feed_of(workspace: Workspace, *, user: User) -> CalendarFeed | None:
    """The user's calendar link in this workspace, if they made one."""
    return CalendarFeed.objects.for_workspace(workspace).filter(user=user).first()


def feed_for_token(token: str) -> CalendarFeed | None:
    """The calendar a secret link names, while its user is active and still a member of its
    workspace; None otherwise (the link then stops working, as if it never existed)."""
    calendar = CalendarFeed.objects.select_related("workspace", "user").filter(token=token).first()
    if (
        calendar is None
        or not calendar.user.is_active
        or not calendar.user.memberships.filter(workspace=calendar.workspace).exists()
    ):
        return None
    return calendar
