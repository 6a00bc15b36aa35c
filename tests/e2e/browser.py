"""Helpers for the browser tests: a Visitor (one person at one browser) whose every page is
checked as it is reached, and the Nu HTML checker run over all of them at the end.

Checks on each page (``Visitor.audit()``): axe-core in the page (no serious or critical
violation), no JavaScript error or CSP refusal in the console, and the HTML the server sent is
kept for the Nu HTML checker. A page the browser navigated to but nobody audited fails the test.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, Response, expect

from tests.factories import PASSWORD
from tests.processes import ROOT

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
# Each xdist worker checks the HTML of its own pages, in a folder of its own.
OUT_DIR = ROOT / "var" / "e2e" / os.environ.get("PYTEST_XDIST_WORKER", "main")
SCREENSHOTS = ROOT / "var" / "screenshots"
DESKTOP = {"width": 1280, "height": 1000}
PHONE = {"width": 375, "height": 812}
BLOCKING_IMPACTS = {"serious", "critical"}


def installed_version(package: str) -> str | None:
    manifest = NODE_DIR / "node_modules" / package / "package.json"
    return json.loads(manifest.read_text())["version"] if manifest.exists() else None


def require_chromium(path: Path) -> None:
    """Missing, the browser fails the run: a browser test never skips."""
    if not path.exists():
        pytest.fail(f"The e2e tests need Debian's Chromium at {path}: apt-get install -y chromium", pytrace=False)


@dataclasses.dataclass
class HtmlChecks:
    """Server-sent HTML of every audited page, checked by vnu.jar in one JVM at the end."""

    folder: Path
    pages: dict[str, str] = dataclasses.field(default_factory=dict)  # file name -> URL

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
        response = self.page.goto(path)
        assert response is not None, f"{path}: no response"
        assert response.ok, f"{path} answered {response.status}"
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
        # On a blank page: set_content() writes into the current document, which would keep the
        # app's CSP (no inline styles). Emails are read in mail programs, not under that policy.
        self.page.goto("about:blank")
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


def field(visitor: Visitor, label: str) -> Locator:
    """The form field labelled exactly ``label`` (crispy-forms adds "*" to required ones)."""
    return visitor.page.get_by_label(re.compile(rf"^\s*{re.escape(label)}\s*\*?\s*$"))


def log_in(visitor: Visitor, email: str, password: str = PASSWORD) -> None:
    visitor.goto("/login/")
    field(visitor, "Email").fill(email)
    field(visitor, "Password").fill(password)
    visitor.page.get_by_role("button", name="Log in", exact=True).click()
    expect(visitor.page.get_by_role("heading", name="This week")).to_be_visible()
    visitor.audit()
