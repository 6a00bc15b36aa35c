"""The suite in several processes (pytest-xdist, ``make test`` runs one per core).

Each worker process gets rooms of its own before Django reads its settings (pyproject loads this
module with ``-p``, which pytest imports before pytest-django imports ``crm.settings``):

- its own ``RAPPORT_VAR_DIR`` (``.../gw0``): SQLite test database, media, the filesystem broker's
  folders and the beat schedule, so a worker test's Celery worker only sees its own messages;
- on Redis, its own database number (the tier's number plus the worker's index), for the same
  reason: a Celery worker started by one process must never take another process's tasks.

PostgreSQL needs nothing here: pytest-django names each worker's test database ``test_<name>_gwN``.
The trust suite's numbers are counted in the workers and added up in the controller.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


def _own_rooms(worker: str) -> None:
    index = int(worker.removeprefix("gw"))
    base = Path(os.environ.get("RAPPORT_VAR_DIR", "var/test"))
    os.environ["RAPPORT_VAR_DIR"] = str(base / worker)
    broker = os.environ.get("CELERY_BROKER_URL", "")
    match = re.fullmatch(r"(rediss?://[^/]+)(?:/(\d+))?", broker)
    if match:
        os.environ["CELERY_BROKER_URL"] = f"{match[1]}/{int(match[2] or 0) + index}"


if WORKER:
    _own_rooms(WORKER)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """In a worker: hand the trust numbers counted here to the controller."""
    from tests.trust import summary

    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["trust_numbers"] = json.dumps(summary.numbers())


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """In the controller: add up what each worker counted, for the summary printed at the end."""
    from tests.trust import summary

    summary.add(json.loads(node.workeroutput.get("trust_numbers", "{}")))
