"""The login's second step and the Security settings page (two-factor). Thin, as crm/views.py."""

from __future__ import annotations

import functools
from collections.abc import Callable

from axes.handlers.proxy import AxesProxyHandler
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from crm import accounts, passkeys, sessions, twofactor
from crm.access import owner_required
from crm.forms import AccountDeleteForm, TwoFactorCodeForm
from crm.models import User, UserSession
from crm.requests import AuthenticatedHttpRequest, WorkspaceRequest


def login_code(request: HttpRequest) -> HttpResponse:
    """After the right password: the code from the authenticator app, or a recovery code.

    Locked out by django-axes as the password step is: a wrong code is a failed login.
    """
    pending = twofactor.pending_get(request)
    user = User.objects.filter(pk=pending["user_id"], is_active=True).first() if pending else None
    if pending is None or user is None:
        twofactor.pending_end(request)
        messages.info(request, "Log in again: the step for the code was left too long.")
        return redirect("login")
    credentials = {"username": user.email}
    if not AxesProxyHandler.is_allowed(request, credentials):
        twofactor.pending_end(request)
        return render(request, "registration/locked_out.html", status=429)
    form = TwoFactorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = twofactor.verify_code(user=user, code=form.cleaned_data["code"])
        if device is None:
            twofactor.count_failed_code(request, user=user)
            if not AxesProxyHandler.is_allowed(request, credentials):
                twofactor.pending_end(request)
                return render(request, "registration/locked_out.html", status=429)
            form.add_error("code", "That code is not right. Try the one your app shows now, or a recovery code.")
        else:
            twofactor.pending_end(request)
            user.otp_device = device  # type: ignore[attr-defined]  # django-otp marks the session verified from it
            login(request, user, backend=pending["backend"])
            how = "a recovery code" if isinstance(device, StaticDevice) else "password and authenticator code"
            twofactor.login_recorded(user=user, how=how)
            if isinstance(device, StaticDevice):
                left = twofactor.recovery_codes_left(user)
                messages.warning(
                    request, f"You used a recovery code: {left} left. Make new ones in Settings → Security if low."
                )
            return redirect(pending["next"] or "dashboard")
    context = {
        "form": form,
        "has_totp": bool(twofactor.user_totp_devices(user)),
        "has_passkey": bool(passkeys.user_passkeys(user)),
    }
    return render(request, "registration/login_code.html", context)


