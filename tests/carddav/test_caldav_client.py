"""caldav's DAVClient (a DAV client library nobody here wrote) asks a running Rapport what a
phone asks: PROPFIND at both depths, the three REPORTs, and writes, which are refused."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from pytest_django.live_server_helper import LiveServer

from carddav import services
from crm.models import User, Workspace
from people.models import Person
from tests.factories import PersonFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

NS = 'xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:carddav" xmlns:cs="http://calendarserver.org/ns/"'
PROBE = Path(__file__).with_name("caldav_probe.py")


def _ask(live_server: LiveServer, user: User, requests: list[tuple[str, str, str, int]]) -> list[dict]:
    """caldav's answers to ``requests`` (method, path, body, depth), with a new app password of ``user``."""
    _, password = services.app_password_create(user=user, name="caldav")
    order = {
        "url": live_server.url + "/",
        "username": user.email,
        "password": password,
        "requests": [
            {"method": method, "url": live_server.url + path, "body": body, "depth": depth}
            for method, path, body, depth in requests
        ],
    }
    result = subprocess.run(
        [sys.executable, str(PROBE)], input=json.dumps(order), capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _propfind(*props: str) -> str:
    return f"<d:propfind {NS}><d:prop>{''.join(props)}</d:prop></d:propfind>"


def test_a_dav_library_reads_the_book_and_cannot_write(
    live_server: LiveServer, owner: User, workspace: Workspace
) -> None:
    people = [PersonFactory(workspace=workspace, owner=owner, first_name=name) for name in ("Adaeze", "Bola", "Chidi")]
    book = f"/dav/u{owner.pk}/{workspace.pk}/"
    card = f"{book}{people[0].pk}.vcf"
    multiget = (
        f"<c:addressbook-multiget {NS}><d:prop><d:getetag/><c:address-data/></d:prop>"
        f"<d:href>{card}</d:href></c:addressbook-multiget>"
    )
    query = (
        f'<c:addressbook-query {NS}><d:prop><d:getetag/><c:address-data/></d:prop><c:filter><c:prop-filter name="FN">'
        '<c:text-match collation="i;unicode-casemap" match-type="contains">chid</c:text-match>'
        "</c:prop-filter></c:filter></c:addressbook-query>"
    )
    sync = (
        f"<d:sync-collection {NS}><d:sync-token/><d:sync-level>1</d:sync-level>"
        "<d:prop><d:getetag/></d:prop></d:sync-collection>"
    )
    new_card = "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Changed\r\nEND:VCARD\r\n"
    rename = (
        f"<d:propertyupdate {NS}><d:set><d:prop><d:displayname>X</d:displayname></d:prop></d:set></d:propertyupdate>"
    )
    answers = _ask(live_server, owner, [
        ("PROPFIND", "/", _propfind("<d:current-user-principal/>"), 0),
        ("PROPFIND", book, _propfind("<d:displayname/>", "<cs:getctag/>", "<d:sync-token/>", "<d:resourcetype/>"), 0),
        ("PROPFIND", book, _propfind("<d:getetag/>"), 1),
        ("REPORT", book, multiget, 1),
        ("REPORT", book, query, 1),
        ("REPORT", book, sync, 1),
        ("PUT", card, new_card, 0),
        ("PUT", f"{book}new.vcf", new_card, 0),
        ("DELETE", card, "", 0),
        ("PROPPATCH", book, rename, 0),
        ("MKCOL", f"{book}more/", "", 0),
    ])  # fmt: skip
    principal, zero, one, got, found, synced, *writes = answers
    assert f"/dav/u{owner.pk}/" in principal["raw"]
    assert zero["status"] == 207
    assert "Rapport – Acme Bakery" in zero["raw"]
    assert "urn:rapport:sync:" in zero["raw"]
    assert one["raw"].count(".vcf<") == 3
    assert "FN:Adaeze" in got["raw"]
    assert "Bola" not in got["raw"]
    assert "FN:Chidi" in found["raw"]
    assert "Adaeze" not in found["raw"]
    assert synced["raw"].count(".vcf<") == 3
    assert [answer["status"] for answer in writes] == [403] * 5
    assert all("read-only" in answer["raw"] for answer in writes)
    assert sorted(Person.objects.for_workspace(workspace).values_list("first_name", flat=True)) == [
        "Adaeze", "Bola", "Chidi",
    ]  # fmt: skip


def test_an_outsiders_library_finds_no_book_of_another_workspace(
    live_server: LiveServer, owner: User, workspace: Workspace, outsider: User
) -> None:
    person = PersonFactory(workspace=workspace, owner=owner, first_name="Zanzibar")
    everything = f"<d:propfind {NS}><d:allprop/></d:propfind>"
    home, *others = _ask(live_server, outsider, [
        ("PROPFIND", f"/dav/u{outsider.pk}/", _propfind("<d:displayname/>"), 1),
        ("PROPFIND", f"/dav/u{owner.pk}/{workspace.pk}/", everything, 1),
        ("PROPFIND", f"/dav/u{outsider.pk}/{workspace.pk}/{person.pk}.vcf", everything, 0),
    ])  # fmt: skip
    assert "Rival Florists" in home["raw"]
    assert "Acme Bakery" not in home["raw"]
    assert [answer["status"] for answer in others] == [404, 404]
    assert all("Zanzibar" not in answer["raw"] for answer in others)
