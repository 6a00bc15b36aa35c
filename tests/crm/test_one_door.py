"""The one door: every model whose rows belong to a workspace, directly or through a parent,
is reached through ``Model.objects.for_workspace(ws)``, built on ``crm.models.WorkspaceQuerySet``.

The models come from the app registry, so a new model is covered without touching this test.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.apps import apps
from django.db import models

from crm.models import Membership, Workspace, WorkspaceQuerySet
from imports.models import ImportJob, ImportRow
from interactions.models import NeedUpdate
from people.models import Person
from reminders.models import ReminderOccurrence
from tests.factories import PersonFactory, UserFactory, WorkspaceFactory


def _parents(model: type[models.Model]) -> list[models.ForeignKey]:
    """The foreign keys a row cannot be without: what it belongs to."""
    return [f for f in model._meta.concrete_fields if isinstance(f, models.ForeignKey) and not f.null]


def _belongs_to_a_workspace(model: type[models.Model], seen: frozenset[type[models.Model]] = frozenset()) -> bool:
    if model in seen:
        return False
    for fk in _parents(model):
        if fk.related_model is Workspace or _belongs_to_a_workspace(fk.related_model, seen | {model}):
            return True
    return False


def _scoped_models() -> list[type[models.Model]]:
    # get_models() leaves out the tables Django makes for many-to-many fields: they have no
    # manager of their own to give a door, and are reached through the models on either side.
    return [m for m in apps.get_models() if _belongs_to_a_workspace(m)]


def _ends_at_workspace(model: type[models.Model], path: str) -> bool:
    opts = model._meta
    field = None
    for part in path.split("__"):
        field = opts.get_field(part)
        if not (field.many_to_one or field.one_to_one) or field.related_model is None:
            return False
        opts = field.related_model._meta
    return field is not None and field.related_model is Workspace


def test_it_finds_the_models_that_belong_to_a_workspace() -> None:
    # The walk itself must see models scoped directly and through a parent, or the test below
    # would pass by checking nothing.
    scoped = set(_scoped_models())
    assert {Person, Membership, ReminderOccurrence, ImportRow, NeedUpdate} <= scoped
    assert Workspace not in scoped
    assert _ends_at_workspace(ImportRow, "job__workspace")
    assert not _ends_at_workspace(ImportRow, "job")


@pytest.mark.parametrize("model", _scoped_models(), ids=lambda m: m._meta.label)
def test_every_workspace_model_is_reached_through_the_one_door(model: type[models.Model]) -> None:
    for name, manager in [("default manager", model._default_manager), ("objects", getattr(model, "objects", None))]:
        if manager is None:
            continue
        queryset = manager.all()
        assert isinstance(queryset, WorkspaceQuerySet), (
            f"{model._meta.label}'s {name} is not built on crm.models.WorkspaceQuerySet, so it has no "
            "for_workspace(); give it WorkspaceQuerySet.as_manager() or a subclass of it"
        )
        assert _ends_at_workspace(model, queryset.workspace_path), (
            f"{model._meta.label}: workspace_path {queryset.workspace_path!r} does not lead to a workspace"
        )


@pytest.mark.django_db
def test_it_keeps_reminder_occurrences_to_their_workspace() -> None:
    user = UserFactory()
    ours, theirs = WorkspaceFactory(), WorkspaceFactory()
    for workspace in (ours, theirs):
        Membership.objects.create(workspace=workspace, user=user)
        person = PersonFactory(workspace=workspace)
        ReminderOccurrence.objects.create(
            workspace=workspace,
            user=user,
            person=person,
            key=f"stay:{person.pk}",
            due_on=date(2026, 3, 4),
            text=f"Get in touch ({workspace.name})",
        )

    found = ReminderOccurrence.objects.for_workspace(ours)

    assert [o.workspace_id for o in found] == [ours.pk]
    assert ReminderOccurrence.objects.for_member(user).count() == 2
    Membership.objects.for_workspace(theirs).filter(user=user).delete()
    assert [o.workspace_id for o in ReminderOccurrence.objects.visible_to(user)] == [ours.pk]


class _RowsThroughTheirJob(WorkspaceQuerySet):
    workspace_path = "job__workspace"


@pytest.mark.django_db
def test_a_model_can_be_scoped_through_its_parent() -> None:
    ours, theirs = WorkspaceFactory(), WorkspaceFactory()
    for workspace in (ours, theirs):
        job = ImportJob.objects.create(workspace=workspace, file_name="a.vcf", kind=ImportJob.Kind.VCARD)
        ImportRow.objects.create(workspace=workspace, job=job, number=1)

    through_job = _RowsThroughTheirJob(ImportRow).for_workspace(ours)

    assert [row.job.workspace_id for row in through_job] == [ours.pk]
