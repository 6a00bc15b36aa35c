"""Account and workspace pages. Thin: form -> service -> message -> redirect."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_POST
from kombu import Connection

from crm import permissions, selectors, services, sessions, twofactor
from crm.access import owner_required, workspace_required
from crm.forms import (
    EmailAuthenticationForm,
    InviteForm,
    QueuedPasswordResetForm,
    SignupConfirmForm,
    SignUpForm,
    WorkspaceDeleteForm,
    WorkspaceForm,
)
from crm.models import Invitation, Membership
from crm.ratelimit import rate_limited
from crm.requests import AuthenticatedHttpRequest, WorkspaceRequest


@rate_limited("signup_per_ip", "signup_per_address")
def signup(request: HttpRequest) -> HttpResponse:
    """The same answer for any address: whether it has an account is told only in an email to it."""
    if request.user.is_authenticated:
        return redirect("dashboard")
    form = SignUpForm(request.POST or None, initial={"email": request.GET.get("email", "")})
    if request.method == "POST" and form.is_valid():
        services.signup_request(
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
            display_name=form.cleaned_data["display_name"],
            time_zone=form.cleaned_data["time_zone"],
            date_style=form.cleaned_data["date_style"],
        )
        return render(request, "registration/signup_sent.html", {"max_age_hours": settings.SIGNUP_MAX_AGE_HOURS})
    return render(request, "registration/signup.html", {"form": form, "next": request.GET.get("next", "")})


def signup_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The emailed link: GET shows it, a POST creates the account (link scanners only GET)."""
    form = SignupConfirmForm(request.POST or None)
    try:
        signup = services.signup_from_token(token)
        if request.method != "POST" or not form.is_valid():
            return render(request, "registration/signup_confirm.html", {"signup": signup, "form": form})
        try:
            user = services.signup_confirm(token=token, password=form.cleaned_data["password"])
        except services.SignupWrongPassword as exc:
            form.add_error("password", exc.message_dict["password"])
            return render(request, "registration/signup_confirm.html", {"signup": signup, "form": form})
    except services.SignupInvalid as exc:
        return render(request, "registration/signup_invalid.html", {"reason": str(exc)}, status=410)
    except services.SignupAccountExists:
        reason = "An account with this address already exists. Log in instead."
        return render(request, "registration/signup_invalid.html", {"reason": reason, "exists": True}, status=409)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    if signup.invitation and user.current_workspace_id == signup.invitation.workspace_id:
        messages.success(request, f"Welcome to Rapport! You joined “{user.current_workspace}”.")
    else:
        messages.success(request, f"Welcome to Rapport! Your workspace “{user.current_workspace}” is ready.")
    return redirect("dashboard")


class LoginView(auth_views.LoginView):
    """The password first; an account with a second factor is then asked for a code
    (``crm.security_views.login_code``) before it is logged in."""

    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        user = form.get_user()
        if twofactor.user_has_two_factor(user):
            twofactor.pending_start(self.request, user=user, next_url=self.get_success_url())
            return redirect("login_code")
        response = super().form_valid(form)
        twofactor.login_recorded(user=user, how="password")
        return response

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        email = (form.data.get("username") or "").strip().lower()
        if email and not getattr(self.request, "axes_locked_out", False):
            twofactor.login_failed_recorded(email=email)
        return super().form_invalid(form)


