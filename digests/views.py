"""Digest pages: the account settings (where the digest is set up), preview, test send, and the
links inside the email (action, unsubscribe).

Links from an email work without logging in: they carry a signed token for one action on
one reminder (or the unsubscribe), and a GET only shows what would happen; a POST does it,
so link scanners that open every URL change nothing.
"""

from __future__ import annotations

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from crm import dateformats
from crm import services as crm_services
from crm.forms import UserSettingsForm
from crm.models import User
from crm.ratelimit import rate_limited
from crm.requests import AuthenticatedHttpRequest
from digests import services
from digests.models import DigestRun


@login_required
def account_settings(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = UserSettingsForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        user = crm_services.user_update_settings(user=request.user, **form.cleaned_data)
        # Saying when it comes answers "why nothing today?" after choosing an hour already begun.
        messages.success(
            request, f"Settings saved. Next digest: {services.next_digest_text(user=user, now=timezone.now())}."
        )
        return redirect("account_settings")
    runs = DigestRun.objects.filter(user=request.user).exclude(state=DigestRun.State.EMPTY)[:5]
    # From the stored row: an invalid form has already copied its unsaved choices onto the user.
    stored = User.objects.get(pk=request.user.pk) if form.is_bound else request.user
    context = {
        "form": form,
        "digest_runs": runs,
        "next_digest": services.next_digest_text(user=stored, now=timezone.now()),
    }
    return render(request, "digests/account_settings.html", context)


# The preview is the email itself, whose styles are inline as email clients need: this one
# page lets inline styles through. Its text is escaped like the email's (see test_xss).
# django-csp types its decorators for views of a plain HttpRequest; this one is behind login_required.
@csp_update({"style-src": [UNSAFE_INLINE]})  # type: ignore[arg-type]
@login_required
def preview(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The exact HTML of the next digest, as the email will show it."""
    run = DigestRun(user=request.user, period=timezone.localdate())
    digest = services.digest_content(user=request.user, today=timezone.localdate())
    message = services.render_digest(run=run, digest=digest)
    html = message.alternatives[0][0]
    return HttpResponse(html)


@require_POST
@login_required
@rate_limited("digest_test_per_user")
def send_test(request: AuthenticatedHttpRequest) -> HttpResponse:
    services.digest_request_test(user=request.user)
    messages.success(request, f"A test digest to {request.user.email} is queued: it will be sent shortly.")
    return redirect("account_settings")


def action(request: HttpRequest, token: str) -> HttpResponse:
    try:
        user, verb, target = services.action_from_token(token)
    except signing.SignatureExpired:
        return _invalid(request, "This link has expired. Open Rapport to see what is due now.")
    except (signing.BadSignature, ObjectDoesNotExist, KeyError, TypeError):
        return _invalid(request, "This link is not valid.")
    if user.date_style:  # the email's reader, maybe not signed in here: dates as in their email
        dateformats.activate(user.date_style)
    if request.method == "POST":
        try:
            with timezone.override(user.zone):
                done = services.digest_action(user=user, action=verb, target=target)
        except (ObjectDoesNotExist, ValueError):
            return _invalid(request, "This reminder no longer exists.")
        except PermissionDenied as exc:  # the user's role there changed since the email
            return render(request, "digests/link_invalid.html", {"reason": str(exc)}, status=403)
        except ValidationError as exc:
            return _invalid(request, " ".join(exc.messages))
        return render(request, "digests/action_done.html", {"message": done})
    try:
        question = services.action_question(user=user, action=verb, target=target)
    except (ObjectDoesNotExist, ValueError):
        return _invalid(request, "This reminder no longer exists.")
    return render(request, "digests/action_confirm.html", {"label": services.ACTIONS[verb], "question": question})


@csrf_exempt  # RFC 8058 one-click unsubscribe is a POST from the mail client, without a form
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    try:
        user = services.user_from_unsubscribe_token(token)
    except (signing.BadSignature, ObjectDoesNotExist, KeyError, TypeError):
        return _invalid(request, "This unsubscribe link is not valid.")
    if request.method == "POST":
        services.digest_unsubscribe(user=user)
        return render(request, "digests/unsubscribed.html", {"email": user.email})
    return render(request, "digests/unsubscribe_confirm.html", {"email": user.email})


def _invalid(request: HttpRequest, reason: str) -> HttpResponse:
    return render(request, "digests/link_invalid.html", {"reason": reason}, status=410)
