"""Data-subject rights for one person: everything held about them (a subject-access ZIP), and
erasure that leaves no trace of them.

Here, on the exports floor, because both reach every app below: people, their conversations,
needs, promises, follow-ups and reminders. Both are owner-only and in the audit log, the
erasure without the erased data (a number, never the name).
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterable
from typing import Any

from django.apps import apps
from django.db import models, transaction
from django.forms.models import model_to_dict

from crm import permissions
from crm.audit import Action, audit_record
from crm.models import Membership, WorkspaceQuerySet
from exports.backup import BackupEncoder
from interactions.models import Interaction
from interactions.services import people_delete
from people.models import FamilyMember, Person

REMOVED = "a removed person"


def _rows(objects: Iterable[models.Model], *, exclude: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    return [model_to_dict(obj, exclude=["workspace", *exclude]) for obj in objects]


def subject_access_zip(*, membership: Membership, person: Person) -> bytes:
    """One ZIP of everything about ``person``: their record, contact details, family, pets, dates,
    facts (private ones too), conversations they were part of or are named in, needs, promises,
    follow-ups, and their photo. The taking is in the audit log."""
    permissions.require(membership, "export_private")
    person = Person.objects.for_workspace(membership.workspace).get(pk=person.pk)
    workspace = membership.workspace
    names = _names(person)
    mentioned = Interaction.objects.for_workspace(workspace).filter(_mentions(names, ("summary", "notes")))
    conversations = (Interaction.objects.for_workspace(workspace).filter(people=person) | mentioned).distinct()
    data = {
        "person": model_to_dict(person, exclude=["workspace", "photo", "tags"]),
        "tags": [tag.name for tag in person.tags.all()],
        "contact_methods": _rows(person.contact_methods.all(), exclude=("person",)),
        "family": _rows(person.family.all(), exclude=("person",)),
        "pets": _rows(person.pets.all(), exclude=("person",)),
        "important_dates": _rows(person.important_dates.all(), exclude=("person",)),
        "facts": _rows(person.facts.all(), exclude=("person",)),
        "conversations": _rows(conversations.order_by("occurred_at"), exclude=("people",)),
        "needs": _rows(person.needs.all(), exclude=("person", "tags", "interactions")),
        "promises": _rows(person.promises.all(), exclude=("person",)),
        "follow_ups": _rows(person.follow_ups.all(), exclude=("person",)),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("person.json", json.dumps(data, cls=BackupEncoder, indent=2, ensure_ascii=False))
        if person.photo:
            with person.photo.open("rb") as photo:
                archive.writestr(f"photo{(person.photo.name or '')[-4:]}", photo.read())
    audit_record(
        action=Action.SUBJECT_ACCESS,
        membership=membership,
        summary=f"Took everything held about person #{person.pk} (subject access)",
        details={"person": person.pk},
    )
    return out.getvalue()


def _names(person: Person) -> list[str]:
    """What the person is called and reached at, longest first (so "Anna Berg" goes before "Anna")."""
    names = {person.full_name, f"{person.first_name} {person.last_name}".strip(), person.nickname}
    names |= {m.value for m in person.contact_methods.all()}
    return sorted((n.strip() for n in names if n and len(n.strip()) >= 3), key=len, reverse=True)


def _mentions(names: list[str], fields: tuple[str, ...]) -> models.Q:
    q = models.Q(pk__in=[])
    for name in names:
        for field in fields:
            q |= models.Q(**{f"{field}__icontains": name})
    return q


def _scrub(text: str, names: list[str]) -> str:
    for name in names:
        text = re.sub(re.escape(name), REMOVED, text, flags=re.IGNORECASE)
    return text


def _text_fields(model: type[models.Model]) -> list[str]:
    return [
        f.name
        for f in model._meta.concrete_fields
        if isinstance(f, models.CharField | models.TextField) and not f.choices and f.name != "workspace"
    ]


@transaction.atomic
def person_erase(*, membership: Membership, person: Person) -> int:
    """Erase ``person`` fully: the record with everything only theirs (facts, family, pets,
    photo, conversations with nobody else), and every mention of their name, nickname, email
    addresses and phone numbers in the workspace's other text (other people's conversations,
    notes, needs) becomes "a removed person". The audit log says a person was erased, by number.
    Owners only. Returns how many other rows had a mention rewritten.
    """
    permissions.require(membership, "delete_people")
    workspace = membership.workspace
    person = Person.objects.for_workspace(workspace).get(pk=person.pk)
    names = _names(person)
    person_id = person.pk
    # A family row of someone else that pointed at this person keeps the relation, not the name.
    FamilyMember.objects.for_workspace(workspace).filter(linked_person=person).update(name=REMOVED)
    people_delete(membership=membership, people=Person.objects.filter(pk=person_id))
    rewritten = 0
    for model in apps.get_models():
        manager = model._default_manager
        fields = _text_fields(model)
        if not fields or not isinstance(manager.all(), WorkspaceQuerySet):
            continue
        qs: WorkspaceQuerySet[Any] = manager.all()  # type: ignore[assignment]
        for row in qs.for_workspace(workspace).filter(_mentions(names, tuple(fields))):
            changed = {f: _scrub(getattr(row, f), names) for f in fields if getattr(row, f)}
            manager.filter(pk=row.pk).update(**changed)
            rewritten += 1
    audit_record(
        action=Action.PERSON_ERASED,
        membership=membership,
        summary=f"Erased person #{person_id} and {rewritten} mention{'s' if rewritten != 1 else ''}",
        details={"person": person_id, "mentions": rewritten},
    )
    return rewritten
