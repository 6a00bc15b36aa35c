"""Every email Rapport sends is rendered here from templates/emails/<name>-*.txt|html, and sent
once from its outbox row (a ``QueuedEmail``: invitations, sign-ups, password resets)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone

from crm.models import QueuedEmail
from crm.queue import claim_timeout


def mask_email(email: str) -> str:
    """``ada@example.com`` as ``a…@example.com``: enough for the invitee to recognise, not a
    stranger's address in full to whoever holds a forwarded link."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}…@{domain}"


def make_message(
    name: str, *, to: str, context: dict[str, Any], headers: dict[str, str] | None = None
) -> EmailMultiAlternatives:
    """Render ``emails/<name>-subject.txt``, ``-body.txt`` and ``-body.html`` into one message.

    ``site_url`` is always in the context: links in emails come from ``SITE_URL``, never from a
    request's Host header.
    """
    ctx = {"site_url": settings.SITE_URL, **context}
    subject = " ".join(render_to_string(f"emails/{name}-subject.txt", ctx).split())
    text = render_to_string(f"emails/{name}-body.txt", ctx)
    html = render_to_string(f"emails/{name}-body.html", ctx)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[to], headers=headers or {})
    message.attach_alternative(html, "text/html")
    return message


def send_once(queryset: QuerySet, *, pk: int, message: Callable[[int], EmailMessage]) -> bool:
    """Claim row ``pk`` of ``queryset`` (of a QueuedEmail model) and send its email.

    See ``crm.services.invitation_send`` for the guarantee; ``message`` builds the email from the row's id.
    """
    model, states = queryset.model, QueuedEmail.EmailState
    now = timezone.now()
    claimable = Q(email_state__in=(states.QUEUED, states.FAILED)) | Q(
        email_state=states.SENDING, email_claimed_at__lt=now - claim_timeout()
    )
    claimed = queryset.filter(claimable, pk=pk).update(email_state=states.SENDING, email_claimed_at=now)
    if claimed != 1:
        return False
    try:
        message(pk).send()
    except Exception as exc:
        model.objects.filter(pk=pk).update(email_state=states.QUEUED, email_error=str(exc)[:1000])
        raise
    model.objects.filter(pk=pk).update(email_state=states.SENT, email_sent_at=timezone.now(), email_error="")
    return True


def mark_email_failed(model: type[QueuedEmail], *, pk: int, error: str) -> None:
    """After the last retry: the row says "failed" and why, unless it was sent meanwhile."""
    states = QueuedEmail.EmailState
    model._default_manager.filter(pk=pk).exclude(email_state=states.SENT).update(
        email_state=states.FAILED, email_error=error[:1000]
    )
