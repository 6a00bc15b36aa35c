"""The client address behind TRUSTED_PROXY_COUNT proxies: entries a client wrote itself are ignored."""

from __future__ import annotations

import pytest
from axes.helpers import get_client_ip_address
from django.test import RequestFactory
from pytest_django.fixtures import Settings as SettingsWrapper

from crm.clientip import client_ip


def _ip(settings: SettingsWrapper, count: int, forwarded: str | None, remote: str = "10.0.0.2") -> str:
    settings.TRUSTED_PROXY_COUNT = count
    extra = {"REMOTE_ADDR": remote} | ({"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {})
    request = RequestFactory().get("/", **extra)
    # Login throttling reads the same address as the rate limits and the admin allow-list.
    assert get_client_ip_address(request) == client_ip(request)
    return client_ip(request)


@pytest.mark.parametrize(
    ("count", "forwarded", "client"),
    [
        # One nginx appends the address it was reached from; whatever came before is the client's own.
        (1, "127.0.0.1, 198.51.100.7", "198.51.100.7"),
        (1, "127.0.0.1,10.0.0.9 ,  198.51.100.7", "198.51.100.7"),
        (1, "198.51.100.7", "198.51.100.7"),  # an honest client: one entry, its own address
        (2, "127.0.0.1, 198.51.100.7, 10.0.0.1", "198.51.100.7"),
        (2, "198.51.100.7, 10.0.0.1", "198.51.100.7"),
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_it_takes_the_entry_the_trusted_proxies_wrote(
    settings: SettingsWrapper, count: int, forwarded: str, client: str
) -> None:
    assert _ip(settings, count, forwarded) == client


def test_without_trusted_proxies_it_ignores_the_header(settings: SettingsWrapper) -> None:
    assert _ip(settings, 0, "127.0.0.1", remote="203.0.113.5") == "203.0.113.5"


@pytest.mark.parametrize("forwarded", [None, "", "198.51.100.7", "not-an-address, 10.0.0.1"])
def test_a_chain_shorter_or_stranger_than_the_proxies_make_falls_back_to_the_connection(
    settings: SettingsWrapper, forwarded: str | None
) -> None:
    assert _ip(settings, 2, forwarded, remote="10.0.0.2") == "10.0.0.2"
