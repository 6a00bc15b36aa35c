"""Writes for interactions, needs and promises.

Logging a conversation is one transaction: the interaction, what it raised (needs, promises,
facts, a follow-up) and every participant's denormalised "last contacted" land together or
not at all.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, OuterRef, QuerySet, Subquery
from django.utils import timezone

from crm import events, permissions
from crm.audit import Action, audit_record, people_count
from crm.models import Membership, User, Workspace, WorkspaceQuerySet
from interactions.models import FollowUp, Interaction, Need, NeedUpdate, Promise
from people.models import Person, Unit
from people.services import fact_add
from people.stay_in_touch import people_refresh_stay_due


@transaction.atomic
def follow_up_create(
    *,
    person: Person,
    due_on: date,
    note: str = "",
    repeat_every: int | None = None,
    repeat_unit: str = Unit.WEEKS,
    user: User | None = None,
    interaction: Interaction | None = None,
) -> FollowUp:
    """A follow-up with ``person`` on ``due_on``, repeating when ``repeat_every`` is set."""
    follow_up = FollowUp(
        workspace=person.workspace,
        person=person,
        due_on=due_on,
        anchor_on=due_on,
        note=note.strip(),
        repeat_every=repeat_every or None,
        repeat_unit=repeat_unit,
        created_by=user,
        interaction=interaction,
    )
    follow_up.full_clean()
    follow_up.save()
    return follow_up


def deletion_summary(*, people: QuerySet[Person]) -> dict[str, int]:
    """What goes with these people: shown on the confirmation page before deleting."""
    ids = list(people.values_list("pk", flat=True))
    solo = _solo_interactions(ids)
    counts = people.aggregate(
        contact_methods=Count("contact_methods", distinct=True),
        family=Count("family", distinct=True),
        pets=Count("pets", distinct=True),
        facts=Count("facts", distinct=True),
        dates=Count("important_dates", distinct=True),
    )
    shared = Interaction.objects.filter(people__in=ids).exclude(pk__in=solo).distinct().count()
    return {"people": len(ids), **counts, "interactions": solo.count(), "shared_interactions": shared}


def _solo_interactions(ids: list[int]) -> QuerySet[Interaction]:
    """Interactions whose every participant is among ``ids``."""
    others = Person.objects.filter(interactions__people__in=ids).exclude(pk__in=ids)
    return Interaction.objects.filter(people__in=ids).exclude(people__in=others).distinct()


@transaction.atomic
def people_delete(*, membership: Membership, people: WorkspaceQuerySet[Person], rule: str = "") -> int:
    """Delete people with everything that is only theirs; shared conversations stay for the others.

    Owners only, one person or many: nothing brings them back (members archive instead).
    ``rule`` names the workspace's retention rule when beat deletes, not the owner.
    """
    permissions.require(membership, "delete_people")
    ids = list(people.for_workspace(membership.workspace).values_list("pk", flat=True))
    events.publish(workspace=membership.workspace, event=events.PERSON_DELETED, ids=ids)
    Interaction.objects.filter(pk__in=list(_solo_interactions(ids).values_list("pk", flat=True))).delete()
    for person in Person.objects.filter(pk__in=ids).exclude(photo=""):
        transaction.on_commit(functools.partial(person.photo.delete, save=False))
    Person.objects.filter(pk__in=ids).delete()
    audit_record(
        action=Action.PERSON_DELETED,
        actor=None if rule else membership.user,
        workspace=membership.workspace,
        summary=f"Deleted {people_count(len(ids))}{f' ({rule})' if rule else ''}",
        details={"count": len(ids), "ids": ids[:100]},
    )
    return len(ids)


@dataclass
class PromiseInput:
    text: str
    direction: str = Promise.Direction.MINE
    due_on: date | None = None
    person: Person | None = None


@dataclass
class NeedInput:
    title: str
    details: str = ""
    person: Person | None = None


@dataclass
class FactInput:
    fact_type: str
    value: str
    person: Person | None = None


@dataclass
class Outcomes:
    """What a conversation raised, besides the conversation itself."""

    follow_up_on: date | None = None
    follow_up_note: str = ""
    promises: list[PromiseInput] = field(default_factory=list)
    needs: list[NeedInput] = field(default_factory=list)
    facts: list[FactInput] = field(default_factory=list)
    mentioned_needs: list[Need] = field(default_factory=list)
    solved_needs: list[Need] = field(default_factory=list)


@transaction.atomic
def people_refresh_last_contacted(*, person_ids: Iterable[int]) -> None:
    """Recompute "last contacted" from interactions for these people, in one UPDATE.

    The people's rows are locked first (in id order; NO KEY UPDATE, so conversations being
    linked to them do not block it): a concurrent log for the same person commits before the
    UPDATE takes its snapshot, so a slower, older write can never overwrite a newer date. The
    load test found that race.
    """
    ids = sorted(set(person_ids))
    if not ids:
        return
    list(Person.objects.select_for_update(no_key=True).filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))
    latest = (
        Interaction.people.through.objects.filter(person_id=OuterRef("pk"))
        .values("person_id")
        .annotate(latest=Max("interaction__occurred_at"))
        # django-stubs forgets an annotation made on a values() queryset; the SQL has it.
        .values("latest")  # type: ignore[misc]
    )
    Person.objects.filter(pk__in=ids).update(last_contacted_at=Subquery(latest))
    people_refresh_stay_due(Person.objects.filter(pk__in=ids))


def _check_people(workspace: Workspace, people: list[Person]) -> None:
    if not people:
        raise ValidationError({"people": "Choose who you talked with."})
    if any(p.workspace_id != workspace.pk for p in people):
        raise ValidationError({"people": "Choose people of this workspace."})


def _target(person: Person | None, people: list[Person]) -> Person:
    """Who an outcome is about: the person picked for it, else the first participant."""
    if person is None:
        return people[0]
    if person not in people:
        raise ValidationError("An outcome can only be about someone in this conversation.")
    return person


@transaction.atomic
def interaction_log(
    *,
    workspace: Workspace,
    user: User,
    people: list[Person],
    summary: str,
    kind: str = Interaction.Kind.CALL,
    occurred_at: datetime | None = None,
    notes: str = "",
    sentiment: str = "",
    outcomes: Outcomes | None = None,
    client_id: uuid.UUID | None = None,
) -> Interaction:
    """Log a conversation with one or more people, and everything it raised. Not for viewers.

    With a ``client_id`` (the id a phone gave an entry it kept offline) it is logged once: the
    same id again, from a retry or another tab, answers the conversation already logged (see
    ``interaction_logged_before``), also when two requests race (the unique constraint decides).
    """
    permissions.require_user(user=user, workspace=workspace, capability="write")
    _check_people(workspace, people)
    interaction = Interaction(
        workspace=workspace,
        kind=kind,
        occurred_at=occurred_at or timezone.now(),
        summary=summary.strip(),
        notes=notes,
        sentiment=sentiment,
        created_by=user,
        client_id=client_id,
    )
    interaction.full_clean(validate_constraints=False)
    if client_id is not None:
        try:
            with transaction.atomic():
                interaction.save()
        except IntegrityError:
            # Another request with the same id committed first: theirs is the one.
            return Interaction.objects.for_workspace(workspace).get(client_id=client_id)
    else:
        interaction.save()
    interaction.people.set(people)
    _record_outcomes(interaction, user, people, outcomes or Outcomes())
    people_refresh_last_contacted(person_ids=[p.pk for p in people])
    events.publish(workspace=workspace, event=events.CONVERSATION_LOGGED, ids=[interaction.pk])
    return interaction


def _record_outcomes(interaction: Interaction, user: User, people: list[Person], outcomes: Outcomes) -> None:
    workspace = interaction.workspace
    if outcomes.follow_up_on:
        follow_up_create(
            person=people[0],
            due_on=outcomes.follow_up_on,
            note=outcomes.follow_up_note or f"Follow up: {interaction.summary}"[:200],
            user=user,
            interaction=interaction,
        )
    for p in outcomes.promises:
        promise = Promise(
            workspace=workspace,
            person=_target(p.person, people),
            interaction=interaction,
            direction=p.direction,
            text=p.text.strip(),
            due_on=p.due_on,
            made_by=user,
        )
        promise.full_clean()
        promise.save()
    for n in outcomes.needs:
        need_open(person=_target(n.person, people), title=n.title, details=n.details, interaction=interaction)
    for f in outcomes.facts:
        fact_add(person=_target(f.person, people), fact_type=f.fact_type, value=f.value, source_interaction=interaction)
    for need in outcomes.mentioned_needs:
        _check_need(need, people)
        need.interactions.add(interaction)
    for need in outcomes.solved_needs:
        _check_need(need, people)
        need_set_status(need=need, status=Need.Status.SOLVED, interaction=interaction)


def _check_need(need: Need, people: list[Person]) -> None:
    if need.person not in people:
        raise ValidationError("A need can only be mentioned in a conversation with its person.")


@transaction.atomic
def interaction_update(
    *,
    interaction: Interaction,
    people: list[Person],
    summary: str,
    kind: str,
    occurred_at: datetime,
    notes: str = "",
    sentiment: str = "",
) -> Interaction:
    """Edit a conversation; "last contacted" stays right for people added and removed."""
    _check_people(interaction.workspace, people)
    before = set(interaction.people.values_list("pk", flat=True))
    interaction.summary, interaction.kind, interaction.occurred_at = summary.strip(), kind, occurred_at
    interaction.notes, interaction.sentiment = notes, sentiment
    interaction.full_clean()
    interaction.save()
    interaction.people.set(people)
    people_refresh_last_contacted(person_ids=before | {p.pk for p in people})
    return interaction


@transaction.atomic
def interaction_delete(*, interaction: Interaction) -> None:
    """Delete a conversation; its people's "last contacted" falls back to the one before."""
    ids = list(interaction.people.values_list("pk", flat=True))
    interaction.delete()
    people_refresh_last_contacted(person_ids=ids)


