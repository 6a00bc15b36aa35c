"""schemathesis against /api/v1/schema/: examples made from the schema (and from beside it) sent
to every operation with an owner's read-write, private token; no answer is a 500, and every
answer keeps to the schema (status, content type, body).

Slow-ish: runs in the services tier (and in tier 1, at fewer examples).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, given, note, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api import services as api_services
from crm.models import User, Workspace
from tests.trust.summary import record
from tests.trust.urls import workspace_objects

APP = WSGIHandler()
EXAMPLES = 25 if os.environ.get("DATABASE_URL", "").startswith("postgres") else 8
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def _connection_kept() -> Iterator[None]:
    """The app is called as a WSGI app: like Django's test client, keep the test's database
    connection (and its transaction) open across requests instead of closing it after each."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.django_db
@pytest.mark.usefixtures("_connection_kept")
def test_no_api_answer_is_a_500_or_breaks_the_schema(
    owner: User, member: User, workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    workspace_objects(owner=owner, member=member, workspace=workspace, text="Anna")
    _, secret = api_services.token_create(user=owner, workspace=workspace, name="fuzz", write=True, private=True)
    bearer = {"Authorization": f"Bearer {secret}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", APP)
    operations = [result.ok() for result in schema.get_all_operations()]
    sent = 0
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def call(case: schemathesis.Case) -> None:
            nonlocal sent
            note(f"{case.method} {case.formatted_path}")
            savepoint = transaction.savepoint()
            try:
                case.call_and_validate(headers=bearer, checks=CHECKS)
                sent += 1
            finally:
                transaction.savepoint_rollback(savepoint)

        call()
    record("fuzz", hostile_requests=sent, server_errors=0)  # a 500 or a broken answer fails above
    with capsys.disabled():
        print(f"\nschemathesis: {sent} requests to {len(operations)} operations, none broke the schema")
    assert len(operations) >= 19
