"""Two-factor login: an authenticator app turned on with a first code, the code asked after the
password, recovery codes, throttling shared with passwords, and no way around it by reset."""

from __future__ import annotations

import re
from base64 import b32decode

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from crm import twofactor
from crm.models import User
from crm.tasks import send_password_reset_task
from tests.factories import PASSWORD
from tests.trust import summary

pytestmark = pytest.mark.django_db


def code_for(secret: str, *, steps_ahead: int = 0) -> str:
    """What an authenticator app shows for the secret typed in (as the page shows it)."""
    key = b32decode(secret.replace(" ", "") + "=" * (-len(secret.replace(" ", "")) % 8))
    totp = TOTP(key)
    totp.time = totp.time + 30 * steps_ahead
    return f"{totp.token():06d}"


def turn_on(client: Client) -> tuple[str, list[str]]:
    """Through the pages: scan (read the secret), confirm with the first code; the codes shown."""
    page = client.get(reverse("security_totp_add")).content.decode()
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page).group(1)
    device = re.search(r'name="device" value="(\d+)"', page).group(1)
    assert 'src="data:image/svg+xml' in page  # the QR code, as an image the CSP allows
    response = client.post(reverse("security_totp_add"), {"device": device, "code": code_for(secret)}, follow=True)
    codes = re.findall(r"<li>([a-z2-7]{8})</li>", response.content.decode())
    return secret, codes


def log_in_password(client: Client, email: str = "owner@example.com"):
    return client.post(reverse("login"), {"username": email, "password": PASSWORD})


def test_it_turns_on_with_a_first_code_and_shows_ten_recovery_codes_once(owner_client: Client, owner: User) -> None:
    _, codes = turn_on(owner_client)

    assert twofactor.user_has_two_factor(owner)
    assert len(codes) == 10
    again = owner_client.get(reverse("security")).content.decode()
    assert codes[0] not in again  # shown once
    assert 'id="recovery-left">10<' in again


def test_a_wrong_first_code_leaves_it_off_with_a_message(owner_client: Client, owner: User) -> None:
    page = owner_client.get(reverse("security_totp_add")).content.decode()
    device = re.search(r'name="device" value="(\d+)"', page).group(1)

    response = owner_client.post(reverse("security_totp_add"), {"device": device, "code": "000000x"})

    assert response.status_code == 200
    assert "not the one your app shows" in response.content.decode()
    assert not twofactor.user_has_two_factor(owner)


def test_login_asks_for_the_code_after_the_password(owner_client: Client, owner: User) -> None:
    secret, _ = turn_on(owner_client)
    client = Client()

    first = log_in_password(client)
    assert first["Location"] == reverse("login_code")
    assert client.get(reverse("dashboard")).status_code == 302  # not logged in yet

    wrong = client.post(reverse("login_code"), {"code": "123456" if code_for(secret) != "123456" else "654321"})
    assert "That code is not right" in wrong.content.decode()
    done = client.post(reverse("login_code"), {"code": code_for(secret, steps_ahead=1)})

    assert done.status_code == 302
    assert client.get(reverse("dashboard")).status_code == 200


def test_a_recovery_code_logs_in_once(owner_client: Client, owner: User) -> None:
    _, codes = turn_on(owner_client)
    client = Client()
    log_in_password(client)
    assert client.post(reverse("login_code"), {"code": codes[0].upper()}).status_code == 302
    assert twofactor.recovery_codes_left(owner) == 9

    again = Client()
    log_in_password(again)
    assert "That code is not right" in again.post(reverse("login_code"), {"code": codes[0]}).content.decode()


def test_new_recovery_codes_replace_the_old_ones(owner_client: Client, owner: User) -> None:
    _, old = turn_on(owner_client)
    page = owner_client.post(reverse("security_recovery_codes"), follow=True).content.decode()
    new = re.findall(r"<li>([a-z2-7]{8})</li>", page)

    assert len(new) == 10
    assert not set(new) & set(old)
    client = Client()
    log_in_password(client)
    assert client.post(reverse("login_code"), {"code": old[1]}).status_code == 200  # refused
    assert client.post(reverse("login_code"), {"code": new[1]}).status_code == 302


@pytest.mark.trust
def test_wrong_codes_count_with_wrong_passwords_towards_the_lockout(
    owner_client: Client, owner: User, settings
) -> None:
    settings.AXES_FAILURE_LIMIT = 4
    secret, _ = turn_on(owner_client)
    client = Client()
    client.post(reverse("login"), {"username": "owner@example.com", "password": "wrong"})
    client.post(reverse("login"), {"username": "owner@example.com", "password": "wrong"})
    log_in_password(client)
    wrong = "111111" if code_for(secret) != "111111" else "222222"
    client.post(reverse("login_code"), {"code": wrong})
    locked = client.post(reverse("login_code"), {"code": wrong})

    assert locked.status_code == 429
    assert "Too many wrong passwords or codes" in locked.content.decode()
    # Even the right password and code are refused now.
    assert log_in_password(client).status_code == 429
    let_in = client.get(reverse("dashboard")).status_code != 302
    summary.record("two-factor", codes_guessed=2, let_in_when_locked=int(let_in))
    assert not let_in


