from __future__ import annotations

from pathlib import Path

import pytest

from crm.models import User, Workspace
from inbound import services
from inbound.models import InboundAddress
from people.models import ContactMethod, Person
from tests.factories import PersonFactory

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "email"


@pytest.fixture(autouse=True)
def _inbound_address(settings: object) -> None:
    settings.INBOUND_ADDRESS = "log@rapport.example"  # type: ignore[attr-defined]


@pytest.fixture
def address(owner: User, workspace: Workspace) -> InboundAddress:
    return services.address_for(workspace=workspace, user=owner)


def person_with(workspace: Workspace, email: str, first_name: str = "") -> Person:
    person = PersonFactory(workspace=workspace, first_name=first_name or email.split("@")[0])
    ContactMethod.objects.create(workspace=workspace, person=person, kind="email", value=email, is_primary=True)
    return person


def eml(owner_email: str, to: str, *, subject: str = "Quote", extra: str = "", body: str = "Hello Anna") -> bytes:
    """A small message written by the user, as a mail client sends it."""
    return (
        f"From: Owner <{owner_email}>\r\nTo: {to}\r\nSubject: {subject}\r\n"
        f"Date: Tue, 01 Dec 2026 10:00:00 +0000\r\nMessage-ID: <{abs(hash((to, subject, body)))}@mail.example>\r\n"
        f"{extra}Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    ).encode()
