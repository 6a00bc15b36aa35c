"""Two-factor login: an authenticator app (TOTP) and ten one-time recovery codes, on django-otp.

django-otp keeps the devices, checks codes (a TOTP code is good once, within a step either
way; a device that keeps getting wrong codes slows down) and marks a session as verified
(``request.user.is_verified()``). What is Rapport's own is the login's second step, which
lives in the session between the password and the code (``pending_*``), and which counts a
wrong code against the same django-axes lockout as a wrong password, so guessing codes is
throttled exactly like guessing passwords.
"""

from __future__ import annotations

import time
from base64 import b32encode
from collections.abc import Callable
from typing import Any

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import user_login_failed
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django_otp import devices_for_user
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from crm import permissions
from crm.access import current_membership
from crm.audit import Action, audit_record
from crm.models import Membership, SecurityNotice, User, Workspace
from crm.sessions import notice_queue

RECOVERY_CODE_COUNT = 10
RECOVERY_DEVICE_NAME = "Recovery codes"
# The session keys of the login's second step, and of recovery codes to show once.
PENDING_KEY = "rapport_two_factor_pending"
FRESH_CODES_KEY = "rapport_fresh_recovery_codes"


def user_has_two_factor(user: User) -> bool:
    """A confirmed second factor other than recovery codes (they only stand in for one)."""
    return any(not isinstance(device, StaticDevice) for device in devices_for_user(user, confirmed=True))


def user_totp_devices(user: User) -> list[TOTPDevice]:
    return list(TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id"))


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__name=RECOVERY_DEVICE_NAME).count()


def totp_secret(device: TOTPDevice) -> str:
    """The key as authenticator apps take it typed in: base32, in groups of four."""
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def totp_qr_data_uri(device: TOTPDevice) -> str:
    """The otpauth:// URL as an SVG QR code in a data: URI (the CSP allows data: images),
    drawn dark on white whatever the page's theme, as scanners expect."""
    qr = segno.make(device.config_url, error="m")
    return qr.svg_data_uri(scale=5, dark="#000", light="#fff", border=3)


@transaction.atomic
def totp_begin(*, user: User) -> TOTPDevice:
    """An unconfirmed authenticator for the user: the one being set up (a reload shows the
    same QR code, which may already be scanned), or a new one."""
    waiting = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if waiting is not None:
        return waiting
    device = TOTPDevice(user=user, name="Authenticator app", confirmed=False)
    device.full_clean()
    device.save()
    return device


def totp_pending(*, user: User, device_id: int) -> TOTPDevice:
    """The user's own authenticator still waiting for its first code (anyone else's: DoesNotExist)."""
    return TOTPDevice.objects.get(user=user, pk=device_id, confirmed=False)


@transaction.atomic
def totp_confirm(*, user: User, device_id: int, code: str) -> list[str]:
    """Turns the authenticator on when ``code`` is one it shows now; returns fresh recovery
    codes when the user had none (to be shown once), else an empty list."""
    device = totp_pending(user=user, device_id=device_id)
    if not device.verify_token(normalise_code(code)):
        raise ValidationError({"code": "That code is not the one your app shows now. Try the next one."})
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    audit_record(action=Action.TWO_FACTOR_ADDED, actor=user, summary="Turned on an authenticator app")
    notice_queue(user=user, kind=SecurityNotice.Kind.TWO_FACTOR, what="an authenticator app was added")
    if recovery_codes_left(user):
        return []
    return recovery_codes_first(user=user)


def recovery_codes_first(*, user: User) -> list[str]:
    """The codes made with a first second factor (in its own audit record)."""
    return _new_recovery_codes(user)


def recovery_codes_drop_if_unused(*, user: User) -> None:
    """With the last second factor gone, its recovery codes go too: they would stand in for nothing."""
    if not user_has_two_factor(user):
        StaticDevice.objects.filter(user=user).delete()


@transaction.atomic
def totp_remove(*, user: User, device_id: int) -> None:
    """Turns one authenticator off; with the last second factor gone the recovery codes go too."""
    TOTPDevice.objects.get(user=user, pk=device_id).delete()
    recovery_codes_drop_if_unused(user=user)
    audit_record(action=Action.TWO_FACTOR_REMOVED, actor=user, summary="Removed an authenticator app")
    notice_queue(user=user, kind=SecurityNotice.Kind.TWO_FACTOR, what="an authenticator app was removed")


