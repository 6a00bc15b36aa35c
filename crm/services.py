"""Writes for accounts and workspaces. Views and tasks call these; nothing else changes the rows."""

from __future__ import annotations

import functools
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import Storage
from django.core.mail import EmailMessage
from django.db import IntegrityError, models, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from crm import dateformats
from crm.audit import Action, audit_record
from crm.emails import make_message, mark_email_failed, mask_email, send_once
from crm.models import (
    Invitation,
    Membership,
    PasswordResetRequest,
    SchedulerHeartbeat,
    Signup,
    User,
    Workspace,
    WorkspaceScoped,
)
from crm.queue import claim_timeout, enqueue_on_commit

INVITATION_SALT = "rapport.invitation"
SIGNUP_SALT = "rapport.signup"


@transaction.atomic
def user_sign_up(
    *, email: str, password: str, display_name: str = "", time_zone: str = "UTC", date_style: str = ""
) -> User:
    """Create a user with a workspace of their own, which they own and start in.

    Only for an address already proven to be theirs (an invitation link, a sign-up link): the
    sign-up page goes through ``signup_request``. An address that has an account meanwhile is an
    IntegrityError (the database's unique email is the one check that cannot race).
    """
    user = User(
        email=email.strip().lower(), display_name=display_name.strip(), time_zone=time_zone, date_style=date_style
    )
    user.set_password(password)
    return _user_with_workspace(user)


def _user_with_workspace(user: User) -> User:
    user.full_clean(validate_unique=False)
    user.save()
    workspace_create(user=user, name=f"{user.name[:80]}'s workspace")
    return user


@transaction.atomic
def signup_request(
    *,
    email: str,
    password: str,
    display_name: str = "",
    time_zone: str = "UTC",
    date_style: str = "",
    invitation: Invitation | None = None,
) -> Signup:
    """Record a sign-up from the page and queue its email, doing the same work for any address.

    A new address is emailed a link that finishes the sign-up (``signup_confirm``); an address
    with an account is told someone tried to sign up with it, and nothing about the account
    changes. Both paths hash the password, make one existence check, one UPDATE and one INSERT,
    and queue one task, so neither the page nor its timing tells which it was.
    """
    from crm.tasks import send_signup_email_task

    email = email.strip().lower()
    exists = User.objects.filter(email__iexact=email).exists()
    password_hash = make_password(password)  # on both paths: hashing is most of the time the request takes
    # A second sign-up for an address replaces the first: only the newest link works.
    Signup.objects.filter(email=email, status=Signup.Status.PENDING).update(status=Signup.Status.REPLACED)
    signup = Signup(
        email=email,
        kind=Signup.Kind.EXISTING if exists else Signup.Kind.NEW,
        display_name=display_name.strip(),
        time_zone=time_zone,
        date_style=date_style,
        password="" if exists else password_hash,
        invitation=invitation,
    )
    signup.full_clean()
    signup.save()
    enqueue_on_commit(send_signup_email_task, signup.pk)
    return signup


def signup_token(signup: Signup) -> str:
    return signing.dumps({"s": signup.pk}, salt=SIGNUP_SALT)


def signup_url(signup: Signup) -> str:
    return settings.SITE_URL + reverse("signup_confirm", args=[signup_token(signup)])


class SignupInvalid(Exception):
    """The sign-up link is forged, expired, replaced by a later sign-up, or used."""


class SignupAccountExists(Exception):
    """The address got an account between the sign-up and its link being followed."""


