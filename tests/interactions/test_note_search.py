"""Search notes: conversations, facts, notes, needs, promises, family and interests, scoped to the workspace."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from crm.models import Workspace
from interactions import services as interaction_services
from people import services as people_services
from people.models import FamilyMember, Person, Tag
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


@pytest.fixture
def written(workspace: Workspace) -> dict[str, Person]:
    """A word in each kind of text that only Search notes reads: needs, promises, family, interests."""
    ada = PersonFactory(workspace=workspace, first_name="Ada", last_name="Obi")
    interaction_services.need_open(person=ada, title="Cheaper shipping to Abuja", details="Pallets, monthly.")
    ben = PersonFactory(workspace=workspace, first_name="Ben", last_name="Eze")
    interaction_services.promise_create(person=ben, text="Send the Lagos warehouse rates")
    cy = PersonFactory(workspace=workspace, first_name="Cy", last_name="Uba")
    FamilyMember.objects.create(
        workspace=workspace,
        person=cy,
        relation="child",
        name="Tobi",
        notes="Starts at Kano university",
        interests="chess",
    )
    dee = PersonFactory(workspace=workspace, first_name="Dee", last_name="Ani")
    dee.tags.set(people_services.tags_for_names(workspace, ["pottery"], kind=Tag.Kind.INTEREST))
    return {"ada": ada, "ben": ben, "cy": cy, "dee": dee}


@pytest.mark.django_db
def test_it_finds_words_in_needs_promises_family_and_interests(
    owner_client: Client, outsider_client: Client, written: dict[str, Person]
) -> None:
    assert _search(owner_client, "abuja") == [("need", "Ada")]
    assert _search(owner_client, "pallets") == [("need", "Ada")]  # the need's details too
    assert _search(owner_client, "warehouse") == [("promise", "Ben")]
    assert _search(owner_client, "university") == [("family", "Cy")]
    assert _search(owner_client, "chess") == [("family", "Cy")]
    assert _search(owner_client, "pottery") == [("interest", "Dee")]
    page = owner_client.get(reverse("interactions:search"), {"q": "abuja"}).content.decode()
    assert "Cheaper shipping to Abuja" in page
    assert "Need (open)" in page
    for word in ("abuja", "warehouse", "university", "pottery"):
        assert _search(outsider_client, word) == []  # another workspace's needs are never listed


@pytest.mark.django_db
def test_a_need_ranks_with_the_conversations_that_say_the_same(owner_client: Client, workspace: Workspace) -> None:
    ada = PersonFactory(workspace=workspace, first_name="Ada")
    bo = PersonFactory(workspace=workspace, first_name="Bo")
    interaction_services.need_open(person=ada, title="Invoice in naira", details="Invoice monthly; invoice by email")
    InteractionFactory(workspace=workspace, people=[bo], summary="Visit", notes="Asked about an invoice once.")

    found = _search(owner_client, "invoice")

    assert sorted(found) == [("conversation", "Bo"), ("need", "Ada")]
    if connection.vendor == "postgresql":  # SQLite has no ranking: newest first there
        assert found[0] == ("need", "Ada")


@pytest.mark.django_db
@pytest.mark.parametrize("count", [3, 30])
@pytest.mark.usefixtures("counters_in_memory")
def test_search_notes_costs_the_same_queries_for_any_size(
    owner_client: Client, workspace: Workspace, count: int, django_assert_max_num_queries
) -> None:
    for i in range(count):
        person = PersonFactory(workspace=workspace, notes=f"Shipping note {i}")
        InteractionFactory(workspace=workspace, people=[person], notes="Shipping again")
        interaction_services.need_open(person=person, title=f"Shipping {i}")
        interaction_services.promise_create(person=person, text="Shipping quote")
        FamilyMember.objects.create(workspace=workspace, person=person, relation="spouse", name="X", notes="shipping")

    # One query per kind of text (7), the conversations' people, and the page's own (session, workspace).
    with django_assert_max_num_queries(13):
        response = owner_client.get(reverse("interactions:search"), {"q": "shipping"})

    assert len(response.context["hits"]) == min(30, 5 * count)
