"""Rate limits on what sends email, creates accounts or costs a lot, counted by django-ratelimit.

A view names its limits (settings.RATE_LIMITS, e.g. ``password_reset_per_address``); the part
after ``_per_`` says what is counted. Past any of them the answer is the 429 page, built from
the request alone: the same for an address with an account and one without.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import math
import unicodedata
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.template.loader import render_to_string
from django_ratelimit.core import get_usage

from crm.clientip import client_ip

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R", bound=HttpRequest)  # the view's request type (a WorkspaceRequest, say) is kept


def _network(request: HttpRequest) -> str:
    # One IPv6 client is given a whole /64: counting its addresses one by one would count nothing.
    address = ipaddress.ip_address(client_ip(request))
    return str(ipaddress.ip_network(f"{address}/64", strict=False)) if address.version == 6 else str(address)


def _address(request: HttpRequest) -> str:
    # NFKC then casefold: "ſam@" and "SAM@" are the address PostgreSQL's iexact (and so the reset
    # form) takes for sam@, so they must share its counter; lower() keeps "ſ" apart.
    return unicodedata.normalize("NFKC", str(request.POST.get("email", "")).strip()).casefold()


def _user(request: HttpRequest) -> str:
    return str(request.user.pk) if request.user.is_authenticated else ""


def _invitation(request: HttpRequest) -> str:
    match = request.resolver_match
    return str(match.kwargs.get("invitation_id", "")) if match else ""


# What each kind of limit counts; an empty value (no email typed, nobody signed in) counts nothing.
KEYS: dict[str, Callable[[HttpRequest], str]] = {
    "address": _address,
    "ip": _network,
    "user": _user,
    "invitation": _invitation,
}


def _in_words(seconds: int) -> str:
    if seconds <= 60:
        return "a minute"
    minutes = math.ceil(seconds / 60)
    if minutes < 90:
        return f"{minutes} minutes"
    return f"about {round(minutes / 60)} hours"


def too_many_requests(request: HttpRequest, *, retry_after: int) -> HttpResponse:
    """The friendly 429: when to try again, in words and in Retry-After."""
    retry_after = max(1, retry_after)
    body = render_to_string("429.html", {"retry_in": _in_words(retry_after)}, request=request)
    response = HttpResponse(body, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def _seconds_left(request: HttpRequest, name: str) -> int | None:
    """Counts this request against limit ``name``: the seconds until it may pass, or None if it may."""
    value = KEYS[name.rsplit("_per_", 1)[1]](request)
    if not value:
        return None
    try:
        usage = get_usage(
            request,
            group=f"rapport.{name}",
            key=lambda group, request: value,
            rate=settings.RATE_LIMITS[name],
            increment=True,
        )
    except Exception:
        # A cache that is down must not take password reset down with it: let the request through.
        logger.warning("Rate limit %s not counted: the cache did not answer", name, exc_info=True)
        return None
    if usage is None or not usage["should_limit"]:
        return None
    return int(usage["time_left"])


def rate_limited(
    *names: str, method: str = "POST", when: Callable[[HttpRequest], bool] | None = None
) -> Callable[[Callable[Concatenate[R, P], HttpResponseBase]], Callable[Concatenate[R, P], HttpResponseBase]]:
    """Counts every ``method`` request (for which ``when`` holds) against each of ``names``."""

    def decorator(view: Callable[Concatenate[R, P], HttpResponseBase]) -> Callable[Concatenate[R, P], HttpResponseBase]:
        @functools.wraps(view)
        def wrapper(request: R, *args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
            if request.method == method and (when is None or when(request)):
                # The first limit that refuses ends the counting: a refused request must not use
                # up the other limits (an attacker's flood would then lock out the honest sharers).
                for name in names:
                    if (wait := _seconds_left(request, name)) is not None:
                        return too_many_requests(request, retry_after=wait)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def search_limited(
    parameter: str | None = "q",
) -> Callable[[Callable[Concatenate[R, P], HttpResponseBase]], Callable[Concatenate[R, P], HttpResponseBase]]:
    """The search limit on GETs that search (``parameter`` given, or every GET if None): a plain
    list stays free, so browsing page after page is never limited."""
    return rate_limited(
        "search_per_user",
        method="GET",
        when=None if parameter is None else lambda request: bool(request.GET.get(parameter)),
    )
