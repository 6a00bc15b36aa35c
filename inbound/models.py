"""Inbound email: each user's private logging address, the senders they approve, and every
message received, kept as a row before anything is done with it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from crm.models import WorkspaceQuerySet, WorkspaceScoped
from interactions.models import Interaction


class InboundAddress(WorkspaceScoped):
    """A user's logging address in one workspace: ``log+TOKEN@example.com``.

    Rotating gives the row a new token, so mail to the old address no longer finds anyone.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    token = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    rotated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = (models.UniqueConstraint(fields=("workspace", "user"), name="inbound_address_one_per_member"),)

    def __str__(self) -> str:
        return self.email

    @property
    def email(self) -> str:
        base = settings.INBOUND_ADDRESS or "log@localhost"
        local, _, domain = base.partition("@")
        return f"{local}+{self.token}@{domain}"


class ApprovedSenderQuerySet(WorkspaceQuerySet):
    workspace_path = "address__workspace"


class ApprovedSender(models.Model):
    """Another address of the user's own (a second mailbox, an alias) whose mail is accepted."""

    address = models.ForeignKey(InboundAddress, on_delete=models.CASCADE, related_name="approved")
    email = models.EmailField()
    created_at = models.DateTimeField(default=timezone.now)

    objects = ApprovedSenderQuerySet.as_manager()

    class Meta:
        ordering = ("email",)
        constraints = (models.UniqueConstraint(fields=("address", "email"), name="inbound_sender_unique"),)

    def __str__(self) -> str:
        return self.email


class InboundMessage(WorkspaceScoped):
    """One received email, committed as it came before it is read, with what became of it."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"  # committed, not read yet
        LOGGED = "logged", "Logged"
        IGNORED = "ignored", "Ignored"
        UNMATCHED = "unmatched", "Unmatched"
        FAILED = "failed", "Could not log"

    class Direction(models.TextChoices):
        SENT = "sent", "Sent"
        RECEIVED = "received", "Received"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=10, default="pipe")  # pipe, imap
    # The IMAP mailbox's "UIDVALIDITY:UID": a message fetched again after a restart is known.
    source_key = models.CharField(max_length=100, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    raw = models.BinaryField()
    size = models.PositiveIntegerField(default=0)
    truncated = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    reason = models.CharField(max_length=300, blank=True)
    # The conversation's key: the forwarded original's Message-ID when known, else this one's.
    message_id = models.CharField(max_length=998, blank=True)
    subject = models.CharField(max_length=998, blank=True)
    sender = models.CharField(max_length=320, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    direction = models.CharField(max_length=10, choices=Direction.choices, blank=True)
    # Whom it could be logged with, as [name, address] pairs: offered on the unmatched list.
    candidates = models.JSONField(default=list, blank=True)
    body = models.TextField(blank=True)  # cleaned: quoted history and signature stripped
    full_text = models.TextField(blank=True)
    html = models.TextField(blank=True)  # sanitised with nh3
    attachments = models.JSONField(default=list, blank=True)
    interaction = models.ForeignKey(
        Interaction, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound_messages"
    )

    class Meta:
        ordering = ("-received_at", "-id")
        constraints = (
            # One conversation per Message-ID per workspace: a BCC and a later forward log once.
            models.UniqueConstraint(
                fields=("workspace", "message_id"),
                condition=models.Q(status="logged") & ~models.Q(message_id=""),
                name="inbound_logged_once",
            ),
            models.UniqueConstraint(
                fields=("source_key",), condition=~models.Q(source_key=""), name="inbound_source_key_once"
            ),
        )
        indexes = (models.Index(fields=("workspace", "user", "status", "-received_at"), name="inbound_ws_user_status"),)

    def __str__(self) -> str:
        return self.subject or f"Message {self.pk}"


class MailboxPoll(models.Model):
    """The IMAP poller's health: when it last ran, succeeded and failed, and why."""

    name = models.CharField(max_length=50, unique=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    failures = models.PositiveIntegerField(default=0)  # in a row, since the last success

    def __str__(self) -> str:
        return self.name

    @property
    def failing(self) -> bool:
        return self.last_failure_at is not None and (
            self.last_success_at is None or self.last_failure_at > self.last_success_at
        )
