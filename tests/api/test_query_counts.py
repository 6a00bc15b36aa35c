"""The API's lists and records read a fixed number of queries whatever the size of the book (no N+1):
pinned at two sizes, with the rate-limit counters in memory (on the embedded default they are
SQL rows too: a constant few per request)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from crm.models import User, Workspace
from interactions import services as interaction_services
from interactions.models import FollowUp, Interaction, Need, Promise
from people.models import Company, Person
from reminders import services as reminder_services
from tests.factories import PersonFactory

# The token and its membership (2), then the rows and their count (a search counts in its
# rows' query), then what the rows show: tag names, a conversation's people, a need's person.
LISTS = {
    "/api/v1/people/": 5,
    "/api/v1/people/?q=berg": 4,
    "/api/v1/companies/": 4,
    "/api/v1/tags/": 4,
    "/api/v1/conversations/": 5,
    "/api/v1/needs/": 5,
    "/api/v1/promises/": 4,
    "/api/v1/follow-ups/": 4,
    "/api/v1/this-week/": 19,  # the dashboard's board: each part of "To do" its own query
}


# One record, by the first of each kind: what it shows of its relations is read in a fixed few.
DETAILS = {
    "/api/v1/people/{person}/": 10,
    "/api/v1/people/{person}/facts/": 11,
    "/api/v1/companies/{company}/": 3,
    "/api/v1/conversations/{conversation}/": 4,
    "/api/v1/needs/{need}/": 3,
    "/api/v1/promises/{promise}/": 3,
    "/api/v1/follow-ups/{follow_up}/": 3,
}


def _firsts(workspace: Workspace) -> dict[str, int]:
    def first(model: Any) -> int:
        pk: int = model.objects.for_workspace(workspace).order_by("pk").values_list("pk", flat=True)[0]
        return pk

    return {
        "person": first(Person),
        "company": first(Company),
        "conversation": first(Interaction),
        "need": first(Need),
        "promise": first(Promise),
        "follow_up": first(FollowUp),
    }


def _book(workspace: Workspace, owner: User, size: int, start: int) -> None:
    for i in range(start, start + size):
        person = PersonFactory(
            workspace=workspace, owner=owner, last_name=f"Berg{i}", company__name=f"Co {i}", tags=[f"t{i}", "vip"]
        )
        interaction_services.interaction_log(workspace=workspace, user=owner, people=[person], summary=f"Call {i}")
        interaction_services.need_open(person=person, title=f"Need {i}")
        interaction_services.promise_create(person=person, text=f"Promise {i}", due_on=date(2026, 5, 5), user=owner)
        reminder_services.follow_up_create(person=person, due_on=date(2026, 5, 4 + i % 5))


def _counts(api: Client, assert_max: Callable[..., Any], firsts: dict[str, int]) -> dict[str, int]:
    counts = {}
    for url, most in [*LISTS.items(), *((url.format(**firsts), most) for url, most in DETAILS.items())]:
        with assert_max(most), CaptureQueriesContext(connection) as queries:
            assert api.get(url).status_code == 200, url
        counts[url] = len(queries)
    return counts


@pytest.mark.django_db
@pytest.mark.usefixtures("counters_in_memory")
@time_machine.travel("2026-05-06 10:00Z", tick=False)
def test_list_and_detail_endpoints_read_a_fixed_number_of_queries(
    owner_api: Client, owner: User, workspace: Workspace, django_assert_max_num_queries: Callable[..., Any]
) -> None:
    owner_api.get("/api/v1/people/")  # the token's first use writes when it was used: not a list's cost
    _book(workspace, owner, 3, 0)
    firsts = _firsts(workspace)
    small = _counts(owner_api, django_assert_max_num_queries, firsts)
    _book(workspace, owner, 30, 3)
    assert _counts(owner_api, django_assert_max_num_queries, firsts) == small
