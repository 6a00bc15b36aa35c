"""Writes for people and what we know about them. Every write is atomic and validated."""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import (
    Value,
)
from django.db.models.functions import Lower
from django.forms import BaseModelFormSet
from django.utils import timezone
from PIL import Image, ImageOps, UnidentifiedImageError

from crm import events, permissions
from crm.audit import Action, audit_record, people_count
from crm.models import Membership, User, Workspace, WorkspaceQuerySet
from people.dates import PartialDate
from people.handover import handovers_record
from people.models import Company, ContactMethod, Person, ProfileFact, Tag
from people.profile import FACT_TYPES, SECTION_OF
from people.stay_in_touch import people_refresh_stay_due

PHOTO_SIZE = 400
PHOTO_MAX_PIXELS = 40_000_000
PHOTO_FORMATS = {"JPEG", "PNG", "GIF", "WEBP"}


def _same_name(workspace: Workspace, name: str) -> WorkspaceQuerySet[Company]:
    # Compared as the unique constraint compares, with the database's LOWER(): iexact uses
    # UPPER(), and the two disagree on letters like "İ" (PostgreSQL lowers it to "i").
    return Company.objects.for_workspace(workspace).alias(lower=Lower("name")).filter(lower=Lower(Value(name)))


def company_named(workspace: Workspace, name: str) -> Company | None:
    """The workspace's company of that name (any case, spaces as the name is stored), if any."""
    name = " ".join(name.split())
    return _same_name(workspace, name).first() if name else None


def company_for_name(workspace: Workspace, name: str) -> Company | None:
    """The workspace's company of that name (any case), created on first use."""
    name = " ".join(name.split())
    if not name:
        return None
    same_name = _same_name(workspace, name)
    existing = same_name.first()
    if existing is not None:
        return existing
    company = Company(workspace=workspace, name=name)
    company.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            company.save()
    except IntegrityError:  # created a moment ago by another request
        return same_name.get()
    return company


def normalise_tag(name: str) -> str:
    return " ".join(name.strip().lower().split())[:50]


def tags_for_names(workspace: Workspace, names: Iterable[str], *, kind: str = Tag.Kind.LABEL) -> list[Tag]:
    """The workspace's tags (or interests) of these names, created on first use."""
    wanted = {normalise_tag(n) for n in names} - {""}
    tags = Tag.objects.for_workspace(workspace).filter(kind=kind)
    existing = {t.name: t for t in tags.filter(name__in=wanted)}
    missing = [Tag(workspace=workspace, kind=kind, name=n) for n in sorted(wanted - existing.keys())]
    Tag.objects.bulk_create(missing, ignore_conflicts=True)
    if missing:
        existing = {t.name: t for t in tags.filter(name__in=wanted)}
    return list(existing.values())


def _assign_dates(person: Person, **dates: PartialDate | None) -> None:
    for prefix, value in dates.items():
        setattr(person, f"{prefix}_day", value.day if value else None)
        setattr(person, f"{prefix}_month", value.month if value else None)
        setattr(person, f"{prefix}_year", value.year if value else None)


def _check_owner(workspace: Workspace, owner: User | None) -> None:
    if owner is not None and not Membership.objects.for_workspace(workspace).filter(user=owner).exists():
        raise ValidationError({"owner": "The owner must be a member of this workspace."})


