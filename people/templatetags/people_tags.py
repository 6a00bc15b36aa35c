"""Display helpers for people: Markdown notes, phone numbers, avatars, partial dates."""

from __future__ import annotations

import functools
import re
from datetime import date
from typing import Any
from urllib.parse import urlsplit

import markdown as md
import nh3
import phonenumbers
from django import template
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince

from crm import dateformats
from people.dates import PartialDate
from people.models import Person

register = template.Library()

_MARK = 987_654_321
_PATHS: dict[tuple[object, str, str, bool], tuple[str, str]] = {}


@register.simple_tag
def path(name: str, pk: int | str | None = None) -> str:
    """``{% url name pk %}`` for URLs of one integer (or none), without walking the resolver per row.

    Lists print the same few links for every row; ``reverse()`` costs tens of microseconds
    each, which on a 50-row list was a tenth of the page. The URL is reversed once per
    process (per URLconf and script prefix) around a marker, and the row's id put in its place.
    """
    key = (get_urlconf(), get_script_prefix(), name, pk is None)
    parts = _PATHS.get(key)
    if parts is None:
        if pk is None:
            parts = (reverse(name), "")
        else:
            before, _, after = reverse(name, args=[_MARK]).partition(str(_MARK))
            parts = (before, after)
        _PATHS[key] = parts
    return parts[0] if pk is None else f"{parts[0]}{int(pk)}{parts[1]}"


@register.filter
def markdown(text: str) -> SafeString:
    """Render Markdown, then sanitise the HTML with nh3 (scripts, handlers, styles removed)."""
    html = md.markdown(text or "", extensions=["sane_lists", "nl2br"], output_format="html")
    return mark_safe(nh3.clean(html, url_schemes={"http", "https", "mailto", "tel"}))  # noqa: S308 - nh3 sanitised


@register.filter
def web_url(value: str) -> str:
    """The address if a browser would open it as an http(s) page, else "": a stored
    ``javascript:`` (imported, or typed before validation existed) never becomes a link."""
    # Browsers drop tabs and newlines anywhere in a URL and spaces around it before the scheme.
    cleaned = re.sub(r"[\t\n\r]", "", value).strip("".join(map(chr, range(0x21))))
    return value if urlsplit(cleaned).scheme.lower() in {"http", "https"} else ""


@register.filter
@functools.lru_cache(maxsize=4096)  # lists show the same numbers page after page
def phone(value: str) -> str:
    try:
        return phonenumbers.format_number(phonenumbers.parse(value, None), phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    except phonenumbers.NumberParseException:
        return value


@register.simple_tag
def avatar(person: Person, size: str = "") -> SafeString:
    classes = f"avatar avatar-{size}" if size else "avatar"
    if person.photo:
        return format_html(
            '<img class="{} object-fit-cover" src="{}" alt="">', classes, reverse("people:photo", args=[person.pk])
        )
    return format_html('<span class="{}" aria-hidden="true">{}</span>', classes, person.initials or "?")


@register.filter
def age_on(value: PartialDate | None, day: date) -> int | None:
    return value.age_on(day) if value else None


@register.filter
def next_on(value: PartialDate | None, day: date) -> date | None:
    return value.next_occurrence(day) if value else None


@register.simple_tag
def last_contact(person: Person) -> str:
    """ "Last contact 3 weeks ago" or "Never contacted", in one tag (a list shows it per row)."""
    if person.last_contacted_at is None:
        return "Never contacted"
    return f"Last contact {timesince(person.last_contacted_at, depth=1)} ago"


_COLOURS = {"overdue": "badge-soft badge-overdue", "soon": "badge-soft badge-today", "ok": "badge-soft badge-done"}


@register.simple_tag
def stay_badge(person: Person, today: date) -> str:
    """ok / due soon / overdue, as a coloured badge wherever a person appears (lists: every row).

    Never contacted: "First contact due 3 Dec", never "In touch" beside "never contacted".
    """
    from people.stay_in_touch import stay_status

    status = stay_status(person, today)
    if status is None:
        return ""
    colour = "badge-soft badge-accent" if status.first_contact and status.state == "ok" else _COLOURS[status.state]
    on = dateformats.format_date(status.due_on, "day_month")
    title = (
        f"Never contacted: first contact {status.due_words} {on}"
        if status.first_contact
        else f"Stay in touch: {status.due_words} {on}"
    )
    return format_html('<span class="badge {}" title="{}">{}</span>', colour, title, status.label)


@register.filter
def said_by(promise: Any, viewer: object) -> str:
    """ "You promised", "Ngozi promised", "They promised": a promise as ``viewer`` reads it."""
    return promise.said_by(viewer)
