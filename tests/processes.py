"""Real collaborators for tests: a Celery worker process and an SMTP sink.

The worker runs with this test session's settings (same broker, whichever tier) against the
test database, so what it does is visible to a ``transaction=True`` test.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def test_database_url() -> str:
    """A DATABASE_URL for the test database this session created."""
    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def celery_worker(*, purge: bool = True, **env: str) -> Iterator[subprocess.Popen[str]]:
    """Start ``celery worker`` on the test database; purge stale messages first (unless told)."""
    from crm.celery import app

    if purge:
        app.control.purge()
    arguments = ["worker", "-P", "solo", "--without-gossip", "--without-mingle", "--without-heartbeat"]
    with _celery(arguments, env) as process:
        yield process


@contextmanager
def celery_beat(folder: Path, **env: str) -> Iterator[subprocess.Popen[str]]:
    """Start ``celery beat`` keeping its schedule and pid file in ``folder`` (one per beat)."""
    folder.mkdir(parents=True, exist_ok=True)
    arguments = ["beat", f"--schedule={folder / 'schedule'}", f"--pidfile={folder / 'beat.pid'}"]
    with _celery(arguments, env) as process:
        yield process


@contextmanager
def _celery(arguments: list[str], env: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    """A ``celery -A crm`` process on the test database, stopped (its whole group) at the end."""
    process_env = {**os.environ, "DATABASE_URL": test_database_url(), "PYTHONUNBUFFERED": "1", **env}
    # A file, not a pipe nobody reads: a busy process would fill the pipe and hang on a log line.
    log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed below, after the process
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "crm", *arguments, "--loglevel=INFO"],
        cwd=ROOT,
        env=process_env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        _stop(process)
        log.close()


def _stop(process: subprocess.Popen) -> None:
    """Stop the process and every child of its group; kill what does not stop in 20 s."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@contextmanager
def gunicorn_server(*, workers: int = 3, **env: str) -> Iterator[int]:
    """Serve the app with gunicorn on a free port of 127.0.0.1, on the test database, with
    production settings (DEBUG off, collected static files); yields the port once it answers."""
    import urllib.request

    port = free_port()
    static_root = Path(tempfile.mkdtemp(prefix="rapport-static-"))
    server_env = {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "DJANGO_DEBUG": "0",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "ALLOWED_HOSTS": "127.0.0.1",
        "STATIC_ROOT": str(static_root),
        **env,
    }
    manage = [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"]
    subprocess.run(manage, cwd=ROOT, env=server_env, check=True)
    arguments = ["-m", "gunicorn", "crm.wsgi", f"--workers={workers}", f"--bind=127.0.0.1:{port}"]
    log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed below, after the process
    process = subprocess.Popen(
        [sys.executable, *arguments], cwd=ROOT, env=server_env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip

    def answers() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz/", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    try:
        wait_for(answers, timeout=60, what="gunicorn to answer")
        yield port
    finally:
        _stop(process)
        log.close()
        shutil.rmtree(static_root, ignore_errors=True)


def wait_for(check: Callable[[], Any], *, timeout: float = 60, what: str = "condition") -> Any:
    """Poll until ``check()`` is truthy. The timeout only bounds a failing run."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"Timed out after {timeout}s waiting for {what}")


class _Sink:
    def __init__(self, delay: float) -> None:
        self.messages: list[Message] = []
        self.delay = delay

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)  # a slow server, so a batch takes long enough to interrupt
        self.messages.append(message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"


@contextmanager
def smtp_sink(*, delay: float = 0) -> Iterator[tuple[int, list[Message]]]:
    """A real SMTP server on 127.0.0.1; yields its port and the list of messages received."""
    handler = _Sink(delay)
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, handler.messages
    finally:
        controller.stop()


class RedisServer:
    """A ``redis-server`` of the test's own on a free port (never the machine's, others use it),
    without persistence: stopping it loses every message it holds, as a crash would."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.folder = folder
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        arguments = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        log = (self.folder / "redis.log").open("ab")
        self.process = subprocess.Popen(
            ["redis-server", *arguments, "--dir", str(self.folder)], stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        log.close()
        wait_for(self.answers, timeout=30, what="redis-server to answer")

    def answers(self) -> bool:
        ping = subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True)
        return ping.stdout.strip() == "PONG"

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process)
            self.process = None


@contextmanager
def redis_server(folder: Path) -> Iterator[RedisServer]:
    """Start a private Redis and point this process's Celery app at it, both undone at the end."""
    from crm.celery import app

    server = RedisServer(folder)
    server.start()
    old_url = app.conf.broker_url

    def use(url: str) -> None:
        app.conf.update(broker_url=url, broker_read_url=url, broker_write_url=url)
        # Celery keeps its producer pools once made; drop them so the next publish connects
        # to ``url`` (and after the test, to the tier's broker again).
        app._pool = None
        app.amqp._producer_pool = None

    use(server.url)
    try:
        yield server
    finally:
        use(old_url)
        server.stop()


REDIS_START = [
    "redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379", "--save", "",
    "--appendonly", "no", "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log",
]  # fmt: skip


def restart_broker() -> str:
    """Restart the broker of this tier, losing every message it holds.

    Redis (services tier): shut down without saving and start again, with the command the
    machine uses to start it. Filesystem (embedded tier): the queued message files vanish.
    """
    from django.conf import settings

    url = settings.CELERY_BROKER_URL
    if url.startswith("redis://"):
        subprocess.run(["redis-cli", "-u", url, "shutdown", "nosave"], check=False, capture_output=True)
        subprocess.run(REDIS_START, check=True, capture_output=True)
        wait_for(
            lambda: (
                subprocess.run(["redis-cli", "-u", url, "ping"], capture_output=True, text=True).stdout.strip()
                == "PONG"
            ),
            timeout=30,
            what="Redis to come back",
        )
        return "redis"
    folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
    for message in folder.glob("*"):
        message.unlink(missing_ok=True)
    return "filesystem"