def signup_from_token(token: str) -> Signup:
    """The pending sign-up a link is for. Expiry counts from the sign-up itself (not from when
    the worker built the link), so a late email does not stretch it."""
    try:
        data = signing.loads(token, salt=SIGNUP_SALT)
    except signing.BadSignature as exc:
        raise SignupInvalid("This sign-up link is not valid.") from exc
    signup = Signup.objects.filter(pk=data.get("s"), kind=Signup.Kind.NEW).first()
    if signup is None:
        raise SignupInvalid("This sign-up link is not valid.")
    if signup.status == Signup.Status.CONFIRMED:
        raise SignupInvalid("This link has already been used. Log in with the account it created.")
    if signup.status == Signup.Status.REPLACED:
        raise SignupInvalid(
            "A later sign-up for this address replaced this link. Use the newest email, or sign up again."
        )
    if signup.created_at < timezone.now() - timedelta(hours=settings.SIGNUP_MAX_AGE_HOURS):
        raise SignupInvalid("This sign-up link has expired. Sign up again to get a new one.")
    return signup


class SignupWrongPassword(ValidationError):
    """The password typed on the confirm page is not the one chosen at sign-up."""


@transaction.atomic
def signup_confirm(*, token: str, password: str) -> User:
    """Finish a sign-up from its emailed link: the user and their own workspace, as it was typed.

    Only with the password chosen at sign-up: the link proves the address, the password proves
    the same person signed up, so nobody can sign up with someone else's address, wait for them
    to click the link, and then log in to their account with a password of their choosing.
    The link works once: the row is claimed with a conditional UPDATE. When the address got an
    account meanwhile (an invitation, another tab), nothing is created: SignupAccountExists.
    """
    signup = signup_from_token(token)
    if not check_password(password, signup.password):
        raise SignupWrongPassword(
            {"password": "That is not the password chosen when signing up with this address. Forgotten it, or "
             "was it not you? Sign up again: only the newest link works."}
        )  # fmt: skip
    claimed = Signup.objects.filter(pk=signup.pk, status=Signup.Status.PENDING).update(
        status=Signup.Status.CONFIRMED, confirmed_at=timezone.now()
    )
    if claimed != 1:
        raise SignupInvalid("This link has already been used. Log in with the account it created.")
    if User.objects.filter(email__iexact=signup.email).exists():
        raise SignupAccountExists
    user = User(
        email=signup.email,
        display_name=signup.display_name,
        time_zone=signup.time_zone,
        date_style=signup.date_style,
    )
    user.password = signup.password
    try:
        with transaction.atomic():
            user = _user_with_workspace(user)
    except IntegrityError as exc:  # the same address signed up a moment ago, in another request
        raise SignupAccountExists from exc
    if signup.invitation is not None:
        try:
            with transaction.atomic():
                invitation_accept(invitation=signup.invitation, user=user)
        except InvitationInvalid:
            pass  # withdrawn meanwhile: the account stands, in a workspace of its own
    return user


def signup_email_send(*, signup_id: int) -> bool:
    """Send the sign-up's email once: the link for a new address, the "someone tried" note for
    one with an account. The same claim as ``invitation_send``; a replaced sign-up sends nothing."""
    pending = Signup.objects.filter(status=Signup.Status.PENDING)
    return send_once(pending, pk=signup_id, message=_signup_message)


def _signup_message(signup_id: int) -> EmailMessage:
    signup = Signup.objects.get(pk=signup_id)
    if signup.kind == Signup.Kind.NEW:
        context = {"signup": signup, "confirm_url": signup_url(signup), "max_age_hours": settings.SIGNUP_MAX_AGE_HOURS}
        return make_message("signup-confirm", to=signup.email, context=context)
    user = User.objects.filter(email__iexact=signup.email).first()
    context = {"email": signup.email, "name": user.name if user else signup.email.split("@")[0]}
    return make_message("signup-exists", to=signup.email, context=context)


def signup_mark_failed(*, signup_id: int, error: str) -> None:
    """After the last retry: the email's failure and reason stay on the row."""
    mark_email_failed(Signup, pk=signup_id, error=error)


@transaction.atomic
def workspace_create(*, user: User, name: str) -> Workspace:
    """Create a workspace owned by ``user`` and switch the user to it."""
    workspace = Workspace(name=name.strip())
    workspace.full_clean()
    workspace.save()
    Membership.objects.create(workspace=workspace, user=user, role=Membership.Role.OWNER)
    user.current_workspace = workspace
    user.save(update_fields=["current_workspace"])
    return workspace


