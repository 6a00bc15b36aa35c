"""The one way views reach workspace data: the current membership and scoped lookups."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib.auth.decorators import login_required
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.http import url_has_allowed_host_and_scheme

from crm import permissions
from crm.models import Membership
from crm.selectors import membership_current, user_memberships

M = TypeVar("M", bound=Model)
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
View = Callable[..., HttpResponse]


def memberships_of(request: HttpRequest) -> list[Membership]:
    """All workspaces of the signed-in user, loaded once per request."""
    if not hasattr(request, "_rapport_memberships"):
        user = request.user
        request._rapport_memberships = list(user_memberships(user=user)) if user.is_authenticated else []  # type: ignore[attr-defined]
    return request._rapport_memberships  # type: ignore[attr-defined]


def current_membership(request: HttpRequest) -> Membership | None:
    """The signed-in user's membership in their current workspace."""
    if not request.user.is_authenticated:
        return None
    return membership_current(user=request.user, memberships=memberships_of(request))


def workspace_required(view: View) -> View:
    """Login required, and a workspace: sets ``request.membership`` and ``request.workspace``."""

    @login_required
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        membership = current_membership(request)
        if membership is None:
            return redirect("workspace_create")
        request.membership = membership  # type: ignore[attr-defined]
        request.workspace = membership.workspace  # type: ignore[attr-defined]
        # Closed by default: a POST to any workspace page writes, and needs the right to, unless
        # the view is marked as writing only the user's own things. A new view cannot forget it.
        if request.method not in SAFE_METHODS and not getattr(view, "any_role", False):
            permissions.require(membership, "write")
        return view(request, *args, **kwargs)

    return wrapper


def owner_required(view: View) -> View:
    """Like ``workspace_required``, and only owners get past: members see a friendly 403."""

    @workspace_required
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        permissions.require(request.membership, "manage")  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapper


def get_for_workspace_or_404(request: HttpRequest, model_or_qs: type[M] | QuerySet[M], **lookup: Any) -> M:
    """The object of the current workspace matching ``lookup``; any other workspace's is a 404."""
    qs = model_or_qs if isinstance(model_or_qs, QuerySet) else model_or_qs.objects.all()
    return get_object_or_404(qs.for_workspace(request.workspace), **lookup)  # type: ignore[attr-defined]


def login_username(request: HttpRequest, credentials: dict[str, Any] | None = None) -> str:
    """The email a login attempt is for, as the login form reads it (case-insensitive), so
    "Anna@X" and "anna@x" count against the same lockout."""
    value = (credentials or {}).get("username") or request.POST.get("username", "")
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
