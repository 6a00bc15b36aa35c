"""Requests a CardDAV client sends, for the in-process tests."""

from __future__ import annotations

import base64
import re

from django.test import Client

from carddav import services
from crm.models import User

NS = 'xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:carddav" xmlns:cs="http://calendarserver.org/ns/"'


def basic(email: str, password: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{email}:{password}".encode()).decode()}


def device(user: User, name: str = "phone") -> dict[str, str]:
    """The Authorization header of a new app password of ``user``."""
    _, password = services.app_password_create(user=user, name=name)
    return basic(user.email, password)


def book_url(user: User, workspace_id: int) -> str:
    return f"/dav/u{user.pk}/{workspace_id}/"


def sync(client: Client, url: str, auth: dict[str, str], token: str = "") -> tuple[str, str]:
    """(new token, multistatus text) of a sync-collection REPORT from ``token``."""
    body = (
        f'<?xml version="1.0"?><d:sync-collection {NS}><d:sync-token>{token}</d:sync-token>'
        "<d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>"
    )
    response = client.generic("REPORT", url, body, content_type="application/xml", **auth)
    assert response.status_code == 207, response.content
    text = response.content.decode()
    found = re.search(r"<[^>]*sync-token>([^<]+)<", text)
    assert found is not None
    return found[1], text


def multiget(client: Client, url: str, auth: dict[str, str], hrefs: list[str], version: str = "") -> str:
    data = f'<c:address-data version="{version}"/>' if version else "<c:address-data/>"
    body = (
        f'<?xml version="1.0"?><c:addressbook-multiget {NS}><d:prop><d:getetag/>{data}</d:prop>'
        + "".join(f"<d:href>{href}</d:href>" for href in hrefs)
        + "</c:addressbook-multiget>"
    )
    response = client.generic("REPORT", url, body, content_type="application/xml", HTTP_DEPTH="1", **auth)
    assert response.status_code == 207, response.content
    return response.content.decode()
