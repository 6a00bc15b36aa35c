"""/healthz/ says whether the web process can serve: the database and the broker answer."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock

import pytest
import time_machine
from django.db import OperationalError, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pytest_django.fixtures import Settings as SettingsWrapper

from crm import services, views

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fresh_broker_check() -> Iterator[None]:
    views._broker_checked.clear()
    yield
    views._broker_checked.clear()


@pytest.fixture
def beat_just_now() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        services.heartbeat_record(name="beat")
        yield


@pytest.mark.django_db
@pytest.mark.usefixtures("beat_just_now")
def test_it_answers_200_when_everything_answers(client: Client) -> None:
    response = client.get(reverse("healthz"))

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "broker": "ok",
        "beat": "ok",
        "beat_last_seen": NOW.isoformat(),
    }


@pytest.mark.django_db
@pytest.mark.usefixtures("beat_just_now")
def test_it_answers_503_naming_the_database_when_it_is_down(client: Client) -> None:
    database = connections["default"]
    with mock.patch.object(database, "cursor", side_effect=OperationalError("connection refused")):
        response = client.get(reverse("healthz"))

    assert response.status_code == 503
    assert response.json()["status"] == "down"
    assert response.json()["database"] == "down: OperationalError"
    assert response.json()["broker"] == "ok"


@pytest.mark.django_db
@pytest.mark.usefixtures("beat_just_now")
def test_it_answers_503_naming_a_redis_broker_that_does_not_answer(client: Client, settings: SettingsWrapper) -> None:
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1

    response = client.get(reverse("healthz"))

    assert response.status_code == 503
    assert response.json()["broker"].startswith("down: ")
    assert response.json()["database"] == "ok"


@pytest.mark.django_db
@pytest.mark.usefixtures("beat_just_now")
def test_it_answers_503_when_the_filesystem_brokers_folder_cannot_be_written(
    client: Client, settings: SettingsWrapper, tmp_path: Path
) -> None:
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(tmp_path / "gone"),
        "data_folder_out": str(tmp_path / "gone"),
        "control_folder": str(tmp_path),
    }

    response = client.get(reverse("healthz"))

    assert response.status_code == 503
    assert response.json()["broker"] == "down: a folder is not writable"


@pytest.mark.django_db
def test_a_late_or_missing_beat_is_a_warning_not_an_outage(client: Client) -> None:
    with time_machine.travel(NOW, tick=False):
        assert client.get(reverse("healthz")).json()["beat"] == "never seen"
        services.heartbeat_record(name="beat")
    with time_machine.travel(NOW + timedelta(minutes=14), tick=False):
        assert client.get(reverse("healthz")).json()["beat"] == "ok"
    with time_machine.travel(NOW + timedelta(minutes=16), tick=False):
        response = client.get(reverse("healthz"))

    assert response.status_code == 200
    assert response.json()["status"] == "warning"
    assert response.json()["beat"] == "stale"
    assert response.json()["beat_last_seen"] == NOW.isoformat()


@pytest.mark.django_db
@pytest.mark.usefixtures("beat_just_now")
def test_it_stays_cheap_two_small_queries_and_the_broker_asked_once_in_a_while(
    client: Client, settings: SettingsWrapper
) -> None:
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    with (
        mock.patch("crm.views.Connection", wraps=views.Connection) as broker,
        CaptureQueriesContext(connections["default"]) as queries,
    ):
        for _ in range(3):
            assert client.get(reverse("healthz")).status_code == 503

    assert broker.call_count == 1  # the answer is kept for a few seconds
    assert len(queries) == 3 * 2  # SELECT 1 and the heartbeat row
