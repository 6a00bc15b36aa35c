"""Search notes: conversations, profile facts and people's notes, scoped to the workspace."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from crm.models import Workspace
from people import services as people_services
from tests.factories import InteractionFactory, PersonFactory


def _search(client: Client, q: str) -> list[tuple[str, str]]:
    response = client.get(reverse("interactions:search"), {"q": q})
    assert response.status_code == 200
    return [(hit.kind, hit.person.first_name) for hit in response.context["hits"]]


@pytest.mark.django_db
def test_it_finds_conversations_facts_and_notes_by_their_words(
    owner_client: Client, outsider_client: Client, workspace: Workspace
) -> None:
    anna = PersonFactory(workspace=workspace, first_name="Anna", notes="Keeps a friendly beagle called Max.")
    bo = PersonFactory(workspace=workspace, first_name="Bo")
    InteractionFactory(workspace=workspace, people=[bo], summary="Lunch", notes="Talked about his beagle puppy.")
    InteractionFactory(workspace=workspace, people=[bo], summary="Quote", notes="Sent the price list.")
    people_services.fact_add(person=anna, fact_type="hobbies", value="Sailing on weekends")
    PersonFactory(workspace=workspace, first_name="Cy", notes="Nothing relevant here.")

    assert sorted(_search(owner_client, "beagle")) == [("conversation", "Bo"), ("notes", "Anna")]
    assert _search(owner_client, "sailing") == [("fact", "Anna")]
    assert _search(owner_client, "price list") == [("conversation", "Bo")]
    assert _search(owner_client, "giraffe") == []
    assert _search(outsider_client, "beagle") == []  # another workspace sees nothing
    page = owner_client.get(reverse("interactions:search"), {"q": "beagle"}).content.decode()
    assert "Talked about his beagle puppy." in page


@pytest.mark.django_db
def test_it_ranks_the_closer_match_first_on_postgresql(owner_client: Client, workspace: Workspace) -> None:
    once = PersonFactory(workspace=workspace, first_name="Once")
    often = PersonFactory(workspace=workspace, first_name="Often")
    InteractionFactory(workspace=workspace, people=[once], summary="Visit", notes="Asked about the invoice for March.")
    InteractionFactory(
        workspace=workspace, people=[often], summary="Invoice call", notes="Invoice wrong; a new invoice is due."
    )

    found = _search(owner_client, "invoice")

    assert sorted(found) == [("conversation", "Often"), ("conversation", "Once")]
    if connection.vendor == "postgresql":  # SQLite has no ranking: newest first there
        assert found[0] == ("conversation", "Often")


@pytest.mark.django_db
def test_an_empty_or_odd_query_is_an_empty_page_not_an_error(owner_client: Client, workspace: Workspace) -> None:
    for q in ("", "   ", '"', "-", "a & | ! (", "x" * 500):
        assert _search(owner_client, q) == []
