"""Standing users: an owner, a member and a viewer of one workspace, and an outsider in another."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from pytest_django.fixtures import Settings

from crm.models import Membership, User, Workspace
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--clock-ahead-days",
        type=int,
        default=int(os.environ.get("RAPPORT_CLOCK_AHEAD_DAYS", "0")),
        help=(
            "Run with this process's clock moved this many days ahead (it keeps ticking), to prove "
            "no test depends on today's date. Tests that start other processes (slow, e2e) are "
            "left out: those processes keep the real clock."
        ),
    )


@pytest.fixture(autouse=True, scope="session")
def _clock_ahead(request: pytest.FixtureRequest) -> Iterator[None]:
    """``--clock-ahead-days N``: the whole session a given number of days in the future.

    Tests that freeze time themselves still do (time-machine nests); the rest see the moved clock.
    """
    days = request.config.getoption("--clock-ahead-days")
    if not days:
        yield
        return
    with time_machine.travel(datetime.now(tz=UTC) + timedelta(days=days), tick=True):
        yield


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
    """Tests that need PostgreSQL say so when there is none (CI's tier 1 deselects them).

    With the clock moved ahead, tests that start other processes are deselected: a worker or a
    browser keeps the real clock, so they would test the mismatch, not the app.
    """
    if config.getoption("--clock-ahead-days"):
        kept = [item for item in items if not (item.get_closest_marker("slow") or item.get_closest_marker("e2e"))]
        if len(kept) != len(items):
            config.hook.pytest_deselected(items=[item for item in items if item not in kept])
            items[:] = kept
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        return
    needs = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://...")
    for item in items:
        if item.get_closest_marker("services_only"):
            item.add_marker(needs)


@pytest.fixture(autouse=True)
def _fast_password_hashing(request: pytest.FixtureRequest, settings: Settings) -> None:
    """Tests hash with MD5, not production's PBKDF2 (a million rounds, a third of a second per
    user created or logged in, which was most of the suite's time). What is checked about
    passwords (right or wrong, hashed and never stored, throttled) is the same with either.

    ``@pytest.mark.real_password_hashing`` keeps production's hashers, for tests whose users log
    in to another process (it reads crm/settings.py and knows no MD5).
    """
    if request.node.get_closest_marker("real_password_hashing"):
        return
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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
def viewer(workspace: Workspace) -> User:
    user = UserFactory(email="viewer@example.com", display_name="Vera Viewer", current_workspace=workspace)
    MembershipFactory(workspace=workspace, user=user, role=Membership.Role.VIEWER)
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
def viewer_client(viewer: User) -> Client:
    return _client_for(viewer)


@pytest.fixture
def outsider_client(outsider: User) -> Client:
    return _client_for(outsider)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Whenever trust tests ran (``make trust``, or ``make test`` on CI): their numbers."""
    from tests.trust.summary import write_and_print

    write_and_print(terminalreporter)


@pytest.fixture
def counters_in_memory(settings: Settings) -> None:
    """Rate-limit counters in process memory, for query pins of pages that search: the pin is
    then the page's own queries (on the embedded default the counters are SQL rows too, a
    constant few per request whatever the data; with Redis, none)."""
    settings.CACHES = {
        **settings.CACHES,
        "ratelimit": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "counters"},
    }
