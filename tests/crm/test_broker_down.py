"""With the broker down, a request that queues an email still answers, says "queued", and
the committed row is the promise: the sweeper sends the hint again and the email goes once."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse

from crm import queue, services
from crm.models import Invitation, Membership, PasswordResetRequest, User
from crm.tasks import send_invitation_task, send_password_reset_task
from tests.hints import NOW, broker_down, broker_up, sweep_twice_then_work

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _clock() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.mark.django_db
def test_it_queues_a_password_reset_with_the_broker_down_and_the_sweeper_sends_it_once(
    client: Client, owner: User, django_capture_on_commit_callbacks
) -> None:
    with broker_down(send_password_reset_task) as publish, django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("password_reset"), {"email": "owner@example.com"}, follow=True)

    assert response.status_code == 200
    assert "is queued and will be sent shortly" in response.content.decode()
    assert publish.called  # the hint was tried, and failed
    request = PasswordResetRequest.objects.get(user=owner)
    assert request.state == PasswordResetRequest.State.QUEUED
    assert mail.outbox == []

    assert sweep_twice_then_work(send_password_reset_task) == 2
    assert [m.to for m in mail.outbox] == [["owner@example.com"]]
    request.refresh_from_db()
    assert request.state == PasswordResetRequest.State.SENT


@pytest.mark.django_db
def test_it_does_not_hint_again_a_request_the_worker_is_about_to_take(
    owner: User, django_capture_on_commit_callbacks
) -> None:
    with broker_up(send_password_reset_task) as hints:
        with django_capture_on_commit_callbacks(execute=True):
            request = services.password_reset_request(user=owner)
        queue.outbox_sweep(now=NOW + timedelta(seconds=30))

    assert hints == [(request.pk,)]  # the request's own hint, no second one yet


@pytest.mark.django_db
def test_it_takes_over_a_reset_whose_worker_died_mid_send(owner: User, settings) -> None:
    request = services.password_reset_request(user=owner)
    PasswordResetRequest.objects.filter(pk=request.pk).update(state="sending", claimed_at=NOW)
    settings.CLAIM_TIMEOUT_SECONDS = 60

    with broker_up(send_password_reset_task) as hints:
        queue.outbox_sweep(now=NOW + timedelta(seconds=30))
        assert hints == []  # the claim is still fresh: the worker may be sending right now
        queue.outbox_sweep(now=NOW + timedelta(seconds=90))
    with time_machine.travel(NOW + timedelta(seconds=90), tick=False):
        for args in hints:
            send_password_reset_task.apply(args)

    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_it_queues_an_invitation_with_the_broker_down_and_the_sweeper_sends_it_once(
    owner_client: Client, django_capture_on_commit_callbacks
) -> None:
    with broker_down(send_invitation_task), django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(reverse("members"), {"email": "newbie@example.com"}, follow=True)

    assert response.status_code == 200
    assert "Invitation to newbie@example.com queued: it will be sent shortly" in response.content.decode()
    assert "Email queued" in response.content.decode()
    invitation = Invitation.objects.get()
    assert invitation.email_state == Invitation.EmailState.QUEUED

    assert sweep_twice_then_work(send_invitation_task) == 2
    assert [m.to for m in mail.outbox] == [["newbie@example.com"]]
    invitation.refresh_from_db()
    assert invitation.email_state == Invitation.EmailState.SENT


@pytest.mark.django_db
def test_it_resends_an_invitation_with_the_broker_down_and_the_sweeper_sends_it_once(
    owner: User, owner_client: Client, django_capture_on_commit_callbacks
) -> None:
    invitation = services.invitation_create(membership=Membership.objects.get(user=owner), email="newbie@example.com")
    services.invitation_mark_failed(invitation_id=invitation.pk, error="SMTP said no")
    with broker_down(send_invitation_task), django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(reverse("invitation_resend", args=[invitation.pk]), follow=True)

    assert response.status_code == 200
    assert "Invitation to newbie@example.com queued again: it will be sent shortly" in response.content.decode()
    assert sweep_twice_then_work(send_invitation_task) == 2
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_it_never_hints_a_revoked_invitation(owner: User) -> None:
    membership = Membership.objects.get(user=owner)
    with broker_down(send_invitation_task):
        invitation = services.invitation_create(membership=membership, email="newbie@example.com")
    services.invitation_revoke(membership=membership, invitation_id=invitation.pk)

    assert sweep_twice_then_work(send_invitation_task) == 0
    assert mail.outbox == []


def test_it_logs_a_failed_hint_and_carries_on(caplog: pytest.LogCaptureFixture) -> None:
    with broker_down(send_password_reset_task):
        assert queue.enqueue(send_password_reset_task, 7) is False

    assert "the sweeper will send it" in caplog.text


def test_it_gives_up_on_a_redis_that_accepts_connections_but_never_answers(tmp_path: Path) -> None:
    # A half-open broker (a hung Redis, a dropped route) is the worst case for a request:
    # without socket timeouts publishing waits on it for minutes.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"redis://127.0.0.1:{silent.getsockname()[1]}/0"
        probe = (
            "import django; django.setup(); from crm.queue import enqueue; from crm.tasks import heartbeat_task;"
            "print('sent' if enqueue(heartbeat_task) else 'not sent')"
        )
        env = {**os.environ, "CELERY_BROKER_URL": url, "RAPPORT_VAR_DIR": str(tmp_path)}
        env["DJANGO_SETTINGS_MODULE"] = "crm.settings"
        result = subprocess.run(
            [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True
        )

    assert result.stdout.strip() == "not sent"


@pytest.mark.django_db
@pytest.mark.parametrize("address", ["new@example.com", "owner@example.com"])
def test_it_queues_a_sign_up_email_with_the_broker_down_and_the_sweeper_sends_it_once(
    client: Client, owner: User, address: str, django_capture_on_commit_callbacks
) -> None:
    from crm.models import Signup
    from crm.tasks import send_signup_email_task

    form = {"email": address, "display_name": "", "password1": "a-long-pass-phrase", "password2": "a-long-pass-phrase"}
    with broker_down(send_signup_email_task) as publish, django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("signup"), {**form, "time_zone": "UTC"})

    assert response.status_code == 200
    assert "Check your email" in response.content.decode()
    assert publish.called
    assert mail.outbox == []

    assert sweep_twice_then_work(send_signup_email_task) == 2
    assert [m.to for m in mail.outbox] == [[address]]
    assert Signup.objects.get(email=address).email_state == Signup.EmailState.SENT
