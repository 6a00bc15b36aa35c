"""Every route of the API, filled with workspace A's objects, asked with B's token; and every
write asked with a viewer's and a read-only token of A.

The routes come from the resolver (``api_patterns``), so a new endpoint is covered without
editing this test. Ids of A's objects are also put in the body of every write: a person or a
need of another workspace is a field error, never a link.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from api import services as api_services
from crm.models import User, Workspace
from tests.trust.summary import record
from tests.trust.test_roles_matrix import _book
from tests.trust.urls import api_patterns, url_kwargs, workspace_objects

SECRET = "Zanzibar-Secret"
METHODS = ("get", "post", "patch", "put", "delete")
UNROUTED = {"api:not_found"}
# Creates whose body names no object: the outsider's company or tag is made in their own
# workspace (workspace A's book stays as it was, checked below).
NAMES_NOTHING = {"api:companies", "api:tags"}


def _client(user: User, workspace: Workspace, **scope: bool) -> Client:
    _, secret = api_services.token_create(user=user, workspace=workspace, name="matrix", **scope)
    return Client(headers={"Authorization": f"Bearer {secret}"})


def _hostile_body(ids: dict[str, int]) -> str:
    """Every field a write reads that can name an object, naming A's."""
    person = ids["person"]
    return json.dumps(
        {
            "people": [person],
            "person": person,
            "other": person,
            "summary": "Planted",
            "title": "Planted",
            "text": "Planted",
            "name": "Planted",
            "fact_type": "hobbies",
            "value": "Planted",
            "first_name": "Planted",
            "family": [{"relation": "child", "name": "Planted", "linked_person": person}],
            "mentioned_needs": [ids["need"]],
            "solved_needs": [ids["need"]],
            "owner": ids["workspace"],
            "status": "solved",
            "until": "2100-01-01",
        }
    )


def _routes(ids: dict[str, int]) -> list[tuple[str, str, bool]]:
    return [
        (name, reverse(name, kwargs=url_kwargs(name, converters, ids)), bool(converters))
        for name, converters in api_patterns()
        if name not in UNROUTED
    ]


@pytest.mark.django_db
def test_no_api_route_reaches_another_workspaces_data(
    owner: User, member: User, workspace: Workspace, outsider: User, other_workspace: Workspace,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    ids = workspace_objects(owner=owner, member=member, workspace=workspace, text=SECRET)
    before = _book(workspace)
    api = _client(outsider, other_workspace, write=True, private=True)
    body = _hostile_body(ids)
    tried, leaks = 0, []
    for name, url, names_object in _routes(ids):
        for method in METHODS:
            if method == "get":
                response = api.get(url, {"person": ids["person"], "q": SECRET.split("-")[0]})
            else:
                response = getattr(api, method)(url, body, content_type="application/json")
            tried += 1
            if SECRET.encode() in response.content:
                leaks.append(f"{method.upper()} {url} shows workspace A's data")
            if response.status_code >= 500:
                leaks.append(f"{method.upper()} {url} answered {response.status_code}")
            if names_object and response.status_code not in {404, 405}:
                leaks.append(f"{method.upper()} {url} answered {response.status_code}")
            if (
                not names_object
                and method == "post"
                and response.status_code in {200, 201}
                and name not in NAMES_NOTHING
            ):
                leaks.append(f"POST {url} with A's ids in the body answered {response.status_code}")
            if response.status_code not in {304, 204} and response["Content-Type"] not in {
                "application/json",
                "application/problem+json",
                "application/vnd.oai.openapi; charset=utf-8",
                "text/html; charset=utf-8",
            }:
                leaks.append(f"{method.upper()} {url} answered {response['Content-Type']}")
    record("isolation", requests_tried=tried, leaks_found=len(leaks))
    with capsys.disabled():
        print(f"\napi isolation matrix: {tried} requests over {len(_routes(ids))} routes, {len(leaks)} leaks")
    assert leaks == []
    assert tried > 80
    assert _book(workspace) == before


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["viewer", "read token"])
def test_no_api_write_works_for_a_viewer_or_a_read_only_token(
    who: str, owner: User, member: User, viewer: User, workspace: Workspace
) -> None:
    ids = workspace_objects(owner=owner, member=member, workspace=workspace, text="Anna")
    before = _book(workspace)
    api = _client(viewer, workspace) if who == "viewer" else _client(member, workspace)
    body = json.dumps({"people": [ids["person"]], "summary": "Planted", "first_name": "Planted", "status": "solved"})
    wrong, refused = [], 0
    for _name, url, _ in _routes(ids):
        if url.startswith(("/api/v1/schema/", "/api/v1/docs/")):
            continue
        if (status := api.get(url).status_code) not in {200, 405}:  # 405: an action, POST only
            wrong.append(f"GET {url} answered {status}")
        for method in ("post", "patch", "put", "delete"):
            status = getattr(api, method)(url, body, content_type="application/json").status_code
            if status == 403:
                refused += 1
            elif status != 405:
                wrong.append(f"{method.upper()} {url} answered {status}")
    assert wrong == []
    assert refused >= 8
    assert _book(workspace) == before


@pytest.mark.django_db
def test_every_api_route_without_a_token_is_a_401_problem(owner: User, member: User, workspace: Workspace) -> None:
    ids = workspace_objects(owner=owner, member=member, workspace=workspace, text="Anna")
    client = Client()
    for _name, url, _ in _routes(ids):
        if url.startswith(("/api/v1/schema/", "/api/v1/docs/")):
            continue  # public: the schema and its docs hold no data
        response = client.get(url)
        assert response.status_code == 401, url
        assert response["Content-Type"] == "application/problem+json", url
