"""API clients: a token of each standing user, sent as ``Authorization: Bearer``."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from api import services
from crm.models import User, Workspace

MakeClient = Callable[..., Client]


@pytest.fixture
def api_client() -> MakeClient:
    def make(user: User, workspace: Workspace, *, write: bool = True, private: bool = False) -> Client:
        _, secret = services.token_create(user=user, workspace=workspace, name="Tests", write=write, private=private)
        return Client(headers={"Authorization": f"Bearer {secret}"})

    return make


@pytest.fixture
def owner_api(api_client: MakeClient, owner: User, workspace: Workspace) -> Client:
    return api_client(owner, workspace)


@pytest.fixture
def member_api(api_client: MakeClient, member: User, workspace: Workspace) -> Client:
    return api_client(member, workspace)


@pytest.fixture
def outsider_api(api_client: MakeClient, outsider: User, other_workspace: Workspace) -> Client:
    return api_client(outsider, other_workspace)
