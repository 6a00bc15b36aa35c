from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from crm.models import User, Workspace
from people.models import Person
from tests.factories import InteractionFactory, PersonFactory


@pytest.mark.django_db
def test_it_adds_a_person_owned_by_the_creator(member_client: Client, member: User, workspace: Workspace) -> None:
    response = member_client.post(
        reverse("people:create"),
        {"first_name": "Anna", "last_name": "Berg", "company_name": "Berg Bakery", "owner": member.pk},
        follow=True,
    )

    person = Person.objects.get()
    assert (person.workspace, person.owner) == (workspace, member)
    assert "Anna Berg added." in response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("people:detail", args=[person.pk])


@pytest.mark.django_db
def test_it_requires_a_first_name(owner_client: Client) -> None:
    response = owner_client.post(reverse("people:create"), {"first_name": "", "last_name": "Berg"})

    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    assert not Person.objects.exists()


@pytest.mark.django_db
def test_it_searches_people_by_name_or_company(owner_client: Client, workspace: Workspace) -> None:
    PersonFactory(workspace=workspace, first_name="Anna", last_name="Berg", company__name="Berg Bakery")
    PersonFactory(workspace=workspace, first_name="Carl", last_name="Dahl", company__name="Dahl Dairy")

    page = owner_client.get(reverse("people:list"), {"q": "dair"}).content.decode()

    assert "Carl Dahl" in page
    assert "Anna Berg" not in page


@pytest.mark.django_db
def test_it_says_when_nobody_matches(owner_client: Client, workspace: Workspace) -> None:
    page = owner_client.get(reverse("people:list"), {"q": "zzz"}).content.decode()

    assert "Nobody matches these filters" in page


@pytest.mark.django_db
def test_it_never_lists_another_workspaces_people(
    outsider_client: Client, workspace: Workspace, other_workspace: Workspace
) -> None:
    PersonFactory(workspace=workspace, first_name="Secret", last_name="Customer")
    PersonFactory(workspace=other_workspace, first_name="Own", last_name="Customer")

    page = outsider_client.get(reverse("people:list")).content.decode()

    assert "Own Customer" in page
    assert "Secret" not in page


@pytest.mark.django_db
def test_another_workspaces_person_is_a_404(outsider_client: Client, workspace: Workspace) -> None:
    person = PersonFactory(workspace=workspace, first_name="Secret")

    response = outsider_client.get(reverse("people:detail", args=[person.pk]))

    assert response.status_code == 404
    assert "Secret" not in response.content.decode()


@pytest.mark.django_db
def test_the_person_page_shows_their_conversations(owner_client: Client, workspace: Workspace) -> None:
    person = PersonFactory(workspace=workspace)
    InteractionFactory(workspace=workspace, people=[person], summary="Talked about the spring catalogue")

    page = owner_client.get(reverse("people:detail", args=[person.pk])).content.decode()

    assert "Talked about the spring catalogue" in page


@pytest.mark.django_db
@pytest.mark.parametrize("count", [10, 100])
def test_the_people_list_costs_the_same_queries_for_any_size(
    owner_client: Client, workspace: Workspace, count: int, django_assert_max_num_queries
) -> None:
    PersonFactory.create_batch(count, workspace=workspace)

    with django_assert_max_num_queries(10):
        response = owner_client.get(reverse("people:list"))

    assert response.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("count", [5, 50])
def test_the_dashboard_and_person_page_cost_the_same_queries_for_any_size(
    owner_client: Client, workspace: Workspace, count: int, django_assert_max_num_queries
) -> None:
    person = PersonFactory(workspace=workspace)
    others = PersonFactory.create_batch(3, workspace=workspace)
    for _ in range(count):
        InteractionFactory(workspace=workspace, people=[person, *others])

    # 23: "the rest of the week" reads the awake and the snoozed-into-the-week apart (two index ranges).
    with django_assert_max_num_queries(23):
        assert owner_client.get(reverse("dashboard")).status_code == 200
    # 23: the kinds had with them, for the timeline filter, and the "changed by … on …" are two.
    with django_assert_max_num_queries(23):
        assert owner_client.get(reverse("people:detail", args=[person.pk])).status_code == 200
