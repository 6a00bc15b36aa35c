"""Private calendar feeds: a secret URL per user and workspace, revocable and regenerable."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from crm.models import WorkspaceScoped


def new_token() -> str:
    return secrets.token_urlsafe(32)


# What a feed can include, chosen on the export page ("only my people's follow-ups and birthdays").
FEED_KINDS = {
    "birthdays": "Birthdays and anniversaries",
    "family": "Family and pet birthdays",
    "dates": "Other important dates",
    "follow_ups": "Follow-ups",
    "promises": "Promises",
}


def all_feed_kinds() -> str:
    return ",".join(FEED_KINDS)


class CalendarFeed(WorkspaceScoped):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds")
    token = models.CharField(max_length=64, unique=True, default=new_token)
    created_at = models.DateTimeField(default=timezone.now)
    kinds = models.CharField(max_length=200, default=all_feed_kinds, help_text="Comma-separated FEED_KINDS.")
    mine_only = models.BooleanField(default=False, help_text="Only the people this user owns.")
    updated_at = models.DateTimeField(auto_now=True)  # a new token or new choices: the feed changed

    @property
    def kind_set(self) -> set[str]:
        return {kind for kind in self.kinds.split(",") if kind in FEED_KINDS}

    class Meta:
        constraints = (models.UniqueConstraint(fields=("user", "workspace"), name="calendarfeed_one_per_user"),)

    def __str__(self) -> str:
        return f"Calendar feed of {self.user} in {self.workspace}"


class FeedChange(WorkspaceScoped):
    """A write to something a calendar feed shows, appended by database triggers (exports 0002)
    on people, family, pets, dates, follow-ups and promises, whatever wrote it (a service, a
    bulk update, an import, a cascade). The latest id is the feed's version: a calendar app's
    poll that changed nothing is one indexed lookup and a 304, instead of the whole feed.

    Insert-only, so concurrent writers never wait on one another's row; no foreign-key
    constraint, so deleting a workspace (whose cascades append rows too) never trips on it.
    """

    workspace = models.ForeignKey("crm.Workspace", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    # Bookkeeping, not something a user made: the deletion summary does not count it.
    counted_as_record = False

    class Meta:
        indexes = (models.Index(fields=("workspace", "id"), name="feedchange_ws_id"),)
