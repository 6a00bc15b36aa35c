"""The app in a real browser: Debian's Chromium driven by Playwright against a live server.

Every page a flow reaches is audited as it is reached (``visitor.audit()``): axe-core in the
page (no serious or critical violations), no JavaScript error or CSP refusal in the console,
and the HTML the server sent is kept for the Nu HTML checker, which runs once over all of them
when the e2e tests end. A page the browser navigated to but nobody audited fails the test.

Tools come from the machine or from npm, never downloaded at run time by a browser installer:
``/usr/bin/chromium`` (``apt-get install chromium``), Java for vnu.jar, and the npm packages
``axe-core`` and ``vnu-jar`` installed once into ``var/node/`` (git-ignored).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Response, sync_playwright
from pytest_django.live_server_helper import LiveServer

from tests.processes import ROOT, celery_worker, smtp_sink

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
NODE_DIR = ROOT / "var" / "node"
NPM_PACKAGES = {"axe-core": "4.14.1", "vnu-jar": "26.9.27"}
AXE_JS = NODE_DIR / "node_modules" / "axe-core" / "axe.min.js"
VNU_JAR = NODE_DIR / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
OUT_DIR = ROOT / "var" / "e2e"
SCREENSHOTS = ROOT / "var" / "screenshots"
DESKTOP = {"width": 1280, "height": 1000}
PHONE = {"width": 375, "height": 812}
BLOCKING_IMPACTS = {"serious", "critical"}


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


def _installed_version(package: str) -> str | None:
    manifest = NODE_DIR / "node_modules" / package / "package.json"
    return json.loads(manifest.read_text())["version"] if manifest.exists() else None


@pytest.fixture(scope="session")
def npm_tools() -> None:
    """axe-core and vnu-jar at their pinned versions in var/node/, installed once when missing."""
    wanted = [f"{name}@{version}" for name, version in NPM_PACKAGES.items() if _installed_version(name) != version]
    if not wanted:
        return
    if not shutil.which("npm"):
        pytest.fail("The e2e tests need npm to install axe-core and vnu-jar (apt-get install -y npm).", pytrace=False)
    NODE_DIR.mkdir(parents=True, exist_ok=True)
    # --ignore-scripts: vnu-jar's postinstall would try to fetch a Java runtime; the machine's Java serves.
    command = ["npm", "install", "--prefix", str(NODE_DIR), "--no-save", "--ignore-scripts", "--no-audit", "--no-fund"]
    result = subprocess.run([*command, *wanted], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        pytest.fail(f"npm install {' '.join(wanted)} failed:\n{result.stderr}", pytrace=False)


def require_chromium(path: Path) -> None:
    """Missing, the browser fails the run: a browser test never skips."""
    if not path.exists():
        pytest.fail(f"The e2e tests need Debian's Chromium at {path}: apt-get install -y chromium", pytrace=False)


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


@dataclass
class HtmlChecks:
    """Server-sent HTML of every audited page, checked by vnu.jar in one JVM at the end."""

    folder: Path
    pages: dict[str, str] = field(default_factory=dict)  # file name -> URL

    def add(self, url: str, html: bytes) -> None:
        name = f"{len(self.pages) + 1:03d}-{re.sub(r'[^a-z0-9]+', '-', url.split('//', 1)[-1].lower())[:80]}.html"
        (self.folder / name).write_bytes(html)
        self.pages[name] = url

    def errors(self) -> list[str]:
        if not self.pages:
            return []
        if not shutil.which("java"):
            return ["The Nu HTML checker needs Java (apt-get install -y default-jre-headless)."]
        files = [str(self.folder / name) for name in self.pages]
        command = ["java", "-Xss1m", "-jar", str(VNU_JAR), "--errors-only", "--format", "json", "--stdout"]
        result = subprocess.run([*command, *files], capture_output=True, text=True, check=False)
        try:
            messages = json.loads(result.stdout)["messages"]
        except (json.JSONDecodeError, KeyError):
            return [f"vnu.jar did not answer in JSON (exit {result.returncode}): {result.stderr[-2000:]}"]
        found = []
        for m in messages:
            name = Path(m.get("url", "")).name
            where = f"{self.pages.get(name, name)} (var/e2e/html/{name}:{m.get('lastLine', '?')})"
            found.append(f"{where}: {m.get('message')} [{m.get('extract', '').strip()[:120]}]")
        return found


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


class Visitor:
    """One person at one browser: a context of its own (cookies), one page, and the audits."""

    def __init__(self, browser: Browser, base_url: str, html_checks: HtmlChecks, *, viewport: dict[str, int]) -> None:
        # Reduced motion turns Bootstrap's fades off, so a check never sees a dialog half faded in.
        self.context = browser.new_context(
            base_url=base_url,
            viewport=viewport,
            locale="en-GB",
            timezone_id="Europe/London",
            reduced_motion="reduce",
            accept_downloads=True,
        )
        self.page: Page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.html_checks = html_checks
        self.problems: list[str] = []
        self.navigations: list[Response] = []
        self.audited: set[str] = set()
        self.page.on("response", self._on_response)
        self.page.on("console", lambda m: m.type == "error" and self.problems.append(f"console: {m.text}"))
        self.page.on("pageerror", lambda e: self.problems.append(f"JavaScript error: {e}"))

    def _on_response(self, response: Response) -> None:
        is_page = response.request.is_navigation_request() and response.frame == self.page.main_frame
        if is_page and not 300 <= response.status < 400 and "text/html" in response.headers.get("content-type", ""):
            self.navigations.append(response)

    def goto(self, path: str) -> None:
        self.page.goto(path)
        self.audit()

    def audit(self) -> None:
        """axe-core on the page as it is now; the server's HTML of this page to the HTML checker."""
        self.page.wait_for_load_state("load")
        url = self.page.url
        if self.navigations and self.navigations[-1].url == url and url not in self.audited:
            self.html_checks.add(url, self.navigations[-1].body())
        self.audited.add(url)
        self._axe(url)

    def show_email(self, html: str) -> None:
        """An email's HTML rendered as a page, checked like one."""
        self.page.set_content(html)
        if "email" not in self.audited:
            self.html_checks.add("email", html.encode())
        self.audited.add("email")
        self._axe("the email")

    def _axe(self, url: str) -> None:
        # evaluate() runs through the DevTools protocol, which the page's CSP does not govern, so
        # axe goes in without bypass_csp (which would hide the app's own CSP mistakes).
        if not self.page.evaluate("() => typeof window.axe === 'object'"):
            self.page.evaluate(AXE_JS.read_text())
        result = self.page.evaluate("async () => await window.axe.run(document, {resultTypes: ['violations']})")
        blocking = [v for v in result["violations"] if v["impact"] in BLOCKING_IMPACTS]
        assert not blocking, f"axe-core on {url}:\n" + "\n".join(_describe(v) for v in blocking)

    @property
    def is_phone(self) -> bool:
        return bool(self.page.viewport_size) and self.page.viewport_size["width"] < 600

    def screenshot(self, name: str) -> Path:
        """What the screen shows first, in var/screenshots/NAME-desktop.png or NAME-phone.png."""
        path = SCREENSHOTS / f"{name}-{'phone' if self.is_phone else 'desktop'}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(path))
        return path

    def close(self) -> list[str]:
        """What went wrong unseen: console errors, and pages reached that nobody audited."""
        unaudited = {r.url for r in self.navigations} - self.audited
        self.context.close()
        return self.problems + [f"reached but not audited: {url}" for url in sorted(unaudited)]


def _describe(violation: dict[str, Any]) -> str:
    nodes = "".join(f"\n    {n['html'][:160]}\n      {n['failureSummary']}" for n in violation["nodes"][:5])
    return f"- {violation['impact']} {violation['id']}: {violation['help']} ({len(violation['nodes'])}x){nodes}"


@pytest.fixture
def visit(browser: Browser, live_server: LiveServer, html_checks: HtmlChecks) -> Iterator[Any]:
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
def mail_worker(live_server: LiveServer, django_db_setup: None, django_db_blocker: Any) -> Iterator[list[Message]]:
    """A real Celery worker that sends through a real SMTP server; yields the messages received.

    Links in the emails point at the live server, as SITE_URL points at the real site.
    """
    with django_db_blocker.unblock(), smtp_sink() as (port, received):
        env = {"EMAIL_URL": f"smtp://127.0.0.1:{port}", "SITE_URL": live_server.url}
        with celery_worker(**env):
            yield received
