"""Broker messages (hints) in unit tests: publishing that fails as with Redis down, or that
collects the hints so a test runs them as a worker would."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from unittest import mock

from celery import Task
from kombu.exceptions import OperationalError

from crm import queue

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=5)  # past HINT_RESEND_SECONDS (two minutes)


@contextmanager
def broker_down(task: Task) -> Iterator[mock.MagicMock]:
    """Publishing ``task`` fails as it does with Redis refusing connections."""
    error = OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
    with mock.patch.object(task, "apply_async", side_effect=error) as apply_async:
        yield apply_async


@contextmanager
def broker_up(task: Task) -> Iterator[list[tuple]]:
    """Publishing ``task`` works; the hints are collected to run by hand, like a worker."""
    hints: list[tuple] = []
    with mock.patch.object(task, "apply_async", side_effect=lambda args: hints.append(tuple(args))):
        yield hints


def sweep_twice_then_work(task: Task) -> int:
    """Two sweeps (as two beats would), then every hint they sent runs: returns the hints."""
    with broker_up(task) as hints:
        queue.outbox_sweep(now=LATER)
        queue.outbox_sweep(now=LATER)
    for args in hints:
        task.apply(args)
    return len(hints)
