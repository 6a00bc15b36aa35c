"""Reads for accounts and workspaces."""

from __future__ import annotations

from datetime import datetime

from django.apps import apps
from django.db.models import QuerySet

from crm.models import Invitation, Membership, SchedulerHeartbeat, User, Workspace, WorkspaceScoped


def user_memberships(*, user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("workspace").order_by("workspace__name", "id")


def membership_current(*, user: User, memberships: list[Membership]) -> Membership | None:
    """Of ``memberships`` (the user's), the one in their current workspace, else their first.

    A user removed from their current workspace lands in another of theirs (or none), at once.
    """
    for membership in memberships:
        if membership.workspace_id == user.current_workspace_id:
            return membership
    return memberships[0] if memberships else None


def workspace_members(*, workspace: Workspace) -> QuerySet[Membership]:
    return Membership.objects.for_workspace(workspace).select_related("user").order_by("-role", "user__email")


def workspace_pending_invitations(*, workspace: Workspace) -> QuerySet[Invitation]:
    return (
        Invitation.objects.for_workspace(workspace)
        .filter(status=Invitation.Status.PENDING)
        .select_related("invited_by")
    )


def workspace_deletion_summary(*, workspace: Workspace) -> dict[str, int]:
    """How much goes when ``workspace`` is deleted: what the owner reads before confirming.

    Every workspace-scoped model is counted (keyed by its model name, e.g. ``person``), found in
    the app registry so the ground floor names no app above it and a new model is never left out;
    ``records`` is the total the page states. Bookkeeping rows (``counted_as_record = False``, e.g.
    the calendar feed's change log) are deleted too but are not the user's records.
    """
    counts = {
        str(model._meta.model_name): model.objects.for_workspace(workspace).count()
        for model in apps.get_models()
        if issubclass(model, WorkspaceScoped) and getattr(model, "counted_as_record", True)
    }
    counts["records"] = sum(counts.values())
    counts["members"] = Membership.objects.for_workspace(workspace).count()
    counts["invitations"] = workspace_pending_invitations(workspace=workspace).count()
    return counts


def scheduler_last_beat() -> datetime | None:
    row = SchedulerHeartbeat.objects.filter(name="beat").first()
    return row.last_beat_at if row else None
