"""Reminders: dismissed date reminders and the occurrences the scheduler materialises.

Follow-ups live with the conversations they come from (``interactions.FollowUp``), the default
cadence of a tag with the people it applies to (``people.TagCadence``).

The database is the source of truth: the dashboard computes what is due from these rows and
the people's denormalised dates, so a reminder shows on its day even if no worker ran.
"""

from __future__ import annotations

from typing import ClassVar, Self

from django.conf import settings
from django.db import models
from django.utils import timezone

from crm.models import User, WorkspaceQuerySet, WorkspaceScoped
from people.dates import validate_in_range


class DismissedDate(WorkspaceScoped):
    """A date reminder marked done for one year's occurrence ("wished Anna happy birthday")."""

    key = models.CharField(max_length=50, help_text="e.g. person:12:birthday, family:5, pet:7, date:9")
    occurs_on = models.DateField(validators=[validate_in_range])
    dismissed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = (models.UniqueConstraint(fields=("workspace", "key", "occurs_on"), name="dismisseddate_unique"),)

    def __str__(self) -> str:
        return f"{self.key} on {self.occurs_on}"


class OccurrenceQuerySet(WorkspaceQuerySet):
    def visible_to(self, user: User) -> Self:
        """The user's occurrences in workspaces they are still a member of."""
        return self.for_member(user).filter(user=user)


# A manager class made at module level (not ``as_manager()`` on the model) so the type checker
# sees ``objects`` override the base's as a class variable, with ``visible_to`` on it.
OccurrenceManager = models.Manager.from_queryset(OccurrenceQuerySet)


class ReminderOccurrence(WorkspaceScoped):
    """One reminder falling due for one user on one day, materialised by the scheduler.

    The unique constraint makes materialising idempotent: a duplicated task, two beat
    processes or a rerun after downtime create each occurrence once. ``state`` moves
    pending -> notified with a conditional UPDATE, so it is notified once.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        NOTIFIED = "notified", "Notified"
        SEEN = "seen", "Seen"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminder_occurrences")
    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=50, help_text="follow_up:12, stay:34, person:5:birthday, family:7, pet:9, date:3")
    due_on = models.DateField()
    text = models.CharField(max_length=300)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    notified_at = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[OccurrenceManager] = OccurrenceManager()

    class Meta:
        ordering = ("-due_on", "-id")
        constraints = (
            models.UniqueConstraint(fields=("user", "key", "due_on"), name="occurrence_unique_per_user_day"),
        )
        indexes = (models.Index(fields=("user", "state"), name="occurrence_user_state"),)

    def __str__(self) -> str:
        return f"{self.text} ({self.due_on})"
