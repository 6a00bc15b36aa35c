"""The app in a real browser: Debian's Chromium driven by Playwright against a live server.

``visit()`` gives a Visitor whose every page is checked (see browser.py); the Nu HTML checker
runs once over all of them when the e2e tests end.

Tools come from the machine or from npm, never downloaded at run time by a browser installer:
``/usr/bin/chromium`` (``apt-get install chromium``), Java for vnu.jar, and the npm packages
``axe-core`` and ``vnu-jar`` installed once into ``var/node/`` (git-ignored).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from email.message import Message
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright
from pytest_django.live_server_helper import LiveServer

from tests.e2e.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    NODE_DIR,
    NPM_PACKAGES,
    OUT_DIR,
    PHONE,
    HtmlChecks,
    Visitor,
    installed_version,
    require_chromium,
)
from tests.processes import celery_worker, smtp_sink


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def live_server() -> Iterator[LiveServer]:
    """pytest-django's live server (static files included), on 127.0.0.1 rather than localhost."""
    server = LiveServer("127.0.0.1")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def npm_tools() -> None:
    """axe-core and vnu-jar at their pinned versions in var/node/, installed once when missing."""
    NODE_DIR.mkdir(parents=True, exist_ok=True)
    # One xdist worker installs while the others wait for it, then find the packages there.
    with (NODE_DIR / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _install_npm_tools()


def _install_npm_tools() -> None:
    wanted = [f"{name}@{version}" for name, version in NPM_PACKAGES.items() if installed_version(name) != version]
    if not wanted:
        return
    if not shutil.which("npm"):
        pytest.fail("The e2e tests need npm to install axe-core and vnu-jar (apt-get install -y npm).", pytrace=False)
    # --ignore-scripts: vnu-jar's postinstall would try to fetch a Java runtime; the machine's Java serves.
    command = ["npm", "install", "--prefix", str(NODE_DIR), "--no-save", "--ignore-scripts", "--no-audit", "--no-fund"]
    result = subprocess.run([*command, *wanted], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        pytest.fail(f"npm install {' '.join(wanted)} failed:\n{result.stderr}", pytrace=False)


@pytest.fixture(scope="package")
def browser(npm_tools: None) -> Iterator[Browser]:
    """Debian's Chromium, headless."""
    require_chromium(CHROMIUM)
    # Playwright's sync API runs an asyncio event loop in this thread, so Django's ORM (used by
    # fixtures and assertions in the test itself) believes it is called from async code and
    # refuses. The ORM calls here are plain blocking calls between browser steps: allow them,
    # only while the browser runs.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="package")
def html_checks(npm_tools: None) -> Iterator[HtmlChecks]:
    folder = OUT_DIR / "html"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    checks = HtmlChecks(folder)
    yield checks
    errors = checks.errors()
    if errors:
        pytest.fail(f"The Nu HTML checker found {len(errors)} errors:\n" + "\n".join(errors), pytrace=False)


@pytest.fixture
def visit(browser: Browser, live_server: LiveServer, html_checks: HtmlChecks) -> Iterator[Callable[..., Visitor]]:
    """``visit()`` opens a fresh browser (desktop width; ``phone=True`` for 375 px)."""
    visitors: list[Visitor] = []

    def open_browser(*, phone: bool = False) -> Visitor:
        visitor = Visitor(browser, live_server.url, html_checks, viewport=PHONE if phone else DESKTOP)
        visitors.append(visitor)
        return visitor

    yield open_browser
    problems = [p for v in visitors for p in v.close()]
    assert not problems, "\n".join(problems)


@pytest.fixture(scope="package")
def mail_worker(live_server: LiveServer, django_db_setup: None) -> Iterator[list[Message]]:
    """A real Celery worker that sends through a real SMTP server; yields the messages received.

    Links in the emails point at the live server, as SITE_URL points at the real site.
    """
    with smtp_sink() as (port, received):
        env = {"EMAIL_URL": f"smtp://127.0.0.1:{port}", "SITE_URL": live_server.url}
        with celery_worker(**env):
            yield received