@login_required
def security(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Settings → Security: the second factors this account has, and recovery codes."""
    fresh_codes = request.session.pop(twofactor.FRESH_CODES_KEY, None)
    context = {
        "totp_devices": twofactor.user_totp_devices(request.user),
        "passkeys": passkeys.user_passkeys(request.user),
        "sessions": [
            (row, sessions.device_name(row.user_agent), row.session_key == request.session.session_key)
            for row in sessions.user_sessions(request.user)
        ],
        "has_two_factor": twofactor.user_has_two_factor(request.user),
        "recovery_left": twofactor.recovery_codes_left(request.user),
        "fresh_codes": fresh_codes,
    }
    return render(request, "crm/security.html", context)


@login_required
def totp_add(request: AuthenticatedHttpRequest) -> HttpResponse:
    """GET starts a new authenticator (QR code and secret); POST with its first code turns it on."""
    form = TwoFactorCodeForm(request.POST or None, setup=True)
    if request.method == "POST":
        try:
            device = twofactor.totp_pending(user=request.user, device_id=int(request.POST.get("device", "0")))
        except (TOTPDevice.DoesNotExist, ValueError):
            messages.error(request, "That set-up was replaced or has ended: scan the new code below.")
            return redirect("security_totp_add")
        if form.is_valid():
            try:
                codes = twofactor.totp_confirm(user=request.user, device_id=device.pk, code=form.cleaned_data["code"])
            except ValidationError as exc:
                form.add_error("code", exc.message_dict["code"])
            else:
                if codes:
                    request.session[twofactor.FRESH_CODES_KEY] = codes
                messages.success(request, "Two-factor login is on: next time you log in, we ask for a code.")
                return redirect("security")
    else:
        device = twofactor.totp_begin(user=request.user)
    context = {
        "form": form,
        "device": device,
        "qr": twofactor.totp_qr_data_uri(device),
        "secret": twofactor.totp_secret(device),
    }
    return render(request, "crm/security_totp_add.html", context)


@require_POST
@login_required
def totp_remove(request: AuthenticatedHttpRequest, device_id: int) -> HttpResponse:
    remove = functools.partial(twofactor.totp_remove, user=request.user, device_id=device_id)
    return _on_own(request, remove, TOTPDevice.DoesNotExist, "Authenticator app removed.")


def _on_own(request: HttpRequest, action: Callable[[], object], missing: type[Exception], done: str) -> HttpResponse:
    """Do ``action`` on one of the user's own things (an app, a passkey, a session); ``missing``,
    raised for anyone else's or a gone one, is a 404; ``done`` is said back on Security."""
    try:
        action()
    except missing as exc:
        raise Http404 from exc
    messages.success(request, done)
    return redirect("security")


@require_POST
@login_required
def recovery_codes_regenerate(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not twofactor.user_has_two_factor(request.user):
        messages.error(request, "Turn on two-factor login first: recovery codes stand in for it.")
        return redirect("security")
    request.session[twofactor.FRESH_CODES_KEY] = twofactor.recovery_codes_regenerate(user=request.user)
    messages.success(request, "New recovery codes made: the old ones no longer work.")
    return redirect("security")


@require_POST
@login_required
def passkey_rename(request: AuthenticatedHttpRequest, passkey_id: int) -> HttpResponse:
    try:
        passkey = passkeys.passkey_rename(user=request.user, passkey_id=passkey_id, name=request.POST.get("name", ""))
    except WebAuthnCredential.DoesNotExist as exc:
        raise Http404 from exc
    messages.success(request, f"Passkey renamed “{passkey.name}”.")
    return redirect("security")


@require_POST
@login_required
def passkey_remove(request: AuthenticatedHttpRequest, passkey_id: int) -> HttpResponse:
    remove = functools.partial(passkeys.passkey_remove, user=request.user, passkey_id=passkey_id)
    return _on_own(request, remove, WebAuthnCredential.DoesNotExist, "Passkey removed.")


@require_POST
@owner_required
def workspace_two_factor(request: WorkspaceRequest) -> HttpResponse:
    required = request.POST.get("required") == "1"
    try:
        twofactor.workspace_require_two_factor(membership=request.membership, required=required)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        _said_required(request, required=required)
    return redirect("members")


def _said_required(request: WorkspaceRequest, *, required: bool) -> None:
    if required:
        messages.success(request, "Two-factor login is now required: members without it set it up at their next page.")
    else:
        messages.success(request, "Two-factor login is no longer required in this workspace.")


@require_POST
@login_required
def session_end(request: AuthenticatedHttpRequest, session_id: int) -> HttpResponse:
    end = functools.partial(sessions.session_end, user=request.user, session_id=session_id)
    return _on_own(request, end, UserSession.DoesNotExist, "That session is logged out.")


@require_POST
@owner_required
def workspace_idle_timeout(request: WorkspaceRequest) -> HttpResponse:
    try:
        sessions.workspace_set_idle_timeout(membership=request.membership, minutes=int(request.POST.get("minutes", "")))
    except (ValueError, ValidationError):
        messages.error(request, "Choose one of the offered times.")
    else:
        messages.success(request, "Idle timeout saved.")
    return redirect("members")


@login_required
def account_delete(request: AuthenticatedHttpRequest) -> HttpResponse:
    """What happens to each workspace, then the password, then the account is gone."""
    form = AccountDeleteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            accounts.account_delete(user=request.user, password=form.cleaned_data["password"])
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                form.add_error("password", exc.message_dict["password"])
            else:
                form.add_error(None, exc)
        else:
            logout(request)
            messages.success(request, "Your account is deleted. Goodbye.")
            return redirect("login")
    plan = accounts.account_deletion_plan(user=request.user)
    return render(request, "crm/account_delete.html", {"form": form, "plan": plan})
