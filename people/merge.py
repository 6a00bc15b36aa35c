"""Merging two records of the same person: the user picks which fields win; nothing else is lost.

Everything hanging off the other record (contact details, family, pets, dates, facts, conversations,
needs, promises, follow-ups, reminders, tags) moves to the kept one; then the other is deleted.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from imports.models import ImportRow
from interactions.models import Interaction, Need, Promise
from people.matching import first_match, fuller_name, method_key, same_pet, same_relative
from people.models import ContactMethod, FamilyMember, ImportantDate, Person, Pet, ProfileFact
from people.services import contact_methods_ensure_primary, people_refresh_stay_due
from reminders.models import FollowUp, ReminderOccurrence
from reminders.services import cadence_duration


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
def person_merge(*, keep: Person, other: Person, take_from_other: set[str]) -> Person:
    """Merge ``other`` into ``keep``; ``take_from_other`` names the fields where other's value wins."""
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
        name, storage = other.photo.name, other.photo.storage
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
    for model in (FamilyMember, Pet, ImportantDate, ProfileFact, Need, Promise, FollowUp, ReminderOccurrence):
        model.objects.filter(person=other).update(person=keep)
    through = Interaction.people.through
    shared = set(through.objects.filter(person=keep).values_list("interaction_id", flat=True))
    through.objects.filter(person=other).exclude(interaction_id__in=shared).update(person=keep)
    keep.tags.add(*other.tags.all())
    # An import waiting for its go-ahead that matched the other record now matches this one.
    ImportRow.objects.filter(duplicate_of=other).update(duplicate_of=keep)
    other.delete()
    people_refresh_stay_due(Person.objects.filter(pk=keep.pk))
    return keep


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
    pairs = [
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
    for kept_rows, other_rows, same in pairs:
        kept_rows = list(kept_rows)
        for row in other_rows:
            twin = first_match(kept_rows, lambda kept, row=row, same=same: same(kept, row))
            if twin is None:
                continue
            for name in FILLABLE:
                if hasattr(twin, name) and not getattr(twin, name) and getattr(row, name):
                    setattr(twin, name, getattr(row, name))
            if isinstance(twin, FamilyMember):
                twin.name = fuller_name(twin.name, row.name)
            twin.save()
            row.delete()
