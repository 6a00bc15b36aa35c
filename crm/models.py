"""Accounts and workspaces: who a user is, which workspaces they belong to, and in what role."""

from __future__ import annotations

import zoneinfo
from typing import Any, ClassVar, Self

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac

from crm import dateformats


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("Users must have an email address.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


def time_zone_choices() -> list[tuple[str, str]]:
    """Every zone this machine can load, so a zone stored years ago still validates; what a
    person is offered is the shorter, grouped list of ``crm.timezones``."""
    return [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())]


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in. Signs in with an email address; has a time zone of their own."""

    email = models.EmailField(unique=True)
    display_name = models.CharField(max_length=150, blank=True)
    time_zone = models.CharField(max_length=64, default="UTC", choices=time_zone_choices)
    # Empty until chosen: the first page they open presets it from the browser's language.
    date_style = models.CharField(max_length=8, blank=True, choices=dateformats.CHOICES)

    class Theme(models.TextChoices):
        SYSTEM = "system", "Follow the system"
        LIGHT = "light", "Light"
        DARK = "dark", "Dark"

    # Rendered by the server as data-bs-theme on <html>, so a chosen theme paints right the first time.
    theme = models.CharField(max_length=6, choices=Theme.choices, default=Theme.SYSTEM)
    current_workspace = models.ForeignKey(
        "Workspace", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Digest(models.TextChoices):
        OFF = "off", "Off"
        DAILY = "daily", "Daily"
        WEEKLY = "weekly", "Weekly"

    WEEKDAYS = [
        (0, "Monday"),
        (1, "Tuesday"),
        (2, "Wednesday"),
        (3, "Thursday"),
        (4, "Friday"),
        (5, "Saturday"),
        (6, "Sunday"),
    ]

    digest = models.CharField(max_length=6, choices=Digest.choices, default=Digest.WEEKLY)
    digest_weekday = models.PositiveSmallIntegerField(choices=WEEKDAYS, default=0)
    digest_hour = models.PositiveSmallIntegerField(
        default=8, choices=[(h, f"{h:02d}:00") for h in range(24)], help_text="In your time zone."
    )
    digest_since = models.DateTimeField(
        default=timezone.now, help_text="When the digest schedule was last chosen; no digest is due before it."
    )
    digest_always = models.BooleanField(default=False, help_text="Send the digest even when there is nothing to do.")
    date_lead_days = models.PositiveSmallIntegerField(
        default=7, help_text="How many days before a birthday or anniversary it shows on the dashboard."
    )
    # Part of every session's auth hash: changing it signs the user out on every device.
    session_generation = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ("email",)

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.display_name or self.email.split("@")[0]

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        """The user's time zone; UTC when the stored name is not one this machine knows
        (a zone renamed or dropped by a tzdata update must not break their pages or emails)."""
        try:
            return zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo("UTC")

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        key_salt = "crm.User.get_session_auth_hash"
        value = f"{self.password}:{self.session_generation}"
        return salted_hmac(key_salt, value, secret=secret, algorithm="sha256").hexdigest()

    def get_full_name(self) -> str:
        return self.name

    def get_short_name(self) -> str:
        return self.name


class Workspace(models.Model):
    """A shared book of customers. Every record that holds customer data belongs to one."""

    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now)
    # Set by an owner: members without a second factor are sent to set one up before anything else.
    require_two_factor = models.BooleanField(default=False)
    # Set by an owner: a session idle this long in the workspace is logged out (0: never).
    idle_timeout_minutes = models.PositiveIntegerField(default=0)
    # Retention rules run by beat (exports/retention.py); 0 leaves people as they are.
    archive_uncontacted_years = models.PositiveSmallIntegerField(default=0)
    delete_archived_days = models.PositiveIntegerField(default=0)
    members: models.ManyToManyField[User, Membership] = models.ManyToManyField(
        User, through="Membership", related_name="workspaces"
    )

    class Meta:
        ordering = ("name", "id")

    def __str__(self) -> str:
        return self.name


class WorkspaceQuerySet(models.QuerySet):
    """The one door to tenant data: every query for customer records starts here.

    Every model that belongs to a workspace has a manager made from this queryset (or a
    subclass), ``tests/crm/test_one_door.py`` makes sure of it. A model that belongs to one
    only through a parent (a row of a job, say) says the way there in a subclass::

        class JobRowQuerySet(WorkspaceQuerySet):
            workspace_path = "job__workspace"
    """

    # The lookup from a row to its workspace: the row's own ``workspace``, or through parents.
    workspace_path: ClassVar[str] = "workspace"

    def for_workspace(self, workspace: Workspace) -> Self:
        return self.filter(**{self.workspace_path: workspace})

    def for_member(self, user: User) -> Self:
        """Rows in any of the workspaces the user is a member of now (what a digest covers)."""
        workspaces = Membership.objects.filter(user=user).values("workspace")
        return self.filter(**{f"{self.workspace_path}__in": workspaces})


class Membership(models.Model):
    """A user in a workspace, in a role; what each role may do is ``crm.permissions``."""

    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        MEMBER = "member", "Member"
        VIEWER = "viewer", "Viewer"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(default=timezone.now)

    objects = WorkspaceQuerySet.as_manager()

    class Meta:
        constraints = (models.UniqueConstraint(fields=("workspace", "user"), name="membership_unique"),)
        ordering = ("workspace", "user__email")

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace} ({self.role})"

    @property
    def is_owner(self) -> bool:
        return self.role == self.Role.OWNER


class WorkspaceScoped(models.Model):
    """Base for every model that holds customer data."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")

    objects = WorkspaceQuerySet.as_manager()

    class Meta:
        abstract = True


