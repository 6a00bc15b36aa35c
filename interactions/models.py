"""Interactions: the conversations had with people, the needs and promises they carry, and the
follow-ups they call for."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from crm.models import WorkspaceScoped
from people.dates import InstantField, series_next, validate_every, validate_in_range
from people.models import Person, Tag, Unit, every_text


class Interaction(WorkspaceScoped):
    class Kind(models.TextChoices):
        CALL = "call", "Call"
        MEETING = "meeting", "Meeting"
        EMAIL = "email", "Email"
        MESSAGE = "message", "Message"
        WHATSAPP = "whatsapp", "WhatsApp"
        SIGNAL = "signal", "Signal"
        TELEGRAM = "telegram", "Telegram"
        LINKEDIN = "linkedin", "LinkedIn"
        VISIT = "visit", "Visit"
        VIDEO = "video", "Video call"
        NOTE = "note", "Note"

    class Sentiment(models.TextChoices):
        POSITIVE = "positive", "Went well"
        NEUTRAL = "neutral", "Neutral"
        NEGATIVE = "negative", "Went badly"

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CALL)
    occurred_at = InstantField(default=timezone.now, validators=[validate_in_range])
    summary = models.CharField(max_length=200)
    notes = models.TextField(blank=True, max_length=20000)
    sentiment = models.CharField(max_length=10, choices=Sentiment.choices, blank=True)
    people = models.ManyToManyField(Person, related_name="interactions")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # The id the phone made for an entry it kept offline (static/js/outbox.js): a retry, a second
    # tab or a flaky connection sends it again, and the constraint lets it be logged only once.
    client_id = models.UUIDField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ("-occurred_at", "-id")
        indexes = (models.Index(fields=("workspace", "-occurred_at", "-id"), name="interaction_ws_recent"),)
        constraints = (
            models.UniqueConstraint(
                fields=("workspace", "client_id"),
                condition=models.Q(client_id__isnull=False),
                name="interaction_once_per_client_id",
            ),
        )

    def __str__(self) -> str:
        return self.summary

    @property
    def kind_words(self) -> str:
        """The kind as a sentence says it: "call", "video call", "WhatsApp message"."""
        return kind_words(self.kind)


# Messaging apps keep their capitals in a sentence, and say what was sent on them.
BRAND_KINDS = frozenset({"whatsapp", "signal", "telegram", "linkedin"})

# What a conversation on each preferred channel is logged as: someone who prefers WhatsApp is
# reached on WhatsApp, so "Log it" for them starts as a WhatsApp conversation.
CHANNEL_KINDS: dict[str, str] = {  # keyed by the stored text, which may be ""
    Person.Channel.PHONE: Interaction.Kind.CALL,
    Person.Channel.EMAIL: Interaction.Kind.EMAIL,
    Person.Channel.TEXT: Interaction.Kind.MESSAGE,
    Person.Channel.WHATSAPP: Interaction.Kind.WHATSAPP,
    Person.Channel.SIGNAL: Interaction.Kind.SIGNAL,
    Person.Channel.TELEGRAM: Interaction.Kind.TELEGRAM,
    Person.Channel.LINKEDIN: Interaction.Kind.LINKEDIN,
    Person.Channel.IN_PERSON: Interaction.Kind.VISIT,
    Person.Channel.VIDEO: Interaction.Kind.VIDEO,
}


def kind_words(kind: str) -> str:
    """ "call", "video call", "WhatsApp message", "LinkedIn message" (unknown kinds: "conversation")."""
    if kind in BRAND_KINDS:
        return f"{Interaction.Kind(kind).label} message"
    return Interaction.Kind(kind).label.lower() if kind in Interaction.Kind.values else "conversation"


def kind_for_channel(channel: str) -> str:
    """The conversation kind a person's preferred channel is logged as (a call when none)."""
    return CHANNEL_KINDS.get(channel, Interaction.Kind.CALL)


