"""Merging two records of the same person: the user picks which fields win; nothing else is lost.

Everything hanging off the other record (contact details, family, pets, dates, facts, conversations,
needs, promises, follow-ups, reminders, tags) moves to the kept one; then the other is deleted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import transaction

from crm import events
from crm.audit import Action, audit_record
from crm.models import User
from people.matching import fuller_name, method_key, same_pet, same_relative
from people.models import ContactMethod, FamilyMember, Person
from people.services import contact_methods_ensure_primary
from people.stay_in_touch import cadence_duration, people_refresh_stay_due


@dataclass(frozen=True)
class MergeField:
    name: str
    label: str
    # Model fields that move together when this one is taken from the other record.
    columns: tuple[str, ...]


MERGE_FIELDS = [
    MergeField("first_name", "First name", ("first_name",)),
    MergeField("last_name", "Last name", ("last_name",)),
    MergeField("nickname", "Nickname", ("nickname",)),
    MergeField("company", "Company", ("company",)),
    MergeField("job_title", "Job title", ("job_title",)),
    MergeField("owner", "Owner", ("owner",)),
    MergeField("photo", "Photo", ("photo",)),
    MergeField("birthday", "Birthday", ("birthday_day", "birthday_month", "birthday_year")),
    MergeField("anniversary", "Anniversary", ("anniversary_day", "anniversary_month", "anniversary_year")),
    MergeField("how_we_met", "How we met", ("how_we_met",)),
    MergeField("met_on", "Met on", ("met_on",)),
    MergeField("preferred_channel", "Preferred channel", ("preferred_channel",)),
    MergeField("best_time", "Best time to reach", ("best_time",)),
    MergeField("cadence", "Stay in touch", ("contact_every", "contact_every_unit")),
    MergeField("likes", "Likes", ("likes",)),
    MergeField("dislikes", "Dislikes", ("dislikes",)),
    MergeField("topics_to_avoid", "Topics to avoid", ("topics_to_avoid",)),
]


def display_value(person: Person, field: MergeField) -> str:
    """What the comparison table shows for this field of this person."""
    if field.name in {"birthday", "anniversary"}:
        return str(getattr(person, field.name) or "")
    if field.name == "cadence":
        return person.cadence_text
    if field.name == "preferred_channel":
        return person.get_preferred_channel_display()
    if field.name == "photo":
        return "a photo" if person.photo else ""
    value = getattr(person, field.name)
    return "" if value is None else str(value)


def default_choices(keep: Person, other: Person) -> set[str]:
    """Fields to take from the other record by default: those the kept one leaves empty."""
    return {f.name for f in MERGE_FIELDS if not display_value(keep, f) and display_value(other, f)}


@transaction.atomic
def person_merge(*, keep: Person, other: Person, take_from_other: set[str], by: User | None = None) -> Person:
    """Merge ``other`` into ``keep``; ``take_from_other`` names the fields where other's value wins.
    The audit log gets who merged which two records (by number)."""
    if keep.pk == other.pk or keep.workspace_id != other.workspace_id:
        raise ValidationError("Choose two different people of this workspace.")
    unknown = take_from_other - {f.name for f in MERGE_FIELDS}
    if unknown:
        raise ValidationError(f"Unknown fields: {', '.join(sorted(unknown))}.")
    # Both rows locked in id order: two opposite merges at once wait instead of deadlocking.
    locked = {p.pk: p for p in Person.objects.select_for_update().filter(pk__in=[keep.pk, other.pk]).order_by("pk")}
    if len(locked) != 2:
        raise ValidationError("One of these people was just deleted or merged.")
    keep, other = locked[keep.pk], locked[other.pk]
    old_photo = None
    for field in MERGE_FIELDS:
        if field.name in take_from_other:
            if field.name == "photo" and keep.photo:
                old_photo = keep.photo.name
            for column in field.columns:
                setattr(keep, column, getattr(other, column))
    if other.notes.strip() and other.notes.strip() not in keep.notes:
        keep.notes = f"{keep.notes}\n\n{other.notes}".strip()[:20000]
    # Pauses the user set on either record still hold: the later one wins.
    for pause in ("do_not_contact_until", "cadence_snoozed_until"):
        dates = [d for d in (getattr(keep, pause), getattr(other, pause)) if d]
        setattr(keep, pause, max(dates) if dates else None)
    keep.cadence = cadence_duration(keep.contact_every, keep.contact_every_unit)
    contacted = [d for d in (keep.last_contacted_at, other.last_contacted_at) if d]
    keep.last_contacted_at = max(contacted) if contacted else None
    keep.created_at = min(keep.created_at, other.created_at)
    keep.full_clean(exclude=["photo"], validate_constraints=False)
    photo_kept_from_other = "photo" in take_from_other and other.photo
    if not photo_kept_from_other and other.photo:
        name, storage = other.photo.name or "", other.photo.storage  # a photo has a name
        transaction.on_commit(lambda: storage.delete(name))
    if old_photo:
        storage = keep.photo.storage
        transaction.on_commit(lambda: storage.delete(old_photo))
    keep.save()

    have = {method_key(m.kind, m.value) for m in keep.contact_methods.all()}
    for method in other.contact_methods.all():
        if method_key(method.kind, method.value) in have:
            method.delete()
        else:
            have.add(method_key(method.kind, method.value))
            ContactMethod.objects.filter(pk=method.pk).update(person=keep, is_primary=False)
    contact_methods_ensure_primary(person=keep)
    # Family rows that pointed from one record to the other would point at the person themself.
    FamilyMember.objects.filter(person=keep, linked_person=other).delete()
    FamilyMember.objects.filter(person=other, linked_person=keep).delete()
    FamilyMember.objects.filter(linked_person=other).update(linked_person=keep)
    _fold_details(keep=keep, other=other)
    _repoint(keep=keep, other=other)
    other_id = other.pk
    # Told while the record is still there to be named: the other is gone, the kept one changed.
    events.publish(workspace=keep.workspace, event=events.PERSON_DELETED, ids=[other_id])
    other.delete()
    people_refresh_stay_due(Person.objects.filter(pk=keep.pk))
    events.publish(workspace=keep.workspace, event=events.PERSON_UPDATED, ids=[keep.pk])
    audit_record(
        action=Action.PERSON_MERGED,
        actor=by,
        workspace=keep.workspace,
        summary=f"Merged person #{other_id} into #{keep.pk}",
        details={"kept": keep.pk, "merged": other_id},
    )
    return keep


def _repoint(*, keep: Person, other: Person) -> None:
    """Every row that points at the other record now points at the kept one.

    The rows are found in the app registry, not named: conversations, needs, promises, follow-ups,
    reminders, an import waiting for its go-ahead that matched the other record, and whatever a
    later app adds, while this module imports nothing above ``people``. In a many-to-many table
    (tags, a conversation's people) a row the kept record already has is left to be deleted.
    """
    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.concrete_fields:
            if not field.is_relation or field.related_model is not Person or (model, field.name) in _REPOINTED:
                continue
            rows = model._default_manager.filter(**{field.name: other})
            if model._meta.auto_created:
                (partner,) = (f for f in model._meta.concrete_fields if f.is_relation and f is not field)
                shared = model._default_manager.filter(**{field.name: keep}).values(partner.attname)
                rows = rows.exclude(**{f"{partner.attname}__in": shared})
            rows.update(**{field.name: keep})


# Moved by merge_people itself: contact details are de-duplicated, a relative linked to the other
# record was re-linked above.
_REPOINTED = {(ContactMethod, "person"), (FamilyMember, "linked_person")}


# Fields of a relative or pet that the kept row takes from the other's when it has none.
FILLABLE = (
    "birthday_day",
    "birthday_month",
    "birthday_year",
    "interests",
    "notes",
    "linked_person",
    "breed",
    "species",
)


def _fold_details(*, keep: Person, other: Person) -> None:
    """The other record's relatives, pets and dates that the kept one already has (spouse "Chidi"
    and "Chidi Okafor") become one row: the kept row, filled in from the other where it is empty."""
    # Each pair's rows are of one model; the check says when two rows are the same.
    pairs: list[tuple[Iterable[Any], Iterable[Any], Callable[[Any, Any], bool]]] = [
        (keep.family.all(), other.family.all(), lambda a, b: same_relative(a.relation, a.name, b.relation, b.name)),
        (keep.pets.all(), other.pets.all(), lambda a, b: same_pet(a.name, a.species, b.name, b.species)),
        (
            keep.important_dates.all(),
            other.important_dates.all(),
            lambda a, b: (
                (a.label.casefold(), a.date_day, a.date_month) == (b.label.casefold(), b.date_day, b.date_month)
            ),
        ),
    ]
    for kept_qs, other_rows, same in pairs:
        kept_rows = list(kept_qs)
        for row in other_rows:
            twin = next((kept for kept in kept_rows if same(kept, row)), None)
            if twin is None:
                continue
            for name in FILLABLE:
                if hasattr(twin, name) and not getattr(twin, name) and getattr(row, name):
                    setattr(twin, name, getattr(row, name))
            if isinstance(twin, FamilyMember):
                twin.name = fuller_name(twin.name, row.name)
            twin.save()
            row.delete()
