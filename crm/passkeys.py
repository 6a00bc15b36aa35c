"""Passkeys (WebAuthn) as a second factor and for signing in without a password, on
django-otp-webauthn.

The library does the ceremony (its scripts in static files, so the strict CSP holds; the
checks of the signed answers). Rapport's own parts: its views are served under the library's
URL names (``otp_webauthn:``) so its scripts find them, and they

- use a passkey as the second step of Rapport's login: after the right password the pending
  account (``crm.twofactor.pending_*``) is the one whose passkeys are asked for; with no password
  step at all, any passkey the browser offers for this site signs its owner in;
- refuse an account django-axes has locked out, as the password and the code steps do;
- name each new passkey ("Passkey 2") and write logins and new passkeys to the audit log.
"""

from __future__ import annotations

from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import login
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import resolve_url
from django_otp_webauthn import exceptions
from django_otp_webauthn import views as webauthn_views
from django_otp_webauthn.models import WebAuthnCredential

from crm import twofactor
from crm.audit import Action, audit_record
from crm.models import SecurityNotice, User
from crm.sessions import notice_queue

BACKEND = "django_otp_webauthn.backends.WebAuthnBackend"


class LockedOut(exceptions.OTPWebAuthnApiError):
    status_code = 429
    code = "locked_out"
    default_detail = "Too many wrong passwords or codes: logging in to this account is paused for a while."


def user_passkeys(user: User) -> list[WebAuthnCredential]:
    return list(WebAuthnCredential.objects.filter(user=user, confirmed=True).order_by("id"))


@transaction.atomic
def passkey_rename(*, user: User, passkey_id: int, name: str) -> WebAuthnCredential:
    passkey = WebAuthnCredential.objects.get(user=user, pk=passkey_id)
    passkey.name = name.strip()[:64] or passkey.name
    passkey.save(update_fields=["name"])
    return passkey


@transaction.atomic
def passkey_remove(*, user: User, passkey_id: int) -> None:
    WebAuthnCredential.objects.get(user=user, pk=passkey_id).delete()
    twofactor.recovery_codes_drop_if_unused(user=user)
    audit_record(action=Action.TWO_FACTOR_REMOVED, actor=user, summary="Removed a passkey")
    notice_queue(user=user, kind=SecurityNotice.Kind.TWO_FACTOR, what="a passkey was removed")


def _pending_user(request: HttpRequest) -> User | None:
    """The account whose password was just right, waiting for its second factor."""
    if request.user.is_authenticated:
        return request.user
    pending = twofactor.pending_get(request)
    return User.objects.filter(pk=pending["user_id"], is_active=True).first() if pending else None


class BeginRegistration(webauthn_views.BeginCredentialRegistrationView):
    pass


class CompleteRegistration(webauthn_views.CompleteCredentialRegistrationView):
    """A new passkey, named in order and recorded in the audit log with it."""

    def post(self, *args: Any, **kwargs: Any) -> HttpResponse:
        with transaction.atomic():
            response = super().post(*args, **kwargs)
            if response.status_code == 200:
                user = self.request.user
                count = WebAuthnCredential.objects.filter(user=user).count()
                WebAuthnCredential.objects.filter(user=user, name="").update(name=f"Passkey {count}")
                audit_record(action=Action.TWO_FACTOR_ADDED, actor=user, summary="Added a passkey")
                notice_queue(user=user, kind=SecurityNotice.Kind.TWO_FACTOR, what="a passkey was added")
                if not twofactor.recovery_codes_left(user):
                    self.request.session[twofactor.FRESH_CODES_KEY] = twofactor.recovery_codes_first(user=user)
        return response


class BeginAuthentication(webauthn_views.BeginCredentialAuthenticationView):
    def get_user(self) -> User | None:
        return _pending_user(self.request)


class CompleteAuthentication(webauthn_views.CompleteCredentialAuthenticationView):
    def get_user(self) -> User | None:
        return _pending_user(self.request)

    def complete_auth(self, device: WebAuthnCredential) -> User:
        user: User = device.user
        if not AxesProxyHandler.is_allowed(self.request, {"username": user.email}):
            raise LockedOut()
        pending = twofactor.pending_get(self.request)
        self._next = (pending or {}).get("next") or ""
        if self.request.user.is_authenticated:
            user.otp_device = device  # type: ignore[attr-defined]
            return user
        with transaction.atomic():
            user.otp_device = device  # type: ignore[attr-defined]  # django-otp marks the session verified
            login(self.request, user, backend=BACKEND)
            twofactor.pending_end(self.request)
            how = "password and passkey" if pending and pending["user_id"] == user.pk else "a passkey"
            twofactor.login_recorded(user=user, how=how)
        return user

    def get_success_url(self) -> str:
        return getattr(self, "_next", "") or self.get_redirect_url() or resolve_url(settings.LOGIN_REDIRECT_URL)

    def post(self, *args: Any, **kwargs: Any) -> JsonResponse:
        return super().post(*args, **kwargs)
