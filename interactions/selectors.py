"""Reads for interactions. Every function takes the workspace first."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from crm.models import Workspace
from interactions.models import Interaction
from people.models import Person


def interaction_list(workspace: Workspace, *, person: Person | None = None) -> QuerySet[Interaction]:
    qs = Interaction.objects.for_workspace(workspace).prefetch_related(
        Prefetch("people", queryset=Person.objects.only("id", "first_name", "last_name", "workspace_id"))
    )
    if person is not None:
        qs = qs.filter(people=person)
    return qs.select_related("created_by")


def interaction_recent(workspace: Workspace, *, limit: int = 10) -> list[Interaction]:
    return list(interaction_list(workspace)[:limit])
