"""Web Push: the devices a user turned reminders on for, and one row per device and morning.

A user's subscriptions are theirs, not a workspace's (the notification speaks of every
workspace they are in, as the digest does), so these are reached through the user.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class PushSubscription(models.Model):
    """One browser on one device that said yes to notifications (the Push API's subscription)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_subscriptions")
    endpoint = models.URLField(max_length=1000, unique=True)
    p256dh = models.CharField(max_length=200)
    auth = models.CharField(max_length=100)
    device = models.CharField(
        max_length=120, blank=True, help_text="What the browser said it is, to tell devices apart."
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return self.device or "A device"


class PushRun(models.Model):
    """The morning notification of one device for one local day: sent once, or visibly not.

    As with digests (``digests.models.DigestRun``), the unique (subscription, period) row is what
    makes "never twice" hold; the send claims it queued -> sending with a conditional UPDATE.
    """

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        EMPTY = "empty", "Nothing to send"
        SKIPPED = "skipped", "Skipped (too late)"
        GONE = "gone", "Device gone"
        FAILED = "failed", "Failed"

    subscription = models.ForeignKey(PushSubscription, on_delete=models.CASCADE, related_name="runs")
    period = models.DateField(help_text="The local day it is the morning notification of.")
    scheduled_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(max_length=8, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = (models.UniqueConstraint(fields=("subscription", "period"), name="pushrun_once_per_day"),)
        indexes = (models.Index(fields=("state", "created_at"), name="pushrun_state"),)

    def __str__(self) -> str:
        return f"Push to {self.subscription} for {self.period}: {self.state}"
