"""Matching: which person already in the workspace (or which earlier card of the same file) a
contact read from a file may be. Email and phone are sure; a same or very similar name is a
guess the user confirms on the preview."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import NamedTuple

from crm.models import Workspace
from imports.contact import Contact
from imports.models import ImportRow
from people.matching import phone_key
from people.models import ContactMethod, Person

MatchKind = ImportRow.MatchKind


class Match(NamedTuple):
    """Who was found (a person's id, or a card or line number in the file) and why."""

    found: int | None
    kind: str
    reason: str


NO_MATCH = Match(None, MatchKind.NONE, "")


def name_key(first: str, last: str) -> str:
    """Case, accents, punctuation and word order do not make two names different."""
    text = unicodedata.normalize("NFKD", f"{first} {last}".casefold())
    words = "".join(c if c.isalnum() else " " for c in text if not unicodedata.combining(c)).split()
    return " ".join(sorted(words))


SIMILAR = 0.8  # "Jon"/"John", "Katherine"/"Catherine"; "Ann"/"Anna" too, the user decides


@dataclass
class Index:
    """Who is already in the workspace, by email, phone and name: one pass over the tables."""

    emails: dict[str, int]
    phones: dict[str, int]
    names: dict[str, int]
    # Last name -> (first name, id), to catch "Jon Smith" for "John Smith".
    surnames: dict[str, list[tuple[str, int]]] = field(default_factory=dict)

    @classmethod
    def of_workspace(cls, workspace: Workspace) -> Index:
        index = cls({}, {}, {})
        methods = ContactMethod.objects.for_workspace(workspace).filter(kind__in=("email", "phone"))
        for kind, value, person_id in methods.values_list("kind", "value", "person_id").iterator(chunk_size=5000):
            if kind == "email":
                index.emails.setdefault(value.strip().lower(), person_id)
            elif key := phone_key(value):
                index.phones.setdefault(key, person_id)
        people = Person.objects.for_workspace(workspace).values_list("first_name", "last_name", "id")
        for first, last, person_id in people.iterator(chunk_size=5000):
            index.names.setdefault(name_key(first, last), person_id)
            if last:
                index.surnames.setdefault(name_key("", last), []).append((name_key(first, ""), person_id))
        return index

    def match(self, contact: Contact) -> Match:
        """The first of email, phone, same name and very similar name that finds someone."""
        for email in contact.emails():
            if (found := self.emails.get(email.strip().lower())) is not None:
                return Match(found, MatchKind.EMAIL, f"same email {email}")
        for phone in contact.phones():
            if (key := phone_key(phone)) and (found := self.phones.get(key)) is not None:
                return Match(found, MatchKind.PHONE, f"same phone {phone}")
        if (key := name_key(contact.first_name, contact.last_name)) and (found := self.names.get(key)) is not None:
            return Match(found, MatchKind.SAME_NAME, "same name")
        first = name_key(contact.first_name, "")
        if contact.last_name and len(first) >= 3:
            for other_first, person_id in self.surnames.get(name_key("", contact.last_name), [])[:50]:
                if len(other_first) >= 3 and SequenceMatcher(None, first, other_first).ratio() >= SIMILAR:
                    return Match(person_id, MatchKind.SIMILAR_NAME, "very similar name")
        return NO_MATCH

    def remember(self, contact: Contact, number: int) -> None:
        """Add a contact of the file being read under its card or line number, so a later
        card that repeats it is found (names here are exact; similar ones are not looked for)."""
        for email in contact.emails():
            self.emails.setdefault(email.strip().lower(), number)
        for phone in contact.phones():
            if key := phone_key(phone):
                self.phones.setdefault(key, number)
        self.names.setdefault(name_key(contact.first_name, contact.last_name), number)
