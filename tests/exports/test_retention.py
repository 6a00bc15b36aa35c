"""Retention rules: a preview names who would go; beat archives people not contacted for N years
and deletes archived people after N days, once, and says so in the audit log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from crm.models import AuditEvent, User, Workspace
from exports.tasks import retention_task
from people.models import Person
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)


@pytest.fixture
def people(workspace: Workspace, owner: User) -> dict[str, Person]:
    with time_machine.travel(NOW - timedelta(days=4 * 365), tick=False):
        made = {
            name: PersonFactory(workspace=workspace, first_name=name, last_name="Test", owner=owner)
            for name in ("Quiet", "Recent", "Archived", "Fresh")
        }
    Person.objects.filter(pk=made["Recent"].pk).update(last_contacted_at=NOW - timedelta(days=30))
    Person.objects.filter(pk=made["Archived"].pk).update(archived_at=NOW - timedelta(days=40))
    Person.objects.filter(pk=made["Fresh"].pk).update(created_at=NOW - timedelta(days=10))
    return made


def test_the_preview_names_who_would_go_and_beat_applies_the_rules_once(
    owner_client: Client, member_client: Client, workspace: Workspace, people: dict[str, Person]
) -> None:
    with time_machine.travel(NOW, tick=False):
        preview = owner_client.get(reverse("exports:retention"), {"archive_years": 3, "delete_days": 30})
        page = preview.content.decode()
        assert 'id="archive-count">1<' in page
        assert "Quiet Test" in page
        assert 'id="delete-count">1<' in page
        assert "Archived Test" in page
        assert member_client.post(reverse("exports:retention"), {"archive_years": 3}).status_code == 403
        owner_client.post(reverse("exports:retention"), {"archive_years": 3, "delete_days": 30})
        workspace.refresh_from_db()
        assert (workspace.archive_uncontacted_years, workspace.delete_archived_days) == (3, 30)

        assert retention_task() == 1
        retention_task()  # a repeated beat message changes nothing more

    assert Person.objects.get(pk=people["Quiet"].pk).archived_at == NOW
    assert Person.objects.get(pk=people["Recent"].pk).archived_at is None
    assert Person.objects.get(pk=people["Fresh"].pk).archived_at is None
    assert not Person.objects.filter(pk=people["Archived"].pk).exists()
    actions = list(AuditEvent.objects.order_by("id").values_list("action", "summary"))
    assert actions[1:] == [
        ("person_deleted", "Deleted 1 person (retention rule)"),
        ("bulk_action", "Archived 1 person not contacted for 3 years (retention rule)"),
    ]


def test_an_invalid_rule_is_shown_next_to_its_field(owner_client: Client, workspace: Workspace) -> None:
    response = owner_client.post(reverse("exports:retention"), {"archive_years": -2, "delete_days": "x"})

    assert response.status_code == 200
    assert "Ensure this value is greater than or equal to 0." in response.content.decode()
    workspace.refresh_from_db()
    assert workspace.archive_uncontacted_years == 0
