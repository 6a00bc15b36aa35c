"""When two details of one person are the same thing: one rule for import merges and manual merges.

A record typed by hand says spouse "Chidi"; the phone's card says "Chidi Okafor". Both mean one
man, and a merge that keeps both shows her with two spouses. The rules are deliberately simple:
the same relation and a name that is the same, one a word-prefix of the other, or the same
first name; a pet of the same name (and species, when both say one); a date of the same label
on the same day; an email in any case, a phone in any notation.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable, Iterable
from typing import TypeVar

import phonenumbers
from django.conf import settings

T = TypeVar("T")


def _words(name: str) -> list[str]:
    return unicodedata.normalize("NFKC", name).casefold().split()


def same_name(a: str, b: str) -> bool:
    """ "Chidi" and "Chidi Okafor", "chidi okafor" and "Chidi Okafor", "Ada Obi" and "Ada N. Obi"."""
    first, second = _words(a), _words(b)
    if not first or not second:
        return False
    shorter, longer = sorted((first, second), key=len)
    return longer[: len(shorter)] == shorter or first[0] == second[0]


def fuller_name(a: str, b: str) -> str:
    """Of two names for one relative, the one that says more ("Chidi Okafor" over "Chidi")."""
    return b if len(_words(b)) > len(_words(a)) and _words(b)[: len(_words(a))] == _words(a) else a


def same_relative(relation: str, name: str, other_relation: str, other_name: str) -> bool:
    return relation == other_relation and same_name(name, other_name)


def same_pet(name: str, species: str, other_name: str, other_species: str) -> bool:
    species_agree = not species or not other_species or species.casefold() == other_species.casefold()
    return _words(name) == _words(other_name) and species_agree


@functools.lru_cache(maxsize=65536)  # an import asks for the same numbers again and again
def phone_key(value: str) -> str:
    """The number in E.164 when it parses, else its digits; short numbers never match."""
    try:
        number = phonenumbers.parse(value, settings.PHONE_DEFAULT_REGION)
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    except phonenumbers.NumberParseException:
        pass
    digits = "".join(c for c in value if c.isdigit())
    return digits if len(digits) >= 6 else ""


def method_key(kind: str, value: str) -> tuple[str, str]:
    """What makes two contact methods the same: a phone's number, anything else's text in any case."""
    if kind == "phone" and (key := phone_key(value)):
        return kind, key
    return kind, " ".join(value.split()).casefold()


def first_match(items: Iterable[T], matches: Callable[[T], bool]) -> T | None:
    return next((item for item in items if matches(item)), None)