class Need(WorkspaceScoped):
    """A problem the person needs solved, tracked until it is."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        SOLVED = "solved", "Solved"
        DROPPED = "dropped", "Dropped"

    OPEN_STATUSES = (Status.OPEN, Status.IN_PROGRESS)

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="needs")
    title = models.CharField(max_length=200)
    details = models.TextField(blank=True, max_length=5000)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    opened_on = models.DateField(default=timezone.localdate, validators=[validate_in_range])
    solved_on = models.DateField(null=True, blank=True, validators=[validate_in_range])
    tags = models.ManyToManyField(Tag, blank=True, related_name="needs")
    interactions = models.ManyToManyField(Interaction, blank=True, related_name="needs")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-opened_on", "-id")
        indexes = (
            models.Index(fields=("workspace", "status"), name="need_ws_status"),
            # The dashboard's "open needs, no contact in 30 days", oldest first: read in order.
            models.Index(
                fields=("workspace", "opened_on", "id"),
                condition=models.Q(status__in=("open", "in_progress")),
                name="need_ws_open_opened",
            ),
        )

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class NeedUpdate(WorkspaceScoped):
    """One step in a need's history: opened, in progress, solved, dropped."""

    need = models.ForeignKey(Need, on_delete=models.CASCADE, related_name="updates")
    status = models.CharField(max_length=12, choices=Need.Status.choices)
    interaction = models.ForeignKey(Interaction, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-at", "-id")

    def __str__(self) -> str:
        return f"{self.need}: {self.get_status_display()}"


class Promise(WorkspaceScoped):
    """What we promised them, or what they promised us.

    Ours is kept by whoever made it (``made_by``): handing the customer to a teammate does not
    hand over someone's word. Theirs was made by the customer, so it follows the person.
    """

    class Direction(models.TextChoices):
        # The labels are the form's, where the person typing is the one who promised. Lists say
        # who it was for whoever reads them: ``said_by``.
        MINE = "mine", "I promised"
        THEIRS = "theirs", "They promised"

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="promises")
    interaction = models.ForeignKey(
        Interaction, null=True, blank=True, on_delete=models.SET_NULL, related_name="promises"
    )
    direction = models.CharField(max_length=6, choices=Direction.choices, default=Direction.MINE)
    text = models.CharField(max_length=300)
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who noted it down: for our promises, the teammate who gave their word.",
    )
    due_on = models.DateField(null=True, blank=True, validators=[validate_in_range])
    kept_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("kept_at", "due_on", "id")
        indexes = (
            models.Index(fields=("workspace", "kept_at", "due_on"), name="promise_ws_open_due"),
            # The dashboard's open promises, soonest first: read in order, stop at the tenth.
            models.Index(
                fields=("workspace", "due_on", "id"), condition=models.Q(kept_at__isnull=True), name="promise_ws_unkept"
            ),
        )

    def __str__(self) -> str:
        return self.text

    def said_by(self, viewer: object) -> str:
        """Who promised, as ``viewer`` reads it: "You promised", "Ngozi promised", "They promised".

        Reads ``made_by``: select it with the promise wherever promises are listed.
        """
        if self.direction == self.Direction.THEIRS:
            return "They promised"
        if self.made_by_id is None:
            return "We promised"  # the teammate's account is gone; the word was still given
        if self.made_by_id == getattr(viewer, "pk", None):
            return "You promised"
        made_by = self.made_by  # there when made_by_id is (checked above)
        return f"{made_by.name} promised" if made_by else "We promised"

    def is_overdue(self, today: date) -> bool:
        return self.kept_at is None and self.due_on is not None and self.due_on < today


def follow_up_due() -> models.Case:
    """The day an open follow-up is due (its due day, or later if snoozed past it), in SQL: the
    dashboard and calendar sort by it, and the index ``followup_ws_open_due_at`` holds it."""
    return models.Case(
        models.When(snoozed_until__gt=models.F("due_on"), then=models.F("snoozed_until")),
        default=models.F("due_on"),
        output_field=models.DateField(),
    )


class FollowUp(WorkspaceScoped):
    """A follow-up with a person, one-off or recurring, due on a day in the user's time zone.

    Recurring follow-ups advance from their schedule (``anchor_on`` + k x every), never from
    the moment they were marked done, so "every 3 months from 31 January" stays on month ends
    and a late "done" does not drift the series.
    """

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="follow_ups")
    interaction = models.ForeignKey(
        Interaction, null=True, blank=True, on_delete=models.SET_NULL, related_name="follow_ups"
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
        db_table = "reminders_followup"  # kept from when it lived in reminders
        ordering = ("due_on", "id")
        indexes = (
            models.Index(fields=("workspace", "done_at", "due_on"), name="followup_ws_open_due"),
            # The open ones in the order the dashboard reads them (each part of "To do" seeks to
            # its first day and reads only the rows it shows), on SQLite and PostgreSQL alike.
            models.Index(
                models.F("workspace"),
                follow_up_due(),
                models.F("id"),
                name="followup_ws_open_due_at",
                condition=models.Q(done_at__isnull=True),
            ),
        )

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
        return every_text(self.repeat_every, self.repeat_unit)

    def next_after(self, day: date) -> tuple[int, date] | None:
        """The series' first occurrence after ``day`` (its index and date), counted from the
        anchor; None when it would fall past the dates Rapport keeps: the series has ended."""
        anchor = self.anchor_on or self.due_on
        if not self.repeat_every:  # not a series: nothing comes after
            return None
        return series_next(
            anchor=anchor, unit=self.repeat_unit, every=self.repeat_every, index=self.occurrence + 1, after=day
        )
