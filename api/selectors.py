"""Reads for the API's own rows. Every function takes the workspace first, but the one that
finds a token by its secret (the secret is what says which workspace)."""

from __future__ import annotations

from django.db.models import QuerySet

from api.models import ApiToken
from api.tokens import PREFIX, digest_of
from crm.models import User, Workspace


def tokens_of(workspace: Workspace, *, user: User) -> QuerySet[ApiToken]:
    """The user's tokens for this workspace, revoked ones too (the settings page shows them)."""
    return ApiToken.objects.for_workspace(workspace).filter(user=user)


def token_for_secret(secret: str) -> ApiToken | None:
    """The live token with this secret, with its user and workspace; None for anything else."""
    if not secret.startswith(PREFIX) or len(secret) > 200:
        return None
    return (
        ApiToken.objects.select_related("user", "workspace")
        .filter(digest=digest_of(secret), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
