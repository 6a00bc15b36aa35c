"""The XSS corpus through logged email: every payload in an email's subject, names, plain text
and HTML (with remote images besides); the person's timeline, the dashboard, the original, the
unmatched list and its page are inert, and no image from another site is loaded."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from crm.models import User, Workspace
from inbound import services
from inbound.models import InboundMessage
from people.models import ContactMethod
from tests.factories import PersonFactory
from tests.trust.summary import record
from tests.trust.test_xss import Pages
from tests.trust.xss import xss_payloads

pytestmark = [pytest.mark.trust, pytest.mark.rendering]


def _email(owner: User, to: str, i: int, payload: str) -> bytes:
    header_safe = payload.replace("\r", " ").replace("\n", " ")
    html = f'<p>{payload}</p><img src="https://tracker.example/p{i}.gif"><a href="javascript:alert({i})">x</a>'
    return (
        f"From: {owner.email}\r\nTo: =?utf-8?b?{_b64(header_safe[:60])}?= <{to}>\r\n"
        f"Subject: =?utf-8?b?{_b64(header_safe[:150])}?=\r\nMessage-ID: <xss-{i}@example.com>\r\n"
        "Content-Type: multipart/alternative; boundary=bb\r\n\r\n"
        f"--bb\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{payload}\r\n"
        f"--bb\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{html}\r\n--bb--\r\n"
    ).encode()


def _b64(text: str) -> str:
    import base64

    return base64.b64encode(text.encode()).decode()


@pytest.mark.django_db
def test_it_renders_logged_email_inert(owner: User, owner_client: Client, workspace: Workspace) -> None:
    payloads = xss_payloads()
    address = services.address_for(workspace=workspace, user=owner)
    person = PersonFactory(workspace=workspace, first_name="Anna")
    ContactMethod.objects.create(workspace=workspace, person=person, kind="email", value="anna@example.com")
    for i, payload in enumerate(payloads):
        to = "anna@example.com" if i % 2 == 0 else f"new{i}@example.com"
        services.message_receive(raw=_email(owner, to, i, payload), recipients=[address.email])
    messages = InboundMessage.objects.for_workspace(workspace)
    assert messages.filter(status="logged").count() == (len(payloads) + 1) // 2
    assert messages.filter(status="unmatched").count() == len(payloads) // 2

    pages = Pages()
    pages.check(owner_client, reverse("people:detail", args=[person.pk]))
    pages.check(owner_client, reverse("dashboard"))
    pages.check(owner_client, reverse("inbound:settings"))
    for message in messages:
        html = pages.check(owner_client, reverse("inbound:message", args=[message.pk]))
        assert "tracker.example" not in html  # remote images are never loaded
        if message.status == "unmatched":
            pages.check(owner_client, reverse("inbound:message_attach", args=[message.pk]))
    record("xss", payloads_tried=len(payloads), executed=len(pages.executed))
    assert pages.executed == []
