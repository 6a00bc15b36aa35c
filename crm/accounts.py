"""Deleting one's own account: what happens to each workspace first, then the account.

A workspace the user alone owns while others are in it must get another owner first (Team
page: make someone an owner), or the book would be left with nobody to answer for it; one the
user is alone in goes with the account (everything in it); from the others the user just
leaves. Their audit events stay (they are the workspace's record) without the address.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.db import transaction

from crm import selectors, services
from crm.audit import Action, audit_record
from crm.models import AuditEvent, Membership, User, Workspace


@dataclass(frozen=True)
class WorkspaceFate:
    workspace: Workspace
    fate: str  # "blocked", "deleted" or "left"
    records: int = 0


def account_deletion_plan(*, user: User) -> list[WorkspaceFate]:
    """What deleting the account does to each of the user's workspaces, for the page to say."""
    plan = []
    for membership in Membership.objects.filter(user=user).select_related("workspace"):
        workspace = membership.workspace
        others = Membership.objects.for_workspace(workspace).exclude(user=user)
        if not others.exists():
            records = selectors.workspace_deletion_summary(workspace=workspace)["records"]
            plan.append(WorkspaceFate(workspace, "deleted", records))
        elif membership.is_owner and not others.filter(role=Membership.Role.OWNER).exists():
            plan.append(WorkspaceFate(workspace, "blocked"))
        else:
            plan.append(WorkspaceFate(workspace, "left"))
    return plan


@transaction.atomic
def account_delete(*, user: User, password: str) -> None:
    """Delete the user's account after their password: workspaces only they are in go with it."""
    if not check_password(password, user.password):
        raise ValidationError({"password": "That is not your password."})
    plan = account_deletion_plan(user=user)
    blocked = [fate.workspace.name for fate in plan if fate.fate == "blocked"]
    if blocked:
        raise ValidationError(f"Make someone else an owner of {', '.join(blocked)} first (Team page), or delete it.")
    for fate in plan:
        membership = Membership.objects.get(user=user, workspace=fate.workspace)
        if fate.fate == "deleted":
            services.workspace_delete(membership=membership)
        else:
            audit_record(action=Action.ACCOUNT_DELETED, membership=membership, summary="A member deleted their account")
    AuditEvent.objects.filter(actor=user).update(actor_email="")
    user.delete()
