"""Log email by BCC in the browser: the user copies their logging address from settings, BCCs
it (the mail server pipes the message to receive_email), and finds the email on the customer's
timeline and in the dashboard's Recent conversations, the full original one click away."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
import time_machine
from django.core.management import call_command
from playwright.sync_api import expect

from crm.models import Membership, User
from people.models import ContactMethod, Person
from tests.e2e.browser import Visitor, log_in
from tests.factories import MembershipFactory, PersonFactory, UserFactory, WorkspaceFactory

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


@pytest.fixture
def anna(db: None, settings: object) -> Iterator[Person]:
    settings.INBOUND_ADDRESS = "log@rapport.example"  # type: ignore[attr-defined]
    with time_machine.travel(NOW, tick=True):
        workspace = WorkspaceFactory(name="Shop")
        user = UserFactory(email="sam@example.com", current_workspace=workspace)
        MembershipFactory(workspace=workspace, user=user, role=Membership.Role.OWNER)
        person = PersonFactory(workspace=workspace, first_name="Anna", last_name="Berg", owner=user)
        ContactMethod.objects.create(workspace=workspace, person=person, kind="email", value="anna@berg.example")
        yield person


def pipe(raw: bytes, recipient: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """What Postfix's pipe does: the message on standard input, the recipient as an argument."""
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))
    out = io.StringIO()
    call_command("receive_email", "--to", recipient, stdout=out)
    return out.getvalue()


def test_a_bcc_lands_on_the_timeline_and_the_dashboard(
    visit: Callable[..., Visitor], anna: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    me = visit()
    page = me.page
    log_in(me, User.objects.get().email)
    me.goto("/settings/")
    page.get_by_role("link", name="Log email by BCC or forward").click()
    expect(page.get_by_role("heading", name="Log email by BCC or forward")).to_be_visible()
    me.audit()
    address = page.get_by_label("BCC or forward to").input_value()
    assert address.startswith("log+")

    raw = (
        b"From: Sam <sam@example.com>\r\nTo: Anna Berg <anna@berg.example>\r\n"
        b"Subject: The quote for 40 chairs\r\nDate: Tue, 01 Dec 2026 14:30:00 +0000\r\n"
        b"Message-ID: <quote-40@example.com>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        b"Hi Anna,\r\n\r\nHere is the quote: 40 chairs, delivered in January.\r\n\r\n-- \r\nSam\r\n"
    )
    assert pipe(raw, address, monkeypatch).startswith("Logged")

    me.goto(anna.get_absolute_url())
    entry = page.locator("li", has_text="The quote for 40 chairs").first
    expect(entry).to_be_visible()
    expect(entry).to_contain_text("40 chairs, delivered in January")
    me.goto("/")
    recent = page.locator("section", has=page.get_by_role("heading", name="Recent conversations"))
    expect(recent).to_contain_text("The quote for 40 chairs")

    me.goto(anna.get_absolute_url())
    page.get_by_role("link", name="Full original email").first.click()
    expect(page.get_by_role("heading", name="The quote for 40 chairs")).to_be_visible()
    expect(page.get_by_text("quote-40@example.com")).to_be_visible()
    me.audit()


def test_an_unmatched_email_becomes_a_new_person_on_a_phone(
    visit: Callable[..., Visitor], anna: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    me = visit(phone=True)
    page = me.page
    user = User.objects.get()
    log_in(me, user.email)
    from inbound import services

    address = services.address_for(workspace=anna.workspace, user=user).email
    raw = (
        b"From: sam@example.com\r\nTo: Nadia Amir <nadia@amir.example>\r\nSubject: Welcome aboard\r\n"
        b"Date: Tue, 01 Dec 2026 14:45:00 +0000\r\nMessage-ID: <welcome@example.com>\r\n\r\nGlad to have you.\r\n"
    )
    assert pipe(raw, address, monkeypatch).startswith("Unmatched")

    me.goto("/settings/email/")
    unmatched = page.locator("section", has=page.get_by_role("heading", name="Unmatched email"))
    expect(unmatched).to_contain_text("nadia@amir.example")
    unmatched.get_by_role("link", name="Choose who").click()
    expect(page.get_by_label("First name")).to_have_value("Nadia")
    me.audit()
    page.get_by_role("button", name="Add and log the email").click()
    expect(page.get_by_text("Nadia added, with the email on their timeline.")).to_be_visible()
    me.audit()
    nadia = Person.objects.get(first_name="Nadia")
    me.goto(nadia.get_absolute_url())
    expect(page.locator("li", has_text="Welcome aboard").first).to_be_visible()
