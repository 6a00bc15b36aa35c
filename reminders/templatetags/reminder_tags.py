"""Display helpers for reminder rows."""

from __future__ import annotations

from typing import Any

from django import template

from people.models import Person
from reminders.selectors import PersonContext

register = template.Library()

ASK_SHOWN = 2  # a row has one line for it: the first two things, the person page has the rest


@register.filter
def ask_about(contexts: dict[int, PersonContext] | None, person: Person) -> str:
    """ "Ask about Bingo, Anna's dog · Max, Anna's son" for a row, or "" when nothing is known."""
    known: Any = (contexts or {}).get(person.pk)
    if not known or not known.ask_about:
        return ""
    return "Ask about " + " · ".join(known.ask_about[:ASK_SHOWN])
