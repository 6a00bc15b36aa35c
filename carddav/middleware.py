"""A DAV request at the site's root goes to the DAV endpoint: the address to type into a phone
is the site's own (``https://crm.example.com/``), and DAVx5 and Thunderbird first ask it,
before ``/.well-known/carddav``. Pages at ``/`` (GET, POST) are untouched."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

DAV_METHODS = frozenset({"PROPFIND", "REPORT"})


class DavAtRootMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.method in DAV_METHODS and request.path_info == "/":
            from carddav.views import dav  # the views import Radicale: loaded on first use

            return dav(request, "")
        return self.get_response(request)
