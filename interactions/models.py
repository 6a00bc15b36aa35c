"""Interactions: the conversations had with people."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from crm.models import WorkspaceScoped
from people.models import Person


class Interaction(WorkspaceScoped):
    class Kind(models.TextChoices):
        CALL = "call", "Call"
        MEETING = "meeting", "Meeting"
        EMAIL = "email", "Email"
        MESSAGE = "message", "Message"
        VISIT = "visit", "Visit"
        VIDEO = "video", "Video call"
        NOTE = "note", "Note"

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CALL)
    occurred_at = models.DateTimeField(default=timezone.now)
    summary = models.CharField(max_length=200)
    notes = models.TextField(blank=True)
    people = models.ManyToManyField(Person, related_name="interactions")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-occurred_at", "-id")
        indexes = (models.Index(fields=("workspace", "-occurred_at", "-id"), name="interaction_ws_recent"),)

    def __str__(self) -> str:
        return self.summary
