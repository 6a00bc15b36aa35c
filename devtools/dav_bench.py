"""``make bench``'s contact sync: a phone's first sync of a 10,000-person book, then an
incremental one after one person is edited, one archived and one added."""

from __future__ import annotations

import base64
import re
import time
from typing import Any

from django.conf import settings
from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext

from carddav import services as carddav_services
from carddav.models import AddressBook
from crm.models import User, Workspace
from people import services as people_services
from people.models import Person

NS = 'xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:carddav"'
BATCH = 100  # hrefs per addressbook-multiget, as DAVx5 and iOS ask for them


def _sync(client: Client, url: str, auth: str, token: str = "") -> tuple[str, list[str], list[str]]:
    body = (
        f'<?xml version="1.0"?><d:sync-collection {NS}><d:sync-token>{token}</d:sync-token>'
        "<d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>"
    )
    text = client.generic("REPORT", url, body, content_type="application/xml", HTTP_AUTHORIZATION=auth).content.decode()
    found = re.search(r"<[^>]*sync-token>([^<]+)<", text)
    if found is None:
        raise RuntimeError(f"No sync token in the answer: {text[:300]}")
    responses = re.findall(r"<[^>]*response>(.*?)</[^>]*response>", text, re.S)
    present = [re.search(r"href>([^<]+)<", r)[1] for r in responses if "getetag" in r]  # type: ignore[index]
    gone = [re.search(r"href>([^<]+)<", r)[1] for r in responses if "getetag" not in r]  # type: ignore[index]
    return found[1], present, gone


def _multiget(client: Client, url: str, auth: str, hrefs: list[str]) -> int:
    cards = 0
    for start in range(0, len(hrefs), BATCH):
        body = (
            f'<?xml version="1.0"?><c:addressbook-multiget {NS}><d:prop><d:getetag/><c:address-data/></d:prop>'
            + "".join(f"<d:href>{href}</d:href>" for href in hrefs[start : start + BATCH])
            + "</c:addressbook-multiget>"
        )
        text = client.generic(
            "REPORT", url, body, content_type="application/xml", HTTP_DEPTH="1", HTTP_AUTHORIZATION=auth
        ).content
        cards += text.count(b"BEGIN:VCARD")
    return cards


def bench_dav(*, user: User, workspace: Workspace) -> dict[str, Any]:
    """Seconds and queries of a first sync (sync-collection, then every card by multiget) and of
    an incremental sync after three changes; the book is made afresh, as a new phone's is."""
    AddressBook.objects.for_workspace(workspace).filter(user=user).delete()
    app_password, password = carddav_services.app_password_create(user=user, name="bench")
    auth = "Basic " + base64.b64encode(f"{user.email}:{password}".encode()).decode()
    client = Client(HTTP_HOST=settings.ALLOWED_HOSTS[0])
    url = f"/dav/u{user.pk}/{workspace.pk}/"
    edited, archived = Person.objects.for_workspace(workspace).filter(archived_at__isnull=True).order_by("id")[:2]
    title = edited.job_title

    start = time.perf_counter()
    token, hrefs, _ = _sync(client, url, auth)
    listed = time.perf_counter() - start
    cards = _multiget(client, url, auth, hrefs)
    first = time.perf_counter() - start

    edited.job_title = "Edited for the bench"
    edited.save()
    people_services.person_archive(person=archived)
    added = people_services.person_create(workspace=workspace, created_by=user, first_name="Bench", last_name="Added")
    reset_queries()
    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        _, changed, gone = _sync(client, url, auth, token)
        fetched = _multiget(client, url, auth, changed)
        incremental = time.perf_counter() - start

    # Leave the workspace as it was, for the next run's first sync.
    Person.objects.filter(pk=added.pk).delete()
    Person.objects.filter(pk=archived.pk).update(archived_at=None)
    Person.objects.filter(pk=edited.pk).update(job_title=title)
    carddav_services.app_password_revoke(app_password=app_password)
    AddressBook.objects.for_workspace(workspace).filter(user=user).delete()
    return {
        "cards": cards,
        "first_sync_s": round(first, 2),
        "first_listing_s": round(listed, 2),
        "incremental_s": round(incremental, 3),
        "incremental_queries": len(queries),
        "incremental_cards": fetched,
        "incremental_gone": len(gone),
    }
