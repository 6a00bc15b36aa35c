"""Per-request context (the signed-in user's time zone) and what every request must pass first."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.utils import timezone
from django.utils.deprecation import MiddlewareMixin

from crm import dateformats
from crm.clientip import forwarded_client_ip
from crm.services import user_preset_date_style

if TYPE_CHECKING:  # the stubs' name for the read-only QueryDict a request carries
    from django.http.request import _ImmutableQueryDict


class TimezoneMiddleware:
    """Shows every date and time in the signed-in user's own time zone and date style.

    A user who never chose a style (every account made before there was one) gets their
    browser's, saved on the first page they open, so their emails follow it too. Someone not
    signed in sees their browser's style.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        browser_style = dateformats.style_from_accept_language(request.headers.get("Accept-Language", ""))
        if request.user.is_authenticated:
            timezone.activate(request.user.zone)
            if not request.user.date_style:
                user_preset_date_style(user=request.user, date_style=browser_style)
            dateformats.activate(request.user.date_style or browser_style)
        else:
            timezone.deactivate()
            dateformats.activate(browser_style)
        try:
            return self.get_response(request)
        finally:
            dateformats.deactivate()


# C0 control characters but tab, newline and carriage return; DEL; lone surrogates. PostgreSQL
# refuses NUL in any text value (a ValueError, so a 500, wherever a view passed one to a query),
# vCard and XML can hold none of them, and no one means to type them.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def _without_control_characters(data: _ImmutableQueryDict) -> _ImmutableQueryDict:
    dirty = any(
        CONTROL_CHARACTERS.search(key) or any(CONTROL_CHARACTERS.search(value) for value in values)
        for key, values in data.lists()
    )
    if not dirty:
        return data
    cleaned = QueryDict(mutable=True, encoding=data.encoding)
    for key, values in data.lists():
        for value in values:
            cleaned.appendlist(CONTROL_CHARACTERS.sub("", key), CONTROL_CHARACTERS.sub("", value))
    return QueryDict(cleaned.urlencode(), encoding=data.encoding)  # immutable again, as Django gives it


class ControlCharactersMiddleware(MiddlewareMixin):
    """Strips control characters from every query parameter and form field, once, before any
    view, so no view can forget to; a URL part carrying one names no page (404), and a cookie
    carrying one is dropped (``sessionid="\\000..."`` spells NUL in a cookie's octal escapes).

    Before SessionMiddleware, which reads its cookie first thing. Uploaded files are bytes and
    are left alone (Django already drops unprintable characters from their names).
    """

    def process_request(self, request: HttpRequest) -> None:
        request.COOKIES = {
            name: value for name, value in request.COOKIES.items() if not CONTROL_CHARACTERS.search(name + value)
        }

    def process_view(
        self, request: HttpRequest, view: Callable[..., HttpResponse], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        if any(isinstance(part, str) and CONTROL_CHARACTERS.search(part) for part in (*args, *kwargs.values())):
            raise Http404("No page has that address.")
        request.GET = _without_control_characters(request.GET)
        if request.method == "POST":
            request.POST = _without_control_characters(request.POST)


class AdminAllowListMiddleware(MiddlewareMixin):
    """Django's admin answers only clients from ADMIN_ALLOWED_IPS; to anyone else it does not exist.

    The client address as crm.clientip reads it; one that cannot be read (a proxy chain shorter
    than TRUSTED_PROXY_COUNT) is refused, never taken from the proxy's own address.
    """

    def process_view(
        self, request: HttpRequest, view: Callable[..., HttpResponse], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        match = request.resolver_match
        if match is None or "admin" not in match.app_names:
            return
        address = forwarded_client_ip(request)
        client = ipaddress.ip_address(address) if address else None
        if client is None or not any(client in network for network in settings.ADMIN_ALLOWED_IPS):
            raise Http404("No page has that address.")
