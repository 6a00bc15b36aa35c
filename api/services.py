"""Writes for the API's own rows: tokens (made, revoked, seen in use)."""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from api.models import ApiToken
from api.tokens import SHOWN_PREFIX_LENGTH, digest_of, new_secret
from crm import permissions
from crm.audit import Action, audit_record
from crm.models import User, Workspace

# "Last used" is written at most this often per token: a script calling many times a second
# must not turn every read into a write.
LAST_USED_EVERY = timedelta(minutes=1)


@transaction.atomic
def token_create(
    *, user: User, workspace: Workspace, name: str, write: bool = False, private: bool = False
) -> tuple[ApiToken, str]:
    """A new token of ``user`` for ``workspace``; returns it and its secret, which is shown
    this once and stored only as its hash.

    A token never gives more than its user's role: a viewer's token cannot write, and a
    private-facts token is for owners, who alone take private facts out of the workspace."""
    membership = permissions.require_user(user=user, workspace=workspace, capability="view")
    if write:
        permissions.require(membership, "write")
    if private:
        permissions.require(membership, "export_private")
    secret = new_secret()
    token = ApiToken(
        workspace=workspace,
        user=user,
        name=" ".join(name.split()),
        scope=ApiToken.Scope.WRITE if write else ApiToken.Scope.READ,
        private=private,
        prefix=secret[:SHOWN_PREFIX_LENGTH],
        digest=digest_of(secret),
    )
    if not token.name:
        raise ValidationError({"name": "Name the token after what will use it, e.g. Web shop."})
    token.full_clean()
    token.save()
    rights = ("read and write" if write else "read") + (", private facts" if private else "")
    audit_record(
        action=Action.API_TOKEN_CREATED,
        membership=membership,
        summary=f"API token “{token.name}” ({rights})",
        details={"token": token.pk, "write": write, "private": private},
    )
    return token, secret


@transaction.atomic
def token_revoke(*, token: ApiToken) -> bool:
    """Turn a token off for good; False if it already was (and nothing is recorded)."""
    if not ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now()):
        return False
    audit_record(
        action=Action.API_TOKEN_REVOKED,
        actor=token.user,
        workspace=token.workspace,
        summary=f"API token “{token.name}”",
        details={"token": token.pk},
    )
    return True


def token_touch(*, token: ApiToken) -> None:
    """Note that the token was used now (at most once a minute)."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
