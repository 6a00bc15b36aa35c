"""Who may do what in a workspace: three roles, and the one table that says what each can do.

A small team needs three kinds of people, so these are roles, not per-person switches:

============== ======= ======== ======== =============================================================
capability      owner   member   viewer   what it covers
============== ======= ======== ======== =============================================================
view            yes     yes      yes      people, the dashboard, conversations, needs, the calendar
see_team        yes     no       yes      the team's dashboard (a viewer owns nobody: it is theirs)
write           yes     yes      no       add and edit people, log conversations, needs, promises,
                                          follow-ups, snooze, tag, archive, merge
import          yes     yes      no       vCard and CSV files
export          yes     yes      no       vCard and CSV of people, never private facts
delete_people   yes     no       no       delete people, one or many (members archive instead)
export_private  yes     no       no       private facts in a vCard export (CSV never has them)
backup          yes     no       no       the whole workspace as a ZIP, private facts included
restore         yes     no       no       a backup into this (empty) workspace
manage          yes     no       no       members, roles, invitations, the workspace itself,
                                          stay-in-touch defaults
============== ======= ======== ======== =============================================================

Why: a member works the book every day, but what cannot be undone (deleting people) and what
takes the sensitive part away (private facts, the full backup) stays with whoever answers for
the data, the owner. A viewer (an assistant, an accountant, a manager who only looks) reads
and writes nothing. A viewer's own things stay theirs: their settings, digest and calendar link.

Where it is enforced:

- in the services that matter most, so a view, a task or a command cannot forget them:
  ``people_delete``, ``people_bulk_update``, ``interaction_log``, ``export_people``,
  ``workspace_backup`` and ``import_upload`` call ``require(membership, capability)``, which
  raises ``PermissionDenied``;
- at the door for every other write: ``workspace_required`` refuses any POST without ``write``
  unless the view is marked ``any_role`` (it writes only the user's own things), so a new view
  is closed to viewers by default; pages that only show a form use ``capability_required``;
- in the templates, which ask ``can.<capability>`` (see ``crm.context_processors``) to leave
  out what the role cannot do and say who can.

Django turns the ``PermissionDenied`` into templates/403.html, which shows its message: what
was refused and which owners to ask.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase

from crm.models import Membership, User, Workspace
from crm.requests import WorkspaceRequest

Role = Membership.Role

CAPABILITIES: dict[str, frozenset[str]] = {
    Role.OWNER: frozenset(
        {
            "view",
            "see_team",
            "write",
            "import",
            "export",
            "delete_people",
            "export_private",
            "backup",
            "restore",
            "manage",
        }
    ),
    Role.MEMBER: frozenset({"view", "write", "import", "export"}),
    Role.VIEWER: frozenset({"view", "see_team"}),
}
EVERY_CAPABILITY = CAPABILITIES[Role.OWNER]

# The members page shows the table with these words, in this order.
SHOWN = {
    "view": "See people, the dashboard, conversations and needs",
    "see_team": "See the whole team's dashboard",
    "write": "Add and edit people, log conversations, promises and follow-ups",
    "import": "Import vCard and CSV files",
    "export": "Export people as vCard or CSV (without private facts)",
    "delete_people": "Delete people",
    "export_private": "Export private facts",
    "backup": "Download the whole workspace (backup)",
    "restore": "Restore a backup",
    "manage": "Manage the team and the workspace",
}

# What a refusal says was refused; the 403 page adds who can do it.
REFUSED = {
    "view": "You are not a member of this workspace.",
    "see_team": "The team's dashboard is for owners and viewers.",
    "write": "Viewers can look, but not add or change anything.",
    "import": "Importing contacts is for owners and members, not viewers.",
    "export": "Exporting people is for owners and members, not viewers.",
    "delete_people": "Deleting people is for owners: they cannot be brought back. Members archive people instead.",
    "export_private": "Private facts (health, religion, politics, topics to avoid) leave the workspace only with "
    "an owner.",
    "backup": "The full workspace backup holds private facts: only owners download it.",
    "restore": "Restoring a backup replaces the whole book: only owners do it.",
    "manage": "Only owners manage the team and the workspace.",
}


class CapabilityDenied(PermissionDenied):
    """Refused for a role; ``str()`` is the sentence the 403 page shows."""

    def __init__(self, membership: Membership | None, capability: str) -> None:
        self.capability = capability
        owners = ""
        if membership is not None:
            names = [m.user.name for m in workspace_owners(membership.workspace)]
            owners = f" Ask an owner of {membership.workspace}: {', '.join(names)}." if names else ""
        super().__init__(REFUSED[capability] + owners)


def workspace_owners(workspace: Workspace) -> list[Membership]:
    return list(Membership.objects.for_workspace(workspace).filter(role=Role.OWNER).select_related("user"))


def can(membership: Membership | None, capability: str) -> bool:
    """Whether this membership's role has ``capability`` (see the table above)."""
    if capability not in EVERY_CAPABILITY:
        raise ValueError(f"Not a capability: {capability}")
    return membership is not None and capability in CAPABILITIES.get(membership.role, frozenset())


def require(membership: Membership | None, capability: str) -> None:
    """Raise ``PermissionDenied`` (with what was refused and whom to ask) unless ``can``."""
    if not can(membership, capability):
        raise CapabilityDenied(membership, capability)


def require_user(*, user: User, workspace: Workspace, capability: str) -> Membership:
    """``require`` for services handed a user and a workspace: the user's membership there."""
    membership = Membership.objects.for_workspace(workspace).filter(user=user).select_related("workspace").first()
    if membership is None or not can(membership, capability):
        raise CapabilityDenied(membership, capability)
    return membership


def role_table() -> list[tuple[str, list[bool]]]:
    """Each capability in words and, per role (in ``Role`` order), whether the role has it."""
    return [(words, [name in CAPABILITIES[role] for role in Role.values]) for name, words in SHOWN.items()]


def capabilities(membership: Membership | None) -> dict[str, bool]:
    """Every capability and whether this membership has it: ``{% if can.export %}``."""
    return {name: can(membership, name) for name in EVERY_CAPABILITY}


P = ParamSpec("P")
V = TypeVar("V", bound=Callable[..., HttpResponseBase])
# The function attribute ``workspace_required`` reads; functools.wraps carries it through wrappers.
ANY_ROLE = "any_role"


def any_role(view: V) -> V:
    """Marks a workspace view whose POST writes only the user's own things (their calendar
    link), which a viewer may too. Every other POST needs ``write`` (see ``workspace_required``)."""
    setattr(view, ANY_ROLE, True)
    return view


def capability_required(
    capability: str,
) -> Callable[
    [Callable[Concatenate[WorkspaceRequest, P], HttpResponseBase]],
    Callable[Concatenate[HttpRequest, P], HttpResponseBase],
]:
    """A workspace view for roles with ``capability``; the others get the 403 page saying why.

    For pages that only show a form (GET): the write behind it is checked again in its service.
    """

    def decorator(
        view: Callable[Concatenate[WorkspaceRequest, P], HttpResponseBase],
    ) -> Callable[Concatenate[HttpRequest, P], HttpResponseBase]:
        from crm.access import workspace_required

        @workspace_required
        @functools.wraps(view)
        def wrapper(request: WorkspaceRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
            require(request.membership, capability)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
