"""Hostile data posted to every view of the project never gets a 500.

The views come from the resolver (a new one, such as an upload, is fuzzed without editing this
file); ids in the URL are the user's own objects. The fields posted are those of the page's own
form plus the names actions read directly, each missing, empty, a number as text, very long, a list,
NUL-laden Unicode or another of the user's ids. Each example runs in a savepoint rolled back
afterwards, so every one starts from the same data and a delete does not starve the rest.

Derandomised: CI sees the same examples every run; a failure shows the URL and the data.
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import NoReverseMatch, reverse
from hypothesis import given, note
from hypothesis import strategies as st

from crm.models import User, Workspace
from interactions import services as interaction_services
from tests.factories import PersonFactory
from tests.trust.fuzzing import EDGE_VALUES, fuzz_settings
from tests.trust.summary import record
from tests.trust.urls import PUBLIC, TOKEN_ARGUMENTS, form_fields, url_kwargs, url_patterns, workspace_objects

EXAMPLES = 6
# Fields that actions read from request.POST without a form on a page to discover them from.
ACTION_FIELDS = [
    "ids", "action", "tag", "owner", "status", "role", "until", "key", "occurs_on", "next", "confirm",
    "confirm_name", "person", "people", "summary", "text", "email", "name", "query_string",
]  # fmt: skip


def _data(fields: list[str], files: list[str], own_ids: list[int]) -> st.SearchStrategy[dict[str, object]]:
    scalar = st.one_of(
        st.text(max_size=40),  # any Unicode but lone surrogates, NUL included
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
        st.sampled_from(EDGE_VALUES + [str(i) for i in own_ids]),
    )
    value = st.one_of(scalar, st.lists(scalar, min_size=0, max_size=3))
    upload = st.binary(max_size=2000).map(lambda content: SimpleUploadedFile("upload.bin", content))
    optional = dict.fromkeys(fields, value) | dict.fromkeys(files, upload)
    return st.fixed_dictionaries({}, optional=optional)


def _fuzz(client: Client, user: User, url: str, strategy: st.SearchStrategy, *, may_log_out: bool) -> int:
    """Post ``EXAMPLES`` examples to ``url``; each in a savepoint rolled back afterwards."""
    posted = 0

    @fuzz_settings(EXAMPLES)
    @given(data=strategy, logged_in=st.booleans() if may_log_out else st.just(True))
    def post(data: dict[str, object], logged_in: bool) -> None:
        nonlocal posted
        note(f"POST {url}")
        savepoint = transaction.savepoint()
        try:
            if logged_in:
                client.force_login(user)
            else:
                client.logout()
            response = client.post(url, data)
            posted += 1
            assert response.status_code < 500, f"POST {url} answered {response.status_code}"
        finally:
            transaction.savepoint_rollback(savepoint)

    post()
    return posted


@pytest.mark.django_db
def test_no_post_to_any_view_is_a_server_error(
    owner: User, member: User, workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = workspace_objects(owner=owner, member=member, workspace=workspace, text="Fuzzy")
    own_ids = sorted(set(ids.values()))
    client = Client(raise_request_exception=False)
    client.force_login(owner)
    posted, views = 0, 0

    for name, converters in url_patterns():
        if TOKEN_ARGUMENTS & set(converters):
            continue  # token links are fuzzed through their token below
        url = reverse(name, kwargs=url_kwargs(name, converters, ids))
        client.force_login(owner)
        fields, files = form_fields(client, url)
        strategy = _data(sorted({*fields, *ACTION_FIELDS}), files, own_ids)
        views += 1

        posted += _fuzz(client, owner, url, strategy, may_log_out=name in PUBLIC)

    @fuzz_settings(EXAMPLES * 3)
    @given(name=st.sampled_from(sorted(n for n, c in url_patterns() if TOKEN_ARGUMENTS & set(c))), token=st.text())
    def token_link(name: str, token: str) -> None:
        nonlocal posted
        converters = dict(url_patterns())[name]
        kwargs = {arg: (token or "x") if arg == "token" else "MQ" for arg in converters}
        try:
            url = reverse(name, kwargs=kwargs)
        except NoReverseMatch:  # a token no URL can carry (a slash) is not a request
            return
        for method in (client.get, client.post):
            response = method(url, {"confirm": "yes"})
            posted += 1
            assert response.status_code < 500, f"{url} answered {response.status_code}"

    token_link()
    record("fuzz", hostile_requests=posted, server_errors=0)  # a server error fails the test above
    with capsys.disabled():
        print(f"\nfuzz: {posted} hostile requests to {views} views, 0 server errors")
    assert views > 50


# What the fuzzing found, pinned.


@pytest.mark.django_db
def test_it_builds_no_more_forms_than_allowed_for_a_forged_count(owner_client: Client, workspace: Workspace) -> None:
    person = PersonFactory(workspace=workspace)
    data = {"items-TOTAL_FORMS": "100000", "items-INITIAL_FORMS": "0"}

    response = owner_client.post(reverse("people:family", args=[person.pk]), data)

    page = response.content.decode()
    assert "Please submit at most 50 forms." in page
    assert 'name="items-49-name"' in page
    assert 'name="items-50-name"' not in page


@pytest.mark.django_db
def test_it_ignores_a_next_that_is_not_a_path(owner_client: Client, workspace: Workspace) -> None:
    person = PersonFactory(workspace=workspace)
    promise = interaction_services.promise_create(person=person, text="Send the quote")

    for target in ("0", "dashboard", "https://evil.example/", "//evil.example/"):
        response = owner_client.post(reverse("interactions:promise_keep", args=[promise.pk]), {"next": target})
        assert response.status_code == 302
        assert response.url == person.get_absolute_url(), target
    response = owner_client.post(reverse("interactions:promise_keep", args=[promise.pk]), {"next": "/people/?page=2"})
    assert response.url == "/people/?page=2"
