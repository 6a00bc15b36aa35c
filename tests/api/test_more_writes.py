"""The API's writes beyond people and logging: companies, tags, facts, needs and promises on
their own; correcting and deleting a conversation; archiving, restoring and merging people.
Each goes through the service its page uses, so the pages show the result."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.test import Client

from crm.models import User, Workspace
from interactions import services as interaction_services
from interactions.models import Interaction, Need, Promise
from people.models import Company, Person, ProfileFact, Tag
from tests.factories import PersonFactory

NOON = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)


def _post(api: Client, url: str, body: object, **headers: str) -> Any:
    return api.post(url, body, content_type="application/json", headers=headers)


def _errors(response: Any) -> dict[str, str]:
    """The field errors of a problem document, by pointer."""
    assert response.status_code == 400, response.content
    return {e["pointer"]: e["detail"] for e in response.json()["errors"]}


@pytest.mark.django_db
def test_a_company_is_made_once_whatever_the_case(
    owner_api: Client, owner_client: Client, workspace: Workspace
) -> None:
    made = _post(owner_api, "/api/v1/companies/", {"name": "  Berg   Bakery "})
    assert made.status_code == 201, made.content
    assert made.json()["name"] == "Berg Bakery"
    again = _post(owner_api, "/api/v1/companies/", {"name": "berg bakery"})
    assert (again.status_code, again.json()["id"]) == (200, made.json()["id"])
    assert Company.objects.for_workspace(workspace).count() == 1
    assert owner_api.get(made["Location"]).json()["people"] == 0
    assert list(_errors(_post(owner_api, "/api/v1/companies/", {"name": "   "}))) == ["#/name"]


@pytest.mark.django_db
def test_tags_and_interests_are_made_once(owner_api: Client, workspace: Workspace) -> None:
    tag = _post(owner_api, "/api/v1/tags/", {"name": "VIP  Customer"})
    assert (tag.status_code, tag.json()["name"], tag.json()["kind"]) == (201, "vip customer", "label")
    interest = _post(owner_api, "/api/v1/tags/", {"name": "vip customer", "kind": "interest"})
    assert interest.status_code == 201  # an interest is not a tag of the same name
    assert _post(owner_api, "/api/v1/tags/", {"name": "VIP customer"}).status_code == 200
    assert Tag.objects.for_workspace(workspace).count() == 2
    assert _post(owner_api, "/api/v1/tags/", {"name": "x", "kind": "colour"}).status_code == 400


@pytest.mark.django_db
@time_machine.travel(NOON, tick=False)
def test_a_fact_is_noted_listed_and_forgotten_private_ones_only_with_the_private_scope(
    owner_api: Client, api_client: object, owner: User, workspace: Workspace, owner_client: Client
) -> None:
    anna = PersonFactory(workspace=workspace, first_name="Anna")
    url = f"/api/v1/people/{anna.pk}/facts/"
    made = _post(owner_api, url, {"fact_type": "hobbies", "value": "Sails on Sundays"})
    assert made.status_code == 201, made.content
    assert (made.json()["section"], made.json()["learned_on"]) == ("lifestyle", "2026-05-04")
    assert "Sails on Sundays" in owner_client.get(f"/people/{anna.pk}/profile/").content.decode()

    assert list(_errors(_post(owner_api, url, {"fact_type": "health", "value": "Bad back"}))) == ["#/fact_type"]
    private_api = api_client(owner, workspace, private=True)  # type: ignore[operator]
    secret = _post(private_api, url, {"fact_type": "health", "value": "Bad back"})
    assert secret.status_code == 201
    assert [f["value"] for f in owner_api.get(url).json()] == ["Sails on Sundays"]
    assert owner_api.get(secret["Location"]).status_code == 404  # not shown, not deletable
    assert owner_api.delete(secret["Location"]).status_code == 404
    assert {f["value"] for f in private_api.get(url).json()} == {"Sails on Sundays", "Bad back"}

    assert owner_api.delete(made["Location"]).status_code == 204
    assert list(ProfileFact.objects.values_list("value", flat=True)) == ["Bad back"]


@pytest.mark.django_db
def test_a_need_and_a_promise_are_noted_for_a_person_of_this_workspace_only(
    owner_api: Client, owner: User, workspace: Workspace, other_workspace: Workspace
) -> None:
    anna = PersonFactory(workspace=workspace)
    stranger = PersonFactory(workspace=other_workspace)
    need = _post(owner_api, "/api/v1/needs/", {"person": anna.pk, "title": "A second oven"})
    assert need.status_code == 201, need.content
    assert (need.json()["status"], need.json()["person"]["id"]) == ("open", anna.pk)
    promise = _post(
        owner_api, "/api/v1/promises/", {"person": anna.pk, "text": "Send the quote", "due_on": "2026-05-06"}
    )
    assert promise.status_code == 201, promise.content
    assert Promise.objects.get().made_by == owner
    for url, body in (("/api/v1/needs/", {"title": "Planted"}), ("/api/v1/promises/", {"text": "Planted"})):
        errors = _errors(_post(owner_api, url, {"person": stranger.pk, **body}))
        assert errors == {"#/person": "No such person in this workspace."}
    assert Need.objects.count() == 1
    assert Promise.objects.count() == 1
    retried = [_post(owner_api, "/api/v1/needs/", {"person": anna.pk, "title": "Flour"}, **{"Idempotency-Key": "k1"})
               for _ in range(2)]  # fmt: skip
    assert retried[0].json() == retried[1].json()
    assert Need.objects.filter(title="Flour").count() == 1


@pytest.mark.django_db
def test_a_conversation_is_corrected_and_deleted_and_last_contacted_follows(
    owner_api: Client, owner: User, workspace: Workspace
) -> None:
    anna = PersonFactory(workspace=workspace, first_name="Anna")
    ben = PersonFactory(workspace=workspace, first_name="Ben")
    with time_machine.travel(NOON, tick=False):
        earlier = interaction_services.interaction_log(
            workspace=workspace, user=owner, people=[anna], summary="First", kind="call",
            occurred_at=datetime(2026, 4, 1, 9, tzinfo=UTC),
        )  # fmt: skip
        talk = interaction_services.interaction_log(
            workspace=workspace, user=owner, people=[anna], summary="Typo", kind="call", occurred_at=NOON
        )
        url = f"/api/v1/conversations/{talk.pk}/"
        fixed = owner_api.patch(url, {"summary": "Summer order", "people": [ben.pk]}, content_type="application/json")
        assert fixed.status_code == 200, fixed.content
        assert (fixed.json()["summary"], [p["id"] for p in fixed.json()["people"]]) == ("Summer order", [ben.pk])
        assert fixed.json()["kind"] == "call"  # what was not sent stays
        anna.refresh_from_db()
        assert anna.last_contacted_at == earlier.occurred_at  # no longer in the corrected one
        future = owner_api.patch(url, {"occurred_at": "2030-01-01T10:00:00Z"}, content_type="application/json")
        assert list(_errors(future)) == ["#/occurred_at"]

        assert owner_api.delete(url).status_code == 204
    assert not Interaction.objects.filter(pk=talk.pk).exists()
    ben.refresh_from_db()
    assert ben.last_contacted_at is None


@pytest.mark.django_db
def test_people_are_archived_restored_and_merged(owner_api: Client, owner_client: Client, workspace: Workspace) -> None:
    anna = PersonFactory(workspace=workspace, first_name="Anna", last_name="Berg", nickname="")
    archived = _post(owner_api, f"/api/v1/people/{anna.pk}/archive/", None)
    assert archived.status_code == 200
    assert archived.json()["archived_at"] is not None
    assert [p["id"] for p in owner_api.get("/api/v1/people/", {"archived": "true"}).json()["results"]] == [anna.pk]
    restored = _post(owner_api, f"/api/v1/people/{anna.pk}/restore/", None)
    assert restored.json()["archived_at"] is None

    twin = PersonFactory(workspace=workspace, first_name="Anne", last_name="Berg", nickname="Annie")
    interaction_services.need_open(person=twin, title="Oven")
    merged = _post(owner_api, f"/api/v1/people/{anna.pk}/merge/", {"other": twin.pk})
    assert merged.status_code == 200, merged.content
    assert (merged.json()["first_name"], merged.json()["nickname"]) == ("Anna", "Annie")  # only the empty field
    assert not Person.objects.filter(pk=twin.pk).exists()
    assert Need.objects.get().person_id == anna.pk
    assert "Annie" in owner_client.get(f"/people/{anna.pk}/").content.decode()

    other = PersonFactory(workspace=workspace, first_name="Bea")
    chosen = _post(
        owner_api, f"/api/v1/people/{anna.pk}/merge/", {"other": other.pk, "take_from_other": ["first_name"]}
    )
    assert chosen.json()["first_name"] == "Bea"
    assert list(_errors(_post(owner_api, f"/api/v1/people/{anna.pk}/merge/", {"other": anna.pk}))) == ["#/other"]
