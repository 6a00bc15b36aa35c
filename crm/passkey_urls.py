"""django-otp-webauthn's API under its own names (its scripts look them up), served by Rapport's
views of ``crm.passkeys``."""

from __future__ import annotations

from django.urls import path
from django.views.i18n import JavaScriptCatalog

from crm import passkeys

app_name = "otp_webauthn"

urlpatterns = [
    path("registration/begin/", passkeys.BeginRegistration.as_view(), name="credential-registration-begin"),
    path("registration/complete/", passkeys.CompleteRegistration.as_view(), name="credential-registration-complete"),
    path("authentication/begin/", passkeys.BeginAuthentication.as_view(), name="credential-authentication-begin"),
    path(
        "authentication/complete/",
        passkeys.CompleteAuthentication.as_view(),
        name="credential-authentication-complete",
    ),
    path("jsi18n/", JavaScriptCatalog.as_view(packages=["django_otp_webauthn"]), name="js-i18n-catalog"),
]
