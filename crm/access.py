"""The one way views reach workspace data: the current membership and scoped lookups."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

from django.contrib.auth.decorators import login_required
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.utils.http import url_has_allowed_host_and_scheme

from crm import permissions
from crm.models import Membership, WorkspaceQuerySet
from crm.requests import WorkspaceRequest
from crm.selectors import membership_current, user_memberships

M = TypeVar("M", bound=Model)
P = ParamSpec("P")
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# A view behind the door takes the typed request; what the decorator hands Django takes any.
WorkspaceView = Callable[Concatenate[WorkspaceRequest, P], HttpResponseBase]
View = Callable[Concatenate[HttpRequest, P], HttpResponseBase]
# Cached on the request under a private name: the context processor and the view both ask.
_MEMBERSHIPS = "_rapport_memberships"


def memberships_of(request: HttpRequest) -> list[Membership]:
    """All workspaces of the signed-in user, loaded once per request."""
    cached: list[Membership] | None = getattr(request, _MEMBERSHIPS, None)
    if cached is None:
        user = request.user
        cached = list(user_memberships(user=user)) if user.is_authenticated else []
        setattr(request, _MEMBERSHIPS, cached)
    return cached


def current_membership(request: HttpRequest) -> Membership | None:
    """The signed-in user's membership in their current workspace."""
    if not request.user.is_authenticated:
        return None
    return membership_current(user=request.user, memberships=memberships_of(request))


def workspace_required(view: WorkspaceView[P]) -> View[P]:
    """Login required, and a workspace: sets ``request.membership`` and ``request.workspace``."""

    @login_required
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
        membership = current_membership(request)
        if membership is None:
            return redirect("workspace_create")
        # From here on the request is the one the view's type promises: signed in, with these two.
        workspace_request = cast(WorkspaceRequest, request)
        workspace_request.membership = membership
        workspace_request.workspace = membership.workspace
        # Closed by default: a POST to any workspace page writes, and needs the right to, unless
        # the view is marked as writing only the user's own things. A new view cannot forget it.
        if request.method not in SAFE_METHODS and not getattr(view, permissions.ANY_ROLE, False):
            permissions.require(membership, "write")
        return view(workspace_request, *args, **kwargs)

    return wrapper


def owner_required(view: WorkspaceView[P]) -> View[P]:
    """Like ``workspace_required``, and only owners get past: members see a friendly 403."""

    @workspace_required
    @functools.wraps(view)
    def wrapper(request: WorkspaceRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
        permissions.require(request.membership, "manage")
        return view(request, *args, **kwargs)

    return wrapper


def get_for_workspace_or_404(request: WorkspaceRequest, model_or_qs: type[M] | QuerySet[M], **lookup: Any) -> M:
    """The object of the current workspace matching ``lookup``; any other workspace's is a 404."""
    qs = model_or_qs if isinstance(model_or_qs, QuerySet) else model_or_qs._default_manager.all()
    # Every workspace model's manager is made from WorkspaceQuerySet (tests/crm/test_one_door.py
    # walks the registry), which a type generic over any model cannot know.
    scoped = cast("WorkspaceQuerySet[M]", qs)
    return get_object_or_404(scoped.for_workspace(request.workspace), **lookup)


def login_username(request: HttpRequest, credentials: dict[str, Any] | None = None) -> str:
    """The email a login attempt is for, as the login form reads it (case-insensitive), so
    "Anna@X" and "anna@x" count against the same lockout. axes checks a lockout with the
    credentials under ``email`` (the user model's USERNAME_FIELD) and records a failure under
    ``username``; both are read, so an attempt without a login form (an app password) counts too."""
    credentials = credentials or {}
    value = credentials.get("username") or credentials.get("email") or request.POST.get("username", "")
    return str(value).strip().lower()


def safe_next(request: HttpRequest, default: str) -> str:
    """Where the request asks to go back to (``next``), if it is a path on this site, else ``default``.

    Only a path counts: ``redirect("0")`` would look "0" up as a view name and fail, and a
    value with a host could lead off the site.
    """
    target = request.POST.get("next") or request.GET.get("next") or ""
    on_site = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if target.startswith("/") and on_site else default
