"""Exactly one digest per user under a real worker that is killed, or whose broker restarts.

Runs on both tiers: filesystem broker + SQLite, and Redis + PostgreSQL. Messages of a killed
worker or a restarted broker may be lost or redelivered; the database decides: the dispatcher
queues again any run still queued or abandoned mid-send, and a run is claimed before it is sent.
"""

from __future__ import annotations

import os
import signal
from email.message import Message

import pytest

from crm.models import Workspace
from digests.models import DigestRun
from digests.tasks import dispatch_digests_task
from tests.factories import daily_digest_member
from tests.processes import celery_worker, restart_broker, smtp_sink, wait_for
from tests.trust.summary import record_digests

pytestmark = pytest.mark.trust

USERS = 12


def _daily_users(workspace: Workspace, prefix: str) -> None:
    for i in range(USERS):
        daily_digest_member(workspace, f"{prefix}{i}@example.com")


def _until_all_delivered(received: list[Message]) -> None:
    """Let the dispatcher run, as beat would every few minutes, until every user has theirs."""

    def all_delivered() -> bool:
        if len({m["Message-ID"] for m in received}) < USERS:
            dispatch_digests_task.delay()
            return False
        return True

    wait_for(all_delivered, timeout=120, what=f"{USERS} distinct digests")
    wait_for(lambda: DigestRun.objects.filter(state="sent").count() == USERS, what="every run marked sent")


def _assert_one_each(received: list[Message], prefix: str) -> None:
    record_digests(received, users=USERS)
    ids = [m["Message-ID"] for m in received]
    assert len(set(ids)) == USERS
    assert sorted({m["To"] for m in received}) == sorted(f"{prefix}{i}@example.com" for i in range(USERS))
    # At most the one digest in flight at the fault is sent twice, with the same Message-ID.
    assert len(ids) <= USERS + 1
    assert DigestRun.objects.count() == USERS


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_n_users_get_n_distinct_digests_though_the_worker_is_killed(workspace: Workspace) -> None:
    _daily_users(workspace, "u")
    with smtp_sink(delay=0.3) as (port, received):
        env = {"EMAIL_URL": f"smtp://127.0.0.1:{port}", "DIGEST_CLAIM_TIMEOUT_SECONDS": "2"}
        with celery_worker(**env) as worker:
            dispatch_digests_task.delay()
            wait_for(lambda: len(received) >= 3, what="the first digests")
            os.killpg(worker.pid, signal.SIGKILL)  # in the middle of the batch
            worker.wait()
        assert len(received) < USERS, "the worker finished before it could be killed"
        with celery_worker(purge=False, **env):
            _until_all_delivered(received)
    _assert_one_each(received, "u")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_broker_restart_mid_batch_loses_and_duplicates_no_digest(workspace: Workspace) -> None:
    _daily_users(workspace, "r")
    with smtp_sink(delay=0.3) as (port, received):
        env = {"EMAIL_URL": f"smtp://127.0.0.1:{port}", "DIGEST_CLAIM_TIMEOUT_SECONDS": "2"}
        with celery_worker(**env):
            dispatch_digests_task.delay()
            wait_for(lambda: len(received) >= 2, what="the first digests")
            restart_broker()  # every queued send message is gone
            _until_all_delivered(received)
    _assert_one_each(received, "r")