class LogoutView(auth_views.LogoutView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:
            twofactor.logout_recorded(user=request.user)
            sessions.session_forget(request)
        return super().post(request, *args, **kwargs)


class PasswordChangeView(auth_views.PasswordChangeView):
    success_url = reverse_lazy("password_change_done")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        sessions.password_changed(user=form.user, how="in Settings")
        return response


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        sessions.password_changed(user=form.user, how="with a reset link sent by email")
        return response


@method_decorator(rate_limited("password_reset_per_ip", "password_reset_per_address"), name="dispatch")
class PasswordResetView(auth_views.PasswordResetView):
    form_class = QueuedPasswordResetForm


@require_POST
@login_required
def log_out_everywhere(request: AuthenticatedHttpRequest) -> HttpResponse:
    services.user_log_out_everywhere(user=request.user)
    sessions.sessions_forget_all(user=request.user)
    logout(request)
    messages.success(request, "You are logged out on every device. Log in again here.")
    return redirect("login")


@workspace_required
@rate_limited("invitation_per_user", "invitation_per_address")
def members(request: WorkspaceRequest) -> HttpResponse:
    """Everyone sees who is in the workspace; owners also invite and manage here."""
    membership: Membership = request.membership
    form = InviteForm(request.POST or None)
    if request.method == "POST":
        if not membership.is_owner:
            return render(request, "403.html", status=403)
        if form.is_valid():
            try:
                invitation = services.invitation_create(membership=membership, email=form.cleaned_data["email"])
            except ValidationError as exc:
                form.add_error("email", exc.message_dict.get("email", exc.messages))
            else:
                days = settings.INVITATION_MAX_AGE_DAYS
                messages.success(
                    request,
                    f"Invitation to {invitation.email} queued: it will be sent shortly. "
                    f"The link works for {days} days.",
                )
                return redirect("members")
    context = {
        "form": form,
        "memberships": selectors.workspace_members(workspace=request.workspace),
        "invitations": selectors.workspace_pending_invitations(workspace=request.workspace),
        "roles": Membership.Role.choices,
        "role_table": permissions.role_table(),
        "idle_choices": sessions.IDLE_CHOICES,
    }
    return render(request, "crm/members.html", context)


def _invitation_action(
    request: WorkspaceRequest, invitation_id: int, action: Callable[..., Invitation], done: str
) -> HttpResponse:
    """Withdraw or resend one of this workspace's invitations (another's is a 404); ``done``
    says what happened, for ``{email}``."""
    try:
        invitation = action(membership=request.membership, invitation_id=invitation_id)
    except Invitation.DoesNotExist as exc:
        raise Http404 from exc
    messages.success(request, done.format(email=invitation.email))
    return redirect("members")


@require_POST
@owner_required
def invitation_revoke(request: WorkspaceRequest, invitation_id: int) -> HttpResponse:
    return _invitation_action(request, invitation_id, services.invitation_revoke, "Invitation for {email} withdrawn.")


@require_POST
@owner_required
@rate_limited("invitation_per_user", "invitation_resend_per_invitation")
def invitation_resend(request: WorkspaceRequest, invitation_id: int) -> HttpResponse:
    return _invitation_action(
        request,
        invitation_id,
        services.invitation_resend,
        "Invitation to {email} queued again: it will be sent shortly.",
    )


@require_POST
@owner_required
def member_remove(request: WorkspaceRequest, member_id: int) -> HttpResponse:
    try:
        services.membership_remove(membership=request.membership, member_id=member_id)
    except Membership.DoesNotExist as exc:
        raise Http404 from exc
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Member removed. They no longer have access to this workspace.")
    return redirect("members")


@require_POST
@owner_required
def member_role(request: WorkspaceRequest, member_id: int) -> HttpResponse:
    try:
        target = services.membership_set_role(
            membership=request.membership, member_id=member_id, role=request.POST.get("role", "")
        )
    except Membership.DoesNotExist as exc:
        raise Http404 from exc
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{target.user} is now {target.get_role_display().lower()}.")
    return redirect("members")


def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows the invitation; only a POST joins, so link scanners cannot accept it. Only the
    account with the invited address can: anyone else is told whose it is."""
    try:
        invitation = services.invitation_from_token(token)
        if request.user.is_authenticated and not services.invitation_is_for(invitation, user=request.user):
            raise services.InvitationForSomeoneElse(invitation)
        if request.method == "POST" and request.user.is_authenticated:
            services.invitation_accept(invitation=invitation, user=request.user)
            messages.success(request, f"You joined “{invitation.workspace}”.")
            return redirect("dashboard")
    except services.InvitationInvalid as exc:
        return render(request, "crm/invitation_invalid.html", {"reason": str(exc)}, status=410)
    except services.InvitationForSomeoneElse as exc:
        context = {"reason": str(exc), "path": request.path}
        return render(request, "crm/invitation_someone_else.html", context, status=403)
    return render(request, "crm/invitation_accept.html", {"invitation": invitation, "token": token})


def invitation_signup(request: HttpRequest, token: str) -> HttpResponse:
    """Sign up from an invitation: the account gets the invited address and joins at once."""
    accept_path = reverse("invitation_accept", args=[token])
    if request.user.is_authenticated:
        return redirect(accept_path)
    try:
        invitation = services.invitation_from_token(token)
    except services.InvitationInvalid as exc:
        return render(request, "crm/invitation_invalid.html", {"reason": str(exc)}, status=410)
    form = SignUpForm(request.POST or None, invited_email=invitation.email)
    if request.method == "POST" and form.is_valid():
        try:
            services.invitation_sign_up(
                invitation=invitation,
                password=form.cleaned_data["password1"],
                display_name=form.cleaned_data["display_name"],
                time_zone=form.cleaned_data["time_zone"],
                date_style=form.cleaned_data["date_style"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return render(request, "registration/signup_sent.html", {"max_age_hours": settings.SIGNUP_MAX_AGE_HOURS})
    context = {"form": form, "next": accept_path, "invitation": invitation}
    return render(request, "registration/signup.html", context)


@require_POST
@login_required
def workspace_switch(request: AuthenticatedHttpRequest, workspace_id: int) -> HttpResponse:
    try:
        workspace = services.workspace_switch(user=request.user, workspace_id=workspace_id)
    except Membership.DoesNotExist as exc:
        raise Http404 from exc
    messages.success(request, f"Switched to “{workspace}”.")
    return redirect("dashboard")


@login_required
def workspace_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = WorkspaceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        workspace = services.workspace_create(user=request.user, name=form.cleaned_data["name"])
        messages.success(request, f"Workspace “{workspace}” created. You are its owner.")
        return redirect("dashboard")
    return render(request, "crm/workspace_form.html", {"form": form, "creating": True})


@owner_required
def workspace_rename(request: WorkspaceRequest) -> HttpResponse:
    form = WorkspaceForm(request.POST or None, instance=request.workspace)
    if request.method == "POST" and form.is_valid():
        services.workspace_rename(membership=request.membership, name=form.cleaned_data["name"])
        messages.success(request, "Workspace renamed.")
        return redirect("members")
    return render(request, "crm/workspace_form.html", {"form": form, "creating": False})


@login_required
def workspace_delete(request: AuthenticatedHttpRequest, workspace_id: int) -> HttpResponse:
    """Owners only, behind a page that says what goes and asks for the name typed in."""
    membership = get_object_or_404(
        Membership.objects.select_related("workspace", "user"), user=request.user, workspace_id=workspace_id
    )
    if not membership.is_owner:
        raise PermissionDenied("Only an owner of this workspace can delete it.")
    workspace = membership.workspace
    form = WorkspaceDeleteForm(request.POST or None, workspace=workspace)
    if request.method == "POST" and form.is_valid():
        landing = services.workspace_delete(membership=membership)
        messages.success(request, f"Workspace “{workspace.name}” and everything in it deleted.")
        if landing is None:
            return redirect("workspace_create")
        return redirect("dashboard")
    summary = selectors.workspace_deletion_summary(workspace=workspace)
    return render(
        request, "crm/workspace_confirm_delete.html", {"form": form, "workspace": workspace, "summary": summary}
    )


def favicon(request: HttpRequest) -> HttpResponse:
    # Browsers ask for /favicon.ico on pages without a <link rel="icon"> (e.g. the digest preview).
    return redirect(static("img/favicon.svg"), permanent=True)


# Beat touches its heartbeat every minute: a quarter of an hour without one is a warning.
BEAT_STALE_AFTER = timedelta(minutes=15)
# A load balancer may ask every second; the broker is asked at most this often per process.
BROKER_CHECK_SECONDS = 5
_broker_checked: dict[str, tuple[float, str]] = {}


def _database_state() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        return f"down: {type(exc).__name__}"
    return "ok"


def _broker_state() -> str:
    """One connection attempt (1 s at most), or for the filesystem broker its folders writable."""
    url = settings.CELERY_BROKER_URL
    checked_at, state = _broker_checked.get(url, (0.0, ""))
    if state and time.monotonic() - checked_at < BROKER_CHECK_SECONDS:
        return state
    if url.startswith("filesystem://"):
        options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
        folders = [str(options[name]) for name in ("data_folder_in", "data_folder_out", "control_folder")]
        unwritable = [folder for folder in folders if not os.access(folder, os.W_OK | os.X_OK)]
        state = "down: a folder is not writable" if unwritable else "ok"
    else:
        try:
            with Connection(url, connect_timeout=1, transport_options={"socket_timeout": 1}) as broker:
                broker.ensure_connection(max_retries=0, timeout=1)
        except Exception as exc:  # whatever the transport raises, the broker is not there
            state = f"down: {type(exc).__name__}"
        else:
            state = "ok"
    _broker_checked[url] = (time.monotonic(), state)
    return state


def healthz(request: HttpRequest) -> HttpResponse:
    """200 while the database and the broker answer, else 503; names what is down.

    Beat being late is reported ("stale") but stays a 200: a load balancer taking the web
    processes out of service would not bring the scheduler back, it would only add an outage.
    """
    report: dict[str, object] = {"database": _database_state(), "broker": _broker_state()}
    if report["database"] == "ok":
        last_beat = selectors.scheduler_last_beat()
        stale = last_beat is None or timezone.now() - last_beat > BEAT_STALE_AFTER
        report["beat"] = ("stale" if last_beat else "never seen") if stale else "ok"
        report["beat_last_seen"] = last_beat.isoformat() if last_beat else None
    down = [name for name in ("database", "broker") if report[name] != "ok"]
    report["status"] = "down" if down else ("warning" if report["beat"] != "ok" else "ok")
    response = JsonResponse(report, status=503 if down else 200)
    response["Cache-Control"] = "no-store"
    return response


DATABASE_ERRORS = (OperationalError, InterfaceError)


def server_error(request: HttpRequest) -> HttpResponse:
    """500 page; when the database is what failed, a 503 that keeps what the user typed.

    Rendered without context processors: they would query the database again.
    """
    exc = sys.exc_info()[1]
    if isinstance(exc, DATABASE_ERRORS) or isinstance(getattr(exc, "__cause__", None), DATABASE_ERRORS):
        kept = (
            [(key, value) for key, values in request.POST.lists() if key != "csrfmiddlewaretoken" for value in values]
            if request.method == "POST"
            else []
        )
        context = {"kept": kept, "action": request.path, "csrf_token": get_token(request)}
        response = HttpResponse(render_to_string("503.html", context), status=503)
        response["Retry-After"] = "30"
        return response
    return HttpResponse(render_to_string("500.html", {}), status=500)
