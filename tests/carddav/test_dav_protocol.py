"""CardDAV through Django's test client: discovery, the cards, sync tokens, the door, writes refused."""

from __future__ import annotations

import base64
import re

import pytest
from django.test import Client

from carddav import services
from crm.models import User, Workspace
from people.models import ContactMethod
from tests.factories import PersonFactory

NS = 'xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:carddav" xmlns:cs="http://calendarserver.org/ns/"'


def _propfind(*props: str) -> bytes:
    return f'<?xml version="1.0"?><d:propfind {NS}><d:prop>{"".join(props)}</d:prop></d:propfind>'.encode()


PROPFIND_PRINCIPAL = _propfind("<d:current-user-principal/>")
PROPFIND_HOME = _propfind("<c:addressbook-home-set/>")
PROPFIND_BOOKS = _propfind("<d:resourcetype/>", "<d:displayname/>", "<cs:getctag/>", "<d:sync-token/>")


def _auth(user: User, name: str = "phone") -> dict[str, str]:
    _, password = services.app_password_create(user=user, name=name)
    token = base64.b64encode(f"{user.email}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


def _sync(client: Client, url: str, auth: dict[str, str], token: str = "") -> tuple[str, str]:
    body = (
        '<?xml version="1.0"?><d:sync-collection xmlns:d="DAV:"><d:sync-token>'
        f"{token}</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>"
    )
    response = client.generic("REPORT", url, body, content_type="application/xml", **auth)
    assert response.status_code == 207, response.content
    text = response.content.decode()
    return re.search(r"<[^>]*sync-token>([^<]+)<", text)[1], text


@pytest.mark.django_db
def test_it_discovers_the_books_from_the_site_root(owner: User, workspace: Workspace, client: Client) -> None:
    auth = _auth(owner)
    response = client.generic("PROPFIND", "/.well-known/carddav", PROPFIND_PRINCIPAL, **auth)
    assert response.status_code == 301
    root = response["Location"]
    response = client.generic(
        "PROPFIND", root, PROPFIND_PRINCIPAL, content_type="application/xml", HTTP_DEPTH="0", **auth
    )
    assert response.status_code == 207, response.content
    principal = re.search(r"current-user-principal>\s*<[^>]*href>([^<]+)<", response.content.decode())[1]
    assert principal == f"/dav/u{owner.pk}/"
    response = client.generic(
        "PROPFIND", principal, PROPFIND_HOME, content_type="application/xml", HTTP_DEPTH="0", **auth
    )
    home = re.search(r"addressbook-home-set>\s*<[^>]*href>([^<]+)<", response.content.decode())[1]
    response = client.generic("PROPFIND", home, PROPFIND_BOOKS, content_type="application/xml", HTTP_DEPTH="1", **auth)
    text = response.content.decode()
    assert f"/dav/u{owner.pk}/{workspace.pk}/" in text
    assert "Rapport – Acme Bakery" in text
    assert "addressbook" in text


@pytest.mark.django_db
def test_it_syncs_only_what_changed(owner: User, workspace: Workspace, client: Client) -> None:
    auth = _auth(owner)
    people = [PersonFactory(workspace=workspace, owner=owner) for _ in range(4)]
    url = f"/dav/u{owner.pk}/{workspace.pk}/"
    token, text = _sync(client, url, auth)
    assert text.count("<D:href>") + text.count("<d:href>") >= 4 or text.count("href>") >= 8
    again, text = _sync(client, url, auth, token)
    assert again == token
    assert ".vcf" not in text
    ContactMethod.objects.create(workspace=workspace, person=people[0], kind="phone", value="+234 803 555 0142")
    services_people = __import__("people.services", fromlist=["person_archive"])
    services_people.person_archive(person=people[1])
    added = PersonFactory(workspace=workspace, owner=owner)
    newer, text = _sync(client, url, auth, token)
    assert newer != token
    hrefs = set(re.findall(r"/(\d+)\.vcf", text))
    assert hrefs == {str(people[0].pk), str(people[1].pk), str(added.pk)}
    assert "404" in text  # the archived one is reported gone
    response = client.get(f"{url}{people[0].pk}.vcf", **auth)
    assert response.status_code == 200
    assert "TEL;" in response.content.decode() or "TEL:" in response.content.decode()


@pytest.mark.django_db
def test_it_refuses_writes(owner: User, workspace: Workspace, client: Client) -> None:
    auth = _auth(owner)
    person = PersonFactory(workspace=workspace, owner=owner)
    url = f"/dav/u{owner.pk}/{workspace.pk}/{person.pk}.vcf"
    for method in ("PUT", "DELETE", "PROPPATCH", "MKCOL"):
        response = client.generic(method, url, b"BEGIN:VCARD\r\nEND:VCARD\r\n", **auth)
        assert response.status_code == 403
        assert b"read-only" in response.content


@pytest.mark.django_db
def test_an_outsider_sees_nothing(owner: User, workspace: Workspace, outsider: User, client: Client) -> None:
    person = PersonFactory(workspace=workspace, owner=owner)
    auth = _auth(outsider)
    for url in (
        f"/dav/u{owner.pk}/",
        f"/dav/u{owner.pk}/{workspace.pk}/",
        f"/dav/u{outsider.pk}/{workspace.pk}/",
        f"/dav/u{outsider.pk}/{workspace.pk}/{person.pk}.vcf",
    ):
        response = client.generic("PROPFIND", url, PROPFIND_BOOKS, HTTP_DEPTH="1", **auth)
        assert response.status_code == 404, url
