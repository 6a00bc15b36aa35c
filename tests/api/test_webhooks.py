"""Webhooks: owners register endpoints; events become committed deliveries, sent signed per
Standard Webhooks to a real local receiver, retried with backoff, never twice per occurrence;
private, loopback and link-local addresses are refused and redirects not followed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.fixtures import Settings
from standardwebhooks.webhooks import Webhook

from api import webhooks
from api.models import WebhookDelivery, WebhookEndpoint
from crm.models import Membership, User, Workspace
from interactions import services as interaction_services
from people.models import Person
from reminders import services as reminder_services
from tests.api.sink import Sink, running_sink
from tests.factories import PersonFactory

PAGE = "/settings/api/webhooks/"


@pytest.fixture
def sink(settings: Settings) -> Iterator[Sink]:
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    with running_sink() as receiver:
        yield receiver


def _endpoint(owner_client: Client, url: str, *events: str) -> WebhookEndpoint:
    response = owner_client.post(PAGE, {"url": url, "events": list(events)}, follow=True)
    assert response.status_code == 200
    return WebhookEndpoint.objects.get(url=url)


def _send_all() -> None:
    for pk in WebhookDelivery.objects.values_list("pk", flat=True):
        webhooks.delivery_send(delivery_id=pk)


@pytest.mark.django_db
def test_a_person_added_over_the_api_reaches_the_receiver_signed(
    owner_client: Client, owner_api: Client, sink: Sink
) -> None:
    endpoint = _endpoint(owner_client, sink.url, "person.created")
    response = owner_api.post("/api/v1/people/", {"first_name": "Anna"}, content_type="application/json")
    assert response.status_code == 201
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == "queued"
    _send_all()
    (headers, body), *_ = sink.received
    payload = Webhook(endpoint.secret).verify(body, headers)  # raises unless signed with the secret
    assert payload["type"] == "person.created"
    assert payload["data"]["first_name"] == "Anna"
    assert headers["webhook-id"] == delivery.message_id
    delivery.refresh_from_db()
    assert (delivery.state, delivery.response_status, delivery.attempts) == ("delivered", 204, 1)
    page = owner_client.get(PAGE).content.decode()
    assert "person.created" in page
    assert "Delivered" in page


@pytest.mark.django_db
def test_events_from_the_pages_are_delivered_too(
    owner_client: Client, owner: User, workspace: Workspace, sink: Sink
) -> None:
    _endpoint(owner_client, sink.url, "conversation.logged", "need.solved", "person.deleted")
    anna = PersonFactory(workspace=workspace, first_name="Anna")
    need = interaction_services.need_open(person=anna, title="Oven")
    owner_client.post("/interactions/quick/", {"quick-person": anna.pk, "quick-kind": "call", "quick-summary": "Hello"})
    interaction_services.need_set_status(need=need, status="solved")
    owner_client.post(f"/people/{anna.pk}/delete/")
    assert sorted(WebhookDelivery.objects.values_list("event", flat=True)) == [
        "conversation.logged",
        "need.solved",
        "person.deleted",
    ]
    _send_all()
    types = {json.loads(body)["type"]: json.loads(body)["data"] for _, body in sink.received}
    assert types["person.deleted"] == {"id": anna.pk, "full_name": anna.full_name}
    assert types["conversation.logged"]["summary"] == "Hello"


@pytest.mark.django_db
def test_nothing_is_recorded_for_a_change_that_rolled_back(owner_client: Client, owner_api: Client, sink: Sink) -> None:
    _endpoint(owner_client, sink.url, "person.created")
    bad = {"first_name": "Anna", "contact_methods": [{"kind": "phone", "value": "12"}]}
    assert owner_api.post("/api/v1/people/", bad, content_type="application/json").status_code == 400
    assert not WebhookDelivery.objects.exists()


@pytest.mark.django_db
def test_a_failing_receiver_is_retried_with_backoff_then_turned_off_and_the_owner_told(
    owner_client: Client, owner_api: Client, sink: Sink, settings: Settings
) -> None:
    settings.WEBHOOK_DISABLE_AFTER = 3
    endpoint = _endpoint(owner_client, sink.url, "person.created")
    sink.status = 500
    with time_machine.travel("2026-05-04 10:00Z", tick=False) as clock:
        owner_api.post("/api/v1/people/", {"first_name": "Anna"}, content_type="application/json")
        delivery = WebhookDelivery.objects.get()
        assert webhooks.delivery_send(delivery_id=delivery.pk)
        delivery.refresh_from_db()
        assert (delivery.state, delivery.attempts, delivery.response_status) == ("queued", 1, 500)
        assert delivery.next_attempt_at == timezone.now() + timedelta(seconds=30)
        assert not webhooks.delivery_send(delivery_id=delivery.pk)  # not due yet
        clock.shift(timedelta(seconds=31))
        assert webhooks.delivery_send(delivery_id=delivery.pk)
        delivery.refresh_from_db()
        assert delivery.next_attempt_at == timezone.now() + timedelta(seconds=60)
        clock.shift(timedelta(seconds=61))
        webhooks.delivery_send(delivery_id=delivery.pk)
    endpoint.refresh_from_db()
    assert endpoint.disabled_at is not None
    assert "3 failed attempts" in endpoint.disabled_reason
    assert len(sink.received) == 3
    from api.models import WebhookAlert

    assert webhooks.alert_send(alert_id=WebhookAlert.objects.get().pk)
    assert "Webhook turned off" in mail.outbox[0].subject
    assert not webhooks.delivery_send(delivery_id=delivery.pk)  # an endpoint that is off gets nothing


@pytest.mark.django_db
def test_redirects_are_not_followed(owner_client: Client, owner_api: Client, sink: Sink) -> None:
    _endpoint(owner_client, sink.url, "person.created")
    sink.status, sink.location = 307, sink.url + "/elsewhere"
    owner_api.post("/api/v1/people/", {"first_name": "Anna"}, content_type="application/json")
    _send_all()
    assert len(sink.received) == 1
    assert WebhookDelivery.objects.get().error == "Answered 307"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/hook",
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://10.1.2.3/hook",
        "https://192.168.0.5/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://0.0.0.0/hook",
        "https://user:pw@example.com/hook",
    ],
)
def test_private_loopback_and_link_local_addresses_are_refused(owner_client: Client, url: str) -> None:
    response = owner_client.post(PAGE, {"url": url, "events": ["person.created"]})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.django_db
def test_a_follow_up_due_is_sent_once_per_occurrence(
    owner_client: Client, owner: User, workspace: Workspace, sink: Sink
) -> None:
    _endpoint(owner_client, sink.url, "follow_up.due")
    anna = PersonFactory(workspace=workspace, owner=owner)
    with time_machine.travel("2026-05-04 10:00Z", tick=False):
        follow_up = reminder_services.follow_up_create(person=anna, due_on=date(2026, 5, 4), note="Call back")
        for _ in range(2):  # two beats, a repeated task: the occurrence and its delivery are made once
            reminder_services.occurrences_materialise(user=owner, today=date(2026, 5, 4))
            webhooks.record_due()
        assert WebhookDelivery.objects.count() == 1
        _send_all()
        _send_all()
    assert len(sink.received) == 1
    assert json.loads(sink.received[0][1])["data"]["id"] == follow_up.pk


@pytest.mark.django_db
def test_a_promise_due_is_sent_once(owner_client: Client, owner: User, workspace: Workspace, sink: Sink) -> None:
    with time_machine.travel("2026-05-01 10:00Z", tick=False):
        _endpoint(owner_client, sink.url, "promise.due")
    anna = PersonFactory(workspace=workspace, owner=owner)
    interaction_services.promise_create(person=anna, text="Send the quote", due_on=date(2026, 5, 4), user=owner)
    with time_machine.travel("2026-05-04 10:00Z", tick=False):
        webhooks.sweep(now=timezone.now())
        webhooks.sweep(now=timezone.now())
    assert list(WebhookDelivery.objects.values_list("event", flat=True)) == ["promise.due"]


@pytest.mark.django_db
def test_redeliver_sends_the_same_message_again(owner_client: Client, owner_api: Client, sink: Sink) -> None:
    _endpoint(owner_client, sink.url, "person.created")
    owner_api.post("/api/v1/people/", {"first_name": "Anna"}, content_type="application/json")
    _send_all()
    delivery = WebhookDelivery.objects.get()
    response = owner_client.post(f"{PAGE}deliveries/{delivery.pk}/redeliver/", follow=True)
    assert "again" in response.content.decode()
    _send_all()
    assert len(sink.received) == 2
    assert sink.received[0][0]["webhook-id"] == sink.received[1][0]["webhook-id"]
    assert sink.received[0][1] == sink.received[1][1]


@pytest.mark.django_db
def test_only_owners_manage_webhooks(
    member_client: Client, outsider_client: Client, owner: User, workspace: Workspace
) -> None:
    assert member_client.get(PAGE).status_code == 403
    endpoint = WebhookEndpoint.objects.create(
        workspace=workspace, url="https://example.com/h", events=["person.created"], secret="whsec_AAAA"
    )
    assert outsider_client.post(f"{PAGE}{endpoint.pk}/delete/").status_code == 404
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
    assert Membership.objects.get(user=owner).role == "owner"


@pytest.mark.django_db
def test_a_bulk_archive_tells_of_each_person_updated(owner_client: Client, workspace: Workspace, sink: Sink) -> None:
    _endpoint(owner_client, sink.url, "person.updated")
    people = [PersonFactory(workspace=workspace) for _ in range(2)]
    owner_client.post("/people/bulk/", {"ids": [p.pk for p in people], "action": "archive"})
    assert sorted(WebhookDelivery.objects.values_list("object_id", flat=True)) == sorted(p.pk for p in people)


@pytest.mark.django_db
def test_each_page_that_changes_a_person_tells_of_it_once(
    owner_client: Client, workspace: Workspace, sink: Sink
) -> None:
    """The family, pets and preferences pages and the edit page (dates, contact methods) each
    send one person.updated; a merge sends person.deleted for the record merged away and
    person.updated for the one kept."""
    _endpoint(owner_client, sink.url, "person.updated", "person.deleted")
    anna = PersonFactory(workspace=workspace, first_name="Anna", last_name="Berg")
    family = {"items-TOTAL_FORMS": "1", "items-INITIAL_FORMS": "0", "items-0-relation": "child", "items-0-name": "Tom"}
    pets = {"items-TOTAL_FORMS": "1", "items-INITIAL_FORMS": "0", "items-0-name": "Bingo", "items-0-species": "dog"}
    for name, data in (("family", family), ("pets", pets), ("preferences", {"likes": "Tea"})):
        response = owner_client.post(reverse(f"people:{name}", args=[anna.pk]), {"contact_every_unit": "weeks", **data})
        assert response.status_code == 302, name
    edit = {
        "first_name": "Anna",
        "last_name": "Berg",
        "contacts-TOTAL_FORMS": "1",
        "contacts-INITIAL_FORMS": "0",
        "contacts-0-kind": "email",
        "contacts-0-value": "anna@example.com",
        "dates-TOTAL_FORMS": "1",
        "dates-INITIAL_FORMS": "0",
        "dates-0-label": "Shop opened",
        "dates-0-date_day": "3",
        "dates-0-date_month": "9",
    }
    assert owner_client.post(reverse("people:edit", args=[anna.pk]), edit).status_code == 302
    assert list(WebhookDelivery.objects.values_list("event", "object_id")) == [("person.updated", anna.pk)] * 4

    WebhookDelivery.objects.all().delete()
    twin = PersonFactory(workspace=workspace, first_name="Anna", last_name="Berg")
    assert owner_client.post(reverse("people:merge", args=[anna.pk]), {"other": twin.pk}).status_code == 302
    assert sorted(WebhookDelivery.objects.values_list("event", "object_id")) == [
        ("person.deleted", twin.pk),
        ("person.updated", anna.pk),
    ]
    _send_all()
    deleted = next(json.loads(body) for _, body in sink.received if json.loads(body)["type"] == "person.deleted")
    assert deleted["data"] == {"id": twin.pk, "full_name": "Anna Berg"}


@pytest.mark.django_db
def test_an_import_tells_of_the_people_it_created_and_of_those_it_added_to(
    owner_client: Client, owner: User, workspace: Workspace, sink: Sink, tmp_path: Path
) -> None:
    _endpoint(owner_client, sink.url, "person.created", "person.updated")
    cards = tmp_path / "two.vcf"
    cards.write_text(
        "BEGIN:VCARD\nVERSION:3.0\nFN:Ada Lovelace\nN:Lovelace;Ada;;;\nEMAIL:ada@example.com\nEND:VCARD\n"
        "BEGIN:VCARD\nVERSION:3.0\nFN:Ben Berg\nN:Berg;Ben;;;\nEND:VCARD\n"
    )
    call_command("import_contacts", str(cards), "--user", owner.email, stdout=StringIO())
    created = set(Person.objects.for_workspace(workspace).values_list("pk", flat=True))
    assert len(created) == 2
    assert set(WebhookDelivery.objects.values_list("event", "object_id")) == {("person.created", pk) for pk in created}

    WebhookDelivery.objects.all().delete()
    call_command("import_contacts", str(cards), "--user", owner.email, stdout=StringIO())  # nothing new
    assert not WebhookDelivery.objects.exists()
    cards.write_text("BEGIN:VCARD\nVERSION:3.0\nFN:Ada Lovelace\nN:Lovelace;Ada;;;\nEMAIL:ada@example.com\n"
                     "TEL:+44 20 7946 0000\nEND:VCARD\n")  # fmt: skip
    call_command("import_contacts", str(cards), "--user", owner.email, stdout=StringIO())
    ada = Person.objects.for_workspace(workspace).get(first_name="Ada")
    assert list(WebhookDelivery.objects.values_list("event", "object_id")) == [("person.updated", ada.pk)]
