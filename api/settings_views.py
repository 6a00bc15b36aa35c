"""Settings → API: a user's tokens for the current workspace, made (shown once) and revoked."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from api import selectors, services
from api.forms import TokenForm
from api.models import ApiToken
from crm import permissions
from crm.access import get_for_workspace_or_404, workspace_required
from crm.requests import WorkspaceRequest
from people.forms import add_service_error

# The new secret waits in the session for the one page view that shows it, then is gone.
NEW_SECRET = "api_new_token"  # noqa: S105  (a session key, not a secret)


@workspace_required
@permissions.any_role  # a token is the user's own, and never gives more than their role
def token_list(request: WorkspaceRequest) -> HttpResponse:
    membership = request.membership
    form = TokenForm(
        request.POST or None,
        can_write=permissions.can(membership, "write"),
        can_private=permissions.can(membership, "export_private"),
    )
    if request.method == "POST" and form.is_valid():
        try:
            token, secret = services.token_create(
                user=request.user,
                workspace=request.workspace,
                name=form.cleaned_data["name"],
                write=form.cleaned_data.get("write", False),
                private=form.cleaned_data.get("private", False),
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            request.session[NEW_SECRET] = {"id": token.pk, "secret": secret}
            messages.success(request, f"Token “{token.name}” made. Copy it now: it is shown only this once.")
            return redirect("api_settings:tokens")
    new = request.session.pop(NEW_SECRET, None)
    context = {
        "form": form,
        "tokens": selectors.tokens_of(request.workspace, user=request.user),
        "new_secret": new["secret"] if new else "",
        "new_id": new["id"] if new else None,
        "api_url": settings.SITE_URL + "/api/v1/",
        "docs_url": reverse("api:docs"),
    }
    return render(request, "api/token_list.html", context)


@require_POST
@workspace_required
@permissions.any_role
def token_revoke(request: WorkspaceRequest, pk: int) -> HttpResponse:
    token = get_for_workspace_or_404(request, ApiToken.objects.filter(user=request.user), pk=pk)
    if services.token_revoke(token=token):
        messages.success(request, f"Token “{token.name}” revoked: anything using it is refused from now on.")
    else:
        messages.info(request, f"Token “{token.name}” was already revoked.")
    return redirect("api_settings:tokens")
