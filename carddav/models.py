"""Read-only CardDAV: app passwords for devices, one address book per user and workspace, and
the state of each card a book has served (what a sync token counts from).

A card's ETag is the hash of what it says, and the book keeps the last ETag it served for
each person with the book's change counter at that moment. A sync token is that counter: an
incremental sync reads the rows past it (one query), and people who left the book (archived,
deleted, merged away, handed to someone else under "only my people") keep a row marked gone,
so the phone is told to remove them.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.utils import timezone

from crm.models import WorkspaceQuerySet, WorkspaceScoped


def password_digest(password: str) -> str:
    # App passwords are 128 random bits, not something a person chose: a fast hash is enough (no
    # dictionary to try), and it lets every DAV request find its password by an index lookup.
    return hashlib.sha256(password.encode()).hexdigest()


class AppPasswordQuerySet(models.QuerySet["AppPassword"]):
    def active(self) -> AppPasswordQuerySet:
        return self.filter(revoked_at__isnull=True)


class AppPassword(models.Model):
    """A password for one device's contact sync: DAV only, never the web login or an API."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="dav_passwords")
    name = models.CharField(max_length=100, help_text="The device it is for, e.g. “Ngozi's iPhone”.")
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = AppPasswordQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"{self.name} ({self.user})"


class AddressBook(WorkspaceScoped):
    """What one user's devices see of one workspace; made the first time it is asked for."""

    class Scope(models.TextChoices):
        MINE = "mine", "Only my people"
        EVERYONE = "everyone", "Everyone in the workspace"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.EVERYONE)
    # Bumped once by each refresh that finds a change; every changed card row takes the new value.
    version = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = (models.UniqueConstraint(fields=("user", "workspace"), name="addressbook_one_per_user"),)

    def __str__(self) -> str:
        return f"Address book of {self.user} in {self.workspace}"


class CardQuerySet(WorkspaceQuerySet):
    workspace_path = "book__workspace"


class Card(models.Model):
    """The last version of a person's card a book served (or that it is gone from the book)."""

    book = models.ForeignKey(AddressBook, on_delete=models.CASCADE, related_name="cards")
    # Not a foreign key: the row must outlive a deleted person, to tell the phone it is gone.
    person_id = models.PositiveBigIntegerField()
    etag = models.CharField(max_length=64)
    version = models.PositiveBigIntegerField()
    gone = models.BooleanField(default=False)

    objects = CardQuerySet.as_manager()

    class Meta:
        constraints = (models.UniqueConstraint(fields=("book", "person_id"), name="card_one_per_person"),)
        indexes = (models.Index(fields=("book", "version"), name="card_book_version"),)

    def __str__(self) -> str:
        return f"Card of person {self.person_id} in book {self.book_id}"
