"""A page cursor that is not one of ours (edited, truncated, hostile) shows the first page."""

from __future__ import annotations

import base64
import json

import pytest
from django.test import Client
from django.urls import reverse

from crm.models import Workspace
from crm.pagination import decode_cursor, encode_cursor
from people.models import Person
from people.selectors import person_ordering
from tests.factories import InteractionFactory, PersonFactory


def _cursor(values: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


HOSTILE = {
    "NUL in a name": _cursor(["\x00", "Ann\x00a", "1"]),
    "a control character": _cursor(["Berg\x1b", "Anna", "1"]),
    "a lone surrogate": _cursor(["\ud800", "Anna", "1"]),
    "a number, not text": _cursor([1, 2, 3]),
    "a list inside": _cursor([["Berg"], "Anna", "1"]),
    "too few values": _cursor(["Berg"]),
    "not JSON": base64.urlsafe_b64encode(b"\x00\xff{").decode(),
    "not base64": "%%%\x00",
}


@pytest.fixture
def people(workspace: Workspace) -> list[Person]:
    return [PersonFactory(workspace=workspace, first_name="Anna", last_name=name) for name in ("Able", "Berg", "Cole")]


@pytest.mark.django_db
@pytest.mark.parametrize("which", HOSTILE)
@pytest.mark.parametrize("direction", ["after", "before"])
def test_it_shows_the_first_page_for_a_cursor_that_is_not_ours(
    people: list[Person], owner_client: Client, which: str, direction: str
) -> None:
    response = owner_client.get(reverse("people:list"), {direction: HOSTILE[which]})

    assert response.status_code == 200
    page = response.context["page"]
    assert [p.last_name for p in page] == ["Able", "Berg", "Cole"]
    assert page.number == 1


@pytest.mark.parametrize("which", HOSTILE)
def test_it_reads_no_position_from_a_cursor_that_is_not_ours(which: str) -> None:
    assert decode_cursor(person_ordering("name"), Person, HOSTILE[which]) is None


@pytest.mark.django_db
def test_it_still_pages_on_with_a_cursor_of_ours(people: list[Person], owner_client: Client) -> None:
    cursor = encode_cursor(person_ordering("name"), people[0])

    response = owner_client.get(reverse("people:list"), {"after": cursor})

    assert [p.last_name for p in response.context["page"]] == ["Berg", "Cole"]


# Valid datetimes at the ends of Python's range: SQLite overflowed turning them into UTC (a 500).
EDGE_OF_TIME = {
    "year 1, east of UTC": _cursor(["0001-01-01T00:00:00+14:00", "1"]),
    "year 9999, west of UTC": _cursor(["9999-12-31T23:59:59-14:00", "1"]),
}


@pytest.mark.django_db
@pytest.mark.parametrize("which", EDGE_OF_TIME)
@pytest.mark.parametrize("direction", ["after", "before"])
def test_it_shows_the_first_timeline_page_for_a_cursor_at_the_edge_of_time(
    workspace: Workspace, owner_client: Client, which: str, direction: str
) -> None:
    person = PersonFactory(workspace=workspace)
    InteractionFactory(workspace=workspace, people=[person], summary="Coffee in March")

    response = owner_client.get(reverse("people:detail", args=[person.pk]), {direction: EDGE_OF_TIME[which]})

    assert response.status_code == 200
    assert "Coffee in March" in response.content.decode()
