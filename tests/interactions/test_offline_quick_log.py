"""The quick log as the phone's offline queue sends it: by the entry's id, once, answered in JSON."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm.models import Workspace
from interactions.models import Interaction
from interactions.services import interaction_log
from tests.factories import PersonFactory

JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture(autouse=True)
def _fixed_clock() -> Iterator[None]:
    """Dates here are built from "now": a fixed now (ticking), so the tests read the same any day."""
    with time_machine.travel(datetime(2026, 3, 4, 10, 0, tzinfo=UTC), tick=True):
        yield


def _entry(person_pk: int, client_id: uuid.UUID, summary: str = "Visited the shop") -> dict[str, object]:
    return {
        "quick-person": person_pk,
        "quick-kind": "visit",
        "quick-summary": summary,
        "quick-client_id": str(client_id),
        "quick-follow_up_on": "",
    }


def test_it_logs_an_entry_sent_twice_once(owner_client: Client, workspace: Workspace) -> None:
    anna = PersonFactory(workspace=workspace, first_name="Anna")
    client_id = uuid.uuid4()
    first = owner_client.post(reverse("interactions:quick"), _entry(anna.pk, client_id), **JSON)
    again = owner_client.post(reverse("interactions:quick"), _entry(anna.pk, client_id), **JSON)

    assert first.status_code == 201
    assert first.json()["ok"] is True
    assert first.json()["redirect"] == anna.get_absolute_url()
    assert again.status_code == 200
    assert again.json() == {"ok": True, "id": first.json()["id"], "already": True, "redirect": anna.get_absolute_url()}
    assert Interaction.objects.filter(summary="Visited the shop").count() == 1


def test_it_logs_an_entry_once_from_a_plain_form_post_too(owner_client: Client, workspace: Workspace) -> None:
    anna = PersonFactory(workspace=workspace, first_name="Anna")
    client_id = uuid.uuid4()
    owner_client.post(reverse("interactions:quick"), _entry(anna.pk, client_id), **JSON)
    response = owner_client.post(reverse("interactions:quick"), _entry(anna.pk, client_id), follow=True)

    assert "That was logged already: Visited the shop" in response.content.decode()
    assert Interaction.objects.count() == 1


def test_the_same_id_in_two_workspaces_is_two_entries(
    owner_client: Client, workspace: Workspace, other_workspace: Workspace, outsider_client: Client
) -> None:
    client_id = uuid.uuid4()
    mine = PersonFactory(workspace=workspace)
    theirs = PersonFactory(workspace=other_workspace)
    owner_client.post(reverse("interactions:quick"), _entry(mine.pk, client_id), **JSON)
    response = outsider_client.post(reverse("interactions:quick"), _entry(theirs.pk, client_id), **JSON)

    assert response.status_code == 201
    assert Interaction.objects.filter(client_id=client_id).count() == 2


def test_a_race_on_one_id_keeps_the_first(workspace: Workspace, owner: object) -> None:
    """Two requests past the "logged before?" check at once: the constraint keeps one."""
    anna = PersonFactory(workspace=workspace)
    client_id = uuid.uuid4()
    first = interaction_log(workspace=workspace, user=owner, people=[anna], summary="One", client_id=client_id)  # type: ignore[arg-type]
    second = interaction_log(workspace=workspace, user=owner, people=[anna], summary="Two", client_id=client_id)  # type: ignore[arg-type]

    assert second.pk == first.pk
    assert list(Interaction.objects.values_list("summary", flat=True)) == ["One"]


def test_it_says_why_an_entry_cannot_be_saved(owner_client: Client, workspace: Workspace) -> None:
    archived = PersonFactory(workspace=workspace, first_name="Berta", last_name="Old", archived_at=timezone.now())
    gone = PersonFactory(workspace=workspace)
    gone_pk = gone.pk
    gone.delete()
    anna = PersonFactory(workspace=workspace)

    answers = [
        owner_client.post(reverse("interactions:quick"), _entry(archived.pk, uuid.uuid4()), **JSON),
        owner_client.post(reverse("interactions:quick"), _entry(gone_pk, uuid.uuid4()), **JSON),
        owner_client.post(reverse("interactions:quick"), _entry(anna.pk, uuid.uuid4(), summary=""), **JSON),
    ]

    assert [a.status_code for a in answers] == [400, 400, 400]
    assert answers[0].json()["error"] == "Berta Old was archived meanwhile: restore them, or log it with someone else."
    assert answers[1].json()["error"] == "That person is no longer in this workspace (deleted meanwhile)."
    assert answers[2].json()["error"] == "Summary: This field is required."
    assert not Interaction.objects.exists()


def test_a_person_of_another_workspace_reads_as_not_here(
    owner_client: Client, workspace: Workspace, other_workspace: Workspace
) -> None:
    theirs = PersonFactory(workspace=other_workspace, first_name="Secret", archived_at=timezone.now())
    response = owner_client.post(reverse("interactions:quick"), _entry(theirs.pk, uuid.uuid4()), **JSON)

    assert response.json()["error"] == "That person is no longer in this workspace (deleted meanwhile)."
    assert "Secret" not in response.content.decode()
