"""API tokens and the stored answers to creates sent with an ``Idempotency-Key``.

A token is shown once and stored only as the SHA-256 of its secret: the secret is 32 random
bytes, so a fast hash is as safe as a slow one (there is nothing to guess), and every request
can look its token up by an index instead of trying each row's salt.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from crm.models import QueuedEmail, WorkspaceQuerySet, WorkspaceScoped


class ApiToken(WorkspaceScoped):
    """A user's key to one workspace's API, to read, or to read and write; private facts only
    when ``private`` is set. What the user may do is still their role's (``crm.permissions``)."""

    class Scope(models.TextChoices):
        READ = "read", "Read"
        WRITE = "write", "Read and write"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    scope = models.CharField(max_length=5, choices=Scope.choices, default=Scope.READ)
    private = models.BooleanField(default=False, help_text="May read private facts (health, religion, politics...).")
    # The first characters of the secret, shown in lists so a user can tell tokens apart.
    prefix = models.CharField(max_length=16)
    digest = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the secret, hex.")
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def can_write(self) -> bool:
        return self.scope == self.Scope.WRITE


class IdempotencyKeyQuerySet(WorkspaceQuerySet):
    workspace_path = "token__workspace"


class IdempotentRequest(models.Model):
    """The first answer to a create sent with ``Idempotency-Key``, per token and key: a retry
    gets this answer again and creates nothing. Written in the create's own transaction, so a
    create that failed leaves no key behind."""

    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # Method, path and a hash of the body: the same key with another request is refused (422).
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    body = models.JSONField()
    location = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = IdempotencyKeyQuerySet.as_manager()

    class Meta:
        constraints = (models.UniqueConstraint(fields=("token", "key"), name="idempotency_unique_key"),)
        indexes = (models.Index(fields=("created_at",), name="idempotency_created"),)

    def __str__(self) -> str:
        return f"{self.key} ({self.status_code})"


class WebhookEndpoint(WorkspaceScoped):
    """An owner's HTTPS address told of the workspace's events, signed per Standard Webhooks
    with ``secret``. Turned off (``disabled_at``) after WEBHOOK_DISABLE_AFTER failed attempts in
    a row, and the owner told by email."""

    url = models.URLField(max_length=500)
    description = models.CharField(max_length=100, blank=True)
    events = models.JSONField(default=list, help_text="Event types sent here.")
    # Standard Webhooks' whsec_ + base64 of 24 random bytes; needed to sign, so kept as it is.
    secret = models.CharField(max_length=100)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    failures_in_a_row = models.PositiveIntegerField(default=0)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    # The last reminder occurrence looked at for "follow-up due" (they are read in id order).
    occurrences_seen = models.BigIntegerField(default=0)

    class Meta:
        ordering = ("created_at", "id")

    def __str__(self) -> str:
        return self.url

    @property
    def enabled(self) -> bool:
        return self.disabled_at is None


class DeliveryQuerySet(WorkspaceQuerySet):
    workspace_path = "endpoint__workspace"


class WebhookDelivery(models.Model):
    """One event for one endpoint: a committed row, sent by a worker and retried with
    exponential backoff until it is delivered or has failed WEBHOOK_MAX_ATTEMPTS times.

    ``event_key`` is unique per endpoint: the same change, or the same reminder occurrence,
    never makes two deliveries, whoever records it how often."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=40)
    event_key = models.CharField(max_length=120)
    message_id = models.CharField(max_length=40, unique=True, help_text="webhook-id: the same on every retry.")
    object_id = models.BigIntegerField(null=True)
    # The body, built when first sent (the object as it then is) and sent the same on retries;
    # set at once for a deletion, whose object is gone by then.
    payload = models.JSONField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = (models.UniqueConstraint(fields=("endpoint", "event_key"), name="delivery_once_per_event"),)
        indexes = (models.Index(fields=("state", "next_attempt_at"), name="delivery_state_next"),)

    def __str__(self) -> str:
        return f"{self.event} to {self.endpoint}: {self.state}"


class WebhookAlert(QueuedEmail, WorkspaceScoped):
    """The email telling an owner that an endpoint was turned off (an outbox row, sent once)."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="+")
    to = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.endpoint} turned off: told {self.to}"
