"""Hostile JSON to every API route and method never gets a 500 or an HTML page.

Like test_fuzz.py for the pages: the routes come from the resolver, ids in the path are the
user's own objects, and the bodies are any JSON (nested, huge numbers, NUL-laden Unicode, the
fields writes read, each any value) with the user's ids among them. Each example runs in a
savepoint rolled back afterwards; derandomised, so CI sees the same examples every run.
"""

from __future__ import annotations

import json

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from hypothesis import given, note
from hypothesis import strategies as st

from api import services as api_services
from crm.models import User, Workspace
from tests.trust.fuzzing import EDGE_VALUES, fuzz_settings
from tests.trust.summary import record
from tests.trust.urls import api_patterns, url_kwargs, workspace_objects

EXAMPLES = 5
FIELDS = [
    "people", "summary", "first_name", "last_name", "company", "tags", "birthday", "contact_methods", "family",
    "pets", "important_dates", "preferences", "promises", "needs", "facts", "mentioned_needs", "solved_needs",
    "follow_up_on", "occurred_at", "kind", "status", "until", "owner", "linked_person",
]  # fmt: skip


def _bodies(own_ids: list[int]) -> st.SearchStrategy[object]:
    scalar = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=False),
        st.text(max_size=30),
        st.sampled_from(EDGE_VALUES + own_ids),
    )
    value = st.recursive(
        scalar,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
        max_leaves=8,
    )
    return st.one_of(st.fixed_dictionaries({}, optional=dict.fromkeys(FIELDS, value)), value)


def _fuzz(client: Client, url: str, bodies: st.SearchStrategy[object]) -> int:
    """Send ``EXAMPLES`` hostile writes to ``url``; each in a savepoint rolled back afterwards."""
    sent = 0

    @fuzz_settings(EXAMPLES)
    @given(body=bodies, method=st.sampled_from(["post", "patch", "put", "delete"]))
    def write(body: object, method: str) -> None:
        nonlocal sent
        note(f"{method.upper()} {url} {body!r}")
        savepoint = transaction.savepoint()
        try:
            response = getattr(client, method)(url, json.dumps(body), content_type="application/json")
            sent += 1
            assert response.status_code < 500, f"{method.upper()} {url} answered {response.status_code}"
            if not url.startswith(("/api/v1/docs/", "/api/v1/schema/")):
                assert "html" not in response.get("Content-Type", ""), f"{method.upper()} {url} answered HTML"
        finally:
            transaction.savepoint_rollback(savepoint)

    write()
    return sent


@pytest.mark.django_db
def test_no_api_request_is_a_server_error(
    owner: User, member: User, workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = workspace_objects(owner=owner, member=member, workspace=workspace, text="Fuzzy")
    own_ids = sorted(set(ids.values()))
    _, secret = api_services.token_create(user=owner, workspace=workspace, name="fuzz", write=True, private=True)
    client = Client(headers={"Authorization": f"Bearer {secret}"}, raise_request_exception=False)
    routes = [reverse(name, kwargs=url_kwargs(name, converters, ids)) for name, converters in api_patterns()]
    sent = sum(_fuzz(client, url, _bodies(own_ids)) for url in routes)
    record("fuzz", hostile_requests=sent, server_errors=0)
    with capsys.disabled():
        print(f"\napi fuzz: {sent} hostile requests to {len(routes)} routes, 0 server errors")
    assert len(routes) > 15
