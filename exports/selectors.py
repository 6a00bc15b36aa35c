"""Reads for the export pages and the calendar feed."""

from __future__ import annotations

import hashlib
from datetime import datetime

from django.db.models import Exists, OuterRef, Subquery

from crm.models import Membership, User, Workspace
from exports.models import CalendarFeed, FeedChange


def feed_of(workspace: Workspace, *, user: User) -> CalendarFeed | None:
    """The user's calendar link in this workspace, if they made one."""
    return CalendarFeed.objects.for_workspace(workspace).filter(user=user).first()


def feed_for_token(token: str) -> CalendarFeed | None:
    """The calendar a secret link names, while its user is active and still a member of its
    workspace; None otherwise (the link then stops working, as if it never existed).

    One query, with the feed's version (its workspace's latest FeedChange): a calendar app's
    poll that changed nothing costs this and no more (see ``feed_etag``).
    """
    latest = FeedChange.objects.filter(workspace_id=OuterRef("workspace_id")).order_by("-id")
    calendar = (
        CalendarFeed.objects.select_related("workspace", "user")
        .filter(token=token)
        .annotate(
            is_member=Exists(
                Membership.objects.filter(user_id=OuterRef("user_id"), workspace_id=OuterRef("workspace_id"))
            ),
            change_id=Subquery(latest.values("id")[:1]),
            changed_at=Subquery(latest.values("at")[:1]),
        )
        .first()
    )
    if calendar is None or not calendar.user.is_active or not calendar.is_member:
        return None
    return calendar


def feed_etag(feed: CalendarFeed) -> str:
    """What the feed's content depends on: its data's version, its choices, the workspace's name."""
    version = f"{feed.token}:{getattr(feed, 'change_id', None)}:{feed.kinds}:{feed.mine_only}:{feed.workspace.name}"
    return '"' + hashlib.sha256(version.encode()).hexdigest()[:32] + '"'


def feed_changed_at(feed: CalendarFeed) -> datetime:
    """When the feed's data last changed (or the feed was made, if nothing has since)."""
    changed: datetime | None = getattr(feed, "changed_at", None)
    return max(changed, feed.updated_at) if changed else feed.updated_at