class QueuedEmail(models.Model):
    """The state of the one email a row sends from the worker, kept on the row (an outbox), so a
    failure is visible and a send is claimed once (``crm.emails.send_once``)."""

    class EmailState(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    email_state = models.CharField(max_length=10, choices=EmailState.choices, default=EmailState.QUEUED)
    email_claimed_at = models.DateTimeField(null=True, blank=True)
    email_sent_at = models.DateTimeField(null=True, blank=True)
    email_error = models.TextField(blank=True)

    class Meta:
        abstract = True


class Invitation(QueuedEmail, WorkspaceScoped):
    """An owner's invitation of a teammate by email; accepted through a signed, expiring link."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        REVOKED = "revoked", "Revoked"

    email = models.EmailField()
    invited_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"Invitation of {self.email} to {self.workspace}"


class Signup(QueuedEmail):
    """What someone typed on the sign-up page, until the emailed link proves the address is theirs.

    Every sign-up writes one row, whether or not the address already has an account, so the page
    can answer the same for both: a new address is emailed a confirmation link (``kind`` new), an
    existing one a "someone tried to sign up with your address" note (``kind`` existing). The
    password is kept only as its hash. The email goes out from the worker.
    """

    class Kind(models.TextChoices):
        NEW = "new", "New address"
        EXISTING = "existing", "Address with an account"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        CONFIRMED = "confirmed", "Confirmed"
        REPLACED = "replaced", "Replaced by a later sign-up"

    email = models.EmailField(db_index=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    display_name = models.CharField(max_length=150, blank=True)
    time_zone = models.CharField(max_length=64, default="UTC", choices=time_zone_choices)
    date_style = models.CharField(max_length=8, blank=True, choices=dateformats.CHOICES)
    password = models.CharField(max_length=128, blank=True, help_text="The password's hash, never the password.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # A sign-up from an invitation link joins that workspace when it is confirmed.
    invitation = models.ForeignKey(Invitation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"Sign-up of {self.email} ({self.kind}, {self.status})"


class SchedulerHeartbeat(models.Model):
    """One row, touched by a beat task, so the app can tell when the scheduler last ran."""

    name = models.CharField(max_length=50, unique=True)
    last_beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.last_beat_at:%Y-%m-%d %H:%M}"


class PasswordResetRequest(models.Model):
    """One asked-for reset email (an outbox row), so it is sent once even with the broker down.

    The worker claims it queued -> sending with a conditional UPDATE; the sweeper hints again
    a request whose message was never sent or whose worker died.
    """

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=8, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = (models.Index(fields=("state", "created_at"), name="passwordreset_state"),)

    def __str__(self) -> str:
        return f"Password reset for {self.user}: {self.state}"


class AuditEventQuerySet(WorkspaceQuerySet):
    def for_workspace(self, workspace: Workspace) -> Self:
        """The workspace's own events, and the account events (logins, second factor) of the
        people who are its members now: an owner sees who got into their book, and how."""
        members = Membership.objects.filter(workspace=workspace).values("user")
        return self.filter(models.Q(workspace=workspace) | models.Q(workspace__isnull=True, actor__in=members))


class AuditEvent(models.Model):
    """One security-relevant event or bulk access to personal data: who, when, from where, what.

    Written by ``crm.audit.audit_record`` inside the action's own transaction, so a failed action
    leaves none and a done one always leaves one; never edited or deleted by the app (no view
    does), only pruned past AUDIT_RETENTION_DAYS by beat. Names no customer: people appear as
    counts and numbers, so erasing a person leaves nothing of them here.
    """

    class Action(models.TextChoices):
        LOGIN = "login", "Logged in"
        LOGIN_FAILED = "login_failed", "Failed login"
        LOGOUT = "logout", "Logged out"
        TWO_FACTOR_ADDED = "two_factor_added", "Second factor added"
        TWO_FACTOR_REMOVED = "two_factor_removed", "Second factor removed"
        RECOVERY_CODES = "recovery_codes", "Recovery codes made"
        MEMBER_INVITED = "member_invited", "Member invited"
        MEMBER_JOINED = "member_joined", "Member joined"
        MEMBER_REMOVED = "member_removed", "Member removed"
        MEMBER_ROLE = "member_role", "Role changed"
        EXPORT = "export", "Export"
        BACKUP_DOWNLOADED = "backup_downloaded", "Backup downloaded"
        BACKUP_RESTORED = "backup_restored", "Backup restored"
        FEED_CREATED = "feed_created", "Calendar feed created"
        FEED_REGENERATED = "feed_regenerated", "Calendar feed regenerated"
        PERSON_DELETED = "person_deleted", "People deleted"
        PERSON_MERGED = "person_merged", "People merged"
        PERSON_HANDED_OVER = "person_handed_over", "People handed over"
        BULK_ACTION = "bulk_action", "Bulk action"
        IMPORT_FINISHED = "import_finished", "Import finished"
        AUDIT_EXPORTED = "audit_exported", "Audit log exported"
        TWO_FACTOR_REQUIRED = "two_factor_required", "Two-factor requirement changed"
        IDLE_TIMEOUT = "idle_timeout", "Idle timeout changed"
        PASSWORD_CHANGED = "password_changed", "Password changed"
        SESSION_ENDED = "session_ended", "Session logged out"
        SUBJECT_ACCESS = "subject_access", "Subject access export"
        PERSON_ERASED = "person_erased", "Person erased"
        ACCOUNT_DELETED = "account_deleted", "Account deleted"
        RETENTION_CHANGED = "retention_changed", "Retention rules changed"
        API_TOKEN_CREATED = "api_token_created", "API token created"
        API_TOKEN_REVOKED = "api_token_revoked", "API token revoked"
        WEBHOOK_ADDED = "webhook_added", "Webhook added"
        WEBHOOK_REMOVED = "webhook_removed", "Webhook removed"
        APP_PASSWORD_CREATED = "app_password_created", "App password created"
        APP_PASSWORD_REVOKED = "app_password_revoked", "App password revoked"
        INBOUND_ROTATED = "inbound_rotated", "Logging address changed"
        SENDER_APPROVED = "sender_approved", "Sender approved"
        SENDER_REMOVED = "sender_removed", "Sender removed"

    workspace = models.ForeignKey(Workspace, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Kept as typed when there is no account (a failed login) and after the account is gone.
    actor_email = models.EmailField(blank=True)
    action = models.CharField(max_length=24, choices=Action.choices)
    summary = models.CharField(max_length=300)
    details = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = (
            models.Index(fields=("workspace", "created_at"), name="audit_workspace_time"),
            models.Index(fields=("actor", "created_at"), name="audit_actor_time"),
            models.Index(fields=("created_at",), name="audit_time"),
        )

    def __str__(self) -> str:
        return f"{self.get_action_display()} by {self.actor_email or 'someone'} at {self.created_at:%Y-%m-%d %H:%M}"


class UserSession(models.Model):
    """One signed-in browser of a user, for the sessions list: made at login (``crm.sessions``),
    seen again at most once a minute, gone when logged out there."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    session_key = models.CharField(max_length=40, unique=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-last_seen_at", "-id")
        indexes = (models.Index(fields=("user", "last_seen_at"), name="usersession_user_seen"),)

    def __str__(self) -> str:
        return f"Session of {self.user} from {self.ip_address or 'somewhere'}"


class SecurityNotice(QueuedEmail):
    """An email telling a user about a change to their account's security (an outbox row, sent
    once from the worker): a login from a new device, a new password, a second factor changed."""

    class Kind(models.TextChoices):
        NEW_DEVICE = "new_device", "Login from a new device"
        PASSWORD = "password", "Password changed"
        TWO_FACTOR = "two_factor", "Second factor changed"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    # What the email says: the device and address, or which factor changed how.
    what = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.user}"
