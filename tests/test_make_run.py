"""`make run` on the embedded default: migrates, loads demo data, and serves the app with a
real worker and beat; Ctrl-C stops all of them. Always run with the embedded default, since
that is what a fresh machine gets."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import urllib.request
from pathlib import Path

import pytest

from tests.processes import ROOT, free_port, wait_for


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status
    except OSError:
        return 0


def _heartbeat_rows(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return conn.execute("select count(*) from crm_schedulerheartbeat").fetchone()[0]
    except sqlite3.Error:
        return 0


@pytest.mark.slow
@pytest.mark.embedded_only
def test_make_run_serves_the_app_with_worker_and_beat_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "SECRET_KEY"}}
    env.update({"RAPPORT_VAR_DIR": str(tmp_path), "PORT": str(port)})
    log = (tmp_path / "make-run.log").open("w")
    process = subprocess.Popen(
        ["make", "run"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        wait_for(lambda: _get(f"http://127.0.0.1:{port}/login/") == 200, timeout=120, what="the login page")
        # Beat sends a heartbeat task when it starts; the worker runs it: both are alive.
        wait_for(lambda: _heartbeat_rows(tmp_path / "rapport.sqlite3") > 0, timeout=60, what="a scheduler heartbeat")
    finally:
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise
        finally:
            log.close()
    output = (tmp_path / "make-run.log").read_text()
    assert "Log in as demo@example.com / demo" in output
    assert _get(f"http://127.0.0.1:{port}/login/") == 0, "the web server kept running after Ctrl-C"
    leftover = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True, check=False)
    assert leftover.stdout.strip() == "", output[-2000:]
