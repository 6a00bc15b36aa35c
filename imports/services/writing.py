"""Writing people: creating them from contacts in few queries, and merging a contact into
someone already there by adding only what their record lacks (never overwriting, never
repeating), so importing the same file again creates nobody."""

from __future__ import annotations

import base64
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db.models.functions import Lower

from crm import events
from crm.models import User, Workspace
from imports.contact import Contact, as_partial_date
from imports.models import ImportRow
from people.matching import fuller_name, method_key, phone_key, same_relative
from people.models import Company, ContactMethod, FamilyMember, ImportantDate, Person, Tag
from people.services import normalise_tag, process_photo, tags_for_names
from people.stay_in_touch import people_refresh_stay_due


def validation_message(exc: ValidationError) -> str:
    """A model's validation errors as one line for the result page."""
    if hasattr(exc, "message_dict"):
        return "; ".join(f"{field.replace('_', ' ')}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
    return " ".join(exc.messages)


def _companies(workspace: Workspace, names: Iterable[str]) -> dict[str, Company]:
    """The workspace's companies of these names by Python's lower case, created when missing.

    The database's LOWER() and Python's lower() disagree on some letters (SQLite lowers ASCII
    only), so results are keyed here, in Python, and a name the database sees as taken under
    another case simply comes back without a company rather than failing the batch.
    """
    wanted = {n.lower(): n for n in names if n}
    if not wanted:
        return {}
    companies = Company.objects.for_workspace(workspace)

    def fetch() -> dict[str, Company]:
        by_lower = companies.annotate(key=Lower("name")).filter(key__in=[n.lower() for n in wanted.values()])
        exact = companies.filter(name__in=list(wanted.values()))
        return {c.name.lower(): c for c in [*by_lower, *exact]}

    found = fetch()
    missing = [Company(workspace=workspace, name=wanted[k]) for k in wanted.keys() - found.keys()]
    if missing:
        Company.objects.bulk_create(missing, ignore_conflicts=True)
        found = fetch()
    return found


def _store_phone(value: str) -> str:
    key = phone_key(value)
    return key if key.startswith("+") else value


def _notes(contact: Contact) -> str:
    return "\n\n".join(contact.notes)[:20000]


def _set_dates(person: Person, contact: Contact, *, only_empty: bool) -> None:
    for prefix in ("birthday", "anniversary"):
        value = as_partial_date(getattr(contact, prefix))
        if value is None or (only_empty and getattr(person, f"{prefix}_month")):
            continue
        setattr(person, f"{prefix}_day", value.day)
        setattr(person, f"{prefix}_month", value.month)
        setattr(person, f"{prefix}_year", value.year)


def create_people(*, workspace: Workspace, owner: User | None, rows: list[tuple[ImportRow, Contact]]) -> None:
    """Create one person per row with everything read, in few queries (bulk inserts)."""
    companies = _companies(workspace, (c.company for _, c in rows))
    valid: list[tuple[ImportRow, Contact, Person]] = []
    for row, contact in rows:
        person = Person(
            workspace=workspace,
            owner=owner,
            first_name=contact.first_name,
            last_name=contact.last_name,
            nickname=contact.nickname,
            company=companies.get(contact.company.lower()) if contact.company else None,
            job_title=contact.job_title,
            notes=_notes(contact),
        )
        _set_dates(person, contact, only_empty=False)
        try:
            person.full_clean(exclude=["photo", "company", "owner", "workspace"], validate_constraints=False)
        except ValidationError as exc:
            row.outcome, row.error = ImportRow.Outcome.FAILED, validation_message(exc)
            continue
        valid.append((row, contact, person))
    Person.objects.bulk_create([p for _, _, p in valid])
    methods, dates, family, tag_links = [], [], [], []
    tags = {kind: _tags_of(workspace, [c for _, c, _ in valid], kind=kind) for kind in Tag.Kind.values}
    for row, contact, person in valid:
        row.person, row.outcome = person, ImportRow.Outcome.CREATED
        methods += _methods(person, contact, existing=[])
        dates += _dates(person, contact, existing=set())
        family += _family(person, contact, existing=[])
        tag_links += [
            Person.tags.through(person_id=person.pk, tag_id=tags[kind][n].pk)
            for kind in Tag.Kind.values
            for n in {normalise_tag(t) for t in _names(contact, kind)}
            if n in tags[kind]
        ]
        if contact.photo:
            _save_photo(person, contact)
            row.has_warnings = bool(contact.warnings)  # the photo may have been left out
    ContactMethod.objects.bulk_create(methods)
    ImportantDate.objects.bulk_create(dates)
    FamilyMember.objects.bulk_create(family)
    Person.tags.through.objects.bulk_create(tag_links, ignore_conflicts=True)
    created = [p.pk for _, _, p in valid]
    people_refresh_stay_due(Person.objects.filter(pk__in=created))
    if created:
        events.publish(workspace=workspace, event=events.PERSON_CREATED, ids=created)


def _names(contact: Contact, kind: str) -> list[str]:
    """A card's categories are tags; its INTEREST/HOBBY lines are interests."""
    return contact.interests if kind == Tag.Kind.INTEREST else contact.tags


def _tags_of(workspace: Workspace, contacts: list[Contact], *, kind: str) -> dict[str, Tag]:
    names = {normalise_tag(n) for c in contacts for n in _names(c, kind)} - {""}
    return {t.name: t for t in tags_for_names(workspace, names, kind=kind)} if names else {}


def _methods(person: Person, contact: Contact, *, existing: list[ContactMethod]) -> list[ContactMethod]:
    have = {method_key(m.kind, m.value) for m in existing}
    have_primary = {m.kind for m in existing if m.is_primary}
    out = []
    for kind, label, value, primary in contact.methods:
        value = _store_phone(value) if kind == "phone" else value
        if method_key(kind, value) in have or kind not in ContactMethod.Kind.values:
            continue
        have.add(method_key(kind, value))
        is_primary = kind not in have_primary and (primary or not any(m[0] == kind and m[3] for m in contact.methods))
        if is_primary:
            have_primary.add(kind)
        out.append(
            ContactMethod(
                workspace_id=person.workspace_id,
                person=person,
                kind=kind,
                label=label[:50],
                value=value[:500],
                is_primary=is_primary,
            )
        )
    return out


def _dates(person: Person, contact: Contact, *, existing: set[tuple[str, int, int]]) -> list[ImportantDate]:
    out = []
    for label, day, month, year in contact.dates:
        if (label.lower(), day, month) in existing:
            continue
        out.append(
            ImportantDate(
                workspace_id=person.workspace_id,
                person=person,
                label=label[:100],
                date_day=day,
                date_month=month,
                date_year=year,
            )
        )
    return out


def _family(person: Person, contact: Contact, *, existing: list[FamilyMember]) -> list[FamilyMember]:
    """The card's relatives the record lacks. One it already has (spouse "Chidi" for the card's
    "Chidi Okafor") is kept once, under the fuller name."""
    out: list[FamilyMember] = []
    for relation, name in contact.family:
        known = next((f for f in [*existing, *out] if same_relative(f.relation, f.name, relation, name)), None)
        if known is None:
            out.append(
                FamilyMember(workspace_id=person.workspace_id, person=person, relation=relation, name=name[:200])
            )
        elif (fuller := fuller_name(known.name, name[:200])) != known.name:
            known.name = fuller
            if known.pk:
                FamilyMember.objects.filter(pk=known.pk).update(name=fuller)
    return out


def _save_photo(person: Person, contact: Contact) -> None:
    try:
        image = process_photo(ContentFile(base64.b64decode(contact.photo), name="photo"))
    except (ValidationError, ValueError):
        contact.warnings.append("The photo is not an image we can read; left out.")
        return
    # Stored before the batch commits; if the batch rolls back, the file is an unreferenced
    # leftover (rare, harmless), never a person pointing at a missing file.
    person.photo.save("photo.jpg", image, save=False)
    Person.objects.filter(pk=person.pk).update(photo=person.photo.name)


def merge_contact(*, person: Person, contact: Contact) -> Person:
    """Add what a card knows and the person's record lacks; never overwrite, never repeat."""
    # A fresh, locked copy: an earlier card of the same batch may have just merged into them.
    person = Person.objects.select_for_update().select_related("workspace").get(pk=person.pk)
    changed = []
    for field_name in ("nickname", "job_title"):
        if not getattr(person, field_name) and getattr(contact, field_name):
            setattr(person, field_name, getattr(contact, field_name))
            changed.append(field_name)
    if person.company_id is None and contact.company:
        person.company = _companies(person.workspace, [contact.company]).get(contact.company.lower())
        changed.append("company")
    before = (person.birthday_month, person.anniversary_month)
    _set_dates(person, contact, only_empty=True)
    if (person.birthday_month, person.anniversary_month) != before:
        changed += [f"{p}_{part}" for p in ("birthday", "anniversary") for part in ("day", "month", "year")]
    new_notes = [n for n in contact.notes if n.strip() and n.strip() not in person.notes]
    if new_notes:
        person.notes = "\n\n".join([person.notes, *new_notes]).strip()[:20000]
        changed.append("notes")
    if changed:
        person.full_clean(exclude=["photo", "company", "owner", "workspace"], validate_constraints=False)
        person.save(update_fields=[*set(changed), "updated_at"])
    existing_methods = list(person.contact_methods.all())
    added = len(ContactMethod.objects.bulk_create(_methods(person, contact, existing=existing_methods)))
    have_dates = {(d.label.lower(), d.date_day, d.date_month) for d in person.important_dates.all()}
    added += len(ImportantDate.objects.bulk_create(_dates(person, contact, existing=have_dates)))
    added += len(FamilyMember.objects.bulk_create(_family(person, contact, existing=list(person.family.all()))))
    if contact.tags or contact.interests:
        tags_before = set(person.tags.values_list("pk", flat=True))
        for kind in Tag.Kind.values:
            if names := _names(contact, kind):
                person.tags.add(*tags_for_names(person.workspace, names, kind=kind))
        people_refresh_stay_due(Person.objects.filter(pk=person.pk))
        if set(person.tags.values_list("pk", flat=True)) != tags_before:
            changed.append("tags")
    if contact.photo and not person.photo:
        _save_photo(person, contact)
        if person.photo:
            changed.append("photo")
    if changed or added:  # a card that brought nothing new is no change to tell
        events.publish(workspace=person.workspace, event=events.PERSON_UPDATED, ids=[person.pk])
    return person
