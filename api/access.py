"""What a token may do: its scope, within its user's role (``crm.permissions``)."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions, permissions
from rest_framework.request import Request

from api.models import ApiToken
from crm import permissions as roles
from crm.models import Membership, Workspace


def token_of(request: Request) -> ApiToken:
    token = request.auth
    if not isinstance(token, ApiToken):
        raise exceptions.NotAuthenticated()
    return token


def membership_of(request: Request) -> Membership:
    membership: Membership = token_of(request).membership  # type: ignore[attr-defined]
    return membership


def workspace_of(request: Request) -> Workspace:
    return token_of(request).workspace


def sees_private(request: Request) -> bool:
    """Private facts only to a token made for them, and only while its user may take them out."""
    return token_of(request).private and roles.can(membership_of(request), "export_private")


class TokenAccess(permissions.BasePermission):
    """Reads need a token; writes a read-write token of a user whose role may write."""

    message = "This token cannot do that."

    def has_permission(self, request: Request, view: Any) -> bool:
        token = token_of(request)
        if request.method in permissions.SAFE_METHODS:
            return True
        if not token.can_write:
            raise exceptions.PermissionDenied("This token is read-only: make a read-write token in Settings → API.")
        membership = membership_of(request)
        if not roles.can(membership, "write"):
            raise exceptions.PermissionDenied(str(roles.CapabilityDenied(membership, "write")))
        return True
