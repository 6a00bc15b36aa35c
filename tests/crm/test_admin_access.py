"""Django's admin is off unless ADMIN_ENABLED, and then answers only the allowed addresses."""

from __future__ import annotations

import contextlib
import importlib
import ipaddress
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client
from django.urls import NoReverseMatch, clear_url_caches, reverse
from pytest_django.fixtures import Settings as SettingsWrapper

from crm.models import User
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]


def _remount(settings: SettingsWrapper, *, enabled: bool) -> None:
    import crm.urls

    settings.ADMIN_ENABLED = enabled
    importlib.reload(crm.urls)
    clear_url_caches()


@contextlib.contextmanager
def _mounted(settings: SettingsWrapper, *, enabled: bool) -> Iterator[None]:
    was = settings.ADMIN_ENABLED
    _remount(settings, enabled=enabled)
    try:
        yield
    finally:
        _remount(settings, enabled=was)


@pytest.fixture
def admin_enabled(settings: SettingsWrapper) -> Iterator[None]:
    with _mounted(settings, enabled=True):
        yield


@pytest.fixture
def superuser_client(db: None) -> Client:
    client = Client()
    client.force_login(UserFactory(email="root@example.com", is_staff=True, is_superuser=True))
    return client


def test_the_admin_is_not_mounted_when_not_enabled(superuser_client: Client, settings: SettingsWrapper) -> None:
    with _mounted(settings, enabled=False):
        assert superuser_client.get("/admin/").status_code == 404
        assert superuser_client.get("/admin/login/").status_code == 404
        with pytest.raises(NoReverseMatch):
            reverse("admin:index")


@pytest.mark.usefixtures("admin_enabled")
def test_once_enabled_it_answers_this_machine_and_no_one_else(superuser_client: Client, owner: User) -> None:
    assert superuser_client.get("/admin/").status_code == 200
    assert superuser_client.get("/admin/", REMOTE_ADDR="::1").status_code == 200

    for path in ("/admin/", "/admin/login/", "/admin/crm/user/"):
        assert superuser_client.get(path, REMOTE_ADDR="203.0.113.5").status_code == 404
    response = Client().post("/admin/login/", {"username": owner.email, "password": "x"}, REMOTE_ADDR="203.0.113.5")
    assert response.status_code == 404


@pytest.mark.usefixtures("admin_enabled")
def test_it_answers_the_networks_listed(superuser_client: Client, settings: SettingsWrapper) -> None:
    settings.ADMIN_ALLOWED_IPS = [ipaddress.ip_network("198.51.100.0/24")]

    assert superuser_client.get("/admin/", REMOTE_ADDR="198.51.100.7").status_code == 200
    assert superuser_client.get("/admin/").status_code == 404  # 127.0.0.1 is no longer listed


@pytest.mark.usefixtures("admin_enabled")
def test_behind_a_proxy_it_reads_the_forwarded_client_not_the_proxy(
    superuser_client: Client, settings: SettingsWrapper
) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    local_proxy = {"REMOTE_ADDR": "127.0.0.1"}  # nginx on this machine appends the client it was reached from

    outside = superuser_client.get("/admin/", HTTP_X_FORWARDED_FOR="203.0.113.5", **local_proxy)
    forged = superuser_client.get("/admin/", HTTP_X_FORWARDED_FOR="127.0.0.1, 203.0.113.5", **local_proxy)
    unreadable = superuser_client.get("/admin/", **local_proxy)  # no forwarded address: not "this machine"
    inside = superuser_client.get("/admin/", HTTP_X_FORWARDED_FOR="127.0.0.1", **local_proxy)

    statuses = (outside.status_code, forged.status_code, unreadable.status_code, inside.status_code)
    assert statuses == (404, 404, 404, 200)


def _probe(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("ADMIN_")}
    base.update(
        {"DJANGO_SETTINGS_MODULE": "crm.settings", "RAPPORT_VAR_DIR": str(tmp_path), "DJANGO_DEBUG": "1", **env}
    )
    code = "import django; django.setup(); from django.conf import settings as s;"
    code += "print(s.ADMIN_ENABLED, *s.ADMIN_ALLOWED_IPS)"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=base, capture_output=True, text=True, check=False)


def test_the_switch_and_the_allow_list_come_from_the_environment(tmp_path: Path) -> None:
    assert _probe(tmp_path).stdout.split() == ["False", "127.0.0.1/32", "::1/128"]
    result = _probe(tmp_path, ADMIN_ENABLED="1", ADMIN_ALLOWED_IPS="10.1.0.0/16,192.0.2.4")
    assert result.stdout.split() == ["True", "10.1.0.0/16", "192.0.2.4/32"], result.stderr

    result = _probe(tmp_path, ADMIN_ALLOWED_IPS="office")
    assert result.returncode != 0
    assert "ADMIN_ALLOWED_IPS" in result.stderr
