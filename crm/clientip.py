"""The client's address: one reading for login throttling (axes), rate limits and the admin allow-list.

Behind TRUSTED_PROXY_COUNT proxies, each appends the address it was reached from to
X-Forwarded-For, so only the last TRUSTED_PROXY_COUNT entries were written by proxies we trust:
the client is the n-th counted from the right. Anything to its left came from the client and is
ignored (a client that sends "X-Forwarded-For: 127.0.0.1" must not become this machine).
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

UNKNOWN = "0.0.0.0"  # noqa: S104 (a REMOTE_ADDR that is not an address: one shared, harmless bucket)


def _valid(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def forwarded_client_ip(request: HttpRequest) -> str | None:
    """The client address our proxies report, or None if the chain is shorter than they would make
    it (or no proxy is trusted: then REMOTE_ADDR is the client, see client_ip)."""
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return _valid(request.META.get("REMOTE_ADDR", ""))
    entries = [entry.strip() for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    entries = [entry for entry in entries if entry]
    if len(entries) < count:
        return None
    return _valid(entries[-count])


def client_ip(request: HttpRequest) -> str:
    """The client's address (AXES_CLIENT_IP_CALLABLE); REMOTE_ADDR when the proxies reported none."""
    return forwarded_client_ip(request) or _valid(request.META.get("REMOTE_ADDR", "")) or UNKNOWN
