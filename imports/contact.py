"""What an import reads out of a card or a row, before anything is written.

A ``Contact`` is plain data (it goes into the job's rows as JSON), so parsing, previewing and
writing can run in different processes and the preview shows exactly what will be written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from people.dates import EARLIEST_REMEMBERED, LATEST, PartialDate, in_range, validate_partial_date

# Apple's and Google's placeholder year for "no year" birthdays.
NO_YEAR_PLACEHOLDERS = {1604}
# Per card: more than this is a broken or hostile file, not a person (and keeps checks cheap).
MAX_PER_CARD = 100
DATE_RE = re.compile(
    r"^(?:(?P<year>\d{4})-?|--)(?P<month>\d{2})-?(?P<day>\d{2})(?:T.*)?$",
)
LABEL_WORDS = {
    "cell": "mobile",
    "mobile": "mobile",
    "home": "home",
    "work": "work",
    "fax": "fax",
    "pager": "pager",
    "main": "main",
    "other": "other",
    "school": "school",
    "iphone": "iPhone",
    "homepage": "homepage",
    "blog": "blog",
    "assistant": "assistant",
    "car": "car",
    "video": "video",
}
# Type words that say nothing a user needs (the kind already says it) or are markers.
NOISE_TYPES = {
    "internet",
    "voice",
    "pref",
    "x400",
    "text",
    "msg",
    "postal",
    "parcel",
    "dom",
    "intl",
    "uri",
    "x-internet",
}

FAMILY_RELATIONS = {
    "spouse": "spouse",
    "wife": "spouse",
    "husband": "spouse",
    "partner": "partner",
    "domestic partner": "partner",
    "fiance": "partner",
    "fiancé": "partner",
    "fiancee": "partner",
    "child": "child",
    "son": "child",
    "daughter": "child",
    "kid": "child",
    "parent": "parent",
    "mother": "parent",
    "father": "parent",
    "mom": "parent",
    "dad": "parent",
    "sibling": "sibling",
    "brother": "sibling",
    "sister": "sibling",
    "grandparent": "grandparent",
    "grandmother": "grandparent",
    "grandfather": "grandparent",
    "grandchild": "grandchild",
}


@dataclass
class Contact:
    """One person as read from a file; ``warnings`` are fields left out, with the reason."""

    first_name: str = ""
    last_name: str = ""
    nickname: str = ""
    company: str = ""
    job_title: str = ""
    notes: list[str] = field(default_factory=list)
    # (kind, label, value, primary); kind is a ContactMethod.Kind value.
    methods: list[list[Any]] = field(default_factory=list)
    birthday: list[int | None] | None = None
    anniversary: list[int | None] | None = None
    # (label, day, month, year)
    dates: list[list[Any]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    interests: list[str] = field(default_factory=list)  # RFC 6715 INTEREST / HOBBY
    # (relation, name)
    family: list[list[str]] = field(default_factory=list)
    photo: str = ""  # base64, as found in the file
    uid: str = ""
    warnings: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        # Shallow on purpose (asdict deep-copies): the lists are already plain JSON values.
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Contact:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    @property
    def display_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)

    def emails(self) -> list[str]:
        return [m[2] for m in self.methods if m[0] == "email"]

    def phones(self) -> list[str]:
        return [m[2] for m in self.methods if m[0] == "phone"]

    def room_for(self, items: list[Any], what: str) -> bool:
        if len(items) < MAX_PER_CARD:
            return True
        warning = f"More than {MAX_PER_CARD} {what}; the rest left out."
        if warning not in self.warnings:
            self.warnings.append(warning)
        return False

    def add_method(self, kind: str, value: str, label: str = "", primary: bool = False) -> None:
        value = " ".join(value.split()) if kind != "address" else value.strip()
        if not value or not self.room_for(self.methods, "emails, phones and addresses"):
            return
        if any(m[0] == kind and m[2].lower() == value.lower() for m in self.methods):
            return  # exporters repeat the same number under two types
        if primary and any(m[0] == kind and m[3] for m in self.methods):
            primary = False
        self.methods.append([kind, label[:50], value[:500], primary])

    def add_tag(self, text: str) -> None:
        # A comma separates tags everywhere in Rapport, so "a\, b" (one escaped category) is two.
        for part in text.split(","):
            if not self.room_for(self.tags, "tags"):
                return
            name = " ".join(part.split()).lstrip("* ").strip()
            # Google's system groups say nothing about the person.
            if name and name.lower() not in {"mycontacts", "my contacts", "starred"} and name not in self.tags:
                self.tags.append(name)

    def add_family(self, relation_word: str, name: str) -> bool:
        relation = FAMILY_RELATIONS.get(relation_word.strip().lower())
        name = " ".join(name.split())
        if relation is None or not name:
            return False
        if not self.room_for(self.family, "family members"):
            return True
        if [relation, name[:200]] not in self.family:
            self.family.append([relation, name[:200]])
        return True

    def _clean_text(self) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, _clean_nested(getattr(self, name)))

    def set_name_from_full(self, full: str) -> None:
        parts = full.split()
        if not parts:
            return
        if len(parts) == 1:
            self.first_name = parts[0]
        else:
            self.first_name, self.last_name = " ".join(parts[:-1]), parts[-1]

    def finish(self) -> str | None:
        """Fill the name from what else the card has; return why it cannot be imported, if so."""
        self._clean_text()
        self.first_name = " ".join(self.first_name.split())[:100]
        self.last_name = " ".join(self.last_name.split())[:100]
        self.nickname = " ".join(self.nickname.split())[:100]
        self.company = " ".join(self.company.split())[:200]
        self.job_title = " ".join(self.job_title.split())[:200]
        if not self.first_name and self.last_name:
            self.first_name, self.last_name = self.last_name, ""
        if not self.first_name:
            fallback = self.nickname or self.company or next(iter(self.emails()), "") or next(iter(self.phones()), "")
            self.first_name = fallback[:100]
        if not self.first_name:
            return "No name, email, phone or organisation: nothing to recognise this person by."
        return None


def clean_text(value: str) -> str:
    """No NUL bytes and no lone surrogates: PostgreSQL refuses both, in text and in JSON."""
    if value.isascii():
        return value.replace("\x00", "")
    return value.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")


def _clean_nested(value: Any) -> Any:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [_clean_nested(v) for v in value]
    return value


def parse_date(
    text: str, *, what: str, contact: Contact, omit_year: bool = False, birthday: bool = False
) -> list[int | None] | None:
    """A vCard or CSV date as [day, month, year-or-None]; a warning (not an error) when unreadable.

    A year outside the dates Rapport keeps (1850 to 2200), or a birthday in the future, is left
    out with a warning; the day and month are kept ("4 July 1776" is still 4 July every year).
    """
    text = text.strip()
    if not text:
        return None
    match = DATE_RE.match(text)
    day = month = year = None
    if match:
        day, month = int(match["day"]), int(match["month"])
        year = int(match["year"]) if match["year"] else None
    else:
        for pattern in (r"^(\d{1,2})/(\d{1,2})/(\d{4})$", r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$"):
            m = re.match(pattern, text)
            if m:
                # Outlook writes US month/day; dotted dates are European day.month.
                if "/" in pattern:
                    month, day, year = (int(g) for g in m.groups())
                else:
                    day, month, year = (int(g) for g in m.groups())
                break
    if day is None or month is None:
        contact.warnings.append(f"{what} “{text[:40]}” is not a date we can read; left out.")
        return None
    if omit_year or year in NO_YEAR_PLACEHOLDERS or year == 0:
        year = None
    if year is not None and not in_range(date(year, 1, 1), earliest=EARLIEST_REMEMBERED):
        span = f"{EARLIEST_REMEMBERED.year}–{LATEST.year}"
        contact.warnings.append(f"{what} “{text[:40]}”: the year is outside {span}; kept without the year.")
        year = None
    try:
        validate_partial_date(day=day, month=month, year=year)
    except ValidationError:
        contact.warnings.append(f"{what} “{text[:40]}” is not a real date; left out.")
        return None
    if birthday and year is not None and PartialDate(day, month, year).occurrence_in(year) > timezone.localdate():
        contact.warnings.append(f"{what} “{text[:40]}” is in the future; kept without the year.")
        year = None
    return [day, month, year]


def as_partial_date(value: list[int | None] | None) -> PartialDate | None:
    if not value:
        return None
    day, month, year = value
    return PartialDate(int(day or 0), int(month or 0), year)
