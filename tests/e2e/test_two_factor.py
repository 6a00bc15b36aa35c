"""Two-factor login in the browser: turned on from Settings with the secret the page shows (the
codes computed here, as an authenticator app would), then logging in with a code and with a
recovery code."""

from __future__ import annotations

from collections.abc import Callable

from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from crm import twofactor
from crm.models import Membership, User
from tests.crm.test_two_factor import code_for
from tests.e2e.browser import Visitor, field, log_in
from tests.factories import PASSWORD, MembershipFactory, UserFactory, WorkspaceFactory


def _password_step(visitor: Visitor, email: str) -> None:
    visitor.goto("/login/")
    field(visitor, "Email").fill(email)
    field(visitor, "Password").fill(PASSWORD)
    visitor.page.get_by_role("button", name="Log in", exact=True).click()
    expect(visitor.page.get_by_role("heading", name="One more step")).to_be_visible()
    visitor.audit()


def test_it_turns_on_two_factor_and_logs_in_with_a_code_and_with_a_recovery_code(
    visit: Callable[..., Visitor], db: None
) -> None:
    workspace = WorkspaceFactory(name="Okafor Imports")
    user: User = UserFactory(email="ngozi@example.com", display_name="Ngozi", current_workspace=workspace)
    MembershipFactory(workspace=workspace, user=user, role=Membership.Role.OWNER)
    me = visit()
    page = me.page
    log_in(me, user.email)
    me.goto("/settings/")
    page.get_by_role("link", name="Security: two-factor login, recovery codes").click()
    me.audit()
    page.get_by_role("link", name="Turn on two-factor login").click()
    expect(page.get_by_alt_text("QR code for your authenticator app")).to_be_visible()
    me.audit()
    me.screenshot("two-factor-setup")
    secret = page.locator("#totp-secret").inner_text()
    field(me, "Code").fill(code_for(secret))
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_text("Two-factor login is on")).to_be_visible()
    me.audit()
    codes = page.locator("#recovery-codes li").all_inner_texts()
    assert len(codes) == 10
    assert TOTPDevice.objects.get(user=user).confirmed

    with_code = visit(phone=True)
    _password_step(with_code, user.email)
    # The code of the next 30 seconds: the one just used to turn it on is good only once.
    field(with_code, "Code").fill(code_for(secret, steps_ahead=1))
    with_code.page.get_by_role("button", name="Log in", exact=True).click()
    expect(with_code.page.get_by_role("heading", name="This week")).to_be_visible()
    with_code.audit()

    lost_phone = visit()
    _password_step(lost_phone, user.email)
    field(lost_phone, "Code").fill("wrong1")
    lost_phone.page.get_by_role("button", name="Log in", exact=True).click()
    expect(lost_phone.page.get_by_text("That code is not right")).to_be_visible()
    lost_phone.audit()
    field(lost_phone, "Code").fill(codes[3])
    lost_phone.page.get_by_role("button", name="Log in", exact=True).click()
    expect(lost_phone.page.get_by_role("heading", name="This week")).to_be_visible()
    expect(lost_phone.page.get_by_text("You used a recovery code: 9 left")).to_be_visible()
    lost_phone.audit()
    assert twofactor.recovery_codes_left(user) == 9
