"""Conversations, needs, promises, follow-ups and This week over the API."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.test import Client

from crm.models import User, Workspace
from interactions import services as interaction_services
from interactions.models import FollowUp, Interaction, Need, Promise
from people.models import Person, ProfileFact
from reminders import services as reminder_services
from tests.factories import PersonFactory

CONVERSATIONS = "/api/v1/conversations/"


def _log(api: Client, body: object) -> object:
    return api.post(CONVERSATIONS, body, content_type="application/json")


@pytest.mark.django_db
@time_machine.travel("2026-05-04 10:00Z", tick=False)
def test_it_logs_a_call_with_two_people_and_all_it_raised(owner_api: Client, workspace: Workspace) -> None:
    anna = PersonFactory(workspace=workspace, first_name="Anna", last_name="Berg")
    carl = PersonFactory(workspace=workspace, first_name="Carl", last_name="Dahl")
    old_need = interaction_services.need_open(person=anna, title="Cheaper flour")
    response = _log(
        owner_api,
        {
            "people": [anna.pk, carl.pk],
            "kind": "call",
            "summary": "Talked about the summer order",
            "follow_up_on": "2026-05-11",
            "promises": [{"text": "Send the quote", "due_on": "2026-05-06"}],
            "needs": [{"title": "A second oven"}],
            "facts": [{"fact_type": "hobbies", "value": "Sails on Sundays"}],
            "solved_needs": [old_need.pk],
        },
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert {p["full_name"] for p in data["people"]} == {"Anna Berg", "Carl Dahl"}
    interaction = Interaction.objects.get(pk=data["id"])
    assert Promise.objects.get(interaction=interaction).text == "Send the quote"
    assert Need.objects.get(title="A second oven").person == anna
    assert ProfileFact.objects.get(source_interaction=interaction).value == "Sails on Sundays"
    assert FollowUp.objects.get(interaction=interaction).due_on == date(2026, 5, 11)
    old_need.refresh_from_db()
    assert old_need.status == "solved"
    anna.refresh_from_db()
    assert anna.last_contacted_at is not None


@pytest.mark.django_db
def test_a_person_of_another_workspace_in_the_body_is_a_field_error(
    owner_api: Client, workspace: Workspace, other_workspace: Workspace
) -> None:
    mine = PersonFactory(workspace=workspace)
    theirs = PersonFactory(workspace=other_workspace, first_name="Elsewhere")
    response = _log(owner_api, {"people": [mine.pk, theirs.pk], "summary": "Hi"})
    assert response.status_code == 400
    assert [e["pointer"] for e in response.json()["errors"]] == ["#/people"]
    assert "Elsewhere" not in response.content.decode()
    assert not Interaction.objects.exists()


@pytest.mark.django_db
def test_a_private_fact_needs_the_private_scope(owner_api: Client, workspace: Workspace) -> None:
    anna = PersonFactory(workspace=workspace)
    response = _log(owner_api, {"people": [anna.pk], "summary": "Hi", "facts": [{"fact_type": "health", "value": "x"}]})
    assert response.status_code == 400
    assert response.json()["errors"][0]["pointer"] == "#/facts"
    assert not Interaction.objects.exists()


@pytest.mark.django_db
def test_a_conversation_in_the_future_is_refused(owner_api: Client, workspace: Workspace) -> None:
    anna = PersonFactory(workspace=workspace)
    response = _log(owner_api, {"people": [anna.pk], "summary": "Hi", "occurred_at": "2200-01-01T10:00:00Z"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["pointer"] == "#/occurred_at"


@pytest.mark.django_db
def test_it_lists_conversations_of_a_person_newest_first(owner_api: Client, owner: User, workspace: Workspace) -> None:
    anna = PersonFactory(workspace=workspace)
    for summary, when in (("old", "2026-01-01T10:00Z"), ("new", "2026-02-01T10:00Z")):
        interaction_services.interaction_log(
            workspace=workspace, user=owner, people=[anna], summary=summary, occurred_at=when
        )
    page = owner_api.get(CONVERSATIONS, {"person": anna.pk}).json()
    assert [c["summary"] for c in page["results"]] == ["new", "old"]


@pytest.mark.django_db
@time_machine.travel("2026-05-04 10:00Z", tick=False)
def test_follow_ups_are_done_and_snoozed(owner_api: Client, workspace: Workspace) -> None:
    anna = PersonFactory(workspace=workspace)
    follow_up = reminder_services.follow_up_create(person=anna, due_on=date(2026, 5, 4))
    snoozed = owner_api.post(
        f"/api/v1/follow-ups/{follow_up.pk}/snooze/", {"until": "2026-05-07"}, content_type="application/json"
    )
    assert snoozed.status_code == 200
    assert snoozed.json()["effective_due"] == "2026-05-07"
    too_early = owner_api.post(
        f"/api/v1/follow-ups/{follow_up.pk}/snooze/", {"until": "2026-05-01"}, content_type="application/json"
    )
    assert too_early.status_code == 400
    assert too_early.json()["errors"][0]["pointer"] == "#/until"
    done = owner_api.post(f"/api/v1/follow-ups/{follow_up.pk}/done/")
    assert done.json()["done_at"] is not None
    assert owner_api.post(f"/api/v1/follow-ups/{follow_up.pk}/done/").status_code == 200
    assert owner_api.get("/api/v1/follow-ups/").json()["results"] == []


@pytest.mark.django_db
def test_promises_are_kept_and_needs_moved_along(owner_api: Client, workspace: Workspace) -> None:
    anna = PersonFactory(workspace=workspace)
    promise = interaction_services.promise_create(person=anna, text="Send the quote")
    need = interaction_services.need_open(person=anna, title="Oven")
    assert owner_api.post(f"/api/v1/promises/{promise.pk}/keep/").json()["kept_at"] is not None
    assert owner_api.get("/api/v1/promises/").json()["results"] == []
    moved = owner_api.patch(f"/api/v1/needs/{need.pk}/", {"status": "solved"}, content_type="application/json")
    assert moved.json()["status"] == "solved"
    assert owner_api.get("/api/v1/needs/").json()["results"] == []


@pytest.mark.django_db
@time_machine.travel("2026-05-06 10:00Z", tick=False)
def test_this_week_lists_the_dashboards_items(owner_api: Client, owner: User, workspace: Workspace) -> None:
    anna = PersonFactory(workspace=workspace, first_name="Anna", last_name="Berg", owner=owner)
    reminder_services.follow_up_create(person=anna, due_on=date(2026, 5, 4), note="Call about the order")
    reminder_services.follow_up_create(person=anna, due_on=date(2026, 5, 6))
    interaction_services.promise_create(person=anna, text="Send the quote", user=owner)
    data = owner_api.get("/api/v1/this-week/").json()
    assert data["today"] == "2026-05-06"
    assert [(i["kind"], i["note"]) for i in data["overdue"]] == [("follow_up", "Call about the order")]
    assert [i["due"] for i in data["due_today"]] == ["2026-05-06"]
    assert [p["text"] for p in data["promises"]] == ["Send the quote"]


@pytest.mark.django_db
def test_the_outsiders_token_finds_nothing_of_ours(outsider_api: Client, workspace: Workspace) -> None:
    anna = PersonFactory(workspace=workspace)
    follow_up = reminder_services.follow_up_create(person=anna, due_on=date(2026, 5, 4))
    assert outsider_api.post(f"/api/v1/follow-ups/{follow_up.pk}/done/").status_code == 404
    assert outsider_api.get(CONVERSATIONS, {"person": anna.pk}).status_code == 400
    assert Person.objects.get(pk=anna.pk).archived_at is None
