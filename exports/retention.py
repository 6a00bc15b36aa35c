"""A workspace's retention rules, run daily by beat: people not contacted for N years are
archived, and archived people are deleted N days after (with everything only theirs).

The preview on the settings page reads the same querysets the run acts on, so it names
exactly who would go. Each run is in the audit log, by count, as the rule's doing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q, QuerySet

from crm import permissions
from crm.audit import Action, audit_record, people_count
from crm.models import Membership, Workspace
from interactions.services import people_delete
from people.models import Person

RULE = "retention rule"


def to_archive(workspace: Workspace, *, now: datetime) -> QuerySet[Person]:
    """Active people whose last contact (or, never contacted, whose record) is older than the rule."""
    if not workspace.archive_uncontacted_years:
        return Person.objects.none()
    cutoff = now - timedelta(days=365 * workspace.archive_uncontacted_years)
    quiet = Q(last_contacted_at__lt=cutoff) | Q(last_contacted_at__isnull=True, created_at__lt=cutoff)
    return Person.objects.for_workspace(workspace).filter(quiet, archived_at__isnull=True)


def to_delete(workspace: Workspace, *, now: datetime) -> QuerySet[Person]:
    if not workspace.delete_archived_days:
        return Person.objects.none()
    cutoff = now - timedelta(days=workspace.delete_archived_days)
    return Person.objects.for_workspace(workspace).filter(archived_at__lt=cutoff)


@transaction.atomic
def retention_set(*, membership: Membership, archive_years: int, delete_days: int) -> None:
    permissions.require(membership, "manage")
    Workspace.objects.filter(pk=membership.workspace_id).update(
        archive_uncontacted_years=archive_years, delete_archived_days=delete_days
    )
    audit_record(
        action=Action.RETENTION_CHANGED,
        membership=membership,
        summary=f"Retention: archive after {archive_years or 'no'} years without contact, "
        f"delete archived after {delete_days or 'no'} days",
    )


@transaction.atomic
def retention_run(*, workspace_id: int, now: datetime) -> tuple[int, int]:
    """Apply one workspace's rules; returns (archived, deleted). Running it again the same day
    finds nobody new, so a repeated beat message changes nothing."""
    workspace = Workspace.objects.select_for_update().get(pk=workspace_id)
    owner = Membership.objects.for_workspace(workspace).filter(role=Membership.Role.OWNER).first()
    if owner is None:
        return 0, 0
    deleted = 0
    doomed = to_delete(workspace, now=now)
    if doomed.exists():
        ids = list(doomed.values_list("pk", flat=True))
        deleted = people_delete(membership=owner, people=Person.objects.filter(pk__in=ids), rule=RULE)
    archived = to_archive(workspace, now=now).update(archived_at=now)
    if archived:
        audit_record(
            action=Action.BULK_ACTION,
            workspace=workspace,
            summary=f"Archived {people_count(archived)} not contacted for "
            f"{workspace.archive_uncontacted_years} years ({RULE})",
            details={"action": "archive", "count": archived, "rule": True},
        )
    return archived, deleted


def retention_dispatch(*, now: datetime) -> int:
    """Run the rules of every workspace that has one (each in its own transaction)."""
    ids = Workspace.objects.filter(Q(archive_uncontacted_years__gt=0) | Q(delete_archived_days__gt=0)).values_list(
        "pk", flat=True
    )
    for workspace_id in list(ids):
        retention_run(workspace_id=workspace_id, now=now)
    return len(ids)