def test_password_reset_does_not_bypass_the_second_factor(owner_client: Client, owner: User) -> None:
    turn_on(owner_client)
    client = Client()
    client.post(reverse("password_reset"), {"email": "owner@example.com"})
    from crm.models import PasswordResetRequest

    send_password_reset_task(PasswordResetRequest.objects.get(user=owner).pk)
    link = re.search(r"http://[^\s]+/password/reset/[^\s]+/", mail.outbox[-1].body).group(0)
    form = client.get(link, follow=True)
    new_password = "another-long-pass-phrase-42"
    client.post(form.redirect_chain[-1][0], {"new_password1": new_password, "new_password2": new_password})

    assert client.get(reverse("dashboard")).status_code == 302  # the reset logs nobody in
    step = client.post(reverse("login"), {"username": "owner@example.com", "password": new_password})
    assert step["Location"] == reverse("login_code")
    assert client.get(reverse("dashboard")).status_code == 302


def test_the_code_step_expires(owner_client: Client, owner: User, settings) -> None:
    turn_on(owner_client)
    settings.TWO_FACTOR_PENDING_SECONDS = -1
    client = Client()
    log_in_password(client)

    response = client.get(reverse("login_code"))

    assert response["Location"] == reverse("login")


def test_removing_the_last_authenticator_turns_it_off(owner_client: Client, owner: User) -> None:
    turn_on(owner_client)
    device = TOTPDevice.objects.get(user=owner)

    owner_client.post(reverse("security_totp_remove", args=[device.pk]))

    assert not twofactor.user_has_two_factor(owner)
    assert twofactor.recovery_codes_left(owner) == 0
    assert log_in_password(Client()).status_code == 302


def test_another_users_authenticator_is_a_404(owner_client: Client, outsider_client: Client, owner: User) -> None:
    turn_on(owner_client)
    device = TOTPDevice.objects.get(user=owner)

    assert outsider_client.post(reverse("security_totp_remove", args=[device.pk])).status_code == 404
    assert twofactor.user_has_two_factor(owner)


def _passkey(user: User, name: str = "Laptop"):
    from django_otp_webauthn.models import WebAuthnCredential

    return WebAuthnCredential.objects.create(
        user=user, name=name, credential_id=name.encode() * 4, public_key=b"k", sign_count=0, confirmed=True
    )


def test_a_passkey_is_a_second_factor_renamed_and_removed_by_its_owner_only(
    owner_client: Client, outsider_client: Client, owner: User
) -> None:
    passkey = _passkey(owner)
    assert twofactor.user_has_two_factor(owner)
    step = log_in_password(Client())
    assert step["Location"] == reverse("login_code")

    assert outsider_client.post(reverse("security_passkey_rename", args=[passkey.pk]), {"name": "x"}).status_code == 404
    assert outsider_client.post(reverse("security_passkey_remove", args=[passkey.pk])).status_code == 404
    owner_client.post(reverse("security_passkey_rename", args=[passkey.pk]), {"name": "  Work phone "})
    passkey.refresh_from_db()
    assert passkey.name == "Work phone"
    owner_client.post(reverse("security_passkey_remove", args=[passkey.pk]))

    assert not twofactor.user_has_two_factor(owner)


def test_the_code_page_offers_the_passkey_only_to_an_account_that_has_one(owner: User, member: User) -> None:
    _passkey(owner)
    with_passkey = Client()
    log_in_password(with_passkey)
    page = with_passkey.get(reverse("login_code")).content.decode()

    assert "Use a passkey instead" in page
    assert "otp_webauthn_auth.js" in page


def test_an_owner_requires_two_factor_and_members_without_it_are_led_to_set_it_up(
    owner_client: Client, member_client: Client, member: User, workspace, outsider_client: Client
) -> None:
    from crm.models import AuditEvent

    assert member_client.post(reverse("workspace_two_factor"), {"required": "1"}).status_code == 403
    refused = owner_client.post(reverse("workspace_two_factor"), {"required": "1"}, follow=True)
    assert "Turn on two-factor login for yourself first" in refused.content.decode()
    workspace.refresh_from_db()
    assert not workspace.require_two_factor
    turn_on(owner_client)
    owner_client.post(reverse("workspace_two_factor"), {"required": "1"})

    sent = member_client.get(reverse("dashboard"))
    assert sent["Location"] == reverse("security")
    page = member_client.get(reverse("security")).content.decode()
    assert "requires two-factor login" in page
    assert outsider_client.get(reverse("dashboard")).status_code == 200  # another workspace
    turn_on(member_client)
    assert member_client.get(reverse("dashboard")).status_code == 200
    assert AuditEvent.objects.filter(action="two_factor_required").count() == 1

    owner_client.post(reverse("workspace_two_factor"), {"required": "0"})
    workspace.refresh_from_db()
    assert not workspace.require_two_factor
