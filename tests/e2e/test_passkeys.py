"""Passkeys in the browser, with Chromium's virtual authenticator (CDP WebAuthn domain): one is
added on the Security page, then used as the second step after the password, and to log in
with no password at all."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django_otp_webauthn.models import WebAuthnCredential
from playwright.sync_api import Browser, expect
from pytest_django.fixtures import Settings as SettingsWrapper
from pytest_django.live_server_helper import LiveServer

from crm import twofactor
from crm.models import AuditEvent, Membership, User
from tests.e2e.browser import DESKTOP, HtmlChecks, Visitor, field
from tests.factories import PASSWORD, MembershipFactory, UserFactory, WorkspaceFactory


@pytest.fixture
def at_localhost(
    browser: Browser, live_server: LiveServer, html_checks: HtmlChecks, settings: SettingsWrapper
) -> Iterator[Visitor]:
    """A browser on http://localhost (an IP address can hold no passkey), with a virtual
    authenticator that keeps passkeys and says yes to the fingerprint at once."""
    url = live_server.url.replace("127.0.0.1", "localhost")
    settings.OTP_WEBAUTHN_RP_ID = "localhost"
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [url]
    visitor = Visitor(browser, url, html_checks, viewport=DESKTOP)
    cdp = visitor.context.new_cdp_session(visitor.page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    yield visitor
    problems = visitor.close()
    assert not problems, "\n".join(problems)


def _log_out(me: Visitor) -> None:
    me.page.locator("#user-menu").click()
    me.page.get_by_role("button", name="Log out").click()
    expect(me.page.get_by_role("heading", name="Log in to Rapport")).to_be_visible()
    me.audit()


def test_it_adds_a_passkey_and_logs_in_with_it_after_the_password_and_without_one(
    at_localhost: Visitor, db: None
) -> None:
    workspace = WorkspaceFactory(name="Okafor Imports")
    user: User = UserFactory(email="ngozi@example.com", display_name="Ngozi", current_workspace=workspace)
    MembershipFactory(workspace=workspace, user=user, role=Membership.Role.OWNER)
    me = at_localhost
    page = me.page
    me.goto("/login/")
    field(me, "Email").fill(user.email)
    field(me, "Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.get_by_role("heading", name="This week")).to_be_visible()
    me.audit()

    me.goto("/settings/security/")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_label("Name of this passkey")).to_have_value("Passkey 1")
    me.audit()
    expect(page.locator("#recovery-codes li")).to_have_count(10)  # made with the first second factor
    assert twofactor.user_has_two_factor(user)
    page.get_by_label("Name of this passkey").fill("Laptop")
    page.get_by_role("button", name="Rename").click()
    expect(page.get_by_text("Passkey renamed “Laptop”.")).to_be_visible()
    me.audit()
    _log_out(me)

    # The second step after the password.
    field(me, "Email").fill(user.email)
    field(me, "Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.get_by_role("heading", name="One more step")).to_be_visible()
    me.audit()
    page.get_by_role("button", name="Use a passkey instead").click()
    expect(page.get_by_role("heading", name="This week")).to_be_visible()
    me.audit()
    _log_out(me)

    # No password at all.
    page.get_by_role("button", name="Log in with a passkey").click()
    expect(page.get_by_role("heading", name="This week")).to_be_visible()
    me.audit()

    assert WebAuthnCredential.objects.get(user=user).name == "Laptop"
    logins = list(AuditEvent.objects.filter(action="login").order_by("id").values_list("summary", flat=True))
    assert logins == ["Logged in with password", "Logged in with password and passkey", "Logged in with a passkey"]
