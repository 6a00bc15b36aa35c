"""Receiving one email: who may send it, whom it is logged with, and what never happens twice."""

from __future__ import annotations

import io
import sys
from datetime import UTC, datetime

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.db import DatabaseError

from crm.models import User, Workspace
from inbound import services
from inbound.models import InboundAddress, InboundMessage
from interactions.models import Interaction
from tests.inbound.conftest import eml, person_with

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_frozen")]


@pytest.fixture
def _frozen() -> object:
    with time_machine.travel(NOW, tick=False):
        yield


def test_it_logs_a_bcc_with_every_person_among_to_and_cc(
    owner: User, workspace: Workspace, address: InboundAddress
) -> None:
    anna = person_with(workspace, "Anna@Example.com")
    ben = person_with(workspace, "ben@example.org")
    raw = eml(owner.email, "anna@example.COM", extra="Cc: Ben <ben@example.org>, stranger@example.net\r\n")

    message = services.message_receive(raw=raw, recipients=[address.email])

    assert message is not None
    assert message.status == "logged"
    interaction = Interaction.objects.get()
    assert set(interaction.people.all()) == {anna, ben}
    assert (interaction.kind, interaction.summary) == ("email", "Quote")
    assert "Hello Anna" in interaction.notes
    assert "Sent to" in interaction.notes


def test_it_drops_mail_from_an_address_that_is_not_the_users(workspace: Workspace, address: InboundAddress) -> None:
    person_with(workspace, "anna@example.com")
    message = services.message_receive(raw=eml("spammer@example.net", "anna@example.com"), recipients=[address.email])
    assert message is not None
    assert message.status == "ignored"
    assert "not one of your approved addresses" in message.reason
    assert not Interaction.objects.exists()


def test_an_approved_sender_is_accepted_as_the_users(workspace: Workspace, address: InboundAddress) -> None:
    person_with(workspace, "anna@example.com")
    services.sender_approve(address=address, email="Me@Work.example")
    message = services.message_receive(raw=eml("me@work.example", "anna@example.com"), recipients=[address.email])
    assert message is not None
    assert message.status == "logged"


def test_a_rotated_address_stops_working(owner: User, workspace: Workspace, address: InboundAddress) -> None:
    person_with(workspace, "anna@example.com")
    old = address.email
    services.address_rotate(address=address)
    assert services.message_receive(raw=eml(owner.email, "anna@example.com"), recipients=[old]) is None
    assert services.message_receive(raw=eml(owner.email, "anna@example.com"), recipients=[address.email]) is not None
    assert Interaction.objects.count() == 1


def test_a_bcc_and_a_later_forward_of_the_same_email_log_once(
    owner: User, workspace: Workspace, address: InboundAddress
) -> None:
    person_with(workspace, "anna@example.com")
    original = (
        "From: Anna <anna@example.com>\r\nTo: " + owner.email + "\r\nSubject: Our order\r\n"
        "Date: Mon, 30 Nov 2026 09:00:00 +0000\r\nMessage-ID: <order-1@example.com>\r\n\r\nWe need 40 chairs.\r\n"
    )
    forward = (
        f"From: {owner.email}\r\nTo: {address.email}\r\nSubject: Fwd: Our order\r\nMessage-ID: <fwd-1@x>\r\n"
        "Date: Tue, 01 Dec 2026 10:00:00 +0000\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        "--b\r\nContent-Type: text/plain\r\n\r\nFYI\r\n--b\r\nContent-Type: message/rfc822\r\n\r\n"
        f"{original}\r\n--b--\r\n"
    ).encode()
    first = services.message_receive(raw=forward, recipients=[address.email])
    again = services.message_receive(raw=forward.replace(b"fwd-1@x", b"fwd-2@x"), recipients=[address.email])

    assert first is not None
    assert first.status == "logged"
    assert first.direction == "received"
    assert again is not None
    assert again.status == "ignored"
    assert "Already logged" in again.reason
    interaction = Interaction.objects.get()
    assert interaction.occurred_at == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert "We need 40 chairs" in interaction.notes


@pytest.mark.parametrize(
    ("subject", "block", "when"),
    [
        (
            "WG: Angebot",
            "Von: Anna Schmidt <anna@example.com>\nGesendet: Montag, 30. November 2026 09:15\n"
            "An: Owner <{owner}>\nBetreff: Angebot",
            datetime(2026, 11, 30, 8, 15, tzinfo=UTC),
        ),
        (
            "TR: Devis",
            "De : Anna Schmidt <anna@example.com>\nEnvoyé : lundi 30 novembre 2026 09:15\n"
            "À : Owner <{owner}>\nObjet : Devis",
            datetime(2026, 11, 30, 8, 15, tzinfo=UTC),
        ),
        (
            "FW: Quote",
            "________________________________\nFrom: Anna Schmidt <anna@example.com>\n"
            "Sent: Monday, November 30, 2026 9:15 AM\nTo: Owner <{owner}>\nSubject: Quote",
            datetime(2026, 11, 30, 8, 15, tzinfo=UTC),
        ),
    ],
)
def test_it_reads_outlook_forwards_in_other_languages(
    owner: User, workspace: Workspace, address: InboundAddress, subject: str, block: str, when: datetime
) -> None:
    owner.time_zone = "Europe/Berlin"
    owner.save()
    anna = person_with(workspace, "anna@example.com")
    body = "Siehe unten.\n\n" + block.format(owner=owner.email) + "\n\nBitte um Rückruf.\n\nAnna"
    message = services.message_receive(
        raw=eml(owner.email, address.email, subject=subject, body=body), recipients=[address.email]
    )
    assert message is not None
    assert message.status == "logged", message.reason
    interaction = Interaction.objects.get()
    assert list(interaction.people.all()) == [anna]
    assert interaction.occurred_at == when
    assert subject.split(": ", 1)[1] == interaction.summary
    assert "Rückruf" in interaction.notes
    assert "Siehe unten" not in interaction.notes


