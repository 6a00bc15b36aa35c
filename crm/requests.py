"""Request types for views behind the door, so the type checker knows what the decorators set.

Django's ``HttpRequest.user`` may be anonymous and it has no ``workspace``: behind
``login_required`` the user is signed in, and behind ``workspace_required`` (or
``owner_required``/``capability_required``) the request also carries the current membership and
its workspace. A view says which door it is behind by the type of its ``request`` (healthchecks'
``AuthenticatedHttpRequest`` is the model). Nothing here exists at run time beyond the classes:
the decorators set the attributes on the plain request Django hands them.
"""

from __future__ import annotations

from django.http import HttpRequest

from crm.models import Membership, User, Workspace


class AuthenticatedHttpRequest(HttpRequest):
    """A request behind ``login_required``: its user is signed in."""

    user: User


class WorkspaceRequest(AuthenticatedHttpRequest):
    """A request behind ``workspace_required``: the signed-in user's current membership and workspace."""

    workspace: Workspace
    membership: Membership
