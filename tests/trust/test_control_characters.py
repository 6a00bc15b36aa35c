"""NUL and other control characters in any query parameter, form field or URL part never give a 500.

PostgreSQL refuses NUL in a text value (``ValueError: A string literal cannot contain NUL``),
so one such character anywhere a view passes input to a query was a server error. The URL list
comes from the resolver, so a new view is walked without editing this test; each request is
made as the owner, in a savepoint rolled back afterwards.
"""

from __future__ import annotations

import base64
import json

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse

from crm.models import User, Workspace
from tests.trust.summary import record
from tests.trust.urls import TOKEN_ARGUMENTS, form_fields, url_kwargs, url_patterns, workspace_objects

# The names views read from the query string or a form without a form on the page to find them in.
PARAMETERS = [
    "q", "tag", "owner", "topic", "kind", "status", "sort", "scope", "member", "page", "year", "month",
    "type", "person", "people", "other", "ids", "action", "email", "name", "next", "key", "role",
    "until", "snooze", "occurrence", "on", "confirm", "confirm_name", "summary", "text", "query_string",
    "include_private", "username", "password", "regenerate",
]  # fmt: skip
VALUES = ["Ann\x00a", "x\x01\x08\x0b\x0c\x0e\x1f\x7fy"]


def _cursor(*values: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


# A cursor of ours in form, carrying NUL and a lone surrogate, for orderings of 2 to 4 keys.
CURSORS = [_cursor(*(["\x00"] * n)) for n in (2, 3, 4)] + [_cursor("\ud800", "\ud800", 1)]


def _token_kwargs(converters: list[str]) -> dict[str, str]:
    return {arg: "to\x00ken" if arg == "token" else "MQ\x00" for arg in converters}


@pytest.mark.django_db
def test_no_control_character_in_any_input_is_a_server_error(
    owner: User, member: User, workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = workspace_objects(owner=owner, member=member, workspace=workspace, text="Control")
    client = Client(raise_request_exception=False)
    tried, errors = 0, []

    def send(method: str, url: str, data: dict[str, object]) -> None:
        nonlocal tried
        savepoint = transaction.savepoint()
        try:
            owner.refresh_from_db()
            client.force_login(owner)  # some actions end the session (log out everywhere)
            response = getattr(client, method)(url, data)
            tried += 1
            if response.status_code >= 500:
                errors.append(f"{method.upper()} {url} {sorted(data)} answered {response.status_code}")
        finally:
            transaction.savepoint_rollback(savepoint)

    for name, converters in url_patterns():
        if TOKEN_ARGUMENTS & set(converters):
            url = reverse(name, kwargs=_token_kwargs(converters))
        else:
            url = reverse(name, kwargs=url_kwargs(name, converters, ids))
        client.force_login(owner)
        fields, _files = form_fields(client, url)
        names = sorted({*fields, *PARAMETERS})
        for value in VALUES:
            data: dict[str, object] = dict.fromkeys(names, value)
            send("get", url, data)
            send("post", url, data)
        for cursor in CURSORS:
            send("get", url, {"after": cursor})
        send("get", url, {"before": CURSORS[1]})  # read the same way as "after"; once is enough

    record("control chars", inputs_tried=tried, server_errors=len(errors))
    with capsys.disabled():
        print(f"\ncontrol characters: {tried} requests, {len(errors)} server errors")
    assert errors == []
    assert tried > 500


@pytest.mark.django_db
def test_it_searches_for_what_was_typed_without_its_control_characters(
    owner_client: Client, workspace: Workspace
) -> None:
    from tests.factories import PersonFactory

    PersonFactory(workspace=workspace, first_name="Anna", last_name="Berg")

    response = owner_client.get(reverse("people:list"), {"q": "An\x00na\x7f"})

    assert response.status_code == 200
    assert [p.first_name for p in response.context["page"]] == ["Anna"]
    assert response.context["values"]["q"] == "Anna"


@pytest.mark.django_db
def test_it_answers_not_found_for_a_link_with_a_control_character(owner_client: Client) -> None:
    response = owner_client.get(reverse("exports:feed", args=["to\x00ken"]))

    assert response.status_code == 404


@pytest.mark.django_db
def test_a_cookie_with_a_control_character_is_no_session(owner: User) -> None:
    client = Client(raise_request_exception=False, HTTP_COOKIE='sessionid="abcdefgh\\000ijklmnop"')

    response = client.get(reverse("people:list"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
