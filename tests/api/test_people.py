"""People over the API: added with their records through the Add form's checks, listed as the
people list lists them, read with ETags, created once per Idempotency-Key."""

from __future__ import annotations

import pytest
import time_machine
from django.test import Client

from api.models import IdempotentRequest
from crm.models import User, Workspace
from people.models import ContactMethod, Person
from tests.factories import PersonFactory

PEOPLE = "/api/v1/people/"
ANNA = {
    "first_name": "Anna",
    "last_name": "Berg",
    "company": "Berg Bakery",
    "tags": ["VIP", "wholesale"],
    "interests": ["sailing"],
    "birthday": {"day": 15, "month": 4},
    "contact_methods": [
        {"kind": "email", "value": "Anna@Example.com"},
        {"kind": "phone", "label": "mobile", "value": "+44 20 7946 0958"},
    ],
    "family": [{"relation": "spouse", "name": "Lars", "birthday": {"day": 2, "month": 9, "year": 1979}}],
    "pets": [{"name": "Max", "species": "dog"}],
    "important_dates": [{"label": "Shop opened", "date": {"day": 1, "month": 6, "year": 2010}}],
    "preferences": {"preferred_channel": "phone", "contact_every": 2, "contact_every_unit": "weeks"},
}


def _post(api: Client, body: object, **headers: str) -> object:
    return api.post(PEOPLE, body, content_type="application/json", headers=headers)


@pytest.mark.django_db
@time_machine.travel("2026-05-04 10:00Z", tick=False)
def test_it_adds_a_person_with_everything_the_add_form_takes(owner_api: Client, owner: User) -> None:
    response = _post(owner_api, ANNA)
    assert response.status_code == 201, response.content
    data = response.json()
    assert response["Location"] == f"{PEOPLE}{data['id']}/"
    assert data["company"] == "Berg Bakery"
    assert data["tags"] == ["vip", "wholesale"]
    assert data["interests"] == ["sailing"]
    assert data["birthday"] == {"day": 15, "month": 4, "year": None}
    assert data["owner"]["email"] == owner.email
    # Normalised as the form does: email lower-cased, phone in E.164.
    assert {(c["kind"], c["value"]) for c in data["contact_methods"]} == {
        ("email", "anna@example.com"),
        ("phone", "+442079460958"),
    }
    assert all(c["is_primary"] for c in data["contact_methods"])
    assert data["family"][0]["name"] == "Lars"
    assert data["pets"][0]["name"] == "Max"
    assert data["important_dates"][0]["date"] == {"day": 1, "month": 6, "year": 2010}
    assert data["preferences"]["contact_every"] == 2
    person = Person.objects.get(pk=data["id"])
    assert person.stay_due_at is not None  # the cadence counts from now, as on the page


@pytest.mark.django_db
def test_it_answers_field_errors_and_writes_nothing(owner_api: Client) -> None:
    body = {
        **ANNA,
        "contact_methods": [{"kind": "phone", "value": "12"}],
        "birthday": {"day": 31, "month": 2},
    }
    response = _post(owner_api, body)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    pointers = {e["pointer"] for e in response.json()["errors"]}
    assert "#/contact_methods/0/value" in pointers
    assert "#/birthday" in pointers
    assert not Person.objects.exists()
    assert not ContactMethod.objects.exists()


@pytest.mark.django_db
def test_a_family_link_to_another_workspaces_person_is_a_field_error(
    owner_api: Client, other_workspace: Workspace
) -> None:
    theirs = PersonFactory(workspace=other_workspace, first_name="Elsewhere")
    response = _post(
        owner_api, {"first_name": "Anna", "family": [{"relation": "child", "name": "E", "linked_person": theirs.pk}]}
    )
    assert response.status_code == 400
    assert [e["pointer"] for e in response.json()["errors"]] == ["#/family/0/linked_person"]
    assert not Person.objects.filter(first_name="Anna").exists()