@transaction.atomic
def recovery_codes_regenerate(*, user: User) -> list[str]:
    """Ten new one-time codes; the old ones stop working. Returned once, to be shown once."""
    audit_record(action=Action.RECOVERY_CODES, actor=user, summary="Made new recovery codes")
    notice_queue(user=user, kind=SecurityNotice.Kind.TWO_FACTOR, what="new recovery codes were made")
    return _new_recovery_codes(user)


def _new_recovery_codes(user: User) -> list[str]:
    device, _ = StaticDevice.objects.get_or_create(user=user, name=RECOVERY_DEVICE_NAME)
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def normalise_code(code: str) -> str:
    """What people type: spaces, dashes, capitals (recovery codes are shown in lower case)."""
    return "".join(code.split()).replace("-", "").lower()


def verify_code(*, user: User, code: str) -> Device | None:
    """The device that accepts ``code`` (an authenticator's, or a recovery code, used up), or None."""
    token = normalise_code(code)
    if not token:
        return None
    for device in devices_for_user(user, confirmed=True):
        if not isinstance(device, TOTPDevice | StaticDevice) or (
            isinstance(device, TOTPDevice) and not token.isdigit()
        ):
            continue  # a passkey answers no typed code
        if device.verify_token(token):
            return device
    return None


@transaction.atomic
def workspace_require_two_factor(*, membership: Membership, required: bool) -> None:
    """An owner requires (or no longer requires) a second factor of everyone in the workspace;
    only one who has one (they would be the first sent to set it up)."""
    permissions.require(membership, "manage")
    if required and not user_has_two_factor(membership.user):
        raise ValidationError("Turn on two-factor login for yourself first (Settings → Security).")
    workspace = membership.workspace
    Workspace.objects.filter(pk=workspace.pk).update(require_two_factor=required)
    workspace.require_two_factor = required
    summary = "Required two-factor login of every member" if required else "Stopped requiring two-factor login"
    audit_record(action=Action.TWO_FACTOR_REQUIRED, membership=membership, summary=summary)


# Where someone who must set up a second factor may still go: the pages that set it up.
SETUP_PATHS = ("/settings/security/", "/passkeys/", "/logout/", "/login/", "/static/")


class TwoFactorRequiredMiddleware:
    """Sends a member of a workspace that requires two-factor login, who has none yet, to set it
    up before any other page (their memberships are read once per request, as the pages do)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated and not request.path.startswith(SETUP_PATHS):
            membership = current_membership(request)
            if membership and membership.workspace.require_two_factor and not user_has_two_factor(request.user):
                messages.info(
                    request,
                    f"“{membership.workspace}” requires two-factor login: "
                    "add an authenticator app or a passkey to go on.",
                )
                return redirect("security")
        return self.get_response(request)


# --- The login's second step, kept in the session between the password and the code ----------


def pending_start(request: HttpRequest, *, user: User, next_url: str) -> None:
    """The password was right: remember who, with which backend, until the code is given."""
    request.session[PENDING_KEY] = {
        "user_id": user.pk,
        "backend": getattr(user, "backend", "django.contrib.auth.backends.ModelBackend"),
        "at": time.time(),
        "next": next_url,
    }


def pending_get(request: HttpRequest) -> dict[str, Any] | None:
    """The second step in progress, or None when there is none or it is too old."""
    pending: dict[str, Any] | None = request.session.get(PENDING_KEY)
    if not pending or time.time() - pending["at"] > settings.TWO_FACTOR_PENDING_SECONDS:
        return None
    return pending


def pending_end(request: HttpRequest) -> None:
    request.session.pop(PENDING_KEY, None)


@transaction.atomic
def count_failed_code(request: HttpRequest, *, user: User) -> None:
    """A wrong code counts as a failed login for django-axes, as a wrong password does: the
    lockout after AXES_FAILURE_LIMIT covers both together."""
    user_login_failed.send(sender=__name__, credentials={"username": user.email}, request=request)
    audit_record(action=Action.LOGIN_FAILED, actor=user, summary="Wrong second-factor code")


def login_recorded(*, user: User, how: str) -> None:
    audit_record(action=Action.LOGIN, actor=user, summary=f"Logged in with {how}", details={"method": how})


def login_failed_recorded(*, email: str) -> None:
    """A wrong password: the account's own event when there is one, else only the address typed
    (when it is an address at all)."""
    user = User.objects.filter(email__iexact=email).first() if email else None
    try:
        validate_email(email)
    except ValidationError:
        email = ""
    audit_record(action=Action.LOGIN_FAILED, actor=user, actor_email=email, summary="Wrong password")


def logout_recorded(*, user: User) -> None:
    audit_record(action=Action.LOGOUT, actor=user, summary="Logged out")
