"""Reads for people. Every function takes the workspace first."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from crm.models import Workspace
from people.models import Person


def person_list(workspace: Workspace, *, query: str = "", archived: bool = False) -> QuerySet[Person]:
    qs = Person.objects.for_workspace(workspace).filter(archived_at__isnull=not archived).select_related("owner")
    for word in query.split():
        qs = qs.filter(
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(nickname__icontains=word)
            | Q(company__icontains=word)
        )
    return qs


def person_count(workspace: Workspace) -> int:
    return Person.objects.for_workspace(workspace).filter(archived_at__isnull=True).count()