@transaction.atomic
def need_open(*, person: Person, title: str, details: str = "", interaction: Interaction | None = None) -> Need:
    need = Need(workspace=person.workspace, person=person, title=title.strip(), details=details.strip())
    need.full_clean()
    need.save()
    if interaction is not None:
        need.interactions.add(interaction)
    NeedUpdate.objects.create(workspace=person.workspace, need=need, status=Need.Status.OPEN, interaction=interaction)
    return need


@transaction.atomic
def need_set_status(*, need: Need, status: str, interaction: Interaction | None = None) -> Need:
    """Move a need along (open, in progress, solved, dropped); every move is kept as history."""
    if status not in Need.Status.values:
        raise ValidationError({"status": "Unknown status."})
    if status == need.status:
        return need
    need.status = status
    need.solved_on = timezone.localdate() if status == Need.Status.SOLVED else None
    need.save(update_fields=["status", "solved_on"])
    if interaction is not None:
        need.interactions.add(interaction)
    NeedUpdate.objects.create(workspace=need.workspace, need=need, status=status, interaction=interaction)
    if status == Need.Status.SOLVED:
        events.publish(workspace=need.workspace, event=events.NEED_SOLVED, ids=[need.pk])
    return need


def promise_create(
    *,
    person: Person,
    text: str,
    direction: str = Promise.Direction.MINE,
    due_on: date | None = None,
    user: User | None = None,
) -> Promise:
    """Note a promise; ``user`` made it (or wrote theirs down). Without one (an import), the
    person's owner is taken to have made it."""
    promise = Promise(
        workspace=person.workspace,
        person=person,
        text=text.strip(),
        direction=direction,
        due_on=due_on,
        made_by_id=user.pk if user else person.owner_id,
    )
    promise.full_clean()
    promise.save()
    return promise


def promise_keep(*, promise: Promise) -> bool:
    """Mark a promise kept, once: a second click changes nothing."""
    return Promise.objects.filter(pk=promise.pk, kept_at__isnull=True).update(kept_at=timezone.now()) == 1


def promise_reopen(*, promise: Promise) -> None:
    Promise.objects.filter(pk=promise.pk).update(kept_at=None)
