"""Two retries of one create racing each other (a client that timed out and tried again while
the first was still running) make one person: the second waits on the key's unique index,
then answers the first one's response. Needs PostgreSQL: SQLite runs one writer at a time."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client

from api import services
from crm.models import User, Workspace
from people.models import Person


@pytest.mark.services_only
@pytest.mark.django_db(transaction=True)
def test_two_racing_retries_create_one_person(owner: User, workspace: Workspace) -> None:
    _, secret = services.token_create(user=owner, workspace=workspace, name="race", write=True)
    answers: list[tuple[int, int]] = []
    start = threading.Barrier(2)

    def post() -> None:
        try:
            api = Client(headers={"Authorization": f"Bearer {secret}", "Idempotency-Key": "order-77"})
            start.wait()
            response = api.post("/api/v1/people/", {"first_name": "Anna"}, content_type="application/json")
            answers.append((response.status_code, response.json()["id"]))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [status for status, _ in answers] == [201, 201]
    assert len({pk for _, pk in answers}) == 1
    assert Person.objects.count() == 1