@pytest.mark.django_db
def test_a_retried_create_with_the_same_key_creates_once(owner_api: Client) -> None:
    first = _post(owner_api, ANNA, **{"Idempotency-Key": "order-1234"})
    again = _post(owner_api, ANNA, **{"Idempotency-Key": "order-1234"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Person.objects.count() == 1
    other = _post(owner_api, {**ANNA, "first_name": "Ben"}, **{"Idempotency-Key": "order-1234"})
    assert other.status_code == 422
    assert Person.objects.count() == 1
    assert _post(owner_api, ANNA, **{"Idempotency-Key": "order-1235"}).status_code == 201
    assert Person.objects.count() == 2
    assert IdempotentRequest.objects.count() == 2


@pytest.mark.django_db
def test_a_failed_create_keeps_no_key(owner_api: Client) -> None:
    assert _post(owner_api, {"first_name": ""}, **{"Idempotency-Key": "k"}).status_code == 400
    assert _post(owner_api, {"first_name": "Anna"}, **{"Idempotency-Key": "k"}).status_code == 201


@pytest.mark.django_db
def test_it_lists_and_searches_people_as_the_people_list(owner_api: Client, workspace: Workspace) -> None:
    PersonFactory(workspace=workspace, first_name="Anna", last_name="Berg", tags=["vip"])
    PersonFactory(workspace=workspace, first_name="Carl", last_name="Dahl")
    PersonFactory(workspace=workspace, first_name="Eva", last_name="Ek", archived_at="2026-01-01T00:00Z")
    names = [p["last_name"] for p in owner_api.get(PEOPLE).json()["results"]]
    assert names == ["Berg", "Dahl"]
    assert [p["first_name"] for p in owner_api.get(PEOPLE, {"q": "ann"}).json()["results"]] == ["Anna"]
    assert [p["tags"] for p in owner_api.get(PEOPLE, {"tag": "vip"}).json()["results"]] == [["vip"]]
    assert [p["last_name"] for p in owner_api.get(PEOPLE, {"sort": "-name"}).json()["results"]] == ["Dahl", "Berg"]
    assert [p["first_name"] for p in owner_api.get(PEOPLE, {"archived": "on"}).json()["results"]] == ["Eva"]


@pytest.mark.django_db
def test_cursor_pages_walk_everyone_once(owner_api: Client, workspace: Workspace) -> None:
    for i in range(7):
        PersonFactory(workspace=workspace, first_name=f"P{i}", last_name="Same")
    seen: list[int] = []
    url: str | None = f"{PEOPLE}?limit=3"
    while url:
        page = owner_api.get(url).json()
        assert page["count"] == 7
        seen += [p["id"] for p in page["results"]]
        url = page["next"]
    assert len(seen) == len(set(seen)) == 7
    assert owner_api.get(PEOPLE, {"after": "not-a-cursor"}).status_code == 200


@pytest.mark.django_db
def test_it_answers_304_to_a_matching_etag(owner_api: Client, workspace: Workspace) -> None:
    person = PersonFactory(workspace=workspace, first_name="Anna")
    first = owner_api.get(f"{PEOPLE}{person.pk}/")
    etag = first["ETag"]
    assert owner_api.get(f"{PEOPLE}{person.pk}/", headers={"If-None-Match": etag}).status_code == 304
    owner_api.patch(f"{PEOPLE}{person.pk}/", {"nickname": "Annie"}, content_type="application/json")
    changed = owner_api.get(f"{PEOPLE}{person.pk}/", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.json()["nickname"] == "Annie"


@pytest.mark.django_db
def test_patch_changes_only_what_is_sent_and_a_list_replaces_the_stored_one(owner_api: Client) -> None:
    pk = _post(owner_api, ANNA).json()["id"]
    response = owner_api.patch(
        f"{PEOPLE}{pk}/", {"job_title": "Baker", "pets": [{"name": "Rex"}]}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["job_title"] == "Baker"
    assert data["company"] == "Berg Bakery"
    assert [p["name"] for p in data["pets"]] == ["Rex"]
    assert len(data["contact_methods"]) == 2


@pytest.mark.django_db
def test_private_facts_only_with_the_private_scope(api_client: object, owner: User, workspace: Workspace) -> None:
    from people import services

    person = PersonFactory(workspace=workspace, first_name="Anna", topics_to_avoid="her divorce")
    services.fact_add(person=person, fact_type="health", value="diabetic")
    services.fact_add(person=person, fact_type="hobbies", value="chess")
    plain = api_client(owner, workspace).get(f"{PEOPLE}{person.pk}/").json()  # type: ignore[operator]
    assert [f["value"] for f in plain["facts"]] == ["chess"]
    assert plain["preferences"]["topics_to_avoid"] is None
    private = api_client(owner, workspace, private=True).get(f"{PEOPLE}{person.pk}/").json()  # type: ignore[operator]
    assert {f["value"] for f in private["facts"]} == {"chess", "diabetic"}
    assert private["preferences"]["topics_to_avoid"] == "her divorce"


@pytest.mark.django_db
def test_only_owners_delete_people(owner_api: Client, member_api: Client, workspace: Workspace) -> None:
    person = PersonFactory(workspace=workspace)
    refused = member_api.delete(f"{PEOPLE}{person.pk}/")
    assert refused.status_code == 403
    assert "owners" in refused.json()["detail"]
    assert owner_api.delete(f"{PEOPLE}{person.pk}/").status_code == 204
    assert not Person.objects.filter(pk=person.pk).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("get", "/api/v1/nowhere/", None, 404),
        ("get", "/api/v1/people/999999/", None, 404),
        ("put", "/api/v1/people/", "{}", 405),
        ("post", "/api/v1/people/", "{not json", 400),
        ("post", "/api/v1/people/", "[]", 400),
    ],
)
def test_errors_are_problem_documents_never_html(
    owner_api: Client, method: str, path: str, body: str | None, status: int
) -> None:
    response = getattr(owner_api, method)(path, body, content_type="application/json")
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == status
