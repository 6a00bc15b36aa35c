"""Rows that have done their job, removed by beat once nobody can need them again.

An outbox row (a sign-up's confirmation email, a password reset, a security notice) is the
work until it is sent; after that it is only a record of an email, and a sign-up row keeps the
hash of a password nobody confirmed. ``OUTBOX_KEEP_DAYS`` after it was made, every link it
carried has expired and every retry has long given up, so it goes, whatever its state (a row
still "queued" that old would only be hinted again forever). Django's expired sessions go too,
with the sessions list's rows for them: Django leaves clearing its session table to the
deployment (``clearsessions``), which here is this daily task.

Not here: invitations (the members page lists them), digest runs (they are what makes a digest
once a day), the audit log (``crm.audit.audit_prune``, by its own retention).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from importlib import import_module

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import transaction
from django.db.models import Exists, OuterRef

from crm.models import PasswordResetRequest, SecurityNotice, Signup, UserSession


def keep_for() -> timedelta:
    """How long a sent (or given up) email row is kept; never less than its link is valid."""
    return max(timedelta(days=settings.OUTBOX_KEEP_DAYS), timedelta(hours=settings.SIGNUP_MAX_AGE_HOURS))


@transaction.atomic
def housekeeping_prune(*, now: datetime) -> dict[str, int]:
    """Delete what has done its job; returns how many rows of each kind went. Repeats find none."""
    cutoff = now - keep_for()
    removed = {
        model._meta.label: model.objects.filter(created_at__lt=cutoff).delete()[0]
        for model in (Signup, PasswordResetRequest, SecurityNotice)
    }
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
    # The sessions list reads Django's session table (crm.sessions): a row whose session is gone
    # or expired is a browser that is no longer signed in.
    alive = Session.objects.filter(session_key=OuterRef("session_key"), expire_date__gt=now)
    removed[UserSession._meta.label] = UserSession.objects.exclude(Exists(alive)).delete()[0]
    return removed
