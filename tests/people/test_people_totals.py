"""The people list's total: exact up to a cap, then an estimate on PostgreSQL ("about 100,000
people"), so page 1 of a large book does not count everyone; a filtered list stays exact."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from crm.models import Workspace
from crm.pagination import encode_cursor
from interactions import person_views
from people.models import Person
from people.selectors import person_ordering
from tests.factories import PersonFactory

ON_POSTGRESQL = connection.vendor == "postgresql"


@pytest.fixture
def small_cap(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(person_views, "ESTIMATE_OVER", 5)
    return 5


@pytest.mark.django_db
def test_it_counts_exactly_up_to_the_cap(owner_client: Client, workspace: Workspace, small_cap: int) -> None:
    PersonFactory.create_batch(small_cap, workspace=workspace)

    page = owner_client.get(reverse("people:list")).content.decode()

    assert f"{small_cap} people" in page
    assert "about" not in page.split("people")[0][-40:]


@pytest.mark.django_db
def test_past_the_cap_the_total_is_an_estimate_on_postgresql_and_exact_on_sqlite(
    owner_client: Client, workspace: Workspace, small_cap: int
) -> None:
    PersonFactory.create_batch(8, workspace=workspace)

    response = owner_client.get(reverse("people:list"))

    page = response.context["page"]
    if ON_POSTGRESQL:
        assert page.estimated
        assert page.count > small_cap  # never less than what was counted
        assert f"about {page.count} people" in response.content.decode()
    else:
        assert not page.estimated
        assert "8 people" in response.content.decode()
    assert len(page.object_list) == 8


@pytest.mark.django_db
def test_a_filtered_list_counts_exactly_past_the_cap(
    owner_client: Client, workspace: Workspace, small_cap: int
) -> None:
    PersonFactory.create_batch(7, workspace=workspace, last_name="Okafor")
    PersonFactory.create_batch(3, workspace=workspace, last_name="Berg")

    response = owner_client.get(reverse("people:list"), {"q": "okafor"})

    assert not response.context["page"].estimated
    assert "7 people" in response.content.decode()


@pytest.mark.django_db
def test_a_later_page_is_numbered_past_the_cap(
    owner_client: Client, workspace: Workspace, small_cap: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(person_views, "PAGE_SIZE", 2)
    PersonFactory.create_batch(5, workspace=workspace)
    PersonFactory.create_batch(3, workspace=workspace, last_name="Zed")
    by_name = person_ordering("name")
    rows = list(Person.objects.for_workspace(workspace).order_by(*by_name.order_by()))

    response = owner_client.get(reverse("people:list"), {"after": encode_cursor(by_name, rows[3])})

    page = response.context["page"]
    assert [p.pk for p in page.object_list] == [rows[4].pk, rows[5].pk]
    assert page.number == 3
    assert "Page 3 of" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("count", [3, 30])
def test_the_estimated_list_costs_the_same_queries_for_any_size(
    owner_client: Client, workspace: Workspace, small_cap: int, count: int, django_assert_num_queries
) -> None:
    PersonFactory.create_batch(count, workspace=workspace)

    with django_assert_num_queries(9):
        assert owner_client.get(reverse("people:list")).status_code == 200
