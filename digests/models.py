"""Email digests: one row per user and local period, so a digest is sent once or visibly not."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class DigestRun(models.Model):
    """The digest of one user for one local period (a day, or the week starting on its send day).

    The unique (user, period) constraint is what makes "never twice" hold: whoever inserts the
    row owns the period; the send claims it queued -> sending with a conditional UPDATE.
    Test digests have no period.
    """

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        EMPTY = "empty", "Nothing to send"
        SKIPPED = "skipped", "Skipped (too late)"
        FAILED = "failed", "Failed"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest_runs")
    period = models.DateField(null=True, blank=True, help_text="Local send day of the period; empty for a test.")
    scheduled_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(max_length=8, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    message_id = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = (models.UniqueConstraint(fields=("user", "period"), name="digestrun_once_per_period"),)
        indexes = (models.Index(fields=("state", "created_at"), name="digestrun_state"),)

    def __str__(self) -> str:
        return f"Digest for {self.user} ({self.period or 'test'}): {self.state}"

    @property
    def is_test(self) -> bool:
        return self.period is None
