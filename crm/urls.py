from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from crm import audit_views, security_views, views

urlpatterns = [
    path("", include("reminders.root_urls")),
    path("signup/", views.signup, name="signup"),
    path("signup/confirm/<str:token>/", views.signup_confirm, name="signup_confirm"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/code/", security_views.login_code, name="login_code"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("password/reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path(
        "password/change/",
        views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path("password/change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("settings/", include("digests.root_urls")),
    path("settings/email/", include("inbound.urls")),
    path("settings/phone/", include("pwa.settings_urls")),
    path("settings/security/", security_views.security, name="security"),
    path("settings/security/authenticator/", security_views.totp_add, name="security_totp_add"),
    path(
        "settings/security/authenticator/<int:device_id>/remove/",
        security_views.totp_remove,
        name="security_totp_remove",
    ),
    path(
        "settings/security/recovery-codes/",
        security_views.recovery_codes_regenerate,
        name="security_recovery_codes",
    ),
    path(
        "settings/security/passkeys/<int:passkey_id>/rename/",
        security_views.passkey_rename,
        name="security_passkey_rename",
    ),
    path(
        "settings/security/passkeys/<int:passkey_id>/remove/",
        security_views.passkey_remove,
        name="security_passkey_remove",
    ),
    path("passkeys/", include("crm.passkey_urls")),
    path("settings/security/sessions/<int:session_id>/end/", security_views.session_end, name="security_session_end"),
    path("settings/security/delete-account/", security_views.account_delete, name="account_delete"),
    path("settings/security/activity/", audit_views.my_activity, name="my_activity"),
    path("settings/log-out-everywhere/", views.log_out_everywhere, name="log_out_everywhere"),
    path("workspace/members/", views.members, name="members"),
    path("workspace/members/<int:member_id>/remove/", views.member_remove, name="member_remove"),
    path("workspace/members/<int:member_id>/role/", views.member_role, name="member_role"),
    path("workspace/invitations/<int:invitation_id>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("workspace/invitations/<int:invitation_id>/resend/", views.invitation_resend, name="invitation_resend"),
    path("workspace/idle-timeout/", security_views.workspace_idle_timeout, name="workspace_idle_timeout"),
    path("workspace/two-factor/", security_views.workspace_two_factor, name="workspace_two_factor"),
    path("workspace/audit/", audit_views.workspace_audit, name="workspace_audit"),
    path("workspace/audit.csv", audit_views.workspace_audit_csv, name="workspace_audit_csv"),
    path("workspace/rename/", views.workspace_rename, name="workspace_rename"),
    path("workspaces/new/", views.workspace_create, name="workspace_create"),
    path("workspaces/<int:workspace_id>/delete/", views.workspace_delete, name="workspace_delete"),
    path("workspaces/<int:workspace_id>/switch/", views.workspace_switch, name="workspace_switch"),
    path("invite/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("invite/<str:token>/signup/", views.invitation_signup, name="invitation_signup"),
    path("people/", include("interactions.people_urls")),
    path("interactions/", include("interactions.urls")),
    path("search/", include("interactions.search_urls")),
    path("reminders/", include("reminders.urls")),
    path("digest/", include("digests.urls")),
    path("exports/", include("exports.urls")),
    path("import/", include("imports.urls")),
    path("settings/api/", include("api.settings_urls")),
    path("api/", include("api.urls")),
    path("", include("carddav.urls")),
    path("healthz/", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon),
    path("", include("pwa.urls")),
]
if settings.ADMIN_ENABLED:  # off by default: the admin is not on the internet unless asked for
    urlpatterns.append(path("admin/", admin.site.urls))

handler500 = "crm.views.server_error"
