"""The people list: search, filters, sorting, bulk actions, tag and person suggestions, companies."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm.models import User, Workspace
from people import selectors
from people.models import ContactMethod, Person
from tests.factories import CompanyFactory, PersonFactory


@pytest.fixture
def book(workspace: Workspace, owner: User, member: User) -> dict[str, Person]:
    anna = PersonFactory(
        workspace=workspace,
        first_name="Anna",
        last_name="Berg",
        company__name="Berg Bakery",
        owner=owner,
        tags=["golf"],
    )
    carl = PersonFactory(
        workspace=workspace,
        first_name="Carl",
        last_name="Dahl",
        company__name="Dahl Dairy",
        owner=member,
        tags=["vip", "golf"],
    )
    eva = PersonFactory(
        workspace=workspace, first_name="Eva", last_name="Ek", nickname="Evie", company=None, owner=owner
    )
    ContactMethod.objects.create(
        workspace=workspace, person=anna, kind="email", value="anna@berg.example", is_primary=True
    )
    ContactMethod.objects.create(workspace=workspace, person=carl, kind="phone", value="+442079460958", is_primary=True)
    return {"anna": anna, "carl": carl, "eva": eva}


def _names(client: Client, **params: str) -> list[str]:
    response = client.get(reverse("people:list"), params)
    assert response.status_code == 200
    return [p.first_name for p in response.context["page"]]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("berg", ["Anna"]),
        ("dairy", ["Carl"]),
        ("evie", ["Eva"]),
        ("anna@berg", ["Anna"]),
        ("7946 0958", ["Carl"]),
        ("020 7946", ["Carl"]),
        ("vip", ["Carl"]),
        ("golf", ["Anna", "Carl"]),
        ("anna dahl", []),
    ],
)
def test_it_finds_people_by_name_nickname_company_email_phone_or_tag(
    owner_client: Client, book: dict[str, Person], query: str, expected: list[str]
) -> None:
    assert _names(owner_client, q=query) == expected


@pytest.mark.django_db
def test_it_filters_by_tag_owner_and_archived(owner_client: Client, book: dict[str, Person], member: User) -> None:
    book["eva"].archived_at = book["eva"].created_at
    book["eva"].save()

    assert _names(owner_client, tag="golf") == ["Anna", "Carl"]
    assert _names(owner_client, owner=str(member.pk)) == ["Carl"]
    assert _names(owner_client) == ["Anna", "Carl"]
    assert _names(owner_client, archived="on") == ["Eva"]


@pytest.mark.django_db
def test_it_sorts_by_allowed_orderings_only(owner_client: Client, book: dict[str, Person]) -> None:
    assert _names(owner_client, sort="-name") == ["Eva", "Carl", "Anna"]
    assert _names(owner_client, sort="company")[:2] == ["Anna", "Carl"]
    # Not an allowed ordering: ignored, never an error.
    assert _names(owner_client, sort="password") == ["Anna", "Carl", "Eva"]


@pytest.mark.django_db
def test_htmx_search_returns_just_the_results(owner_client: Client, book: dict[str, Person]) -> None:
    response = owner_client.get(reverse("people:list"), {"q": "berg"}, HTTP_HX_REQUEST="true")

    body = response.content.decode()
    assert "<html" not in body
    assert "Anna Berg" in body
    assert "Carl Dahl" not in body


@pytest.mark.django_db
def test_it_shows_primary_email_and_formatted_phone_in_rows(owner_client: Client, book: dict[str, Person]) -> None:
    page = owner_client.get(reverse("people:list")).content.decode()

    assert "anna@berg.example" in page
    assert "+44 20 7946 0958" in page
    carl_row = page[page.index(">Carl ") :].split("</li>")[0]
    assert "Dahl Dairy" in carl_row
    assert carl_row.index(">golf<") < carl_row.index(">vip<")  # tags A-Z


def _next_link(response: HttpResponse) -> str | None:
    found = re.search(r'href="(\?[^"]*)" rel="next"', response.content.decode())
    return html.unescape(found.group(1)) if found else None


def _walk(client: Client, **params: str) -> list[list[int]]:
    """Every page of the list, following the Next links as a user would."""
    pages, response = [], client.get(reverse("people:list"), params)
    while True:
        pages.append([p.pk for p in response.context["page"]])
        link = _next_link(response)
        if link is None:
            return pages
        response = client.get(reverse("people:list") + link)


@pytest.mark.django_db
def test_it_paginates(owner_client: Client, workspace: Workspace) -> None:
    PersonFactory.create_batch(55, workspace=workspace)

    first = owner_client.get(reverse("people:list"))
    second = owner_client.get(reverse("people:list") + _next_link(first))

    assert len(first.context["page"]) == 50
    assert len(second.context["page"]) == 5
    assert "Page 1 of 2" in first.content.decode()
    assert "Page 2 of 2" in second.content.decode()
    assert _next_link(second) is None


@pytest.mark.django_db
def test_search_results_page_and_count_their_matches(owner_client: Client, workspace: Workspace) -> None:
    PersonFactory.create_batch(53, workspace=workspace, last_name="Searchable")
    PersonFactory.create_batch(5, workspace=workspace, last_name="Other")

    first = owner_client.get(reverse("people:list"), {"q": "searcha"})  # counted with the rows
    second = owner_client.get(reverse("people:list") + _next_link(first))

    assert len(first.context["page"]) == 25  # search results come 25 to a page
    assert "53 people" in first.content.decode()
    assert "Page 1 of 3" in first.content.decode()
    assert [p.last_name for p in second.context["page"]] == ["Searchable"] * 25
    assert "Page 2 of 3" in second.content.decode()
    third = owner_client.get(reverse("people:list") + _next_link(second))
    assert len(third.context["page"]) == 3
    assert _next_link(third) is None
    nobody = owner_client.get(reverse("people:list"), {"q": "nobody-is-called-this"})
    assert nobody.context["page"].count == 0
    assert "Nobody matches these filters" in nobody.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "sort", ["name", "-name", "company", "last_contacted", "-last_contacted", "created", "-created"]
)
def test_pages_show_every_person_once_in_order_even_when_sort_keys_tie(
    owner_client: Client, workspace: Workspace, sort: str
) -> None:
    # 120 people over three pages, in big groups sharing the same name, company, last contact
    # and creation time (NULLs included): only the id tells them apart at page boundaries.
    same_time = timezone.now() - timedelta(days=3)
    companies = [CompanyFactory(workspace=workspace, name=f"Co {i}") for i in range(3)]
    for i in range(120):
        PersonFactory(
            workspace=workspace,
            first_name=f"Kim{i % 2}",
            last_name=("Lee", "Ng", "Berg")[i % 3],
            company=None if i % 4 == 0 else companies[i % 3],
            last_contacted_at=None if i % 5 == 0 else same_time,
            created_at=same_time,
        )
    everyone = list(selectors.person_list(workspace, sort=sort).values_list("pk", flat=True))

    pages = _walk(owner_client, sort=sort)

    assert [len(page) for page in pages] == [50, 50, 20]
    assert [pk for page in pages for pk in page] == everyone


@pytest.mark.django_db
def test_previous_goes_back_to_the_same_page_and_cursors_survive_sharing(
    owner_client: Client, member_client: Client, workspace: Workspace
) -> None:
    PersonFactory.create_batch(120, workspace=workspace, last_name="Same")
    first = owner_client.get(reverse("people:list"), {"sort": "-created"})
    second = owner_client.get(reverse("people:list") + _next_link(first))
    third = owner_client.get(reverse("people:list") + _next_link(second))
    back = re.search(r'href="(\?[^"]*)" rel="prev"', third.content.decode()).group(1)

    again = owner_client.get(reverse("people:list") + html.unescape(back))
    shared = member_client.get(reverse("people:list") + _next_link(first))  # a teammate opens the link

    assert [p.pk for p in again.context["page"]] == [p.pk for p in second.context["page"]]
    assert "Page 2 of 3" in again.content.decode()
    assert [p.pk for p in shared.context["page"]] == [p.pk for p in second.context["page"]]
    assert "sort=-created" in _next_link(first)


@pytest.mark.django_db
def test_a_broken_cursor_shows_the_first_page(owner_client: Client, workspace: Workspace) -> None:
    PersonFactory.create_batch(3, workspace=workspace)

    for cursor in ("nonsense", "WzFd", "W251bGxd", "%%%"):
        response = owner_client.get(reverse("people:list"), {"after": cursor})
        assert response.status_code == 200
        assert len(response.context["page"]) == 3


def _bulk(client: Client, people: list[Person], action: str, **extra: object):
    return client.post(reverse("people:bulk"), {"ids": [p.pk for p in people], "action": action, **extra}, follow=True)


@pytest.mark.django_db
def test_bulk_tag_untag_owner_and_archive(owner_client: Client, book: dict[str, Person], member: User) -> None:
    anna, carl = book["anna"], book["carl"]

    _bulk(owner_client, [anna, carl], "add_tag", tag="Spring Campaign")
    assert set(Person.objects.filter(tags__name="spring campaign").values_list("first_name", flat=True)) == {
        "Anna",
        "Carl",
    }

    _bulk(owner_client, [anna], "remove_tag", tag="spring campaign")
    assert list(Person.objects.filter(tags__name="spring campaign").values_list("first_name", flat=True)) == ["Carl"]

    response = _bulk(owner_client, [anna, carl], "change_owner", owner=member.pk)
    assert "done for 2 people" in response.content.decode()
    assert set(Person.objects.filter(owner=member).values_list("first_name", flat=True)) == {"Anna", "Carl"}

    _bulk(owner_client, [anna], "archive")
    anna.refresh_from_db()
    assert anna.archived_at is not None


@pytest.mark.django_db
def test_bulk_without_selection_or_tag_says_so(owner_client: Client, book: dict[str, Person]) -> None:
    nothing = owner_client.post(reverse("people:bulk"), {"action": "archive"}, follow=True)
    no_tag = _bulk(owner_client, [book["anna"]], "add_tag", tag="")

    assert "Select some people first." in nothing.content.decode()
    assert "Type the tag to add or remove." in no_tag.content.decode()


@pytest.mark.django_db
def test_bulk_delete_asks_first(owner_client: Client, book: dict[str, Person]) -> None:
    anna, carl = book["anna"], book["carl"]

    confirm = _bulk(owner_client, [anna, carl], "delete")
    assert "Delete 2 people?" in confirm.content.decode()
    assert Person.objects.count() == 3

    _bulk(owner_client, [anna, carl], "delete", confirm="yes")
    assert list(Person.objects.values_list("first_name", flat=True)) == ["Eva"]


@pytest.mark.django_db
def test_bulk_ids_of_another_workspace_are_a_404(
    outsider_client: Client, outsider: User, book: dict[str, Person], other_workspace: Workspace
) -> None:
    own = PersonFactory(workspace=other_workspace)

    for action in ("archive", "delete", "add_tag"):
        response = outsider_client.post(
            reverse("people:bulk"), {"ids": [own.pk, book["anna"].pk], "action": action, "tag": "x", "confirm": "yes"}
        )
        assert response.status_code == 404
    assert Person.objects.filter(pk=book["anna"].pk, archived_at__isnull=True).exists()
    assert own.tags.count() == 0


@pytest.mark.django_db
def test_bulk_owner_from_another_workspace_is_refused(
    owner_client: Client, book: dict[str, Person], outsider: User
) -> None:
    response = _bulk(owner_client, [book["anna"]], "change_owner", owner=outsider.pk)

    assert "Select a valid choice" in response.content.decode()
    book["anna"].refresh_from_db()
    assert book["anna"].owner != outsider


@pytest.mark.django_db
def test_tag_suggestions_and_person_autocomplete_are_scoped(
    owner_client: Client, outsider_client: Client, book: dict[str, Person]
) -> None:
    assert owner_client.get(reverse("people:tag_suggestions"), {"q": "g"}).json() == {"tags": ["golf"]}
    assert outsider_client.get(reverse("people:tag_suggestions"), {"q": "g"}).json() == {"tags": []}
    found = owner_client.get(reverse("people:autocomplete"), {"q": "ann"}).json()["people"]
    assert [p["name"] for p in found] == ["Anna Berg"]
    assert outsider_client.get(reverse("people:autocomplete"), {"q": "ann"}).json() == {"people": []}


@pytest.mark.django_db
def test_companies_group_people(owner_client: Client, outsider_client: Client, book: dict[str, Person]) -> None:
    company = book["anna"].company
    PersonFactory(workspace=company.workspace, first_name="Bo", company=company)

    listing = owner_client.get(reverse("people:companies")).content.decode()
    page = owner_client.get(reverse("people:company", args=[company.pk])).content.decode()

    assert "Berg Bakery" in listing
    assert "2 people" in listing
    assert "Anna Berg" in page
    assert "Bo " in page
    assert "Carl" not in page
    assert outsider_client.get(reverse("people:company", args=[company.pk])).status_code == 404


@pytest.mark.django_db
def test_the_same_company_name_in_any_case_is_one_company(owner_client: Client, owner: User) -> None:
    for first, company in (("A", "Acme Ltd"), ("B", "ACME LTD")):
        owner_client.post(reverse("people:create"), {"first_name": first, "company_name": company, "owner": owner.pk})

    assert Person.objects.values("company").distinct().count() == 1


@pytest.mark.django_db
def test_bulk_change_owner_needs_an_owner(owner_client: Client, book: dict[str, Person], owner: User) -> None:
    response = _bulk(owner_client, [book["anna"]], "change_owner")

    assert "Choose the new owner." in response.content.decode()
    book["anna"].refresh_from_db()
    assert book["anna"].owner == owner


def _hint(response: HttpResponse) -> str:
    page = response.content.decode()
    start = page.find('id="note-mentions"')
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page[start : page.find("</div>", start)])))


@pytest.mark.django_db
def test_a_word_only_in_a_need_promise_or_family_note_is_hinted_in_the_people_search(
    owner_client: Client, outsider_client: Client, workspace: Workspace
) -> None:
    from interactions import services as interaction_services
    from people.models import FamilyMember

    ada = PersonFactory(workspace=workspace, first_name="Ada", last_name="Obi")
    interaction_services.need_open(person=ada, title="Cheaper shipping to Abuja")
    ben = PersonFactory(workspace=workspace, first_name="Ben", last_name="Eze")
    interaction_services.promise_create(person=ben, text="Send the Abuja rates")
    cy = PersonFactory(workspace=workspace, first_name="Cy", last_name="Uba")
    FamilyMember.objects.create(workspace=workspace, person=cy, relation="child", name="Tobi", notes="Studies in Abuja")

    response = owner_client.get(reverse("people:list"), {"q": "abuja"})

    assert response.context["page"].count == 0  # nobody is called Abuja...
    hint = _hint(response)  # ...but three people are written about with it
    assert "Also in notes: Ben Eze (promise), Ada Obi (need), Cy Uba (family)" in hint
    assert "Search notes for “abuja”" in hint
    assert reverse("interactions:search") + "?q=abuja" in response.content.decode()
    as_you_type = owner_client.get(reverse("people:list"), {"q": "abuja"}, HTTP_HX_REQUEST="true")
    assert "Ada Obi (need)" in _hint(as_you_type)
    outsider = outsider_client.get(reverse("people:list"), {"q": "abuja"})
    assert 'id="note-mentions"' not in outsider.content.decode()  # another workspace's needs stay unseen
    assert 'id="note-mentions"' not in owner_client.get(reverse("people:list"), {"q": "ada"}).content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("count", [5, 50])
@pytest.mark.usefixtures("counters_in_memory")
def test_the_people_search_costs_the_same_queries_for_any_size(
    owner_client: Client, workspace: Workspace, count: int, django_assert_max_num_queries
) -> None:
    from interactions import services as interaction_services

    for person in PersonFactory.create_batch(count, workspace=workspace, last_name="Abuja", tags=["vip"]):
        interaction_services.need_open(person=person, title="Shipping to Abuja")

    with django_assert_max_num_queries(12):
        response = owner_client.get(reverse("people:list"), {"q": "abuja"})

    assert response.context["page"].count == count
    assert len(response.context["mentions"].people) == 5  # the hint names a few, whatever the size
