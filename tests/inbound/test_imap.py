"""IMAP polling against a real Dovecot that the test starts: each message logged once, flagged
after it is kept, nothing repeated or skipped across a restart or a connection dropped in the
middle of a fetch, and a server that is down shows in the footer."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from imap_tools import MailBoxUnencrypted

from crm.models import User, Workspace
from inbound import mailbox, services, tasks
from inbound.models import InboundAddress, InboundMessage, MailboxPoll
from interactions.models import Interaction
from tests.inbound.conftest import eml, person_with
from tests.inbound.dovecot import DOVECOT, PASSWORD, USER, Dovecot, free_port

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture
def dovecot(settings: object) -> Iterator[Dovecot]:
    assert Path(DOVECOT).exists(), "install dovecot-imapd (make test and .ci/run do it when missing)"
    folder = Path(tempfile.mkdtemp(prefix="rapport-dovecot-"))
    server = Dovecot(folder)
    server.start()
    settings.INBOUND_IMAP_URL = server.url  # type: ignore[attr-defined]
    yield server
    server.stop()
    shutil.rmtree(folder, ignore_errors=True)


def deliver(server: Dovecot, raw: bytes) -> None:
    """What the mail server does: the message lands in the mailbox, with its Delivered-To."""
    with MailBoxUnencrypted("127.0.0.1", server.port).login(USER, PASSWORD) as box:
        box.append(raw, "INBOX")


def flagged(server: Dovecot) -> list[bool]:
    with MailBoxUnencrypted("127.0.0.1", server.port).login(USER, PASSWORD) as box:
        return [mailbox.LOGGED_FLAG in m.flags for m in box.fetch(mark_seen=False, headers_only=True)]


def bcc(owner: User, address: InboundAddress, to: str, subject: str) -> bytes:
    return f"Delivered-To: {address.email}\r\n".encode() + eml(owner.email, to, subject=subject)


@pytest.fixture
def anna(workspace: Workspace) -> object:
    return person_with(workspace, "anna@example.com", "Anna")


@pytest.mark.usefixtures("anna")
def test_it_logs_each_message_once_and_flags_it(owner: User, address: InboundAddress, dovecot: Dovecot) -> None:
    deliver(dovecot, bcc(owner, address, "anna@example.com", "Quote"))
    deliver(dovecot, b"Delivered-To: someone@else.example\r\nFrom: x@y.example\r\nSubject: not ours\r\n\r\nhi\r\n")

    assert mailbox.mailbox_poll() == 2
    assert mailbox.mailbox_poll() == 0  # flagged: not fetched again

    assert list(Interaction.objects.values_list("summary", flat=True)) == ["Quote"]
    assert flagged(dovecot) == [True, True]
    poll = MailboxPoll.objects.get()
    assert poll.last_success_at is not None
    assert not poll.failing


@pytest.mark.usefixtures("anna")
def test_a_restart_between_fetches_neither_repeats_nor_skips(
    owner: User, address: InboundAddress, dovecot: Dovecot
) -> None:
    deliver(dovecot, bcc(owner, address, "anna@example.com", "First"))
    assert mailbox.mailbox_poll() == 1
    dovecot.stop()
    dovecot.start()
    deliver(dovecot, bcc(owner, address, "anna@example.com", "Second"))
    assert mailbox.mailbox_poll() == 1
    assert sorted(Interaction.objects.values_list("summary", flat=True)) == ["First", "Second"]


@pytest.mark.usefixtures("anna")
def test_a_connection_dropped_mid_fetch_loses_nothing_and_logs_nothing_twice(
    owner: User, address: InboundAddress, dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch, owner_client: Client
) -> None:
    for subject in ("One", "Two", "Three"):
        deliver(dovecot, bcc(owner, address, "anna@example.com", subject))
    receive = services.message_receive

    def receive_then_drop(**kwargs: object) -> object:
        message = receive(**kwargs)  # type: ignore[arg-type]
        dovecot.stop()  # the server goes away after the first message is kept, before it is flagged
        return message

    monkeypatch.setattr(services, "message_receive", receive_then_drop)
    with pytest.raises(mailbox.IMAP_ERRORS):
        mailbox.mailbox_poll()
    assert MailboxPoll.objects.get().failing
    assert "Fetching email failing" in owner_client.get(reverse("dashboard")).content.decode()  # the footer says so
    assert "Fetching email failed" in owner_client.get(reverse("inbound:settings")).content.decode()

    monkeypatch.setattr(services, "message_receive", receive)
    dovecot.start()
    assert mailbox.mailbox_poll() == 3  # "One" again (it was never flagged), found as kept already

    assert sorted(Interaction.objects.values_list("summary", flat=True)) == ["One", "Three", "Two"]
    assert InboundMessage.objects.count() == 3
    assert flagged(dovecot) == [True, True, True]
    assert not MailboxPoll.objects.get().failing
    assert "Fetching email failing" not in owner_client.get(reverse("dashboard")).content.decode()


def test_an_unreachable_server_is_a_visible_failure_not_a_crash(settings: object, owner_client: Client) -> None:
    settings.INBOUND_IMAP_URL = f"imap://{USER}:{PASSWORD}@127.0.0.1:{free_port()}/INBOX"  # type: ignore[attr-defined]
    assert tasks.poll_mailbox_task() == 0
    poll = MailboxPoll.objects.get()
    assert poll.failing
    assert poll.failures == 1
    assert "ConnectionRefusedError" in poll.last_error
    assert "Fetching email failing" in owner_client.get(reverse("dashboard")).content.decode()
