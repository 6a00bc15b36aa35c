"""Reminders: follow-ups promised to ourselves ("call back on 3 March")."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from crm.models import WorkspaceScoped


class FollowUp(WorkspaceScoped):
    """A one-off follow-up with a person, due on a day in the owner's time zone."""

    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="follow_ups")
    interaction = models.ForeignKey(
        "interactions.Interaction", null=True, blank=True, on_delete=models.SET_NULL, related_name="follow_ups"
    )
    due_on = models.DateField()
    note = models.CharField(max_length=200, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("due_on", "id")
        indexes = (models.Index(fields=("workspace", "done_at", "due_on"), name="followup_ws_open_due"),)

    def __str__(self) -> str:
        return f"Follow up with {self.person} on {self.due_on}"
