"""What a phone receives: every field the issue lists, in vCard 4.0 or 3.0, never a private
fact; ETags that change exactly when the card does; a book that loses whoever leaves it."""

from __future__ import annotations

import io
import re

import pytest
import vobject
from django.core.files.base import ContentFile
from django.test import Client
from PIL import Image

from carddav import services
from crm.models import User, Workspace
from people import services as people_services
from people.models import ContactMethod, Person
from tests.carddav.helpers import book_url, device, multiget, sync
from tests.factories import PersonFactory


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "teal").save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def adaeze(owner: User, workspace: Workspace) -> Person:
    person = PersonFactory(
        workspace=workspace, owner=owner, first_name="Adaeze", last_name="Okafor", nickname="Ada",
        company__name="Lagos Textiles", job_title="Head buyer", notes="Prefers calls; loves jollof",
        birthday_day=15, birthday_month=4, anniversary_day=12, anniversary_month=6, anniversary_year=2010,
        topics_to_avoid="Her brother's election",
    )  # fmt: skip
    for kind, label, value, primary in [
        ("email", "work", "ada@lagostextiles.ng", True),
        ("email", "home", "ada@example.com", False),
        ("phone", "mobile", "+234 803 555 0142", True),
        ("phone", "Yacht", "+234 1 555 0100", False),
        ("address", "work", "12 Broad Street, Lagos", False),
        ("website", "", "https://lagostextiles.ng", False),
    ]:
        ContactMethod.objects.create(
            workspace=workspace, person=person, kind=kind, label=label, value=value, is_primary=primary
        )
    people_services.fact_add(person=person, fact_type="health", value="Asthma, no perfume")
    person.photo.save("a.jpg", ContentFile(_jpeg()))
    return person


def _card(text: str) -> str:
    found = re.search(r"<[^>]*address-data[^>]*>(.*?)</", text, re.S)
    assert found is not None, text
    return found[1].replace("&#13;", "\r").replace("\r\n ", "").replace("&amp;", "&").replace("&lt;", "<")


@pytest.mark.django_db
def test_a_card_says_everything_but_private_facts(adaeze: Person, owner: User, workspace: Workspace) -> None:
    url = book_url(owner, workspace.pk)
    text = _card(multiget(Client(), url, device(owner), [f"{url}{adaeze.pk}.vcf"]))
    card = vobject.readOne(text)  # a library nobody here wrote reads it
    assert card.fn.value == "Adaeze Okafor"
    assert card.n.value.family == "Okafor"
    assert card.n.value.given == "Adaeze"
    assert card.nickname.value == "Ada"
    assert card.org.value == ["Lagos Textiles"]
    assert card.title.value == "Head buyer"
    assert "VERSION:4.0" in text
    assert "EMAIL;TYPE=work;PREF=1:ada@lagostextiles.ng" in text
    assert "EMAIL;TYPE=home:ada@example.com" in text
    assert "TEL;TYPE=cell;PREF=1:+234 803 555 0142" in text
    assert "item1.X-ABLABEL:Yacht" in text
    assert "item1.TEL:+234 1 555 0100" in text
    assert "ADR;TYPE=work:;;12 Broad Street\\, Lagos;;;;" in text
    assert "URL:https://lagostextiles.ng" in text
    assert "BDAY:--0415" in text  # no year known: none made up
    assert "ANNIVERSARY:20100612" in text
    assert "PHOTO:data:image/jpeg;base64," in text
    assert card.note.value.startswith("Prefers calls; loves jollof")
    assert f"/people/{adaeze.pk}/" in card.note.value
    assert "Asthma" not in text
    assert "election" not in text


@pytest.mark.django_db
def test_it_answers_in_vcard_3_when_asked(adaeze: Person, owner: User, workspace: Workspace) -> None:
    url = book_url(owner, workspace.pk)
    text = _card(multiget(Client(), url, device(owner), [f"{url}{adaeze.pk}.vcf"], version="3.0"))
    card = vobject.readOne(text)
    assert card.version.value == "3.0"
    assert "BDAY;X-APPLE-OMIT-YEAR=1604:1604-04-15" in text
    assert "EMAIL;TYPE=internet,work,pref:ada@lagostextiles.ng" in text
    assert "PHOTO;ENCODING=b;TYPE=JPEG:" in text
    response = Client().get(f"{url}{adaeze.pk}.vcf", HTTP_ACCEPT="text/vcard; version=3.0", **device(owner, "b"))
    assert b"VERSION:3.0" in response.content


