"""Reminders: follow-ups, stay-in-touch cadences per tag, and dismissed date reminders.

The database is the source of truth: the dashboard computes what is due from these rows and
the people's denormalised dates, so a reminder shows on its day even if no worker ran.
"""

from __future__ import annotations

from datetime import date
from typing import Self

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from crm.models import User, WorkspaceQuerySet, WorkspaceScoped
from people.dates import series_next, validate_every, validate_in_range


class Unit(models.TextChoices):
    DAYS = "days", "days"
    WEEKS = "weeks", "weeks"
    MONTHS = "months", "months"
    YEARS = "years", "years"


class FollowUp(WorkspaceScoped):
    """A follow-up with a person, one-off or recurring, due on a day in the user's time zone.

    Recurring follow-ups advance from their schedule (``anchor_on`` + k x every), never from
    the moment they were marked done, so "every 3 months from 31 January" stays on month ends
    and a late "done" does not drift the series.
    """

    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="follow_ups")
    interaction = models.ForeignKey(
        "interactions.Interaction", null=True, blank=True, on_delete=models.SET_NULL, related_name="follow_ups"
    )
    due_on = models.DateField(help_text="The next scheduled occurrence.", validators=[validate_in_range])
    note = models.CharField(max_length=200, blank=True)
    repeat_every = models.PositiveSmallIntegerField(null=True, blank=True)
    repeat_unit = models.CharField(max_length=6, choices=Unit.choices, default=Unit.WEEKS)
    anchor_on = models.DateField(
        null=True, blank=True, help_text="First occurrence of a recurring series.", validators=[validate_in_range]
    )
    occurrence = models.PositiveIntegerField(default=0, help_text="Index of due_on in the series.")
    snoozed_until = models.DateField(null=True, blank=True, validators=[validate_in_range])
    done_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("due_on", "id")
        indexes = (models.Index(fields=("workspace", "done_at", "due_on"), name="followup_ws_open_due"),)

    def __str__(self) -> str:
        return f"Follow up with {self.person} on {self.effective_due}"

    def clean(self) -> None:
        try:
            validate_every(self.repeat_every, self.repeat_unit)
        except ValidationError as exc:
            raise ValidationError({"repeat_every": exc.messages}) from exc

    @property
    def effective_due(self) -> date:
        return self.due_after_snooze(self.due_on, self.snoozed_until)

    @staticmethod
    def due_after_snooze(due_on: date, snoozed_until: date | None) -> date:
        """The day it is due: its due day, or later if snoozed past it."""
        return max(due_on, snoozed_until) if snoozed_until else due_on

    @property
    def is_recurring(self) -> bool:
        return bool(self.repeat_every)

    @property
    def recurrence(self) -> str:
        if not self.repeat_every:
            return ""
        unit = self.get_repeat_unit_display()
        return f"every {unit.rstrip('s')}" if self.repeat_every == 1 else f"every {self.repeat_every} {unit}"

    def next_after(self, day: date) -> tuple[int, date] | None:
        """The series' first occurrence after ``day`` (its index and date), counted from the
        anchor; None when it would fall past the dates Rapport keeps: the series has ended."""
        anchor = self.anchor_on or self.due_on
        return series_next(
            anchor=anchor, unit=self.repeat_unit, every=self.repeat_every, index=self.occurrence + 1, after=day
        )


class TagCadence(WorkspaceScoped):
    """A default stay-in-touch cadence for people with a tag and no cadence of their own."""

    tag = models.ForeignKey("people.Tag", on_delete=models.CASCADE, related_name="cadences")
    every = models.PositiveSmallIntegerField()
    unit = models.CharField(max_length=6, choices=Unit.choices[:3], default=Unit.WEEKS)
    duration = models.DurationField(editable=False)  # every x unit, for SQL (see Person.cadence)

    class Meta:
        ordering = ("tag__name",)
        constraints = (models.UniqueConstraint(fields=("workspace", "tag"), name="tagcadence_unique_tag"),)

    def __str__(self) -> str:
        return f"{self.tag}: every {self.every} {self.unit}"


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

    objects = OccurrenceQuerySet.as_manager()

    class Meta:
        ordering = ("-due_on", "-id")
        constraints = (
            models.UniqueConstraint(fields=("user", "key", "due_on"), name="occurrence_unique_per_user_day"),
        )
        indexes = (models.Index(fields=("user", "state"), name="occurrence_user_state"),)

    def __str__(self) -> str:
        return f"{self.text} ({self.due_on})"