def test_an_unknown_address_waits_on_the_unmatched_list(
    owner: User, workspace: Workspace, address: InboundAddress
) -> None:
    message = services.message_receive(raw=eml(owner.email, "New Client <new@example.com>"), recipients=[address.email])
    assert message is not None
    assert message.status == "unmatched"
    assert message.candidates == [["New Client", "new@example.com"]]
    assert not Interaction.objects.exists()  # nobody is created by itself


def test_a_huge_message_keeps_its_header_and_says_it_was_cut(
    owner: User, workspace: Workspace, address: InboundAddress, settings: object
) -> None:
    settings.INBOUND_MAX_BYTES = 2048  # type: ignore[attr-defined]
    person_with(workspace, "anna@example.com")
    raw = eml(owner.email, "anna@example.com", body="x" * 10_000)
    message = services.message_receive(raw=raw, recipients=[address.email])
    assert message is not None
    assert message.status == "logged"
    assert message.truncated
    assert len(bytes(message.raw)) < 2048
    assert message.size == len(raw)
    assert "only its header was kept" in Interaction.objects.get().notes


def test_a_message_that_breaks_the_reader_is_kept_as_could_not_log(
    owner: User, workspace: Workspace, address: InboundAddress, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("unreadable")

    monkeypatch.setattr("inbound.services.parsing.parse", broken)
    message = services.message_receive(raw=b"\xff\xfe garbage", recipients=[address.email])
    assert message is not None
    assert message.status == "failed"
    assert "unreadable" in message.reason
    assert bytes(message.raw) == b"\xff\xfe garbage"  # kept as it came, one click away


def test_a_database_error_leaves_it_received_for_the_sweeper(
    owner: User, workspace: Workspace, address: InboundAddress, monkeypatch: pytest.MonkeyPatch
) -> None:
    person_with(workspace, "anna@example.com")
    monkeypatch.setattr("inbound.services._read", lambda message: (_ for _ in ()).throw(DatabaseError("gone")))
    with pytest.raises(DatabaseError):
        services.message_receive(raw=eml(owner.email, "anna@example.com"), recipients=[address.email])
    assert InboundMessage.objects.get().status == "received"
    monkeypatch.undo()
    with time_machine.travel(datetime(2026, 12, 1, 12, 5, tzinfo=UTC), tick=False):
        assert services.messages_sweep() == 1
    assert InboundMessage.objects.get().status == "logged"


def test_receive_email_reads_standard_input(
    owner: User, workspace: Workspace, address: InboundAddress, monkeypatch: pytest.MonkeyPatch
) -> None:
    person_with(workspace, "anna@example.com")
    stdin = io.TextIOWrapper(io.BytesIO(eml(owner.email, "anna@example.com")))
    monkeypatch.setattr(sys, "stdin", stdin)
    out = io.StringIO()
    call_command("receive_email", "--to", address.email, stdout=out)
    assert out.getvalue().startswith("Logged")
    assert Interaction.objects.count() == 1


def test_receive_email_exits_75_when_it_cannot_keep_the_message(
    owner: User, address: InboundAddress, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(eml(owner.email, "anna@example.com"))))

    def down(**kwargs: object) -> None:
        raise DatabaseError("database is down")

    monkeypatch.setattr("inbound.services.message_receive", down)
    with pytest.raises(SystemExit) as exit_:
        call_command("receive_email", "--to", address.email, stderr=io.StringIO())
    assert exit_.value.code == 75


def test_inbound_address_prints_the_address_and_approves_senders(owner: User, address: InboundAddress) -> None:
    out = io.StringIO()
    call_command("inbound_address", "--user", owner.email.upper(), "--approve", "me@work.example", stdout=out)
    assert out.getvalue().strip() == address.email
    assert address.email.startswith("log+")
    assert address.email.endswith("@rapport.example")
    assert list(address.approved.values_list("email", flat=True)) == ["me@work.example"]


def test_a_forwarded_rapport_email_is_not_a_conversation(
    owner: User, workspace: Workspace, address: InboundAddress
) -> None:
    body = (
        f"---------- Forwarded message ---------\nFrom: {settings.DEFAULT_FROM_EMAIL}\n"
        "Date: Mon, 30 Nov 2026 08:00:00 +0000\nSubject: Your week\nTo: " + owner.email + "\n\nCall Anna."
    )
    message = services.message_receive(
        raw=eml(owner.email, address.email, subject="Fwd: Your week", body=body), recipients=[address.email]
    )
    assert message is not None
    assert message.status == "ignored"
    assert "Rapport itself" in message.reason
