"""A person as a vCard 4.0 (RFC 6350) or 3.0 (RFC 2426, for clients that ask for it).

Written line by line with the escaping and folding of ``exports.services.ContentLines``: a
book of 10,000 people is rendered on every sync to find what changed, and vobject's objects
cost about 1 ms a card. The labels go out as ``exports`` writes them (TYPE words vCard knows,
else Apple's grouped X-ABLABEL).

What a card says and nothing else decides its ETag: the photo counts by its file name (a new
photo is a new file), so finding what changed never reads the photos.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.urls import reverse

from exports.services import ContentLines, escape, label_types
from people.dates import PartialDate, partial_date_or_none
from people.models import ContactMethod, Person

logger = logging.getLogger(__name__)

VERSIONS = ("4.0", "3.0")
PROPERTY = {"email": "EMAIL", "phone": "TEL", "website": "URL", "social": "URL", "address": "ADR"}


@dataclass(frozen=True)
class Method:
    kind: str
    label: str
    value: str
    is_primary: bool


@cache
def _person_url_pattern(site: str) -> str:
    return site + reverse("people:detail", args=[999999999]).replace("999999999", "{}")


def person_url(person_id: int) -> str:
    # Reversed once, not per card: reversing costs about as much as the rest of a card.
    return _person_url_pattern(settings.SITE_URL).format(person_id)


class _Unfolded(ContentLines):
    """The lines of a card as they are, for its ETag: folding (the slow part) changes nothing
    of what a card says."""

    def add(self, name: str, value: str) -> None:
        self.lines.append(f"{name}:{value}")


def _date(value: PartialDate, version: str) -> tuple[str, str]:
    """(parameters, value) of a date that may have no year ("--0415" in 4.0; Apple's
    X-APPLE-OMIT-YEAR in 3.0, which has no way of its own to leave the year out)."""
    if version == "4.0":
        if value.year:
            return "", f"{value.year:04d}{value.month:02d}{value.day:02d}"
        return "", f"--{value.month:02d}{value.day:02d}"
    if value.year:
        return "", f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
    return ";X-APPLE-OMIT-YEAR=1604", f"1604-{value.month:02d}-{value.day:02d}"


def _types(types: list[str], primary: bool, version: str, kind: str) -> str:
    if version == "3.0":
        words = (["internet"] if kind == "email" else []) + types + (["pref"] if primary else [])
        return f";TYPE={','.join(words)}" if words else ""
    params = f";TYPE={','.join(types)}" if types else ""
    return params + (";PREF=1" if primary else "")


def render(
    person: Person, methods: list[Method], *, version: str = "4.0", photo: bytes | None = None, for_etag: bool = False
) -> str:
    """The card's text with ``photo`` (the JPEG) embedded; ``for_etag``: the photo's file name
    stands in for it."""
    card = _Unfolded() if for_etag else ContentLines()
    card.lines += ["BEGIN:VCARD", f"VERSION:{version}"]
    card.add("UID", f"urn:rapport:person:{person.workspace_id}:{person.pk}")
    card.text("FN", person.full_name)
    card.add("N", f"{escape(person.last_name)};{escape(person.first_name)};;;")
    if person.nickname:
        card.text("NICKNAME", person.nickname)
    if person.company_id is not None and person.company is not None:
        card.text("ORG", person.company.name)
    if person.job_title:
        card.text("TITLE", person.job_title)
    groups = 0
    for method in methods:
        types, custom = label_types(method.label)
        name = PROPERTY[method.kind]
        if custom:  # the user's own label: Apple's grouped label, which Apple and Google read
            groups += 1
            card.text(f"item{groups}.X-ABLABEL", custom)
            name = f"item{groups}.{name}"
        params = _types(types, method.is_primary, version, method.kind)
        # An address is one free-text line in Rapport: it goes in the street component.
        value = f";;{escape(method.value)};;;;" if method.kind == "address" else escape(method.value)
        card.add(f"{name}{params}", value)
    if birthday := person.birthday:
        params, value = _date(birthday, version)
        card.add(f"BDAY{params}", value)
    anniversary = partial_date_or_none(person.anniversary_day, person.anniversary_month, person.anniversary_year)
    if anniversary:
        params, value = _date(anniversary, version)
        card.add(f"{'ANNIVERSARY' if version == '4.0' else 'X-ANNIVERSARY'}{params}", value)
    if for_etag and person.photo:
        card.add("X-RAPPORT-PHOTO", str(person.photo.name))
    elif photo:
        if version == "4.0":
            card.add("PHOTO", "data:image/jpeg;base64," + base64.b64encode(photo).decode())
        else:
            card.add("PHOTO;ENCODING=b;TYPE=JPEG", base64.b64encode(photo).decode())
    note = f"{person.notes}\n\n" if person.notes else ""
    card.text("NOTE", f"{note}In Rapport: {person_url(person.pk)}")
    card.lines.append("END:VCARD")
    return card.to_bytes().decode()


def etag(person: Person, methods: list[Method]) -> str:
    """The ETag of a person's card: it changes exactly when what the card says changes."""
    return hashlib.sha256(render(person, methods, for_etag=True).encode()).hexdigest()


def photo_bytes(person: Person) -> bytes | None:
    """The stored photo, or None when there is none or its file went missing (then the card goes
    out without one rather than fail the whole sync)."""
    if not person.photo:
        return None
    try:
        with person.photo.open("rb") as handle:
            return handle.read()
    except OSError:
        logger.warning("Photo of person %s is missing: the card goes out without it", person.pk)
        return None


def methods_of(rows: list[ContactMethod]) -> list[Method]:
    return [Method(m.kind, m.label, m.value, m.is_primary) for m in rows]