@pytest.mark.django_db
def test_the_etag_changes_exactly_when_the_card_does(adaeze: Person, owner: User, workspace: Workspace) -> None:
    book = services.book_get(membership=owner.memberships.get(workspace=workspace))
    first = services.book_refresh(book=book).etags[adaeze.pk]
    Person.objects.filter(pk=adaeze.pk).update(last_contacted_at="2026-11-30T10:00:00Z", likes="Tea")
    adaeze.refresh_from_db()
    adaeze.save()  # what logging a call does to the row: nothing the card says
    assert services.book_refresh(book=book).etags[adaeze.pk] == first
    ContactMethod.objects.filter(person=adaeze, value="ada@example.com").update(value="ada@home.ng")
    second = services.book_refresh(book=book).etags[adaeze.pk]
    assert second != first
    adaeze.company.name = "Lagos Textiles Ltd"
    adaeze.company.save()
    assert services.book_refresh(book=book).etags[adaeze.pk] != second


@pytest.mark.django_db
def test_people_who_leave_the_book_are_removed_from_the_phone(owner: User, member: User, workspace: Workspace) -> None:
    client, auth, url = Client(), device(owner), book_url(owner, workspace.pk)
    archived, deleted, merged, kept, theirs = (PersonFactory(workspace=workspace, owner=owner) for _ in range(5))
    theirs.owner = member
    theirs.save()
    token, _ = sync(client, url, auth)
    people_services.person_archive(person=archived)
    Person.objects.filter(pk=deleted.pk).delete()
    __import__("people.merge", fromlist=["person_merge"]).person_merge(keep=kept, other=merged, take_from_other=set())
    services.book_set_scope(membership=owner.memberships.get(workspace=workspace), scope="mine")
    token, text = sync(client, url, auth, token)
    gone = {
        pk
        for pk, status in re.findall(r"/(\d+)\.vcf</[^>]*href>\s*<[^>]*status>HTTP/1.1 (\d+)", text)
        if status == "404"
    }
    assert gone == {str(archived.pk), str(deleted.pk), str(merged.pk), str(theirs.pk)}
    _, text = sync(client, url, auth)  # a fresh phone gets only who is left
    assert set(re.findall(r"/(\d+)\.vcf", text)) == {str(kept.pk)}


@pytest.mark.django_db
def test_a_stale_or_foreign_token_asks_for_a_full_sync(owner: User, workspace: Workspace) -> None:
    client, auth, url = Client(), device(owner), book_url(owner, workspace.pk)
    body = '<?xml version="1.0"?><d:sync-collection xmlns:d="DAV:"><d:sync-token>urn:rapport:sync:999:1</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>'  # noqa: E501
    response = client.generic("REPORT", url, body, content_type="application/xml", **auth)
    assert response.status_code == 403
    assert b"valid-sync-token" in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("size", [5, 60])
def test_an_incremental_sync_costs_the_same_queries_at_any_size(
    owner: User, workspace: Workspace, size: int, django_assert_max_num_queries, counters_in_memory: None
) -> None:
    client, auth, url = Client(), device(owner), book_url(owner, workspace.pk)
    people = [PersonFactory(workspace=workspace, owner=owner) for _ in range(size)]
    token, _ = sync(client, url, auth)
    people[0].job_title = "Changed"
    people[0].save()
    with django_assert_max_num_queries(13):
        _, text = sync(client, url, auth, token)
    assert set(re.findall(r"/(\d+)\.vcf", text)) == {str(people[0].pk)}


@pytest.mark.django_db
@pytest.mark.parametrize("size", [5, 60])
def test_a_listing_of_etags_costs_the_same_queries_at_any_size(
    owner: User, workspace: Workspace, size: int, django_assert_max_num_queries, counters_in_memory: None
) -> None:
    client, auth, url = Client(), device(owner), book_url(owner, workspace.pk)
    for _ in range(size):
        PersonFactory(workspace=workspace, owner=owner)
    body = (
        '<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop><d:getetag/><d:getlastmodified/></d:prop></d:propfind>'
    )
    client.generic("PROPFIND", url, body, content_type="application/xml", HTTP_DEPTH="1", **auth)  # the first refresh
    with django_assert_max_num_queries(12):
        response = client.generic("PROPFIND", url, body, content_type="application/xml", HTTP_DEPTH="1", **auth)
    assert response.content.decode().count(".vcf</") == size
