"""Import jobs: an uploaded address book, its rows as read, and what became of each.

The job row is the progress bar (status, processed of total) and the result page; each row
keeps the contact as read, the possible duplicate found, the user's choice and the outcome,
so a job can be resumed after a crash without doing any row twice.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from crm.models import WorkspaceScoped


class ImportJob(WorkspaceScoped):
    class Kind(models.TextChoices):
        VCARD = "vcard", "vCard"
        CSV = "csv", "CSV"
        BACKUP = "backup", "Workspace backup"

    class Status(models.TextChoices):
        MAPPING = "mapping", "Waiting for the column mapping"
        READING = "reading", "Reading the file"
        READY = "ready", "Waiting for your go-ahead"
        RUNNING = "running", "Importing"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"
        EXPIRED = "expired", "Expired (the upload waited too long)"

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    file_name = models.CharField(max_length=255)
    kind = models.CharField(max_length=6, choices=Kind.choices)
    # The upload itself, in the database so any worker can read it; emptied once imported.
    data = models.BinaryField(default=b"")
    header = models.JSONField(default=list, blank=True)
    mapping = models.JSONField(default=list, blank=True)
    recognised_as = models.CharField(max_length=50, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.READING)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    merged = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Reading and running: when the job last moved (queued, claimed, a batch done), the
    # worker's claim (empty while the job waits for one) and how often it was taken over.
    moved_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    takeovers = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = (models.Index(fields=("status", "moved_at"), name="importjob_status_moved"),)

    def __str__(self) -> str:
        return self.file_name

    def get_absolute_url(self) -> str:
        return reverse("imports:detail", args=[self.pk])

    @property
    def percent(self) -> int:
        return int(100 * self.processed / self.total) if self.total else (100 if self.is_finished else 0)

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.DONE, self.Status.FAILED, self.Status.CANCELLED, self.Status.EXPIRED}

    @property
    def is_waiting(self) -> bool:
        """Waiting for the user (the column mapping or the go-ahead): what expires if left."""
        return self.status in WAITING

    @property
    def is_waiting_for_worker(self) -> bool:
        """Queued for reading or running, and no worker has taken it yet."""
        return self.is_working and self.claimed_at is None

    @property
    def is_working(self) -> bool:
        return self.status in {self.Status.READING, self.Status.RUNNING}


WAITING = (ImportJob.Status.MAPPING, ImportJob.Status.READY)


class ImportRow(WorkspaceScoped):
    class Action(models.TextChoices):
        CREATE = "create", "Create a new person"
        MERGE = "merge", "Merge into the existing person"
        SKIP = "skip", "Skip"

    class Outcome(models.TextChoices):
        PENDING = "pending", "Pending"
        CREATED = "created", "Created"
        MERGED = "merged", "Merged"
        SKIPPED = "skipped", "Skipped"
        FAILED = "failed", "Failed"

    class MatchKind(models.TextChoices):
        """Why a row may be someone already known; ``match_reason`` says it in words."""

        NONE = "", "No match"
        EMAIL = "email", "Same email"
        PHONE = "phone", "Same phone"
        SAME_NAME = "same_name", "Same name"
        SIMILAR_NAME = "similar_name", "Very similar name"
        # Repeats an earlier card or line of the same file (skipped; no existing person).
        IN_FILE = "in_file", "Repeat in this file"

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="rows")
    number = models.PositiveIntegerField(help_text="Card or line number in the file.")
    name = models.CharField(max_length=300, blank=True)
    contact = models.JSONField(default=dict)
    error = models.TextField(blank=True)
    has_warnings = models.BooleanField(default=False, help_text="Imported with something left out.")
    duplicate_of = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    match_kind = models.CharField(max_length=12, choices=MatchKind.choices, default=MatchKind.NONE, blank=True)
    match_reason = models.CharField(max_length=300, blank=True)
    action = models.CharField(max_length=6, choices=Action.choices, default=Action.CREATE)
    outcome = models.CharField(max_length=7, choices=Outcome.choices, default=Outcome.PENDING)
    person = models.ForeignKey("people.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ("job", "number")
        constraints = (models.UniqueConstraint(fields=("job", "number"), name="importrow_unique_number"),)
        indexes = (models.Index(fields=("job", "outcome", "number"), name="importrow_job_outcome"),)

    def __str__(self) -> str:
        return f"{self.job} #{self.number}"

    @property
    def is_uncertain_match(self) -> bool:
        """Matched by a similar name only: it may well be someone else, so the preview
        suggests skipping it unless the user chooses otherwise."""
        return self.match_kind == self.MatchKind.SIMILAR_NAME

    @property
    def is_repeat_in_file(self) -> bool:
        """Repeats an earlier card or line of the same file: skipped, not a second person."""
        return self.match_kind == self.MatchKind.IN_FILE
