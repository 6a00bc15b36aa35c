"""The email settings page: the address, rotating it, approved senders, and unmatched email."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from crm.models import User, Workspace
from inbound import services
from inbound.models import InboundAddress
from interactions.models import Interaction
from people.models import Person
from tests.inbound.conftest import eml, person_with

pytestmark = pytest.mark.django_db


def test_it_shows_the_address_and_rotates_it(owner_client: Client, address: InboundAddress) -> None:
    old = address.email
    assert old in owner_client.get(reverse("inbound:settings")).content.decode()
    response = owner_client.post(reverse("inbound:rotate"), follow=True)
    address.refresh_from_db()
    assert address.email != old
    assert address.email in response.content.decode()
    assert "The old one no longer works" in response.content.decode()


def test_it_approves_and_removes_a_sender(owner_client: Client, address: InboundAddress) -> None:
    bad = owner_client.post(reverse("inbound:sender_approve"), {"email": "not an address"})
    assert bad.status_code == 400
    assert "not an address" in bad.content.decode()  # what was typed is kept
    owner_client.post(reverse("inbound:sender_approve"), {"email": "Me@Work.example"})
    sender = address.approved.get()
    assert sender.email == "me@work.example"
    owner_client.post(reverse("inbound:sender_remove", args=[sender.pk]))
    assert not address.approved.exists()


def test_unmatched_email_becomes_a_new_persons_conversation(
    owner: User, owner_client: Client, address: InboundAddress, workspace: Workspace
) -> None:
    message = services.message_receive(
        raw=eml(owner.email, "Nadia Amir <nadia@example.com>"), recipients=[address.email]
    )
    assert message is not None
    page = owner_client.get(reverse("inbound:settings")).content.decode()
    assert "nadia@example.com" in page
    form = owner_client.get(reverse("inbound:message_attach", args=[message.pk])).content.decode()
    assert 'value="Nadia"' in form  # the name is offered from the email
    owner_client.post(
        reverse("inbound:message_attach", args=[message.pk]),
        {"action": "new", "first_name": "Nadia", "last_name": "Amir", "email": "nadia@example.com"},
    )
    nadia = Person.objects.for_workspace(workspace).get(first_name="Nadia")
    assert list(Interaction.objects.get().people.all()) == [nadia]
    assert nadia.contact_methods.get().value == "nadia@example.com"
    # Her next email is found without asking.
    services.message_receive(raw=eml(owner.email, "nadia@example.com", subject="Again"), recipients=[address.email])
    assert Interaction.objects.filter(people=nadia).count() == 2


def test_unmatched_email_attaches_to_someone_and_shows_on_their_timeline(
    owner: User, owner_client: Client, address: InboundAddress, workspace: Workspace
) -> None:
    anna = person_with(workspace, "anna@example.com", "Anna")
    message = services.message_receive(
        raw=eml(owner.email, "anna.private@example.net", subject="Birthday plans"), recipients=[address.email]
    )
    assert message is not None
    owner_client.post(reverse("inbound:message_attach", args=[message.pk]), {"action": "attach", "person": anna.pk})
    timeline = owner_client.get(reverse("people:detail", args=[anna.pk])).content.decode()
    assert "Birthday plans" in timeline
    assert reverse("inbound:message", args=[message.pk]) in timeline  # the original is one click away
    assert "Birthday plans" in owner_client.get(reverse("dashboard")).content.decode()  # Recent conversations


def test_a_teammate_cannot_open_someone_elses_unmatched_email(
    owner: User, member_client: Client, address: InboundAddress
) -> None:
    message = services.message_receive(raw=eml(owner.email, "x@example.com"), recipients=[address.email])
    assert message is not None
    assert member_client.get(reverse("inbound:message", args=[message.pk])).status_code == 404
    assert member_client.get(reverse("inbound:message_attach", args=[message.pk])).status_code == 404


@pytest.mark.parametrize("count", [1, 12])
def test_the_settings_page_reads_a_fixed_number_of_queries(
    owner: User, owner_client: Client, address: InboundAddress, count: int, django_assert_max_num_queries: object
) -> None:
    for i in range(count):
        services.sender_approve(address=address, email=f"me{i}@work.example")
        services.message_receive(
            raw=eml(owner.email, f"new{i}@example.com", subject=f"S{i}"), recipients=[address.email]
        )
        services.message_receive(
            raw=eml("x@spam.example", "a@example.com", subject=f"X{i}"), recipients=[address.email]
        )
    with django_assert_max_num_queries(14):  # type: ignore[operator]
        response = owner_client.get(reverse("inbound:settings"))
    assert response.content.decode().count("Choose who") == count


def test_could_not_log_email_can_be_tried_again(
    owner: User, owner_client: Client, address: InboundAddress, workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    person_with(workspace, "anna@example.com")
    read = services._read
    monkeypatch.setattr(services, "_read", lambda message: (_ for _ in ()).throw(ValueError("a bug")))
    message = services.message_receive(raw=eml(owner.email, "anna@example.com"), recipients=[address.email])
    assert message is not None
    assert "a bug" in owner_client.get(reverse("inbound:settings")).content.decode()
    monkeypatch.setattr(services, "_read", read)  # the bug is fixed
    response = owner_client.post(reverse("inbound:message_retry", args=[message.pk]), follow=True)
    assert "Tried again: logged" in response.content.decode()
    assert Interaction.objects.count() == 1
