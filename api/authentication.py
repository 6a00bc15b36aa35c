"""Who is calling: ``Authorization: Bearer rpt_...``, a token of one workspace."""

from __future__ import annotations

from typing import Any

from rest_framework import authentication, exceptions
from rest_framework.request import Request

from api import selectors, services
from api.models import ApiToken
from crm.models import Membership


class TokenAuthentication(authentication.BaseAuthentication):
    """A live token of a user who is still a member of the token's workspace.

    Sets ``request.auth`` to the token, with ``membership`` (the user's role there now) on it:
    a member made a viewer since the token was made can no longer write with it.
    """

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Send the token as: Authorization: Bearer rpt_...")
        try:
            secret = header[1].decode()
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed("This token is not valid.") from exc
        token = selectors.token_for_secret(secret)
        membership = (
            Membership.objects.for_workspace(token.workspace)
            .filter(user=token.user)
            .select_related("workspace")
            .first()
            if token is not None
            else None
        )
        if token is None or membership is None:
            raise exceptions.AuthenticationFailed("This token is not valid, or was revoked.")
        token.membership = membership  # type: ignore[attr-defined]  # read by api.access
        services.token_touch(token=token)
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'
