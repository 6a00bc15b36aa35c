"""Settings come from the environment, with safe production defaults."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIG = {
    "SITE_URL",
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "SECRET_KEY",
    "DJANGO_DEBUG",
    "EMAIL_URL",
    "EMAIL_HOST",
    "EMAIL_PORT",
}
PROBE = (
    "import django; django.setup(); from django.conf import settings as s;"
    "print(s.DEBUG, s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, s.EMAIL_BACKEND)"
)


def _settings_with(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in CONFIG}
    base.update({"DJANGO_SETTINGS_MODULE": "crm.settings", "RAPPORT_VAR_DIR": str(tmp_path), **env})
    return subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=base, capture_output=True, text=True, check=False
    )


def test_it_refuses_to_start_without_a_secret_key_in_production(tmp_path: Path) -> None:
    result = _settings_with(tmp_path)

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_it_refuses_to_start_without_site_url_in_production(tmp_path: Path) -> None:
    result = _settings_with(tmp_path, SECRET_KEY="x" * 50)

    assert result.returncode != 0
    assert "SITE_URL must be set" in result.stderr


def test_it_defaults_to_debug_off_sqlite_embedded_broker_and_console_email(tmp_path: Path) -> None:
    result = _settings_with(tmp_path, SECRET_KEY="x" * 50, SITE_URL="https://crm.example.com")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "False",
        "django.db.backends.sqlite3",
        "filesystem://",
        "django.core.mail.backends.console.EmailBackend",
    ]


def test_urls_switch_to_postgresql_redis_and_smtp(tmp_path: Path) -> None:
    result = _settings_with(
        tmp_path,
        DJANGO_DEBUG="1",
        DATABASE_URL="postgres://u@db.internal:5432/rapport",
        CELERY_BROKER_URL="redis://cache.internal:6379/0",
        EMAIL_URL="smtp://mailer.internal:25",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "True",
        "django.db.backends.postgresql",
        "redis://cache.internal:6379/0",
        "django.core.mail.backends.smtp.EmailBackend",
    ]


def test_classic_email_variables_also_switch_to_smtp(tmp_path: Path) -> None:
    result = _settings_with(tmp_path, DJANGO_DEBUG="1", EMAIL_HOST="mailer.internal", EMAIL_PORT="2525")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == "django.core.mail.backends.smtp.EmailBackend"


@pytest.mark.trust
def test_production_settings_pass_the_deploy_check(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in CONFIG}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "crm.settings",
            "RAPPORT_VAR_DIR": str(tmp_path),
            "SECRET_KEY": "k" * 20 + "-Jq8v2LxW9zR4tYpA7sD1fG5hK3mN6bV0cX",
            "SITE_URL": "https://crm.example.com",
            "ALLOWED_HOSTS": "crm.example.com",
        }
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
