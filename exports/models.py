"""Private calendar feeds: a secret URL per user and workspace, revocable and regenerable."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from crm.models import WorkspaceScoped


def new_token() -> str:
    return secrets.token_urlsafe(32)


class CalendarFeed(WorkspaceScoped):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds")
    token = models.CharField(max_length=64, unique=True, default=new_token)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = (models.UniqueConstraint(fields=("user", "workspace"), name="calendarfeed_one_per_user"),)

    def __str__(self) -> str:
        return f"Calendar feed of {self.user} in {self.workspace}"
