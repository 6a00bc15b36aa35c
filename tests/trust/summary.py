"""The trust suite's numbers: tests record them, the end of the run prints them as a table.

Kept in this process (one pytest run) and written to ``$RAPPORT_VAR_DIR/trust-summary.json``
for anything that wants them after the run.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from email.message import Message
from pathlib import Path

import pytest

# (what was done, what went wrong) per row of the table, added up over the tests that ran.
ROWS = {
    "isolation": ("requests tried", "leaks found"),
    "xss": ("payloads tried", "executed"),
    "fuzz": ("hostile requests", "server errors"),
    "faults": ("faults injected", "notifications lost", "notifications duplicated"),
    "load": ("requests", "lost writes", "errors"),
    "broker": ("broker stops", "jobs lost", "jobs done twice"),
    "dates": ("out-of-range dates tried", "server errors", "stored"),
    "control chars": ("inputs tried", "server errors"),
    "rate limits": ("requests tried", "over the limit let through"),
    "audit": ("actions done", "without one record", "refused with a record"),
    "two-factor": ("codes guessed", "let in when locked"),
    "erasure": ("text values searched", "traces left"),
    "sealed": ("private values stored", "readable in the database"),
}
_numbers: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))


def record(row: str, **numbers: int) -> None:
    """Add ``numbers`` (keyword names are the column names with ``_`` for spaces) to ``row``."""
    for name, value in numbers.items():
        column = name.replace("_", " ")
        assert column in ROWS[row], f"{row} has no column {column!r}"
        _numbers[row][column] += value


def numbers() -> dict[str, dict[str, int]]:
    """What this process counted (an xdist worker hands it to the controller)."""
    return {row: dict(columns) for row, columns in _numbers.items()}


def add(counted: dict[str, dict[str, int]]) -> None:
    """Add what another process counted (the controller, once per xdist worker)."""
    for row, columns in counted.items():
        for column, value in columns.items():
            _numbers[row][column] += value


def record_digests(received: list[Message], *, users: int, reminders_lost: int = 0, reminders_twice: int = 0) -> None:
    """One fault, and the digests lost and duplicated: a user with two different digests for the
    period is a duplicate; a resend of the one in flight keeps its Message-ID, and mail programs
    show it once."""
    per_user: dict[str, set[str]] = {}
    for message in received:
        per_user.setdefault(message["To"], set()).add(message["Message-ID"])
    record(
        "faults",
        faults_injected=1,
        notifications_lost=users - len(per_user) + reminders_lost,
        notifications_duplicated=sum(len(ids) - 1 for ids in per_user.values()) + reminders_twice,
    )


def write_and_print(terminal: pytest.TerminalReporter) -> None:
    if not _numbers:
        return
    path = Path(os.environ.get("RAPPORT_VAR_DIR", "var")) / "trust-summary.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_numbers, indent=2) + "\n")
    terminal.section("trust summary")
    terminal.write_line(f"{'check':<13} | {'done':<24} | went wrong")
    for row, (done, *wrong) in ROWS.items():
        if row in _numbers:
            numbers = _numbers[row]
            failed = ", ".join(f"{column} {numbers[column]}" for column in wrong)
            terminal.write_line(f"{row:<13} | {f'{done} {numbers[done]}':<24} | {failed}")
