"""Standing users: an owner and a member of one workspace, and an outsider in another."""

from __future__ import annotations

import os
import uuid

import pytest
from django.test import Client
from pytest_django.fixtures import Settings

from crm.models import Membership, User, Workspace
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory


def pytest_sessionstart(session: pytest.Session) -> None:
    """With services configured, an unreachable one fails the run loudly; it never skips."""
    from django.db import connection
    from pytest_django.plugin import blocking_manager_key

    if os.environ.get("DATABASE_URL"):
        try:
            with session.config.stash[blocking_manager_key].unblock():
                connection.ensure_connection()
        except Exception as exc:
            pytest.exit(f"DATABASE_URL is set but the database is unreachable: {exc}", returncode=3)
        finally:
            connection.close()
    broker_url = os.environ.get("CELERY_BROKER_URL")
    if broker_url:
        from kombu import Connection

        try:
            with Connection(broker_url, connect_timeout=5) as conn:
                conn.ensure_connection(max_retries=1, timeout=5)
        except Exception as exc:
            pytest.exit(f"CELERY_BROKER_URL is set but the broker is unreachable: {exc}", returncode=3)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests that need PostgreSQL say so when there is none (CI's tier 1 deselects them)."""
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        return
    needs = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://...")
    for item in items:
        if item.get_closest_marker("services_only"):
            item.add_marker(needs)


@pytest.fixture(autouse=True)
def _plain_static_files(settings: Settings) -> None:
    """Production uses the hashed manifest from collectstatic; tests serve the source files."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _own_rate_limit_counters(settings: Settings) -> None:
    """Each test counts its rate limits afresh, in the configured shared cache: under a key prefix
    of its own, as clearing a Redis cache would empty the broker's database too."""
    counters = settings.CACHES["ratelimit"]
    settings.CACHES = {**settings.CACHES, "ratelimit": {**counters, "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}}


@pytest.fixture
def workspace(db: None) -> Workspace:
    return WorkspaceFactory(name="Acme Bakery")


@pytest.fixture
def owner(workspace: Workspace) -> User:
    user = UserFactory(email="owner@example.com", display_name="Olivia Owner", current_workspace=workspace)
    MembershipFactory(workspace=workspace, user=user, role=Membership.Role.OWNER)
    return user


@pytest.fixture
def member(workspace: Workspace) -> User:
    user = UserFactory(email="member@example.com", display_name="Mo Member", current_workspace=workspace)
    MembershipFactory(workspace=workspace, user=user, role=Membership.Role.MEMBER)
    return user


@pytest.fixture
def other_workspace(db: None) -> Workspace:
    return WorkspaceFactory(name="Rival Florists")


@pytest.fixture
def outsider(other_workspace: Workspace) -> User:
    user = UserFactory(email="outsider@example.com", display_name="Otto Outsider", current_workspace=other_workspace)
    MembershipFactory(workspace=other_workspace, user=user, role=Membership.Role.OWNER)
    return user


def _client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def owner_client(owner: User) -> Client:
    return _client_for(owner)


@pytest.fixture
def member_client(member: User) -> Client:
    return _client_for(member)


@pytest.fixture
def outsider_client(outsider: User) -> Client:
    return _client_for(outsider)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Whenever trust tests ran (``make trust``, or ``make test`` on CI): their numbers."""
    from tests.trust.summary import write_and_print

    write_and_print(terminalreporter)
