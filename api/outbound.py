"""One HTTP POST to a webhook endpoint, guarded: only to public addresses (SSRF), no redirects,
bounded in time and in the answer read.

The host is resolved once and every address checked (loopback, private, link-local, reserved,
multicast and the like are refused); the connection then goes to the checked address itself,
so a DNS answer that changes between the check and the request (rebinding) cannot redirect it.
TLS is verified against the host name. ``http.client`` follows no redirects: a 3xx is just
an answer, and not a success.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

TIMEOUT_SECONDS = 10
MAX_ANSWER_BYTES = 64 * 1024  # what is read of an answer (kept: its status; the rest is dropped)


class Refused(Exception):
    """The address may not be called (not HTTPS, or not a public address)."""


@dataclass(frozen=True)
class Answer:
    status: int
    milliseconds: int


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_link_local or ip.is_loopback)


def _loopback_allowed(address: str) -> bool:
    return settings.WEBHOOK_ALLOW_LOOPBACK and ipaddress.ip_address(address).is_loopback


def check_url(url: str) -> None:
    """Refuse, before saving an endpoint, an address that could never be called."""
    parts = urlsplit(url)
    if parts.scheme != "https" and not (settings.WEBHOOK_ALLOW_LOOPBACK and parts.scheme == "http"):
        raise Refused("Use an https:// address.")
    if not parts.hostname:
        raise Refused("This address has no host.")
    if parts.username or parts.password:
        raise Refused("Put no user name or password in the address; the signature proves who sends.")
    resolve(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))


def resolve(host: str, port: int) -> str:
    """The one address to connect to: every address the host has must be public."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Refused(f"The host {host} was not found.") from exc
    addresses = sorted({str(info[4][0]) for info in infos})
    if not addresses:
        raise Refused(f"The host {host} was not found.")
    for address in addresses:
        if not (_public(address) or _loopback_allowed(address)):
            raise Refused(f"{host} is a private, loopback or reserved address ({address}): not called.")
    return addresses[0]


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a checked address, with TLS (SNI and the certificate) checked for the host name."""

    def __init__(self, host: str, address: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, address: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


def post(url: str, *, body: bytes, headers: dict[str, str]) -> Answer:
    """POST ``body`` to ``url``; the answer's status. Raises ``Refused`` or ``OSError``."""
    check_url(url)
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = resolve(host, port)
    connection_class = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(host, address, port, TIMEOUT_SECONDS)
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    started = time.monotonic()
    try:
        connection.request("POST", path, body=body, headers={**headers, "Content-Length": str(len(body))})
        response = connection.getresponse()
        response.read(MAX_ANSWER_BYTES)
        return Answer(status=response.status, milliseconds=int((time.monotonic() - started) * 1000))
    except http.client.HTTPException as exc:
        raise OSError(f"Bad answer: {exc}") from exc
    finally:
        connection.close()
