"""Reads for the email settings page."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from crm.models import User, Workspace
from inbound.models import ApprovedSender, InboundAddress, InboundMessage, MailboxPoll


def approved_senders(workspace: Workspace, *, address: InboundAddress) -> QuerySet[ApprovedSender]:
    return ApprovedSender.objects.for_workspace(workspace).filter(address=address)


def messages_of(workspace: Workspace, *, user: User, status: str, limit: int = 50) -> list[InboundMessage]:
    """The user's received emails in one state, newest first (the body and raw left unread)."""
    return list(
        InboundMessage.objects.for_workspace(workspace)
        .filter(user=user, status=status)
        .defer("raw", "full_text", "html", "body")[:limit]
    )


def message_visible(workspace: Workspace, *, user: User) -> QuerySet[InboundMessage]:
    """What a member may open: their own emails, and any logged email of the workspace (the
    conversation it became is everyone's to read)."""
    return InboundMessage.objects.for_workspace(workspace).filter(Q(user=user) | Q(status=InboundMessage.Status.LOGGED))


def mailbox_health() -> MailboxPoll | None:
    return MailboxPoll.objects.filter(name="imap").first()
