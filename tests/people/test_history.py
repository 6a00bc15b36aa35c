"""A person's field history: "changed by … on …" on their page, each change on the History page
with who made it (on a page or with an API token), private fields never kept, and the history
gone with the person."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from auditlog.models import LogEntry
from django.test import Client
from django.urls import reverse

from api.services import token_create
from crm.models import User, Workspace
from people.models import Person
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db
TUESDAY = datetime(2026, 3, 17, 10, 0, tzinfo=UTC)


def _edit(client: Client, person: Person, **fields: str) -> None:
    data = {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "contacts-TOTAL_FORMS": "0",
        "contacts-INITIAL_FORMS": "0",
        "dates-TOTAL_FORMS": "0",
        "dates-INITIAL_FORMS": "0",
        **fields,
    }
    assert client.post(reverse("people:edit", args=[person.pk]), data).status_code == 302


@time_machine.travel(TUESDAY, tick=False)
def test_a_change_on_the_edit_page_is_shown_with_who_and_when(owner_client: Client, workspace: Workspace) -> None:
    anna = PersonFactory(workspace=workspace, first_name="Anna", last_name="Berg", job_title="Baker")
    _edit(owner_client, anna, job_title="Head baker")

    page = owner_client.get(reverse("people:detail", args=[anna.pk])).content.decode()
    assert "by Olivia Owner on 17 Mar 2026" in page
    history = owner_client.get(reverse("people:history", args=[anna.pk])).content.decode()
    assert "Olivia Owner" in history
    assert "Job title</dt> <dd" in history
    assert "Baker → Head baker" in history


@time_machine.travel(TUESDAY, tick=False)
def test_private_fields_are_never_in_the_history(owner_client: Client, workspace: Workspace) -> None:
    anna = PersonFactory(workspace=workspace, first_name="Anna")
    owner_client.post(
        reverse("people:preferences", args=[anna.pk]),
        {"likes": "Dark chocolate", "topics_to_avoid": "Her divorce", "contact_every_unit": "weeks"},
    )
    history = owner_client.get(reverse("people:history", args=[anna.pk])).content.decode()
    assert "Dark chocolate" in history
    assert "divorce" not in history
    assert not [e for e in LogEntry.objects.all() if "divorce" in str(e.changes)]


@time_machine.travel(TUESDAY, tick=False)
def test_a_change_over_the_api_names_the_tokens_user(owner_client: Client, member: User, workspace: Workspace) -> None:
    anna = PersonFactory(workspace=workspace, first_name="Anna", nickname="")
    _, secret = token_create(user=member, workspace=workspace, name="Script", write=True)
    api = Client(headers={"Authorization": f"Bearer {secret}"})
    response = api.patch(f"/api/v1/people/{anna.pk}/", {"nickname": "Annie"}, content_type="application/json")
    assert response.status_code == 200, response.content
    entry = LogEntry.objects.get_for_object(anna).get(action=LogEntry.Action.UPDATE)
    assert entry.actor == member
    assert "by Mo Member on" in owner_client.get(reverse("people:detail", args=[anna.pk])).content.decode()


def test_the_history_goes_with_the_person_and_names_nobody_after(owner_client: Client, workspace: Workspace) -> None:
    anna = PersonFactory(workspace=workspace, first_name="Annabel", last_name="Zed")
    _edit(owner_client, anna, job_title="Baker")
    assert LogEntry.objects.exists()
    owner_client.post(reverse("people:delete", args=[anna.pk]))
    assert not Person.objects.filter(pk=anna.pk).exists()
    assert not LogEntry.objects.filter(object_repr__contains="Annabel").exists()
    assert not LogEntry.objects.exists()


def test_someone_elses_history_is_a_404(outsider_client: Client, workspace: Workspace) -> None:
    anna = PersonFactory(workspace=workspace)
    assert outsider_client.get(reverse("people:history", args=[anna.pk])).status_code == 404
