"""Needs, promises, the person timeline and "who might be interested in X"."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm.models import Workspace
from interactions import services
from interactions.models import Need, Promise
from people import services as people_services
from people.models import FamilyMember
from tests.factories import InteractionFactory, PersonFactory


@pytest.fixture(autouse=True)
def _fixed_clock() -> Iterator[None]:
    """Dates here are built from "now": a fixed now (ticking), so the tests read the same any day."""
    with time_machine.travel(datetime(2026, 3, 4, 10, 0, tzinfo=UTC), tick=True):
        yield


@pytest.mark.django_db
def test_the_person_page_shows_open_needs_and_overdue_promises_first(
    owner_client: Client, workspace: Workspace
) -> None:
    anna = PersonFactory(workspace=workspace)
    services.need_open(person=anna, title="Cheaper packaging")
    solved = services.need_open(person=anna, title="Old problem")
    services.need_set_status(need=solved, status="solved")
    services.promise_create(person=anna, text="Send samples", due_on=timezone.localdate() - timedelta(days=2))

    page = owner_client.get(reverse("people:detail", args=[anna.pk])).content.decode()

    assert "Cheaper packaging" in page
    assert "Send samples" in page
    assert "(overdue)" in page
    open_section = page.split('id="open-heading"')[1].split("</section>")[0]
    assert "Old problem" not in open_section


@pytest.mark.django_db
def test_a_promise_is_kept_with_one_click(owner_client: Client, workspace: Workspace) -> None:
    anna = PersonFactory(workspace=workspace)
    promise = services.promise_create(person=anna, text="Call the bank")

    response = owner_client.post(reverse("interactions:promise_keep", args=[promise.pk]), follow=True)

    promise.refresh_from_db()
    assert promise.kept_at is not None
    assert "Kept: Call the bank" in response.content.decode()
    assert services.promise_keep(promise=promise) is False  # a second click changes nothing


@pytest.mark.django_db
def test_needs_and_promises_are_added_from_the_person_page(owner_client: Client, workspace: Workspace) -> None:
    anna = PersonFactory(workspace=workspace)

    owner_client.post(reverse("interactions:need_create", args=[anna.pk]), {"title": "New till", "details": ""})
    owner_client.post(
        reverse("interactions:promise_create", args=[anna.pk]),
        {"direction": "theirs", "text": "Send invoice", "due_on": ""},
    )

    assert Need.objects.get().person == anna
    assert Promise.objects.get().direction == "theirs"


@pytest.mark.django_db
def test_the_needs_list_filters_by_status_and_tag(owner_client: Client, workspace: Workspace) -> None:
    vip = PersonFactory(workspace=workspace, tags=["vip"])
    other = PersonFactory(workspace=workspace)
    services.need_open(person=vip, title="VIP need")
    services.need_open(person=other, title="Other need")
    done = services.need_open(person=other, title="Done need")
    services.need_set_status(need=done, status="solved")

    def titles(**params: str) -> list[str]:
        return [n.title for n in owner_client.get(reverse("interactions:needs"), params).context["page"]]

    assert sorted(titles()) == ["Other need", "VIP need"]
    assert titles(status="solved") == ["Done need"]
    assert titles(status="open_all", tag="vip") == ["VIP need"]


@pytest.mark.django_db
def test_a_need_keeps_its_history_and_conversations(owner_client: Client, workspace: Workspace) -> None:
    anna = PersonFactory(workspace=workspace)
    need = services.need_open(person=anna, title="Website")

    owner_client.post(reverse("interactions:need_status", args=[need.pk]), {"status": "in_progress"})
    owner_client.post(reverse("interactions:need_status", args=[need.pk]), {"status": "solved"})
    bad = owner_client.post(reverse("interactions:need_status", args=[need.pk]), {"status": "exploded"}, follow=True)

    need.refresh_from_db()
    assert need.status == "solved"
    assert [u.status for u in need.updates.order_by("at", "id")] == ["open", "in_progress", "solved"]
    assert "Unknown status." in bad.content.decode()
    page = owner_client.get(reverse("interactions:need", args=[need.pk])).content.decode()
    assert "In progress" in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("interactions:need", "get"),
        ("interactions:need_status", "post"),
        ("interactions:promise_keep", "post"),
    ],
)
def test_another_workspaces_needs_and_promises_are_404(
    outsider_client: Client, workspace: Workspace, name: str, method: str
) -> None:
    anna = PersonFactory(workspace=workspace)
    need = services.need_open(person=anna, title="Secret need")
    promise = services.promise_create(person=anna, text="Secret promise")
    pk = promise.pk if "promise" in name else need.pk

    response = getattr(outsider_client, method)(reverse(name, args=[pk]), {"status": "dropped"})

    assert response.status_code == 404
    need.refresh_from_db()
    promise.refresh_from_db()
    assert (need.status, promise.kept_at) == ("open", None)


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["interactions:need_create", "interactions:promise_create"])
def test_nobody_adds_needs_or_promises_to_another_workspaces_person(
    outsider_client: Client, workspace: Workspace, name: str
) -> None:
    anna = PersonFactory(workspace=workspace)

    response = outsider_client.post(reverse(name, args=[anna.pk]), {"title": "x", "text": "x", "direction": "mine"})

    assert response.status_code == 404
    assert not Need.objects.exists()
    assert not Promise.objects.exists()


@pytest.mark.django_db
def test_the_timeline_interleaves_what_happened_and_filters_by_kind(owner_client: Client, workspace: Workspace) -> None:
    anna, ben = PersonFactory(workspace=workspace), PersonFactory(workspace=workspace, first_name="Bennett")
    now = timezone.now()
    InteractionFactory(
        workspace=workspace,
        people=[anna, ben],
        summary="Joint meeting",
        kind="meeting",
        occurred_at=now - timedelta(days=3),
    )
    InteractionFactory(
        workspace=workspace, people=[anna], summary="Quick call", kind="call", occurred_at=now - timedelta(days=1)
    )
    services.need_open(person=anna, title="Bigger van")
    people_services.fact_add(person=anna, fact_type="hobbies", value="Rowing")

    page = owner_client.get(reverse("people:detail", args=[anna.pk])).content.decode()
    timeline = page.split('id="timeline-heading"')[1]

    assert timeline.count("Joint meeting") == 1
    assert "Bennett" in timeline  # the other participant is named
    assert "Need opened:" in timeline
    assert "Learned:" in timeline
    assert timeline.index("Bigger van") < timeline.index("Quick call") < timeline.index("Joint meeting")
    calls = owner_client.get(reverse("people:detail", args=[anna.pk]), {"kind": "call"}).content.decode()
    calls_timeline = calls.split('id="timeline-heading"')[1]
    assert "Quick call" in calls_timeline
    assert "Joint meeting" not in calls_timeline
    assert "Need opened:" not in calls_timeline


@pytest.mark.django_db
def test_every_timeline_event_appears_on_exactly_one_page(owner_client: Client, workspace: Workspace) -> None:
    anna = PersonFactory(workspace=workspace)
    now = timezone.now()
    for day in range(45):
        InteractionFactory(
            workspace=workspace, people=[anna], summary=f"Talk {day}", occurred_at=now - timedelta(days=day, hours=1)
        )
    for day in range(0, 45, 3):
        need = services.need_open(person=anna, title=f"Need {day}")
        need.updates.update(at=now - timedelta(days=day, hours=2))

    url = reverse("people:detail", args=[anna.pk])
    pages = [owner_client.get(url).content.decode()]
    while found := re.search(r'href="(\?[^"]*)" rel="next"', pages[-1]):
        pages.append(owner_client.get(url + html.unescape(found.group(1))).content.decode())
    timelines = [page.split('id="timeline-heading"')[1] for page in pages]

    assert len(timelines) == 3
    for day in range(45):
        assert sum(t.count(f"Talk {day}<") for t in timelines) == 1, day
    for day in range(0, 45, 3):
        assert sum(t.count(f"Need {day}<") for t in timelines) == 1, day
    # And back: the Previous link of page 3 shows page 2 again, with the same events.
    back = re.search(r'href="(\?[^"]*)" rel="prev"', pages[2]).group(1)
    again = owner_client.get(url + html.unescape(back)).content.decode().split('id="timeline-heading"')[1]

    def entries(timeline: str) -> str:  # the list itself (its Edit links name the URL they return to)
        return re.sub(r'href="[^"]*"', "", timeline.split("</section>")[0])

    assert entries(again) == entries(timelines[1])
    assert "Page 2 of 3" in again


@pytest.mark.django_db
@pytest.mark.parametrize("count", [5, 500])
def test_the_timeline_costs_the_same_queries_for_5_or_500_conversations(
    owner_client: Client, workspace: Workspace, count: int, django_assert_max_num_queries
) -> None:
    from interactions.models import Interaction

    anna = PersonFactory(workspace=workspace)
    created = Interaction.objects.bulk_create(
        [
            Interaction(workspace=workspace, summary=f"Talk {i}", occurred_at=timezone.now() - timedelta(hours=i))
            for i in range(count)
        ]
    )
    Interaction.people.through.objects.bulk_create(
        [Interaction.people.through(interaction_id=i.pk, person_id=anna.pk) for i in created]
    )
    services.need_open(person=anna, title="A need")
    services.promise_create(person=anna, text="A promise")

    url = reverse("people:detail", args=[anna.pk])
    later = re.search(r'href="(\?[^"]*)" rel="next"', owner_client.get(url).content.decode())
    if later:
        url += html.unescape(later.group(1))
    # 23: the kinds had with them, for the filter, and the header's "changed by … on …" are two.
    with django_assert_max_num_queries(23):
        response = owner_client.get(url)

    assert response.status_code == 200


@pytest.mark.django_db
def test_who_might_be_interested_ranks_interests_needs_profile_family_and_notes(
    owner_client: Client, workspace: Workspace
) -> None:
    by_interest = PersonFactory(workspace=workspace, first_name="Interest")
    by_interest.tags.set(people_services.tags_for_names(workspace, ["sailing"], kind="interest"))
    by_need = PersonFactory(workspace=workspace, first_name="Need")
    services.need_open(person=by_need, title="Insurance for the sailing boat")
    by_fact = PersonFactory(workspace=workspace, first_name="Fact")
    people_services.fact_add(person=by_fact, fact_type="vacation", value="Sailing in Croatia")
    by_family = PersonFactory(workspace=workspace, first_name="Family")
    FamilyMember.objects.create(
        workspace=workspace, person=by_family, relation="child", name="Kit", interests="sailing club"
    )
    by_notes = PersonFactory(
        workspace=workspace, first_name="Notes", notes="Asked about sailing once", preferred_channel="email"
    )
    private = PersonFactory(workspace=workspace, first_name="Private")
    people_services.fact_add(person=private, fact_type="health", value="Sailing injury")
    archived = PersonFactory(workspace=workspace, first_name="Archived", notes="sailing", archived_at=timezone.now())

    response = owner_client.get(reverse("interactions:interested"), {"topic": "Sailing"})

    names = [p.first_name for p in response.context["page"]]
    assert names == ["Interest", "Need", "Fact", "Family", "Notes"]
    page = response.content.decode()
    assert "prefers email" in page
    assert f"?person={by_notes.pk}&amp;kind=email" in page
    assert private.first_name not in names
    assert archived.first_name not in names


@pytest.mark.django_db
def test_who_might_be_interested_is_scoped(outsider_client: Client, workspace: Workspace) -> None:
    PersonFactory(workspace=workspace, first_name="Secret", notes="sailing")

    response = outsider_client.get(reverse("interactions:interested"), {"topic": "sailing"})

    assert "Secret" not in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("count", [3, 60])
def test_who_might_be_interested_costs_the_same_queries_for_any_size_and_counts_its_matches(
    owner_client: Client, workspace: Workspace, count: int, django_assert_max_num_queries
) -> None:
    PersonFactory.create_batch(count, workspace=workspace, notes="Keen on sailing")
    PersonFactory.create_batch(2, workspace=workspace, notes="Golf")

    with django_assert_max_num_queries(12):  # the page and its count are one query
        response = owner_client.get(reverse("interactions:interested"), {"topic": "sailing"})

    page = response.context["page"]
    assert page.paginator.count == count
    assert len(page.object_list) == min(count, 50)
    if count > 50:
        last = owner_client.get(reverse("interactions:interested"), {"topic": "sailing", "page": "2"})
        assert len(last.context["page"].object_list) == count - 50
        past = owner_client.get(reverse("interactions:interested"), {"topic": "sailing", "page": "9"})
        assert past.context["page"].number == 2  # past the end: the last page