@transaction.atomic
def person_save(
    *,
    person: Person,
    company_name: str = "",
    tag_names: Iterable[str] = (),
    interest_names: Iterable[str] = (),
    birthday: PartialDate | None = None,
    anniversary: PartialDate | None = None,
    photo: UploadedFile | None = None,
    remove_photo: bool = False,
    by: User | None = None,
) -> Person:
    """Create or update a person with their company, tags, dates and photo, all or nothing.

    A new owner is a hand-over, made ``by`` that user: recorded, and the new owner told.
    """
    _check_owner(person.workspace, person.owner)
    creating = person.pk is None
    # The owner as stored, locked: two teammates handing the same person over at once make
    # two hand-overs in turn, never two from the same previous owner.
    stored_owner = (
        Person.objects.select_for_update().filter(pk=person.pk).values_list("owner_id", flat=True).first()
        if person.pk
        else person.owner_id
    )
    person.company = company_for_name(person.workspace, company_name)
    _assign_dates(person, birthday=birthday, anniversary=anniversary)
    old_photo = person.photo.name if person.photo else ""
    if remove_photo:
        person.photo = ""
    new_photo = process_photo(photo) if photo is not None else None
    person.full_clean(exclude=["photo"])
    if new_photo is not None:
        person.photo.save("photo.jpg", new_photo, save=False)
    try:
        person.save()
    except Exception:
        if new_photo is not None and person.photo.name:
            person.photo.storage.delete(person.photo.name)  # no orphan file when the row fails
        raise
    if old_photo and old_photo != (person.photo.name if person.photo else ""):
        # The old file goes only once the new state is committed.
        storage = Person._meta.get_field("photo").storage
        transaction.on_commit(lambda: storage.delete(old_photo))
    person.tags.set(
        tags_for_names(person.workspace, tag_names)
        + tags_for_names(person.workspace, interest_names, kind=Tag.Kind.INTEREST)
    )
    people_refresh_stay_due(Person.objects.filter(pk=person.pk))
    person.refresh_from_db(fields=["stay_due_at"])  # a later save() of this object keeps it
    if stored_owner != person.owner_id:
        handovers_record(
            workspace=person.workspace, previous_owners={person.pk: stored_owner}, to_user=person.owner, by=by
        )
    events.publish(
        workspace=person.workspace, event=events.PERSON_CREATED if creating else events.PERSON_UPDATED, ids=[person.pk]
    )
    return person


def person_save_with_records(*, person: Person, formsets: Iterable[BaseModelFormSet], **fields: Any) -> Person:
    """``person_save`` and the records typed on the same form (contact methods, dates, family,
    pets), all or nothing: when any write fails, no person is left without the records typed
    with them, and no photo file is left behind without its person.

    The formsets must be valid; each is saved for this person whatever instance it was built on
    (on the Add form, a person not yet in the database).
    """
    had_photo = person.photo.name if person.photo else ""
    was_new = person._state.adding
    try:
        with transaction.atomic():
            person = person_save(person=person, **fields)
            for formset in formsets:
                children_save(person=person, formset=formset, announce=False)  # person_save did
    except Exception:
        stored = person.photo.name if person.photo else ""
        if stored and stored != had_photo:
            person.photo.storage.delete(stored)  # the row that named it was rolled back
        if was_new:  # the form shown again adds them, not edits a row that is not there
            person.pk = None
            person._state.adding = True
        raise
    return person


def person_create(*, workspace: Workspace, created_by: User, **fields: Any) -> Person:
    """Add a person to the workspace; the creator owns them unless an owner is given."""
    keys = ("company_name", "tag_names", "interest_names", "birthday", "anniversary", "photo")
    extra = {k: fields.pop(k) for k in keys if k in fields}
    fields.setdefault("owner", created_by)
    return person_save(person=Person(workspace=workspace, **fields), **extra)


