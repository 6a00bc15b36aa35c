"""Settings come from the environment, with safe production defaults."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from crm.envvars import env_bool, env_int

ROOT = Path(__file__).resolve().parents[2]
CONFIG = {
    "SITE_URL",
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "SECRET_KEY",
    "FIELD_ENCRYPTION_KEYS",
    "DJANGO_DEBUG",
    "EMAIL_URL",
    "EMAIL_HOST",
    "EMAIL_PORT",
}
KEYS = "dGVzdC1vbmx5LW5vdC1hLXNlY3JldC1rZXktMzJieXQ="
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
    result = _settings_with(tmp_path, SECRET_KEY="x" * 50, FIELD_ENCRYPTION_KEYS=KEYS)

    assert result.returncode != 0
    assert "SITE_URL must be set" in result.stderr


def test_it_refuses_to_start_without_encryption_keys_in_production(tmp_path: Path) -> None:
    result = _settings_with(tmp_path, SECRET_KEY="x" * 50, SITE_URL="https://crm.example.com")

    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS must be set" in result.stderr


def test_it_defaults_to_debug_off_sqlite_embedded_broker_and_console_email(tmp_path: Path) -> None:
    result = _settings_with(
        tmp_path, SECRET_KEY="x" * 50, SITE_URL="https://crm.example.com", FIELD_ENCRYPTION_KEYS=KEYS
    )

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
            "FIELD_ENCRYPTION_KEYS": KEYS,
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


@pytest.mark.parametrize(
    ("variable", "extra"),
    [("DJANGO_DEBUG", {}), ("SECURE_SSL_REDIRECT", {"SECRET_KEY": "x" * 50, "SITE_URL": "https://crm.example.com"})],
)
def test_a_misspelt_yes_stops_start_up_naming_the_variable(
    tmp_path: Path, variable: str, extra: dict[str, str]
) -> None:
    result = _settings_with(tmp_path, **{"DJANGO_DEBUG": "1", **extra, variable: "ture"})

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"{variable}='ture' is not a yes or no" in result.stderr
    assert "true" in result.stderr  # the accepted values are listed


def test_a_number_that_is_not_one_stops_start_up_naming_the_variable(tmp_path: Path) -> None:
    result = _settings_with(tmp_path, DJANGO_DEBUG="1", EMAIL_HOST="mailer.internal", EMAIL_PORT="25a")

    assert result.returncode != 0
    assert "EMAIL_PORT='25a' is not a whole number from 1 to 65535" in result.stderr


def test_empty_values_mean_the_defaults(tmp_path: Path) -> None:
    result = _settings_with(
        tmp_path, DJANGO_DEBUG="", SECRET_KEY="x" * 50, SITE_URL="https://crm.example.com", SECURE_SSL_REDIRECT="",
        FIELD_ENCRYPTION_KEYS=KEYS,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "False"


@pytest.mark.parametrize("raw", ["1", "true", "TRUE", " yes ", "on", "y", "ok"])
def test_booleans_read_the_usual_spellings_of_yes(raw: str) -> None:
    assert env_bool("FLAG", default=False, environ={"FLAG": raw}) is True


@pytest.mark.parametrize("raw", ["0", "false", "False", "no", "off", "n"])
def test_booleans_read_the_usual_spellings_of_no(raw: str) -> None:
    assert env_bool("FLAG", default=True, environ={"FLAG": raw}) is False


@pytest.mark.parametrize("raw", ["ture", "yess", "2", "enabled", "-1", "✓"])
def test_any_other_boolean_is_refused_with_what_is_accepted(raw: str) -> None:
    with pytest.raises(ImproperlyConfigured) as refused:
        env_bool("DJANGO_DEBUG", default=False, environ={"DJANGO_DEBUG": raw})

    message = str(refused.value)
    assert message.startswith(f"DJANGO_DEBUG={raw!r} is not a yes or no")
    assert "1, true, yes, y, on, ok" in message
    assert "0, false, no, n, off" in message


@pytest.mark.parametrize("environ", [{}, {"FLAG": ""}, {"FLAG": "   "}])
def test_an_unset_or_empty_boolean_is_its_default(environ: dict[str, str]) -> None:
    assert env_bool("FLAG", default=True, environ=environ) is True
    assert env_bool("FLAG", default=False, environ=environ) is False


@pytest.mark.parametrize(("raw", "expected"), [("0", 0), ("7", 7), (" 42 ", 42), ("+3", 3), ("", 5)])
def test_whole_numbers_are_read(raw: str, expected: int) -> None:
    assert env_int("COUNT", default=5, environ={"COUNT": raw}) == expected


@pytest.mark.parametrize("raw", ["seven", "7.5", "1e3", "1_000", "0x10", "٣", "7 days"])
def test_anything_but_a_whole_number_is_refused_naming_the_variable(raw: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=r"^INVITATION_MAX_AGE_DAYS=.* is not a whole number from 0 up"):
        env_int("INVITATION_MAX_AGE_DAYS", default=7, environ={"INVITATION_MAX_AGE_DAYS": raw})


@pytest.mark.parametrize(("raw", "minimum", "maximum"), [("-1", 0, None), ("0", 1, None), ("70000", 1, 65535)])
def test_numbers_out_of_range_are_refused(raw: str, minimum: int, maximum: int | None) -> None:
    with pytest.raises(ImproperlyConfigured, match=r"^PORT=.* is out of range"):
        env_int("PORT", default=25, minimum=minimum, maximum=maximum, environ={"PORT": raw})


def test_production_hashes_passwords_with_pbkdf2(tmp_path: Path) -> None:
    """The tests' fast MD5 hasher (tests/conftest.py) stays in the tests."""
    probe = "import django; django.setup(); from django.conf import settings as s; print(*s.PASSWORD_HASHERS)"
    env = {k: v for k, v in os.environ.items() if k not in CONFIG}
    env.update({"DJANGO_SETTINGS_MODULE": "crm.settings", "RAPPORT_VAR_DIR": str(tmp_path), "DJANGO_DEBUG": "1"})
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "django.contrib.auth.hashers.PBKDF2PasswordHasher"
    assert "MD5PasswordHasher" not in result.stdout


def test_the_tests_hash_passwords_fast() -> None:
    from django.contrib.auth.hashers import get_hasher

    assert get_hasher().algorithm == "md5"


@pytest.mark.real_password_hashing
def test_a_test_can_ask_for_the_real_hashers() -> None:
    from django.contrib.auth.hashers import get_hasher

    assert get_hasher().algorithm == "pbkdf2_sha256"
