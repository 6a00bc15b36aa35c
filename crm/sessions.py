"""The user's signed-in browsers: the sessions list, "log out this one", the idle timeout of a
workspace, and the emails that tell a user about a new device or a changed password or factor.

A ``UserSession`` row is made when a session logs in. Every way of logging in (password, code,
passkey, the sign-up link) ends in Django's ``login()``, whose ``user_logged_in`` signal is the
one place they all pass, so the row is made there (``_on_login``, connected below) rather than
in each view. ``SessionActivityMiddleware`` then notes the last-seen time at most once a minute,
and logs a session out that was idle longer than its workspace allows.

The emails are outbox rows (``SecurityNotice``), sent once by the worker through
``crm.emails.send_once`` and hinted again by the sweeper, like every other email.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout, user_logged_in
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from ua_parser import parse

from crm import permissions
from crm.access import current_membership
from crm.audit import Action, audit_record, origin_of
from crm.emails import make_message, mark_email_failed, send_once
from crm.models import Membership, SecurityNotice, User, UserSession, Workspace
from crm.queue import enqueue_on_commit

SEEN_KEY = "rapport_seen"  # when this session last made a request (epoch seconds)
SEEN_EVERY_SECONDS = 60


def device_name(user_agent: str) -> str:
    """ "Firefox on Windows", "Mobile Safari on iOS (iPhone)": what a person recognises."""
    parsed = parse(user_agent)
    browser = parsed.user_agent.family if parsed.user_agent else ""
    system = parsed.os.family if parsed.os else ""
    device = parsed.device.family if parsed.device and parsed.device.family not in {"Other", "Mac"} else ""
    if not browser and not system:
        return "An unknown browser"
    name = f"{browser or 'A browser'} on {system}" if system else browser
    return f"{name} ({device})" if device else name


# --- Sessions ---------------------------------------------------------------------------------


@transaction.atomic
def session_started(request: HttpRequest, *, user: User) -> UserSession | None:
    """The row of a session that has just logged in; a device the account never used before
    gets an email to the account (not the very first login: there is nothing to compare)."""
    key = request.session.session_key
    if not key:
        return None
    origin = origin_of(request)
    known = UserSession.objects.filter(user=user)
    seen_before = known.exists()
    new_device = seen_before and not known.filter(user_agent=origin.user_agent).exists()
    row, _ = UserSession.objects.update_or_create(
        session_key=key,
        defaults={"user": user, "ip_address": origin.ip_address, "user_agent": origin.user_agent},
    )
    request.session[SEEN_KEY] = time.time()
    if new_device:
        where = f" from {origin.ip_address}" if origin.ip_address else ""
        notice_queue(user=user, kind=SecurityNotice.Kind.NEW_DEVICE, what=f"{device_name(origin.user_agent)}{where}")
    return row


def _on_login(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        session_started(request, user=user)


user_logged_in.connect(_on_login, dispatch_uid="rapport_session_started")


def user_sessions(user: User) -> list[UserSession]:
    """The user's sessions that are still signed in (rows whose session expired are left out)."""
    from django.contrib.sessions.models import Session

    rows = list(UserSession.objects.filter(user=user))
    alive = set(
        Session.objects.filter(
            session_key__in=[r.session_key for r in rows], expire_date__gt=timezone.now()
        ).values_list("session_key", flat=True)
    )
    return [row for row in rows if row.session_key in alive]


@transaction.atomic
def session_end(*, user: User, session_id: int) -> None:
    """Log out one of the user's own sessions (anyone else's: DoesNotExist)."""
    row = UserSession.objects.get(user=user, pk=session_id)
    store = import_module(settings.SESSION_ENGINE).SessionStore
    store(session_key=row.session_key).delete()
    row.delete()
    audit_record(action=Action.SESSION_ENDED, actor=user, summary=f"Logged out {device_name(row.user_agent)}")


def sessions_forget_all(*, user: User) -> None:
    """With "log out everywhere": every row goes with the sessions it ended."""
    UserSession.objects.filter(user=user).delete()


@transaction.atomic
def password_changed(*, user: User, how: str) -> None:
    """A new password: in the audit log, and an email to the account."""
    audit_record(action=Action.PASSWORD_CHANGED, actor=user, summary=f"Changed the password {how}")
    notice_queue(user=user, kind=SecurityNotice.Kind.PASSWORD, what=f"changed {how}")


def session_forget(request: HttpRequest) -> None:
    """At logout: the row of this session goes with it."""
    if request.session.session_key:
        UserSession.objects.filter(session_key=request.session.session_key).delete()


class SessionActivityMiddleware:
    """Notes when each session was last seen (at most once a minute: one UPDATE), and logs out a
    session idle longer than its current workspace's timeout."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = time.time()
            seen = request.session.get(SEEN_KEY)
            membership = current_membership(request)
            idle_minutes = membership.workspace.idle_timeout_minutes if membership else 0
            if seen and idle_minutes and now - seen > idle_minutes * 60:
                session_forget(request)
                logout(request)
                messages.info(request, f"You were logged out after {idle_minutes} minutes without activity.")
                return redirect(f"{reverse('login')}?{urlencode({'next': request.path})}")
            if seen is None or now - seen > SEEN_EVERY_SECONDS:
                request.session[SEEN_KEY] = now
                if request.session.session_key:
                    UserSession.objects.filter(session_key=request.session.session_key).update(
                        last_seen_at=timezone.now()
                    )
        return self.get_response(request)


# --- Emails about the account's security ------------------------------------------------------


def notice_queue(*, user: User, kind: str, what: str = "") -> SecurityNotice:
    """Queue one email to the user about their account; the worker sends it once."""
    from crm.tasks import send_security_notice_task

    notice = SecurityNotice(user=user, kind=kind, what=what[:300])
    notice.full_clean(exclude=["user"])
    notice.save()
    enqueue_on_commit(send_security_notice_task, notice.pk)
    return notice


def notice_send(*, notice_id: int) -> bool:
    return send_once(SecurityNotice.objects.all(), pk=notice_id, message=_notice_message)


def _notice_message(notice_id: int) -> EmailMessage:
    notice = SecurityNotice.objects.select_related("user").get(pk=notice_id)
    context = {"user": notice.user, "notice": notice, "when": notice.created_at}
    return make_message(f"security-{notice.kind.replace('_', '-')}", to=notice.user.email, context=context)


def notice_mark_failed(*, notice_id: int, error: str) -> None:
    mark_email_failed(SecurityNotice, pk=notice_id, error=error)


IDLE_CHOICES = [
    (0, "Never"),
    (15, "15 minutes"),
    (30, "30 minutes"),
    (60, "1 hour"),
    (240, "4 hours"),
    (480, "8 hours"),
]


@transaction.atomic
def workspace_set_idle_timeout(*, membership: Membership, minutes: int) -> None:
    """An owner sets after how long without activity a session in the workspace is logged out."""
    permissions.require(membership, "manage")
    if minutes not in dict(IDLE_CHOICES):
        raise ValidationError("Choose one of the offered times.")
    Workspace.objects.filter(pk=membership.workspace_id).update(idle_timeout_minutes=minutes)
    label = dict(IDLE_CHOICES)[minutes].lower()
    audit_record(
        action=Action.IDLE_TIMEOUT, membership=membership, summary=f"Idle sessions are logged out after: {label}"
    )
