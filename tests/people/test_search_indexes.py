"""Search on PostgreSQL answers from indexes (trigram for names), not by reading every person."""

from __future__ import annotations

import pytest
from django.db import connection

from crm.models import Workspace
from people import selectors
from people.models import Person


@pytest.mark.services_only  # pg_trgm indexes exist on PostgreSQL only (the services tier)
@pytest.mark.django_db
def test_it_finds_people_by_name_fragment_through_the_trigram_index(workspace: Workspace) -> None:
    Person.objects.bulk_create(
        [Person(workspace=workspace, first_name=f"Person{i}", last_name=f"Family{i}") for i in range(1000)]
    )
    Person.objects.create(workspace=workspace, first_name="Anna", last_name="Smithers")
    people = selectors.person_list(workspace, query="mith")
    sql, params = people.query.sql_with_params()

    with connection.cursor() as cursor:
        # Make the tables look as they do in a live database: statistics gathered, and the GIN
        # indexes' pending lists merged (VACUUM would do it, but not inside the test's
        # transaction); fresh rows sit in that list and make the index look costly to read.
        cursor.execute("ANALYZE people_person")
        for index in ("person_first_name_trgm", "person_last_name_trgm", "person_nickname_trgm"):
            cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [index])
        # On a test-sized table a sequential scan may still look as cheap as anything; turning
        # it off asks whether an index *can* answer, which is what matters at 10,000 people.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "person_last_name_trgm" in plan
    assert [p.last_name for p in people] == ["Smithers"]


@pytest.mark.services_only  # the full-text indexes exist on PostgreSQL only (the services tier)
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "table", "index"),
    [
        ("need", "interactions_need", "need_text_fts"),
        ("promise", "interactions_promise", "promise_text_fts"),
        ("family", "people_familymember", "family_text_fts"),
        ("interest", "people_tag", "tag_name_fts"),
    ],
)
def test_search_notes_finds_needs_promises_family_and_interests_through_their_indexes(
    workspace: Workspace, kind: str, table: str, index: str
) -> None:
    from interactions.models import Need, Promise
    from interactions.selectors import _text_filter, _written
    from people.models import FamilyMember, Tag

    people = Person.objects.bulk_create([Person(workspace=workspace, first_name=f"P{i}") for i in range(300)])
    Need.objects.bulk_create([Need(workspace=workspace, person=p, title=f"Need {p.pk}") for p in people])
    Promise.objects.bulk_create([Promise(workspace=workspace, person=p, text=f"Promise {p.pk}") for p in people])
    FamilyMember.objects.bulk_create(
        [FamilyMember(workspace=workspace, person=p, relation="child", name="Kid", notes=f"n{p.pk}") for p in people]
    )
    Tag.objects.bulk_create([Tag(workspace=workspace, kind="interest", name=f"topic{i}") for i in range(300)])
    sql, params = _text_filter(*_written(workspace)[kind], "abuja").query.sql_with_params()

    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {table}")  # as above: statistics, pending lists merged, no seq scans
        cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [index])
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert index in plan
