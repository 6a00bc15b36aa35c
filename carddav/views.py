"""Contact sync: the settings page (app passwords, which people each book holds) and the DAV
endpoint, where Radicale answers the protocol behind Rapport's door."""

from __future__ import annotations

import base64
import binascii
import io
from collections.abc import Iterable

from defusedxml import ElementTree  # type: ignore[import-untyped]  # installed with Radicale, which parses with it too
from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponsePermanentRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from carddav import dav as dav_app
from carddav import selectors, services
from carddav.forms import AppPasswordForm, ScopeForm
from crm.models import User
from crm.requests import AuthenticatedHttpRequest

READS = frozenset({"OPTIONS", "PROPFIND", "REPORT", "GET", "HEAD"})
READ_ONLY = (
    "Rapport's address books are read-only: change people in Rapport, and your devices get the "
    "change at their next sync.\n"
)


@login_required
def dav_settings(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = AppPasswordForm(request.POST or None)
    created = ""
    if request.method == "POST" and form.is_valid():
        app_password, created = services.app_password_create(user=request.user, name=form.cleaned_data["name"])
        messages.success(
            request,
            f"App password “{app_password.name}” made. Type it into the device now: it is shown only this once.",
        )
        form = AppPasswordForm()
    books = []
    for membership in selectors.memberships(request.user):
        book = selectors.book_for(membership.workspace, user=request.user)
        scope = book.scope if book else "everyone"
        books.append((membership.workspace, ScopeForm(initial={"scope": scope}, prefix=f"ws{membership.workspace_id}")))
    context = {
        "form": form,
        "created": created,
        "passwords": selectors.app_passwords(request.user),
        "books": books,
        "server": request.build_absolute_uri("/"),
        "dav_url": request.build_absolute_uri(reverse("carddav:dav_root")),
    }
    return render(request, "carddav/dav_settings.html", context)


@require_POST
@login_required
def password_revoke(request: AuthenticatedHttpRequest, password_id: int) -> HttpResponse:
    app_password = get_object_or_404(selectors.app_passwords(request.user), pk=password_id)
    services.app_password_revoke(app_password=app_password)
    messages.success(request, f"“{app_password.name}” can no longer sync.")
    return redirect("carddav:settings")


@require_POST
@login_required
def book_scope(request: AuthenticatedHttpRequest, workspace_id: int) -> HttpResponse:
    membership = selectors.membership(request.user, workspace_id)
    if membership is None:
        raise Http404
    form = ScopeForm(request.POST, prefix=f"ws{workspace_id}")
    if not form.is_valid():
        messages.error(request, "Choose “Only my people” or “Everyone in the workspace”.")
        return redirect("carddav:settings")
    book = services.book_set_scope(membership=membership, scope=form.cleaned_data["scope"])
    messages.success(request, f"{membership.workspace}: {book.get_scope_display().lower()}, from the next sync.")
    return redirect("carddav:settings")


@csrf_exempt  # a PROPFIND from a phone, which has no CSRF cookie
def well_known(request: HttpRequest) -> HttpResponse:
    # Permanent, as RFC 6764 asks: clients remember where the service is.
    return HttpResponsePermanentRedirect(reverse("carddav:dav_root"))


def _basic_auth(request: HttpRequest) -> User | None:
    """The user an app password in the Authorization header is for; every failure is counted by
    django-axes, per address and client, like a failed login."""
    kind, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if kind.lower() != "basic":
        return None
    try:
        username, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user = authenticate(request, username=username.strip().lower(), dav_password=password.strip())
    return user if isinstance(user, User) else None


def _unauthorized() -> HttpResponse:
    response = HttpResponse(
        "Sign in with your email and an app password (Settings → Contacts on your phone).\n",
        status=401,
        content_type="text/plain; charset=utf-8",
    )
    response["WWW-Authenticate"] = 'Basic realm="Rapport contacts", charset="UTF-8"'
    return response


def _vcard_version(request: HttpRequest) -> str:
    """3.0 when the client asks for it (Accept on GET, address-data in a REPORT), else 4.0."""
    if "version=3.0" in request.headers.get("Accept", "").replace(" ", ""):
        return "3.0"
    if request.method == "REPORT" and b"address-data" in request.body:
        try:
            root = ElementTree.fromstring(request.body)
        except ElementTree.ParseError:
            return "4.0"  # Radicale answers the bad body with a 400
        for element in root.iter():
            if str(element.tag).endswith("}address-data") and element.get("version") == "3.0":
                return "3.0"
    return "4.0"


@csrf_exempt
def dav(request: HttpRequest, path: str = "") -> HttpResponseBase:
    """CardDAV, read-only: the app password first, then the door (someone else's principal or a
    workspace one is not a member of is a 404, as everywhere), then the method (writes are 403),
    then Radicale."""
    user = _basic_auth(request)
    if user is None:
        return _unauthorized()
    memberships = {str(m.workspace_id): m for m in selectors.memberships(user)}
    parts = [part for part in path.split("/") if part]
    principal = dav_app.principal_of(user)
    if parts and (parts[0] != principal or len(parts) > 3 or (len(parts) > 1 and parts[1] not in memberships)):
        raise Http404
    if request.method not in READS:
        return HttpResponse(READ_ONLY, status=403, content_type="text/plain; charset=utf-8")
    state = dav_app.DavRequest(user=user, memberships=memberships, version=_vcard_version(request))
    body = request.body
    environ = dict(request.META)  # under WSGI, the environ itself
    environ.pop("HTTP_AUTHORIZATION", None)
    environ.pop("HTTP_X_SCRIPT_NAME", None)  # the mount point is ours to say, not the client's
    environ.update(
        {
            "SCRIPT_NAME": reverse("carddav:dav_root").rstrip("/"),
            "PATH_INFO": "/" + "/".join(parts) + ("/" if path.endswith("/") or not parts else ""),
            "wsgi.input": io.BytesIO(body),
            "CONTENT_LENGTH": str(len(body)),
        }
    )
    started: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: object = None) -> None:
        started.append((status, headers))

    token = dav_app.current.set(state)
    try:
        chunks: Iterable[bytes] = dav_app.application()(environ, start_response)
        content = b"".join(chunks)
    finally:
        dav_app.current.reset(token)
    status, headers = started[0]
    code, _, reason = status.partition(" ")
    response = HttpResponse(content, status=int(code), reason=reason or None)
    for name, value in headers:
        if name.lower() != "content-length":
            response[name] = value
    return response
