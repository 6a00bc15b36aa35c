"""Whatever sends email, creates accounts or costs a lot answers a friendly 429 past its rate."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings as SettingsWrapper

from crm.models import Invitation, PasswordResetRequest, User, Workspace
from tests.factories import PersonFactory

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _limited(response: HttpResponse) -> bool:
    if response.status_code != 429:
        return False
    assert int(response["Retry-After"]) > 0
    assert "Please try again in " in response.content.decode()
    return True


def _reset(client: Client, email: str, **extra: str) -> HttpResponse:
    return client.post(reverse("password_reset"), {"email": email}, **extra)


@pytest.mark.django_db
def test_it_queues_three_reset_emails_an_hour_for_one_address_whatever_is_asked(
    client: Client, owner: User, django_capture_on_commit_callbacks, clock: time_machine.Coordinates
) -> None:
    with django_capture_on_commit_callbacks() as queued:
        answers = [_reset(client, "Owner@Example.com " if i % 2 else "owner@example.com") for i in range(15)]

    assert [a.status_code for a in answers[:3]] == [302, 302, 302]
    assert all(_limited(a) for a in answers[3:])
    assert len(queued) == 3  # three reset emails, not fifteen

    clock.shift(timedelta(hours=1, minutes=1))  # the hour is over
    assert _reset(client, "owner@example.com").status_code == 302


@pytest.mark.django_db
def test_it_says_in_words_when_to_try_again(client: Client, owner: User) -> None:
    for _ in range(3):
        _reset(client, "owner@example.com")

    response = _reset(client, "owner@example.com")

    page = response.content.decode()
    assert response.status_code == 429
    minutes = -(-int(response["Retry-After"]) // 60)
    assert f"Please try again in {minutes} minutes." in page or "Please try again in a minute." in page
    assert "<nav" in page  # the site's own page, not a bare error


@pytest.mark.django_db
def test_the_limited_page_is_the_same_for_an_address_with_and_without_an_account(client: Client, owner: User) -> None:
    pages = {}
    for email in ("owner@example.com", "nobody@example.com"):
        answers = [_reset(client, email) for _ in range(4)]
        assert [a.status_code for a in answers] == [302, 302, 302, 429]
        assert len({a.url for a in answers[:3]}) == 1
        # Only the wait differs: each address's hour starts at its own minute, account or not.
        pages[email] = re.sub(r"try again in [^.]+\.", "", answers[3].content.decode())

    assert pages["owner@example.com"] == pages["nobody@example.com"]


@pytest.mark.django_db
def test_it_limits_resets_from_one_client_address_across_many_emails(client: Client) -> None:
    answers = [_reset(client, f"someone{i}@example.com") for i in range(21)]

    assert [a.status_code for a in answers[:20]] == [302] * 20
    assert _limited(answers[20])
    assert _reset(client, "someone-else@example.com", REMOTE_ADDR="203.0.113.9").status_code == 302


@pytest.mark.django_db
def test_behind_a_proxy_it_counts_the_forwarded_client_address(client: Client, settings: SettingsWrapper) -> None:
    settings.TRUSTED_PROXY_COUNT = 2
    proxy = {"REMOTE_ADDR": "10.0.0.2"}  # the second proxy; X-Forwarded-For ends with the first one

    for i in range(20):
        # Whatever the client puts in front of the chain, it is counted as itself.
        chain = f"203.0.113.{i}, 198.51.100.7, 10.0.0.1"
        _reset(client, f"someone{i}@example.com", HTTP_X_FORWARDED_FOR=chain, **proxy)

    assert _limited(_reset(client, "x@example.com", HTTP_X_FORWARDED_FOR="198.51.100.7, 10.0.0.1", **proxy))
    assert _reset(client, "x@example.com", HTTP_X_FORWARDED_FOR="198.51.100.8, 10.0.0.1", **proxy).status_code == 302


@pytest.mark.django_db
def test_behind_one_proxy_each_honest_client_has_its_own_count(client: Client, settings: SettingsWrapper) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "127.0.0.1"}  # nginx on this machine: X-Forwarded-For holds just the client

    answers = [
        _reset(client, f"someone{i}@example.com", HTTP_X_FORWARDED_FOR="198.51.100.7", **proxy) for i in range(21)
    ]

    assert _limited(answers[20])
    assert _reset(client, "x@example.com", HTTP_X_FORWARDED_FOR="198.51.100.8", **proxy).status_code == 302


def _sign_up(client: Client, email: str, **extra: str) -> HttpResponse:
    data = {"email": email, "display_name": "New", "password1": "long-enough-Pa55", "password2": "nope"}
    return client.post(reverse("signup"), data | {"time_zone": "UTC"}, **extra)


@pytest.mark.django_db
def test_sign_up_is_limited_per_address_and_per_client_address(client: Client) -> None:
    per_address = [_sign_up(client, "NEW@example.com", REMOTE_ADDR=f"203.0.113.{i}") for i in range(4)]
    per_ip = [_sign_up(client, f"new{i}@example.com") for i in range(6)]

    assert [a.status_code for a in per_address[:3]] == [200] * 3
    assert _limited(per_address[3])
    assert [a.status_code for a in per_ip[:5]] == [200] * 5
    assert _limited(per_ip[5])
    assert client.get(reverse("signup")).status_code == 200  # the form itself is never limited


@pytest.mark.django_db
def test_invitations_are_limited_per_invited_address_and_resends_per_invitation(
    owner_client: Client, owner: User, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks() as queued:
        answers = [owner_client.post(reverse("members"), {"email": "friend@example.com"}) for _ in range(4)]
    assert [a.status_code for a in answers[:3]] == [302] * 3
    assert _limited(answers[3])
    sent = len(queued)

    invitation = Invitation.objects.filter(email="friend@example.com").latest("pk")
    url = reverse("invitation_resend", args=[invitation.pk])
    with django_capture_on_commit_callbacks() as queued:
        resends = [owner_client.post(url) for _ in range(4)]

    assert [r.status_code for r in resends[:3]] == [302] * 3
    assert _limited(resends[3])
    assert (sent, len(queued)) == (3, 3)


@pytest.mark.django_db
def test_the_digest_test_send_is_limited_per_user(owner_client: Client, owner: User) -> None:
    answers = [owner_client.post(reverse("digests:send_test")) for _ in range(6)]

    assert [a.status_code for a in answers[:5]] == [302] * 5
    assert _limited(answers[5])


@pytest.mark.django_db
def test_searches_are_limited_per_user_and_plain_lists_are_not(
    owner_client: Client, member_client: Client, workspace: Workspace, settings: SettingsWrapper
) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "search_per_user": "4/m"}
    PersonFactory(workspace=workspace, first_name="Anna")
    searches = [
        (reverse("people:list"), {"q": "Ann"}),
        (reverse("people:autocomplete"), {"q": "Ann"}),
        (reverse("people:tag_suggestions"), {"q": "v"}),
        (reverse("interactions:interested"), {"topic": "sailing"}),
    ]

    assert [owner_client.get(url, params).status_code for url, params in searches] == [200] * 4
    assert _limited(owner_client.get(reverse("interactions:search"), {"q": "beagle"}))
    assert owner_client.get(reverse("people:list")).status_code == 200  # browsing, not searching
    assert member_client.get(reverse("people:list"), {"q": "Ann"}).status_code == 200  # another user


@pytest.mark.django_db
def test_import_uploads_are_limited_per_user(owner_client: Client, settings: SettingsWrapper) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "import_upload_per_user": "2/h"}

    def upload() -> HttpResponse:
        card = SimpleUploadedFile("people.vcf", b"BEGIN:VCARD\nFN:Anna Berg\nEND:VCARD\n")
        return owner_client.post(reverse("imports:page"), {"file": card})

    answers = [upload() for _ in range(3)]

    assert [a.status_code for a in answers[:2]] == [302, 302]
    assert _limited(answers[2])
    assert owner_client.get(reverse("imports:page")).status_code == 200


@pytest.mark.django_db
def test_a_cache_that_does_not_answer_lets_the_reset_through(client: Client, owner: User) -> None:
    from django.core.cache import caches

    with mock.patch.object(type(caches["ratelimit"]), "add", side_effect=ConnectionError("cache down")):
        answers = [_reset(client, "owner@example.com") for _ in range(5)]

    assert [a.status_code for a in answers] == [302] * 5


def _probe(tmp_path: Path, expression: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in {"CACHE_URL", "CELERY_BROKER_URL", "DATABASE_URL"}}
    base.update({"DJANGO_SETTINGS_MODULE": "crm.settings", "RAPPORT_VAR_DIR": str(tmp_path), **env})
    code = f"import django, json; django.setup(); from django.conf import settings as s; print({expression})"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=base, capture_output=True, text=True, check=False)


CACHE = "s.CACHES['ratelimit']['BACKEND'], s.CACHES['ratelimit'].get('LOCATION'), s.CACHES['default']['BACKEND']"


@pytest.mark.parametrize(
    ("env", "backend", "location"),
    [
        ({}, "django.core.cache.backends.db.DatabaseCache", "rapport_cache"),
        (
            {"CELERY_BROKER_URL": "redis://broker.internal:6379/0"},
            "django.core.cache.backends.redis.RedisCache",
            "redis://broker.internal:6379/0",
        ),
        (
            {"CELERY_BROKER_URL": "redis://broker.internal:6379/0", "CACHE_URL": "redis://cache.internal:6379/3"},
            "django.core.cache.backends.redis.RedisCache",
            "redis://cache.internal:6379/3",
        ),
    ],
    ids=["database by default", "the redis broker", "CACHE_URL first"],
)
def test_the_counters_live_in_a_cache_every_web_process_shares(
    tmp_path: Path, env: dict[str, str], backend: str, location: str
) -> None:
    result = _probe(tmp_path, CACHE, DJANGO_DEBUG="1", **env)

    assert result.returncode == 0, result.stderr
    # Rendered fragments stay in each process's memory: they need no sharing, and cost no query.
    assert result.stdout.split() == [backend, location, "django.core.cache.backends.locmem.LocMemCache"]


def test_each_rate_can_be_set_in_the_environment(tmp_path: Path) -> None:
    result = _probe(
        tmp_path,
        "s.RATE_LIMITS['password_reset_per_address']",
        DJANGO_DEBUG="1",
        RATE_LIMIT_PASSWORD_RESET_PER_ADDRESS="5/h",
    )
    assert result.stdout.strip() == "5/h", result.stderr

    result = _probe(tmp_path, "1", DJANGO_DEBUG="1", RATE_LIMIT_SIGNUP_PER_IP="lots")
    assert result.returncode != 0
    assert "RATE_LIMIT_SIGNUP_PER_IP='lots': write it as count/period, e.g. 3/h." in result.stderr


@pytest.mark.django_db
def test_a_request_one_limit_refuses_uses_up_none_of_the_others(client: Client) -> None:
    for i in range(20):
        _reset(client, f"someone{i}@example.com", REMOTE_ADDR="203.0.113.66")
    # This client address is spent: its requests for someone else's address must not count against it.
    assert all(_limited(_reset(client, "victim@example.com", REMOTE_ADDR="203.0.113.66")) for _ in range(5))

    answers = [_reset(client, "victim@example.com", REMOTE_ADDR="198.51.100.20") for _ in range(3)]

    assert [a.status_code for a in answers] == [302] * 3  # the victim still has their three


@pytest.mark.django_db
def test_an_address_spelt_with_a_long_s_shares_the_count_of_the_plain_one(client: Client) -> None:
    # PostgreSQL's iexact (and so the reset form) takes "ſam@" for sam@; lower() would not.
    for _ in range(3):
        _reset(client, "sam@example.com", REMOTE_ADDR="203.0.113.1")

    assert _limited(_reset(client, "ſam@example.com", REMOTE_ADDR="203.0.113.2"))
    assert _limited(_reset(client, "ＳＡＭ@example.com", REMOTE_ADDR="203.0.113.3"))  # full-width, NFKC


@pytest.mark.django_db
def test_with_the_cache_down_one_account_still_gets_at_most_three_reset_emails_an_hour(
    client: Client, owner: User, clock: time_machine.Coordinates
) -> None:
    from django.core.cache import caches

    with mock.patch.object(type(caches["ratelimit"]), "add", side_effect=ConnectionError("cache down")):
        answers = [_reset(client, "owner@example.com") for _ in range(15)]

    assert [a.status_code for a in answers] == [302] * 15  # the page says the same each time
    assert PasswordResetRequest.objects.filter(user=owner).count() == 3  # the sweeper will send three
    clock.shift(timedelta(hours=1, minutes=1))
    with mock.patch.object(type(caches["ratelimit"]), "add", side_effect=ConnectionError("cache down")):
        _reset(client, "owner@example.com")
    assert PasswordResetRequest.objects.filter(user=owner).count() == 4


@pytest.mark.django_db
def test_the_database_cache_keeps_a_limit_through_a_flood_of_made_up_addresses(
    client: Client, settings: SettingsWrapper, tmp_path: Path
) -> None:
    # The database cache as settings.py builds it when there is no Redis, whatever this tier uses.
    result = _probe(tmp_path, "json.dumps(s.CACHES['ratelimit'])", DJANGO_DEBUG="1")
    counters = json.loads(result.stdout)
    assert counters["BACKEND"] == "django.core.cache.backends.db.DatabaseCache", result.stderr
    settings.CACHES = {**settings.CACHES, "ratelimit": {**counters, "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}}
    for _ in range(3):
        _reset(client, "victim@example.com")

    for i in range(400):  # two counters each: 800 rows, past Django's default of 300
        _reset(client, f"made-up{i}@example.com", REMOTE_ADDR=f"10.{i // 250}.{i % 250}.1")

    assert _limited(_reset(client, "victim@example.com", REMOTE_ADDR="203.0.113.9"))
