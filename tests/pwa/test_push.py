"""The morning notification by Web Push, against a push service this test runs on 127.0.0.1:
encrypted for the device, sent once per device and day, and a gone device removed."""

from __future__ import annotations

import base64
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
import pytest
import time_machine
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings

from crm.models import User, Workspace
from pwa import services
from pwa.models import PushRun, PushSubscription
from reminders.services import follow_up_create
from tests.factories import PersonFactory

# 08:05 in London on Tuesday 17 March 2026: five minutes past the owner's digest hour.
MORNING = datetime(2026, 3, 17, 8, 5, tzinfo=UTC)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass
class PushService:
    """A push service as a browser vendor runs one: it takes the encrypted POST for a device."""

    url: str
    received: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    answers: dict[str, int] = field(default_factory=dict)  # path -> status (201 when not listed)


@pytest.fixture
def push_service() -> Iterator[PushService]:
    service = PushService(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            service.received.append((self.path, dict(self.headers.items()), body))
            self.send_response(service.answers.get(self.path, 201))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    service.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield service
    server.shutdown()
    server.server_close()


@dataclass
class Device:
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes
    subscription: PushSubscription

    def read(self, body: bytes) -> dict[str, str]:
        return json.loads(http_ece.decrypt(body, private_key=self.private_key, auth_secret=self.auth))


def _device(user: User, endpoint: str) -> Device:
    key = ec.generate_private_key(ec.SECP256R1())
    auth = os.urandom(16)
    public = key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    subscription = services.subscription_save(
        user=user, endpoint=endpoint, p256dh=_b64(public), auth=_b64(auth), device="Chrome on Android"
    )
    return Device(key, auth, subscription)


@pytest.fixture
def setup(settings: Settings, tmp_path: object, owner: User, workspace: Workspace) -> User:
    settings.PUSH_ALLOW_HTTP = True
    settings.VAPID_KEY_FILE = tmp_path / "vapid.pem"  # type: ignore[operator]
    services.vapid.key.cache_clear()
    User.objects.filter(pk=owner.pk).update(digest_hour=8, time_zone="Europe/London")
    owner.refresh_from_db()
    with time_machine.travel(MORNING - timedelta(days=1), tick=False):
        ada = PersonFactory(workspace=workspace, first_name="Ada", last_name="Lovelace", owner=owner)
        follow_up_create(person=ada, due_on=MORNING.date(), note="Send the brochure")
    return owner


def _morning_round(now: datetime) -> list[str]:
    return [services.push_send(run_id=run_id, now=now) for run_id in services.push_dispatch(now=now)]


def test_it_sends_who_to_contact_today_once_per_device(setup: User, push_service: PushService) -> None:
    with time_machine.travel(MORNING - timedelta(days=2), tick=False):
        phone = _device(setup, f"{push_service.url}/push/phone")
        laptop = _device(setup, f"{push_service.url}/push/laptop")

    with time_machine.travel(MORNING, tick=False):
        assert sorted(_morning_round(MORNING)) == ["sent", "sent"]
        # The beat runs again, a worker redelivers a hint: nothing goes twice.
        assert _morning_round(MORNING + timedelta(minutes=5)) == []
        assert services.push_send(run_id=PushRun.objects.first().pk, now=MORNING) == "not-claimed"

    assert sorted(path for path, _, _ in push_service.received) == ["/push/laptop", "/push/phone"]
    _, headers, body = next(r for r in push_service.received if r[0] == "/push/phone")
    assert headers["Content-Encoding"] == "aes128gcm"
    assert headers["Authorization"].startswith("vapid t=")
    message = phone.read(body)
    assert message["title"] == "1 person to contact today"
    assert message["body"] == "Ada Lovelace: Send the brochure"
    assert message["url"].endswith(reverse("dashboard"))
    assert b"Ada" not in body  # encrypted for the device: the push service cannot read it
    assert laptop.read(next(r[2] for r in push_service.received if r[0] == "/push/laptop"))["title"]


def test_a_device_the_push_service_says_is_gone_is_removed(setup: User, push_service: PushService) -> None:
    with time_machine.travel(MORNING - timedelta(days=2), tick=False):
        _device(setup, f"{push_service.url}/push/old-phone")
    push_service.answers["/push/old-phone"] = 410

    with time_machine.travel(MORNING, tick=False):
        assert _morning_round(MORNING) == ["gone"]
    assert not PushSubscription.objects.exists()


def test_nobody_to_contact_sends_nothing_and_a_new_device_waits_for_tomorrow(
    setup: User, push_service: PushService
) -> None:
    with time_machine.travel(MORNING + timedelta(minutes=1), tick=False):
        _device(setup, f"{push_service.url}/push/new")  # after this morning's hour
        assert _morning_round(MORNING + timedelta(minutes=2)) == []
    with time_machine.travel(MORNING + timedelta(days=1), tick=False):
        from interactions.models import FollowUp

        FollowUp.objects.update(done_at=MORNING)
        assert _morning_round(MORNING + timedelta(days=1)) == ["empty"]
    assert push_service.received == []


def test_a_push_service_down_keeps_the_run_for_a_retry(setup: User, push_service: PushService) -> None:
    with time_machine.travel(MORNING - timedelta(days=2), tick=False):
        _device(setup, f"{push_service.url}/push/phone")
    push_service.answers["/push/phone"] = 503

    with time_machine.travel(MORNING, tick=False):
        run_id = services.push_dispatch(now=MORNING)[0]
        with pytest.raises(services.WebPushException):
            services.push_send(run_id=run_id, now=MORNING)
        assert PushRun.objects.get().state == PushRun.State.QUEUED
        del push_service.answers["/push/phone"]
        assert services.push_send(run_id=run_id, now=MORNING + timedelta(minutes=2)) == "sent"
    assert len(push_service.received) == 2


def test_settings_list_this_users_devices_and_revoke_them(owner_client: Client, setup: User, member: User) -> None:
    mine = _device(setup, "https://push.example.com/mine").subscription
    theirs = _device(member, "https://push.example.com/theirs").subscription

    page = owner_client.get(reverse("pwa:settings")).content.decode()
    assert "Chrome on Android" in page
    assert page.count("data-push-device") == 1
    assert owner_client.post(reverse("pwa:revoke", args=[theirs.pk])).status_code == 404
    response = owner_client.post(reverse("pwa:revoke", args=[mine.pk]), follow=True)
    assert "Notifications turned off on Chrome on Android." in response.content.decode()
    assert list(PushSubscription.objects.all()) == [theirs]
