"""People: the human beings in a workspace's book of customers."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from crm.models import WorkspaceScoped


class Person(WorkspaceScoped):
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100, blank=True)
    nickname = models.CharField(max_length=100, blank=True)
    company = models.CharField(max_length=200, blank=True)
    job_title = models.CharField(max_length=200, blank=True)
    notes = models.TextField(blank=True, help_text="Anything worth remembering.")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Denormalised from interactions (kept by interaction services) so lists never scan them.
    last_contacted_at = models.DateTimeField(null=True, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("last_name", "first_name", "id")
        verbose_name_plural = "people"
        indexes = (
            models.Index(fields=("workspace", "last_name", "first_name", "id"), name="person_ws_name"),
            models.Index(fields=("workspace", "last_contacted_at"), name="person_ws_last_contacted"),
        )

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)

    @property
    def initials(self) -> str:
        return "".join(part[0] for part in (self.first_name, self.last_name) if part).upper()

    def get_absolute_url(self) -> str:
        return reverse("people:detail", args=[self.pk])
