"""The API docs (Swagger UI from drf-spectacular-sidecar) run in Chromium under the strict CSP:
the page draws every operation from /api/v1/schema/ with no CSP refusal or script error."""

from __future__ import annotations

from playwright.sync_api import Browser, expect
from pytest_django.live_server_helper import LiveServer


def test_the_api_docs_render_every_operation_under_the_csp(browser: Browser, live_server: LiveServer) -> None:
    page = browser.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    try:
        response = page.goto(f"{live_server.url}/api/v1/docs/")
        assert response is not None
        assert response.status == 200
        expect(page.locator(".opblock-summary-path").first).to_be_visible(timeout=15_000)
        paths = page.locator(".opblock-summary-path").all_inner_texts()
        assert "/api/v1/people/" in paths
        assert "/api/v1/this-week/" in paths
    finally:
        page.close()
    assert problems == [], problems
