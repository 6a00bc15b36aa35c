"""``{{ value|userdate }}``: a date as the viewer (or an email's recipient) writes dates.

A builtin (see TEMPLATES in settings), so pages and emails need no ``{% load %}`` for it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django import template
from django.utils.html import format_html

from crm import dateformats

register = template.Library()


@register.filter(expects_localtime=True, is_safe=False)
def userdate(value: Any, kind: str = "date") -> str:
    """``{{ d|userdate }}`` 31/12/2025; ``"datetime"``, ``"day"`` (Wed 31 Dec), ``"day_month"``,
    ``"long"``, ``"long_no_year"`` as ``crm.dateformats.format_date`` says. A birthday (any value
    with day, month and optional year) reads "15 April" or "April 15, 1980"."""
    if value in (None, ""):
        return ""
    if isinstance(value, date | datetime):
        return dateformats.format_date(value, kind)
    if all(hasattr(value, name) for name in ("day", "month", "year")):
        return dateformats.format_partial(value.day, value.month, value.year)
    return str(value)


@register.simple_tag
def date_lang() -> str:
    """The page's lang attribute: English, in the variant of the user's date style."""
    return dateformats.get_style().lang


@register.simple_tag
def date_input_attrs() -> str:
    """The attributes of a hand-written date input (``<input type="text" {% date_input_attrs %}>``),
    as ``people.fields.DateInput`` renders them: the user's format as placeholder, and what
    static/js/dates.js needs to add the calendar."""
    style = dateformats.get_style()
    return format_html(
        'data-date-input="date" autocomplete="off" placeholder="{}" data-date-order="{}" data-date-separator="{}"',
        style.placeholder,
        style.order,
        style.separator,
    )
