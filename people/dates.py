"""The dates Rapport accepts, in one place, and dates people remember without a year.

Every date a user or an import enters is held to a range: events (conversations, follow-ups,
promises, quiet periods) from 1900 to 2200, and dates of birth and other remembered dates from
1850. Python's dates end in 9999, so a date near that end made arithmetic fail: "every 365
years" from 9999-12-31 broke "Done", and the feed's day after 31 December 9999 broke the whole
calendar feed. Computations that step from a date (a repeat, a cadence, a feed's end day) use
``shifted``, which answers None past the range instead of failing; rows stored before the range
existed are read leniently (``partial_date_or_none``, ``InstantField``, ``in_range``) so they
never break a page.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db import models

MONTHS = [(i, calendar.month_name[i]) for i in range(1, 13)]

EARLIEST = date(1900, 1, 1)  # conversations, follow-ups, promises, needs, quiet periods
EARLIEST_REMEMBERED = date(1850, 1, 1)  # birthdays, anniversaries, family, pets, other dates
LATEST = date(2200, 12, 31)
# The same bounds as moments, a day wider so they hold the range's first and last day in every
# time zone; far from Python's own ends (years 1 and 9999), so any time zone can show them.
EARLIEST_INSTANT = datetime.combine(EARLIEST, time.min, tzinfo=UTC) - timedelta(days=1)
LATEST_INSTANT = datetime.combine(LATEST, time.max, tzinfo=UTC) + timedelta(days=1)
RANGE_MESSAGE = f"Enter a date from {EARLIEST.year} to {LATEST.year}."
YEAR_MESSAGE = f"Year must be between {EARLIEST_REMEMBERED.year} and {LATEST.year}, or left empty."

# Repeats and cadences: at most 365 of a unit, and at most a century.
MAX_EVERY = {"days": 365, "weeks": 365, "months": 365, "years": 100}
# The most days a unit can span: jumping along a series by that many never overshoots.
_LONGEST_DAYS = {"days": 1, "weeks": 7, "months": 31, "years": 366}


def as_day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def in_range(value: date | datetime | None, *, earliest: date = EARLIEST) -> bool:
    """Whether a stored or entered date is one Rapport accepts (None is not a date)."""
    return value is not None and earliest <= as_day(value) <= LATEST


def validate_in_range(value: date | datetime | None) -> None:
    """Validator for every event date field (model and form): 1900 to 2200."""
    if value is not None and not in_range(value):
        raise ValidationError(RANGE_MESSAGE, code="date_range")


def validate_year(year: int | None) -> None:
    """A remembered date's optional year: 1850 to 2200."""
    if year is not None and not EARLIEST_REMEMBERED.year <= year <= LATEST.year:
        raise ValidationError(YEAR_MESSAGE, code="date_range")


def validate_every(every: int | None, unit: str) -> None:
    """A repeat or cadence of ``every`` ``unit``: at least 1, at most ``MAX_EVERY[unit]``."""
    most = MAX_EVERY.get(unit, MAX_EVERY["days"])
    if every is not None and not 1 <= every <= most:
        raise ValidationError(f"Choose a number between 1 and {most}.", code="every_range")


def clamp(day: date) -> date:
    """The nearest day in the range."""
    return min(max(day, EARLIEST), LATEST)


def shifted(day: date, **delta: int) -> date | None:
    """``day`` moved by a relativedelta (``months=3``), or None when that leaves the range."""
    try:
        moved = day + relativedelta(**delta)
    except (ValueError, OverflowError):  # past year 9999
        return None
    return moved if moved <= LATEST else None


def series_next(*, anchor: date, unit: str, every: int, index: int, after: date) -> tuple[int, date] | None:
    """The first occurrence of "``anchor`` + k x ``every`` ``unit``", k >= ``index``, after ``after``.

    None when it would fall past the range: the series has ended. Jumps close to ``after``
    first (by the longest a unit can be, so never past the answer), so a series anchored
    centuries ago costs a few steps, not one per missed occurrence.
    """
    behind = (after - anchor).days // (every * _LONGEST_DAYS[unit])
    index = max(index, behind)
    while True:
        day = shifted(anchor, **{unit: every * index})
        if day is None:
            return None
        if day > after:
            return index, day
        index += 1


@dataclass(frozen=True)
class PartialDate:
    """A day and month with an optional year."""

    day: int
    month: int
    year: int | None = None

    def __post_init__(self) -> None:
        validate_partial_date(day=self.day, month=self.month, year=self.year)

    def __str__(self) -> str:
        text = f"{self.day} {calendar.month_name[self.month]}"
        return f"{text} {self.year}" if self.year else text

    def occurrence_in(self, year: int) -> date:
        """This date in ``year``; 29 February falls on 28 February in common years."""
        if self.month == 2 and self.day == 29 and not calendar.isleap(year):
            return date(year, 2, 28)
        return date(year, self.month, self.day)

    def next_occurrence(self, on_or_after: date) -> date:
        this_year = self.occurrence_in(on_or_after.year)
        return this_year if this_year >= on_or_after else self.occurrence_in(on_or_after.year + 1)

    def age_on(self, day: date) -> int | None:
        """Completed years on ``day``; None when the year is not known."""
        if self.year is None:
            return None
        return day.year - self.year - (1 if day < self.occurrence_in(day.year) else 0)


def validate_partial_date(*, day: int | None, month: int | None, year: int | None) -> None:
    """Refuse 31 February, 30 February, and 29 February of a known common year."""
    if day is None and month is None and year is None:
        return
    if day is None or month is None:
        raise ValidationError("Give both the day and the month (the year is optional).")
    if not 1 <= month <= 12:
        raise ValidationError("Month must be between 1 and 12.")
    validate_year(year)
    last = calendar.monthrange(year if year is not None else 2000, month)[1]  # 2000: a leap year
    if not 1 <= day <= last:
        where = f"{calendar.month_name[month]} {year}" if year else calendar.month_name[month]
        raise ValidationError(f"{where} has no day {day}.")


def partial_date_or_none(day: int | None, month: int | None, year: int | None) -> PartialDate | None:
    """A stored date, read leniently: a row saved before the range existed (year 1, 9999)
    keeps its day and month, and an impossible one (31 February) reads as no date."""
    if day is None or month is None:
        return None
    try:
        validate_year(year)
    except ValidationError:
        year = None
    try:
        return PartialDate(day=day, month=month, year=year)
    except ValidationError:
        return None


class InstantField(models.DateTimeField):
    """A moment people enter (a conversation's time), read back within the range.

    Python's datetimes run from year 1 to 9999, so a moment stored before the range existed
    (0001-01-01 00:00 UTC, 9999-12-31 23:59 UTC) cannot be shown in every time zone: moving it
    to New York or Kiritimati leaves Python's range, and the page showing it failed. It reads as
    the nearest moment in range instead; saving it again stores that.
    """

    def from_db_value(self, value: datetime | None, expression: object, connection: object) -> datetime | None:
        if value is None:
            return None
        return min(max(value, EARLIEST_INSTANT), LATEST_INSTANT)


def end_of_week(today: date) -> date:
    """The week runs Monday to Sunday; on a Sunday, "the rest of the week" is the week ahead."""
    return today + timedelta(days=6 - today.weekday()) if today.weekday() < 6 else today + timedelta(days=7)
