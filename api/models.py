"""API tokens and the stored answers to creates sent with an ``Idempotency-Key``.

A token is shown once and stored only as the SHA-256 of its secret: the secret is 32 random
bytes, so a fast hash is as safe as a slow one (there is nothing to guess), and every request
can look its token up by an index instead of trying each row's salt.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from crm.models import WorkspaceQuerySet, WorkspaceScoped


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
