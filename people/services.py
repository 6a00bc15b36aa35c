"""Writes for people."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from crm.models import User, Workspace
from people.models import Person


@transaction.atomic
def person_create(*, workspace: Workspace, created_by: User, **fields: Any) -> Person:
    """Add a person to the workspace; the creator owns them unless an owner is given."""
    fields.setdefault("owner", created_by)
    person = Person(workspace=workspace, **fields)
    person.full_clean()
    person.save()
    return person