def process_photo(upload: File) -> ContentFile:
    """Check an upload is a real image of an allowed type and make a square JPEG of it.

    Re-encoding drops metadata (GPS in EXIF) and anything hidden in the file.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            upload.seek(0)
            image: Image.Image = Image.open(upload)
            if image.format not in PHOTO_FORMATS:
                raise ValidationError({"photo": "Upload a JPEG, PNG, GIF or WebP image."})
            if image.width * image.height > PHOTO_MAX_PIXELS:
                raise ValidationError({"photo": "This image is too large in pixels."})
            image = ImageOps.exif_transpose(image)
            image = ImageOps.fit(image.convert("RGB"), (PHOTO_SIZE, PHOTO_SIZE), Image.Resampling.LANCZOS)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ValidationError({"photo": "This file is not an image we can read."}) from exc
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return ContentFile(out.getvalue())


@transaction.atomic
def person_archive(*, person: Person) -> None:
    """Archive a person (kept, searchable under "Show archived"); archiving twice is once."""
    if Person.objects.filter(pk=person.pk, archived_at__isnull=True).update(archived_at=timezone.now()):
        events.publish(workspace=person.workspace, event=events.PERSON_UPDATED, ids=[person.pk])


@transaction.atomic
def person_restore(*, person: Person) -> None:
    """Bring an archived person back; restoring someone not archived changes nothing."""
    if Person.objects.filter(pk=person.pk, archived_at__isnull=False).update(archived_at=None):
        events.publish(workspace=person.workspace, event=events.PERSON_UPDATED, ids=[person.pk])


@transaction.atomic
def people_bulk_update(
    *, membership: Membership, people: WorkspaceQuerySet[Person], action: str, tag: str = "", owner: User | None = None
) -> int:
    """Apply one bulk action to people of the membership's workspace: tag, untag, change owner,
    archive, restore. Deleting is ``people_delete``, for owners."""
    permissions.require(membership, "write")
    workspace = membership.workspace
    ids = list(people.for_workspace(workspace).values_list("pk", flat=True))
    through = Person.tags.through
    if action in {"add_tag", "remove_tag"}:
        if not normalise_tag(tag):
            raise ValidationError({"tag": "Type the tag to add or remove."})
        if action == "add_tag":
            (tag_obj,) = tags_for_names(workspace, [tag])
            through.objects.bulk_create(
                [through(person_id=pid, tag_id=tag_obj.pk) for pid in ids], ignore_conflicts=True
            )
        else:
            through.objects.filter(person_id__in=ids, tag__name=normalise_tag(tag), tag__kind=Tag.Kind.LABEL).delete()
        people_refresh_stay_due(Person.objects.filter(pk__in=ids))
    elif action == "change_owner":
        if owner is None:
            raise ValidationError({"owner": "Choose the new owner."})
        _check_owner(workspace, owner)
        # Locked as read: the hand-overs name the owners the people really had.
        previous: dict[int, int | None] = dict(
            Person.objects.select_for_update().filter(pk__in=ids).values_list("pk", "owner_id")
        )
        Person.objects.filter(pk__in=ids).update(owner=owner, updated_at=timezone.now())
        handovers_record(workspace=workspace, previous_owners=previous, to_user=owner, by=membership.user)
    elif action == "archive":
        Person.objects.filter(pk__in=ids, archived_at__isnull=True).update(archived_at=timezone.now())
    elif action == "restore":
        Person.objects.filter(pk__in=ids).update(archived_at=None)
    else:
        raise ValidationError("Unknown action.")
    events.publish(workspace=workspace, event=events.PERSON_UPDATED, ids=ids)
    if action != "change_owner":  # a change of owner is in the log as the hand-over it is
        audit_record(
            action=Action.BULK_ACTION,
            membership=membership,
            summary=f"{action.replace('_', ' ').capitalize()} on {people_count(len(ids))}",
            details={"action": action, "count": len(ids)},
        )
    return len(ids)


@transaction.atomic
def children_save(*, person: Person, formset: BaseModelFormSet, announce: bool = True) -> None:
    """Save a validated formset of a person's records (contact methods, family, pets, dates).

    ``announce``: publish ``person.updated``; a caller that saves the person too publishes once."""
    for form in formset.deleted_forms:
        if form.instance.pk:
            form.instance.delete()
    is_contacts = formset.model is ContactMethod
    if is_contacts:
        # Every row is saved again below with its own flag, so the primary can move freely.
        ContactMethod.objects.filter(person=person).update(is_primary=False)
    for form in formset.forms:
        if form in formset.deleted_forms or (form.instance.pk is None and not form.has_changed()):
            continue
        instance = form.save(commit=False)
        instance.workspace = person.workspace
        instance.person = person
        instance.full_clean(validate_constraints=False)
        instance.save()
    if is_contacts:
        contact_methods_ensure_primary(person=person)
    if announce:
        events.publish(workspace=person.workspace, event=events.PERSON_UPDATED, ids=[person.pk])


def contact_methods_ensure_primary(*, person: Person) -> None:
    """Each kind with entries has exactly one primary: the first, unless one was chosen."""
    methods = list(ContactMethod.objects.filter(person=person))
    with_primary = {m.kind for m in methods if m.is_primary}
    for m in methods:
        if m.kind not in with_primary:
            ContactMethod.objects.filter(pk=m.pk).update(is_primary=True)
            with_primary.add(m.kind)


def fact_add(*, person: Person, fact_type: str, value: str, learned_on: Any = None, **extra: Any) -> ProfileFact:
    """File a fact in the right Mackay section; sensitive kinds are marked private."""
    if fact_type not in FACT_TYPES:
        raise ValidationError({"fact_type": "Choose what kind of fact this is."})
    fact = ProfileFact(
        workspace=person.workspace,
        person=person,
        fact_type=fact_type,
        section=SECTION_OF[fact_type],
        is_private=FACT_TYPES[fact_type].private,
        value=value.strip(),
        learned_on=learned_on or timezone.localdate(),
        **extra,
    )
    fact.full_clean()
    fact.save()
    return fact


def fact_delete(*, fact: ProfileFact) -> None:
    """Forget something learned about a person."""
    fact.delete()
