"""Exactly one digest per user under a real worker that is killed mid-run and restarted.

Runs on both tiers: filesystem broker + SQLite, and Redis + PostgreSQL. A killed worker's
messages may be lost or redelivered; the database decides: the dispatcher queues again any
run still queued or abandoned mid-send, and a run is claimed before it is sent.
"""

from __future__ import annotations

import os
import signal
from datetime import UTC, datetime

import pytest

from crm.models import Membership, User, Workspace
from digests.models import DigestRun
from digests.tasks import dispatch_digests_task
from tests.factories import UserFactory
from tests.processes import celery_worker, smtp_sink, wait_for

USERS = 12


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_n_users_get_n_distinct_digests_though_the_worker_is_killed(workspace: Workspace) -> None:
    for i in range(USERS):
        user = UserFactory(
            email=f"u{i}@example.com",
            time_zone="UTC",
            digest=User.Digest.DAILY,
            digest_hour=0,
            digest_always=True,
            digest_since=datetime(2020, 1, 1, tzinfo=UTC),
        )
        Membership.objects.create(workspace=workspace, user=user, role="member")

    with smtp_sink(delay=0.3) as (port, received):
        env = {"EMAIL_URL": f"smtp://127.0.0.1:{port}", "DIGEST_CLAIM_TIMEOUT_SECONDS": "2"}
        with celery_worker(**env) as worker:
            dispatch_digests_task.delay()
            wait_for(lambda: len(received) >= 3, what="the first digests")
            os.killpg(worker.pid, signal.SIGKILL)  # in the middle of the batch
            worker.wait()
        sent_before_kill = len(received)
        assert sent_before_kill < USERS, "the worker finished before it could be killed"

        with celery_worker(purge=False, **env):

            def all_delivered() -> bool:
                if len({m["Message-ID"] for m in received}) < USERS:
                    dispatch_digests_task.delay()  # what beat does every few minutes
                    return False
                return True

            wait_for(all_delivered, timeout=120, what=f"{USERS} distinct digests")
            wait_for(lambda: DigestRun.objects.filter(state="sent").count() == USERS, what="every run marked sent")

    ids = [m["Message-ID"] for m in received]
    assert len(set(ids)) == USERS
    assert sorted({m["To"] for m in received}) == sorted(f"u{i}@example.com" for i in range(USERS))
    # At most the one digest in flight when the worker died is sent twice, with the same Message-ID.
    assert len(ids) <= USERS + 1
    assert DigestRun.objects.count() == USERS


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_broker_restart_mid_batch_loses_and_duplicates_no_digest(workspace: Workspace) -> None:
    from tests.processes import restart_broker

    for i in range(USERS):
        user = UserFactory(
            email=f"r{i}@example.com",
            time_zone="UTC",
            digest=User.Digest.DAILY,
            digest_hour=0,
            digest_always=True,
            digest_since=datetime(2020, 1, 1, tzinfo=UTC),
        )
        Membership.objects.create(workspace=workspace, user=user, role="member")

    with smtp_sink(delay=0.3) as (port, received):
        env = {"EMAIL_URL": f"smtp://127.0.0.1:{port}", "DIGEST_CLAIM_TIMEOUT_SECONDS": "2"}
        with celery_worker(**env):
            dispatch_digests_task.delay()
            wait_for(lambda: len(received) >= 2, what="the first digests")
            restart_broker()  # every queued send message is gone

            def all_delivered() -> bool:
                if len({m["Message-ID"] for m in received}) < USERS:
                    dispatch_digests_task.delay()
                    return False
                return True

            wait_for(all_delivered, timeout=120, what=f"{USERS} distinct digests")
            wait_for(lambda: DigestRun.objects.filter(state="sent").count() == USERS, what="every run marked sent")

    ids = [m["Message-ID"] for m in received]
    assert len(set(ids)) == USERS
    assert len(ids) <= USERS + 1
