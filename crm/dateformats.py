"""How dates are written for one user, in pages, in forms and in emails: their date style.

Why not Django's localisation: it ties the date format to a translation. Activating "de" for
dd.mm.yyyy would also turn Django's own messages ("This field is required.") into German around
Rapport's English, and there is no language whose format is ISO 8601. So the style is a small
table of its own, activated per request (``crm.middleware.DateStyleMiddleware``) or around one
email (``override``), the way ``django.utils.timezone`` activates a time zone. Every date in a
template goes through the ``userdate`` filter (``crm/templatetags/userdates.py``) and every date
field through ``people.fields.DateInput``/``LocalDateField``, so what a user types is what they see.

Why not ``<input type=date>``: Chromium draws it in the browser's own language (an English
Chromium in London still shows mm/dd/yyyy) whatever the page's ``lang`` says, so it could never
match the setting. Date fields are text fields in the user's format; static/js/dates.js adds the
browser's calendar as a button that writes the chosen day in that format.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from asgiref.local import Local
from django.core.exceptions import ValidationError
from django.utils import dateformat


@dataclass(frozen=True)
class DateStyle:
    code: str
    label: str
    lang: str  # the page's lang attribute: the text stays English, in this variant
    order: str  # "dmy", "mdy" or "ymd": how typed numbers are read, and the day/month/year widget order
    separator: str
    full: str  # Django date formats (as the ``date`` filter takes them)
    day_month: str
    weekday: str
    long: str
    long_no_year: str

    @property
    def numeric(self) -> str:
        """The Django format of a full date in numbers: "d/m/Y"."""
        return self.separator.join({"d": "d", "m": "m", "y": "Y"}[part] for part in self.order)

    @property
    def placeholder(self) -> str:
        """How the format is explained to someone typing: "dd/mm/yyyy"."""
        return self.separator.join({"d": "dd", "m": "mm", "y": "yyyy"}[part] for part in self.order)

    def example(self) -> str:
        return dateformat.format(date(2025, 12, 31), self.numeric)


STYLES: dict[str, DateStyle] = {
    style.code: style
    for style in (
        DateStyle(
            "en-gb", "English (UK): dd/mm/yyyy", "en-GB", "dmy", "/", "j M Y", "j M", "D j M", "l j F Y", "l j F"
        ),
        DateStyle(
            "en-us", "English (US): mm/dd/yyyy", "en-US", "mdy", "/", "M j, Y", "M j", "D, M j", "l, F j, Y", "l, F j"
        ),
        DateStyle("iso", "ISO 8601: yyyy-mm-dd", "en-GB", "ymd", "-", "Y-m-d", "j M", "D j M", "l Y-m-d", "l j F"),
        DateStyle("de", "German: dd.mm.yyyy", "en-GB", "dmy", ".", "d.m.Y", "j. M", "D j. M", "l j. F Y", "l j. F"),
        DateStyle("nl", "Dutch: dd-mm-yyyy", "en-GB", "dmy", "-", "j M Y", "j M", "D j M", "l j F Y", "l j F"),
    )
}
DEFAULT = "en-gb"
CHOICES = [(style.code, style.label) for style in STYLES.values()]

# The first language a browser asks for, to the style people there write dates in. Languages
# not listed write day first with slashes (French, Spanish, Italian, Portuguese, Greek...).
_US_REGIONS = {"us", "ph", "pr", "um", "vi", "as", "gu", "mp"}
_YEAR_FIRST = {"zh", "ja", "ko", "hu", "lt", "sv", "mn"}
_DOTTED = {
    *("de", "da", "fi", "nb", "nn", "no", "pl", "ru", "cs", "sk", "tr", "uk"),
    *("ro", "bg", "hr", "sl", "sr", "et", "lv", "be", "kk", "az", "is"),
}
_ACCEPT_LANGUAGE = re.compile(r"^\s*([A-Za-z]{1,8})(?:[-_]([A-Za-z0-9]{1,8}))?[^;]*(?:;\s*q\s*=\s*([0-9.]+))?\s*$")


def style_from_accept_language(header: str) -> str:
    """The style for a browser's Accept-Language ("en-US,en;q=0.9" -> "en-us"); the default
    when the header is empty or unreadable. Only the most wanted language counts."""
    best: tuple[float, str, str] | None = None
    for part in header.split(",")[:20]:
        match = _ACCEPT_LANGUAGE.match(part)
        if not match:
            continue
        try:
            quality = float(match.group(3)) if match.group(3) else 1.0
        except ValueError:
            continue
        if best is None or quality > best[0]:
            best = (quality, match.group(1).lower(), (match.group(2) or "").lower())
    if best is None:
        return DEFAULT
    _, language, region = best
    if language == "en":
        if region == "ca":
            return "iso"
        return "en-us" if region in _US_REGIONS or not region else "en-gb"
    if language == "fr" and region == "ca":
        return "iso"
    if language in _YEAR_FIRST:
        return "iso"
    if language in _DOTTED:
        return "de"
    if language == "nl":
        return "nl"
    return DEFAULT


# --- The active style, per request or per email ---------------------------------------------

_active = Local()


def get_style(code: str | None = None) -> DateStyle:
    """The style ``code`` names, or the active one; the default for an unknown code (a style
    dropped in a later version must not break anyone's pages)."""
    if code is None:
        code = getattr(_active, "value", DEFAULT)
    return STYLES.get(code or DEFAULT, STYLES[DEFAULT])


def activate(code: str) -> None:
    _active.value = code


def deactivate() -> None:
    if hasattr(_active, "value"):
        del _active.value


@contextmanager
def override(code: str) -> Iterator[None]:
    """Dates in this block are written in ``code``'s style (an email to one recipient)."""
    previous = getattr(_active, "value", None)
    _active.value = code
    try:
        yield
    finally:
        if previous is None:
            deactivate()
        else:
            _active.value = previous


# --- Writing -------------------------------------------------------------------------------

KINDS = ("date", "datetime", "numeric", "day", "day_month", "long", "long_no_year")


def format_date(value: date | datetime, kind: str = "date", *, style: DateStyle | None = None) -> str:
    """``value`` as the active style writes it. Kinds, in the UK style: "date" (31 Dec 2025),
    "datetime" (31 Dec 2025, 14:30), "numeric" (31/12/2025, as typed), "day" (Wed 31 Dec),
    "day_month" (31 Dec), "long" (Wednesday 31 December 2025), "long_no_year" (Wednesday 31
    December). Pages write a month's name where the style has one: "Mar 5, 2025" cannot be
    misread by anyone, "05/03/2025" can. Datetimes are given in the local time zone."""
    style = style or get_style()
    formats = {
        "date": style.full,
        "datetime": f"{style.full}, H:i",
        "numeric": style.numeric,
        "day": style.weekday,
        "day_month": style.day_month,
        "long": style.long,
        "long_no_year": style.long_no_year,
    }
    if kind not in formats:
        raise ValueError(f"Not a date kind: {kind}")
    return dateformat.format(value, formats[kind])


def format_partial(day: int, month: int, year: int | None, *, style: DateStyle | None = None) -> str:
    """A birthday ("15 April", "April 15, 1980"): month names, in the style's order."""
    style = style or get_style()
    name = calendar.month_name[month]
    if style.order == "mdy":
        return f"{name} {day}, {year}" if year else f"{name} {day}"
    dot = "." if style.separator == "." else ""
    return f"{day}{dot} {name} {year}" if year else f"{day}{dot} {name}"


def input_value(value: Any, *, with_time: bool = False) -> Any:
    """A date (or datetime) as a form field shows it to be edited; anything else (what the user
    typed, shown again with its error) unchanged."""
    if isinstance(value, datetime):
        return format_date(value, "numeric") + (dateformat.format(value, " H:i") if with_time else "")
    if isinstance(value, date):
        return format_date(value, "numeric")
    return value


# --- Reading -------------------------------------------------------------------------------

_DATE = re.compile(r"^\s*(\d{1,4})\s*[/.\-\s]\s*(\d{1,2})\s*[/.\-\s]\s*(\d{1,4})\s*$")
_DATETIME = re.compile(
    r"^\s*(?P<date>\d{1,4}\s*[/.\-]\s*\d{1,2}\s*[/.\-]\s*\d{1,4})(?:\s*[T,\s]\s*(?P<hour>\d{1,2})[:.h](?P<minute>\d{2})"
    r"(?::\d{2}(?:\.\d+)?)?\s*(?P<ampm>[ap]\.?m\.?)?)?\s*$",
    re.IGNORECASE,
)


def _invalid(style: DateStyle) -> ValidationError:
    return ValidationError(
        f"Enter a valid date as {style.placeholder}, for example {style.example()}.", code="invalid"
    )  # fmt: skip


def parse_date(text: str, *, style: DateStyle | None = None) -> date:
    """A typed date read in the style's order; four digits first is always year-month-day
    (yyyy-mm-dd cannot be misread, and is what scripts and older links send). A year must be
    typed in full: is "03" 1903 or 2003 for a birthday? A ValidationError that shows the format."""
    style = style or get_style()
    match = _DATE.match(text)
    if not match:
        raise _invalid(style)
    first, second, third = match.groups()
    if len(first) == 4:
        year, month, day = first, second, third
    elif len(third) != 4:
        raise ValidationError(
            f"Enter a valid date with the year in full: {style.placeholder}, for example {style.example()}.",
            code="invalid",
        )
    elif style.order == "mdy":
        month, day, year = first, second, third
    else:  # dmy, and ymd typed with the year last (31-12-2025) is still day first
        day, month, year = first, second, third
    try:
        return date(int(year), int(month), int(day))
    except ValueError as exc:
        if int(year) >= 1 and 1 <= int(month) <= 12 and int(day) >= 1:
            raise ValidationError(
                f"Enter a valid date. {calendar.month_name[int(month)]} {int(year)} has no day {int(day)}.",
                code="invalid",
            ) from exc
        raise _invalid(style) from exc


def parse_datetime(text: str, *, style: DateStyle | None = None) -> datetime:
    """A typed date and time ("31/12/2025 14:30", "12/31/2025 2:30 pm", "2025-12-31T14:30"),
    naive, in the user's time zone as the form field makes it. Without a time: midnight."""
    style = style or get_style()
    match = _DATETIME.match(text)
    if not match:
        raise ValidationError(
            f"Enter the date and time as {style.placeholder} hh:mm, for example {style.example()} 14:30.",
            code="invalid",
        )
    day = parse_date(match.group("date"), style=style)
    hour, minute = int(match.group("hour") or 0), int(match.group("minute") or 0)
    ampm = (match.group("ampm") or "").lower().replace(".", "")
    if ampm:
        if not 1 <= hour <= 12:
            raise ValidationError("With am or pm, the hour is between 1 and 12.", code="invalid")
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    if hour > 23 or minute > 59:
        raise ValidationError("Enter a time between 00:00 and 23:59.", code="invalid")
    return datetime.combine(day, time(hour, minute))
