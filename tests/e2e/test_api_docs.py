"""The API docs (Swagger UI from drf-spectacular-sidecar) run in Chromium under the strict CSP:
the page draws every operation from /api/v1/schema/ with no CSP refusal or script error."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Browser, expect
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from tests.e2e.browser import Visitor, field, log_in
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory


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


@pytest.mark.parametrize("phone", [False, True])
def test_an_owner_makes_a_token_and_a_webhook_in_settings(
    visit: Callable[..., Visitor], settings: Settings, phone: bool
) -> None:
    settings.WEBHOOK_ALLOW_LOOPBACK = True  # the address below is the test's own, on loopback
    workspace = WorkspaceFactory()
    user = UserFactory(email=f"api-{phone}@example.com", current_workspace=workspace)
    MembershipFactory(workspace=workspace, user=user, role="owner")
    me = visit(phone=phone)
    page = me.page
    log_in(me, user.email)
    me.goto("/settings/")
    page.get_by_role("link", name="API tokens").click()
    me.audit()
    field(me, "Name").fill("Web shop")
    page.get_by_label("Read and write").check()
    page.get_by_role("button", name="Make token").click()
    me.audit()
    expect(page.get_by_role("heading", name="Your new token")).to_be_visible()
    secret = page.get_by_label("Token", exact=True).input_value()
    assert secret.startswith("rpt_")
    me.screenshot("api-tokens")
    page.reload()
    me.audit()
    expect(page.get_by_label("Token", exact=True)).to_have_count(0)  # shown once

    page.get_by_role("link", name="Webhooks").first.click()
    me.audit()
    field(me, "Address").fill("http://127.0.0.1:9/hooks")
    page.get_by_label("A person was added (person.created)").check()
    page.get_by_role("button", name="Add webhook").click()
    me.audit()
    expect(page.get_by_text("Signing secret")).to_be_visible()
    me.screenshot("api-webhooks")
    assert me.close() == []
