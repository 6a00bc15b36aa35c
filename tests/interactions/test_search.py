"""The top-bar search: people, companies, conversations, needs and promises, grouped."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from crm.models import Workspace
from interactions import services as interaction_services
from tests.factories import CompanyFactory, InteractionFactory, PersonFactory

URL = reverse("search:results")


def _groups(client: Client, q: str, **params: str) -> dict[str, list[str]]:
    response = client.get(URL, {"q": q, **params})
    assert response.status_code == 200
    return {g.key: [str(hit) for hit in g.hits] for g in response.context["groups"]}


@pytest.fixture
def book(workspace: Workspace) -> None:
    ada = PersonFactory(workspace=workspace, first_name="Ada", last_name="Abuja-Obi", company__name="Kano Freight")
    ben = PersonFactory(workspace=workspace, first_name="Ben", last_name="Eze", company__name="Abuja Logistics")
    InteractionFactory(workspace=workspace, people=[ben], summary="Call about Abuja", notes="Trucks are late.")
    interaction_services.need_open(person=ada, title="Cheaper shipping to Abuja")
    interaction_services.promise_create(person=ben, text="Send the Abuja warehouse rates")
    PersonFactory(workspace=workspace, first_name="Cy", last_name="Uba", notes="Nothing to see.")


@pytest.mark.django_db
def test_it_finds_people_companies_conversations_needs_and_promises_grouped(
    owner_client: Client, outsider_client: Client, book: None
) -> None:
    assert _groups(owner_client, "abuja") == {
        "people": ["Ada Abuja-Obi", "Ben Eze"],  # Ben by his company
        "companies": ["Abuja Logistics"],
        "conversations": ["Call about Abuja"],
        "needs": ["Cheaper shipping to Abuja"],
        "promises": ["Send the Abuja warehouse rates"],
    }
    page = owner_client.get(URL, {"q": "abuja"}).content.decode()
    for heading in ("People", "Companies", "Conversations", "Needs", "Promises"):
        assert f">{heading}</h2>" in page
    assert "Cheaper shipping to Abuja" in page
    assert _groups(owner_client, "warehouse")["promises"] == ["Send the Abuja warehouse rates"]
    assert _groups(owner_client, "giraffe") == {
        key: [] for key in ("people", "companies", "conversations", "needs", "promises")
    }
    assert "No needs match “giraffe”." in owner_client.get(URL, {"q": "giraffe"}).content.decode()
    # Another workspace sees none of it: no person, company, conversation, need or promise.
    outsider = outsider_client.get(URL, {"q": "abuja"})
    assert all(not g.hits for g in outsider.context["groups"])
    assert "Abuja" not in outsider.content.decode().replace("“abuja”", "")


@pytest.mark.django_db
def test_an_empty_query_is_a_friendly_page(owner_client: Client, book: None) -> None:
    for q in ("", "   "):
        response = owner_client.get(URL, {"q": q})
        assert response.status_code == 200
        page = response.content.decode()
        assert "Search everything" in page
        assert "Press <kbd>/</kbd>" in page
        assert response.context["groups"] == []


@pytest.mark.django_db
def test_every_page_has_the_search_box(owner_client: Client, outsider_client: Client) -> None:
    for url in (reverse("dashboard"), reverse("people:list"), reverse("interactions:needs")):
        page = owner_client.get(url).content.decode()
        assert f'action="{URL}"' in page
        assert 'id="site-search"' in page
        assert "Search everything (press /)" in page  # the key itself is tried in the browser test


@pytest.mark.django_db
def test_a_group_links_to_its_full_list_which_pages(owner_client: Client, workspace: Workspace) -> None:
    person = PersonFactory(workspace=workspace, first_name="Shipping", last_name="Shipper")
    with time_machine.travel(datetime(2026, 3, 4, 9, tzinfo=UTC), tick=False):
        for i in range(30):
            interaction_services.need_open(person=person, title=f"Shipping lane {i}")
            InteractionFactory(workspace=workspace, people=[person], summary=f"Shipping talk {i}")
    for i in range(7):
        PersonFactory(workspace=workspace, last_name=f"Shipping{i}", company=CompanyFactory(workspace=workspace))

    response = owner_client.get(URL, {"q": "shipping"})

    groups = {g.key: g for g in response.context["groups"]}
    assert [len(groups[k].hits) for k in ("people", "conversations", "needs")] == [5, 5, 5]
    assert groups["people"].more
    assert groups["needs"].more
    assert not groups["promises"].more
    page = response.content.decode()
    assert f'href="{reverse("people:list")}?q=shipping"' in page  # the people list with the query
    assert f'href="{URL}?q=shipping&amp;in=needs"' in page
    first = owner_client.get(URL, {"q": "shipping", "in": "needs"})
    assert [g.key for g in first.context["groups"]] == ["needs"]
    assert len(first.context["groups"][0].hits) == 25
    assert "Page 1 of 2" in first.content.decode()
    second = owner_client.get(URL, {"q": "shipping", "in": "needs", "page": "2"})
    assert len(second.context["groups"][0].hits) == 5
    assert set(second.context["groups"][0].hits).isdisjoint(first.context["groups"][0].hits)
    people_list = owner_client.get(reverse("people:list"), {"q": "shipping"})
    assert people_list.context["page"].count == 8


@pytest.mark.django_db
def test_as_you_type_results_drop_down_under_the_box(owner_client: Client, book: None) -> None:
    response = owner_client.get(URL, {"q": "abuja"}, HTTP_HX_REQUEST="true")

    page = response.content.decode()
    assert "<html" not in page  # just the dropdown
    assert "Cheaper shipping to Abuja" in page
    assert f'href="{URL}?q=abuja"' in page  # all results
    assert owner_client.get(URL, {"q": ""}, HTTP_HX_REQUEST="true").content.decode().strip() == ""


@pytest.mark.django_db
@pytest.mark.parametrize("count", [3, 30])
@pytest.mark.usefixtures("counters_in_memory")
def test_search_costs_the_same_queries_for_any_size(
    owner_client: Client, workspace: Workspace, count: int, django_assert_max_num_queries
) -> None:
    for i in range(count):
        person = PersonFactory(workspace=workspace, last_name=f"Abuja{i}", company__name=f"Abuja {i} Ltd")
        InteractionFactory(workspace=workspace, people=[person], summary="Abuja trip")
        interaction_services.need_open(person=person, title="Shipping to Abuja")
        interaction_services.promise_create(person=person, text="Abuja rates")

    # One query per group, the conversations' people, and the page's own (session, workspace).
    with django_assert_max_num_queries(11):
        response = owner_client.get(URL, {"q": "abuja"})
    with django_assert_max_num_queries(11):
        owner_client.get(URL, {"q": "abuja"}, HTTP_HX_REQUEST="true")
    with django_assert_max_num_queries(7):
        owner_client.get(URL, {"q": "abuja", "in": "needs"})

    assert all(g.hits for g in response.context["groups"])