def workspace_rename(*, membership: Membership, name: str) -> Workspace:
    _require_owner(membership)
    workspace = membership.workspace
    workspace.name = name.strip()
    workspace.full_clean()
    workspace.save(update_fields=["name"])
    return workspace


def workspace_switch(*, user: User, workspace_id: int) -> Workspace:
    """Make ``workspace_id`` the user's current workspace; only one they are a member of."""
    membership = Membership.objects.select_related("workspace").get(user=user, workspace_id=workspace_id)
    user.current_workspace = membership.workspace
    user.save(update_fields=["current_workspace"])
    return membership.workspace


def _workspace_files(workspace: Workspace) -> list[tuple[Storage, str]]:
    """Every stored file (photos) of ``workspace``'s records, found in the app registry."""
    files = []
    for model in apps.get_models():
        if not issubclass(model, WorkspaceScoped):
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, models.FileField):
                names = (
                    model.objects.for_workspace(workspace)
                    .exclude(**{field.name: ""})
                    .values_list(field.name, flat=True)
                )
                files += [(field.storage, name) for name in names if name]
    return files


@transaction.atomic
def workspace_delete(*, membership: Membership) -> Workspace | None:
    """Delete an owner's workspace with every record in it, all or nothing.

    Returns the workspace the owner lands in: their current one if it was another, else
    another of theirs (None when they have no other: they create one next). Other members'
    current workspace falls back the same way on their next request.
    """
    _require_owner(membership)
    user, workspace = membership.user, membership.workspace
    # Lock the row first: a record being added to it meanwhile either commits before the
    # delete (and is deleted with it) or waits and then fails, never dangles.
    Workspace.objects.select_for_update().get(pk=workspace.pk)
    files = _workspace_files(workspace)
    workspace.delete()
    for storage, name in files:
        transaction.on_commit(functools.partial(storage.delete, name))
    user.refresh_from_db(fields=["current_workspace"])
    if user.current_workspace_id is not None:
        return user.current_workspace
    following = Membership.objects.filter(user=user).select_related("workspace").order_by("workspace__name", "id")
    landing = following.first()
    user.current_workspace = landing.workspace if landing else None
    user.save(update_fields=["current_workspace"])
    return user.current_workspace


SETTINGS_FIELDS = (
    "display_name",
    "time_zone",
    "date_style",
    "theme",
    "digest",
    "digest_weekday",
    "digest_hour",
    "digest_always",
    "date_lead_days",
)


SCHEDULE_FIELDS = ("digest", "digest_weekday", "digest_hour", "time_zone")


def user_update_settings(*, user: User, **fields: object) -> User:
    """Save the user's settings. A new digest schedule starts now: no digest for a send time
    that passed before it was chosen."""
    # Compared with the stored row, not ``user``: a bound ModelForm has already copied the new
    # values onto the instance it was given, so the schedule would never look changed.
    stored = User.objects.filter(pk=user.pk).values(*SCHEDULE_FIELDS).first() or {}
    changed = [name for name in SCHEDULE_FIELDS if name in fields and stored.get(name) != fields[name]]
    for name, value in fields.items():
        if name not in SETTINGS_FIELDS:
            raise ValueError(f"Not a setting: {name}")
        setattr(user, name, value.strip() if isinstance(value, str) and name == "display_name" else value)
    update = list(fields)
    if changed:
        user.digest_since = timezone.now()
        update.append("digest_since")
    user.full_clean()
    user.save(update_fields=update)
    return user


def user_preset_date_style(*, user: User, date_style: str) -> None:
    """Give a user who never chose a date style the one their browser asks for. Only while it is
    still empty (a conditional UPDATE): two first pages at once, or a choice made meanwhile in
    another tab, are never overwritten."""
    if date_style not in dateformats.STYLES:
        return
    if User.objects.filter(pk=user.pk, date_style="").update(date_style=date_style):
        user.date_style = date_style


