"""The test digest with the broker down: the page says queued, the sweeper sends it once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse

from crm.models import User
from digests.models import DigestRun
from digests.tasks import send_digest_task
from tests.hints import NOW, broker_down, sweep_twice_then_work


@pytest.fixture(autouse=True)
def _clock() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.mark.django_db
def test_it_queues_a_test_digest_with_the_broker_down_and_the_sweeper_sends_it_once(
    owner: User, owner_client: Client, django_capture_on_commit_callbacks
) -> None:
    with broker_down(send_digest_task) as publish, django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(reverse("digests:send_test"), follow=True)

    assert response.status_code == 200
    assert "A test digest to owner@example.com is queued: it will be sent shortly" in response.content.decode()
    assert publish.called
    run = DigestRun.objects.get(user=owner)
    assert (run.is_test, run.state) == (True, DigestRun.State.QUEUED)

    assert sweep_twice_then_work(send_digest_task) == 2
    assert [m.to for m in mail.outbox] == [["owner@example.com"]]
    run.refresh_from_db()
    assert run.state == DigestRun.State.SENT