def password_reset_request(*, user: User) -> PasswordResetRequest | None:
    """Queue a reset email for ``user``: the row is the promise, the worker sends it.

    At most PASSWORD_RESET_MAX_PER_HOUR rows an hour per user, counted in the database: the rate
    limit in front of this lets requests through when its cache is down, and every row written
    would be sent by the sweeper later. Past it nothing is queued and None is returned; the page
    answers the same, so it tells no one whether the address has an account.
    """
    from crm.tasks import send_password_reset_task

    with transaction.atomic():
        # The user's row locked: two requests at once cannot both see room for one more.
        User.objects.select_for_update().filter(pk=user.pk).first()
        recent = PasswordResetRequest.objects.filter(user=user, created_at__gt=timezone.now() - timedelta(hours=1))
        if recent.count() >= settings.PASSWORD_RESET_MAX_PER_HOUR:
            return None
        request = PasswordResetRequest.objects.create(user=user)
    enqueue_on_commit(send_password_reset_task, request.pk)
    return request


def password_reset_send(*, request_id: int) -> bool:
    """Email an active user a single-use link to choose a new password (built from SITE_URL).

    Sent once per request: the row is claimed with a conditional UPDATE (as ``invitation_send``
    does), so a repeated hint finds nothing to claim. On an error the claim is released and
    the error re-raised for a retry. Returns False when there was nothing to send.
    """
    now = timezone.now()
    state = PasswordResetRequest.State
    claimable = Q(state=state.QUEUED) | Q(state=state.SENDING, claimed_at__lt=now - claim_timeout())
    claimed = PasswordResetRequest.objects.filter(claimable, pk=request_id).update(
        state=state.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    if claimed != 1:
        return False
    request = PasswordResetRequest.objects.select_related("user").get(pk=request_id)
    user = request.user
    if not user.is_active:
        PasswordResetRequest.objects.filter(pk=request_id).update(state=state.FAILED, error="The account is inactive.")
        return False
    context = {
        "user": user,
        "email": user.email,
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": default_token_generator.make_token(user),
    }
    try:
        make_message("password-reset", to=user.email, context=context).send()
    except Exception as exc:
        PasswordResetRequest.objects.filter(pk=request_id).update(state=state.QUEUED, error=str(exc)[:1000])
        raise
    PasswordResetRequest.objects.filter(pk=request_id).update(state=state.SENT, sent_at=timezone.now(), error="")
    return True


def password_reset_mark_failed(*, request_id: int, error: str) -> None:
    """After the last retry: nothing will send it now."""
    PasswordResetRequest.objects.filter(pk=request_id).exclude(state=PasswordResetRequest.State.SENT).update(
        state=PasswordResetRequest.State.FAILED, error=error[:1000]
    )


def user_log_out_everywhere(*, user: User) -> None:
    """End every session of the user, on every device (this one included)."""
    User.objects.filter(pk=user.pk).update(session_generation=F("session_generation") + 1)


def _require_owner(membership: Membership) -> None:
    if not membership.is_owner:
        raise PermissionDenied("Only an owner of this workspace can do that.")


@transaction.atomic
def invitation_create(*, membership: Membership, email: str) -> Invitation:
    """Invite ``email`` to the owner's workspace; the email goes out from the worker."""
    from crm.tasks import send_invitation_task

    _require_owner(membership)
    email = email.strip().lower()
    workspace = membership.workspace
    if Membership.objects.for_workspace(workspace).filter(user__email=email).exists():
        raise ValidationError({"email": f"{email} is already a member of this workspace."})
    # One live invitation per address: a second invite replaces the first.
    Invitation.objects.for_workspace(workspace).filter(email=email, status=Invitation.Status.PENDING).update(
        status=Invitation.Status.REVOKED
    )
    invitation = Invitation(workspace=workspace, email=email, invited_by=membership.user)
    invitation.full_clean()
    invitation.save()
    audit_record(action=Action.MEMBER_INVITED, membership=membership, summary=f"Invited {email}")
    enqueue_on_commit(send_invitation_task, invitation.pk)
    return invitation


def invitation_token(invitation: Invitation) -> str:
    return signing.dumps({"i": invitation.pk}, salt=INVITATION_SALT)


def invitation_url(invitation: Invitation) -> str:
    return settings.SITE_URL + reverse("invitation_accept", args=[invitation_token(invitation)])


class InvitationInvalid(Exception):
    """The link is forged, expired, revoked or used."""


def invitation_from_token(token: str) -> Invitation:
    max_age = timedelta(days=settings.INVITATION_MAX_AGE_DAYS)
    try:
        data = signing.loads(token, salt=INVITATION_SALT, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise InvitationInvalid("This invitation has expired. Ask for a new one.") from exc
    except signing.BadSignature as exc:
        raise InvitationInvalid("This invitation link is not valid.") from exc
    invitation = Invitation.objects.select_related("workspace", "invited_by").filter(pk=data.get("i")).first()
    if invitation is None or invitation.status == Invitation.Status.REVOKED:
        raise InvitationInvalid("This invitation was withdrawn. Ask for a new one.")
    if invitation.status == Invitation.Status.ACCEPTED:
        raise InvitationInvalid("This invitation has already been used.")
    return invitation


class InvitationForSomeoneElse(PermissionDenied):
    """The accepting account's email is not the address the invitation was sent to."""

    def __init__(self, invitation: Invitation) -> None:
        super().__init__(
            f"This invitation is for {mask_email(invitation.email)}; log out or ask the owner to invite this address."
        )


def invitation_is_for(invitation: Invitation, *, user: User) -> bool:
    return user.email.strip().lower() == invitation.email.strip().lower()


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: User) -> Membership:
    """Join the invitation's workspace as a member. A link works once, and only for the account
    with the invited address: a forwarded link opens nothing for anyone else."""
    if not invitation_is_for(invitation, user=user):
        raise InvitationForSomeoneElse(invitation)
    claimed = Invitation.objects.filter(pk=invitation.pk, status=Invitation.Status.PENDING).update(
        status=Invitation.Status.ACCEPTED, accepted_at=timezone.now(), accepted_by=user
    )
    if claimed != 1:
        raise InvitationInvalid("This invitation has already been used.")
    membership, _ = Membership.objects.get_or_create(
        workspace=invitation.workspace, user=user, defaults={"role": Membership.Role.MEMBER}
    )
    user.current_workspace = invitation.workspace
    user.save(update_fields=["current_workspace"])
    audit_record(action=Action.MEMBER_JOINED, membership=membership, summary=f"{user.email} joined as a member")
    return membership


ACCOUNT_EXISTS_FOR_INVITEE = "An account with this address already exists. Log in to join."


@transaction.atomic
def invitation_sign_up(
    *, invitation: Invitation, password: str, display_name: str = "", time_zone: str = "UTC", date_style: str = ""
) -> Signup:
    """Sign up from an invitation: always the invited address, confirmed by an email to it.

    Holding the link is not enough: a forwarded invitation would otherwise give its holder an
    account under the invitee's address. The confirmation link goes to that address; confirming
    (with the password typed here) creates the account and joins the workspace. Telling the
    link's holder that this address already has an account reveals nothing new.
    """
    if User.objects.filter(email__iexact=invitation.email).exists():
        raise ValidationError({"email": ACCOUNT_EXISTS_FOR_INVITEE})
    return signup_request(
        email=invitation.email,
        password=password,
        display_name=display_name,
        time_zone=time_zone,
        date_style=date_style,
        invitation=invitation,
    )


def invitation_revoke(*, membership: Membership, invitation_id: int) -> Invitation:
    """Withdraw a pending invitation. One already accepted is not pending: DoesNotExist."""
    _require_owner(membership)
    invitation = Invitation.objects.for_workspace(membership.workspace).get(
        pk=invitation_id, status=Invitation.Status.PENDING
    )
    claimed = Invitation.objects.filter(pk=invitation.pk, status=Invitation.Status.PENDING).update(
        status=Invitation.Status.REVOKED
    )
    if claimed != 1:
        raise Invitation.DoesNotExist
    return invitation


def invitation_send(*, invitation_id: int) -> bool:
    """Send the invitation email once. Returns False when another run already has it.

    The row is claimed with a conditional UPDATE, so a duplicated or redelivered task does
    not send twice. On an error the claim is released and the error re-raised for a retry. A
    claim left behind by a worker killed mid-send expires, so a redelivery can take it again.
    """
    pending = Invitation.objects.filter(status=Invitation.Status.PENDING)
    return send_once(pending, pk=invitation_id, message=_invitation_message)


def _invitation_message(invitation_id: int) -> EmailMessage:
    invitation = Invitation.objects.select_related("workspace", "invited_by").get(pk=invitation_id)
    context = {
        "invitation": invitation,
        "accept_url": invitation_url(invitation),
        "max_age_days": settings.INVITATION_MAX_AGE_DAYS,
    }
    return make_message("invitation", to=invitation.email, context=context)


def invitation_mark_failed(*, invitation_id: int, error: str) -> None:
    """After the last retry: the owner sees "failed" and the reason on the members page."""
    mark_email_failed(Invitation, pk=invitation_id, error=error)


def invitation_resend(*, membership: Membership, invitation_id: int) -> Invitation:
    from crm.tasks import send_invitation_task

    _require_owner(membership)
    invitation = Invitation.objects.for_workspace(membership.workspace).get(
        pk=invitation_id, status=Invitation.Status.PENDING
    )
    Invitation.objects.filter(pk=invitation.pk).exclude(email_state=Invitation.EmailState.SENDING).update(
        email_state=Invitation.EmailState.QUEUED, email_error=""
    )
    enqueue_on_commit(send_invitation_task, invitation.pk)
    return invitation


@transaction.atomic
def membership_remove(*, membership: Membership, member_id: int) -> None:
    """Remove a member at once: their next request no longer sees the workspace."""
    _require_owner(membership)
    owners = _lock_owners(membership.workspace)
    target = Membership.objects.select_for_update().for_workspace(membership.workspace).get(pk=member_id)
    if target.is_owner and len(owners) <= 1:
        raise ValidationError("A workspace needs at least one owner.")
    target.delete()
    User.objects.filter(pk=target.user_id, current_workspace=membership.workspace).update(current_workspace=None)
    audit_record(action=Action.MEMBER_REMOVED, membership=membership, summary=f"Removed {target.user.email}")


@transaction.atomic
def membership_set_role(*, membership: Membership, member_id: int, role: str) -> Membership:
    _require_owner(membership)
    owners = _lock_owners(membership.workspace)
    target = Membership.objects.select_for_update().for_workspace(membership.workspace).get(pk=member_id)
    if role not in Membership.Role.values:
        raise ValidationError("Unknown role.")
    if target.is_owner and role != Membership.Role.OWNER and len(owners) <= 1:
        raise ValidationError("A workspace needs at least one owner.")
    target.role = role
    target.save(update_fields=["role"])
    summary = f"{target.user.email} is now {target.get_role_display().lower()}"
    audit_record(action=Action.MEMBER_ROLE, membership=membership, summary=summary, details={"role": role})
    return target


def _lock_owners(workspace: Workspace) -> list[Membership]:
    # Lock every owner row before counting: two owners demoting each other at once must not
    # both see "two owners" and leave the workspace with none.
    return list(Membership.objects.select_for_update().for_workspace(workspace).filter(role=Membership.Role.OWNER))


def heartbeat_record(*, name: str = "beat") -> None:
    SchedulerHeartbeat.objects.update_or_create(name=name, defaults={"last_beat_at": timezone.now()})
