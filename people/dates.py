"""Dates people remember without a year: "15 April" is a birthday too."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError

MONTHS = [(i, calendar.month_name[i]) for i in range(1, 13)]


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
    if year is not None and not 1850 <= year <= 2200:
        raise ValidationError("Year must be between 1850 and 2200, or left empty.")
    last = calendar.monthrange(year if year is not None else 2000, month)[1]  # 2000: a leap year
    if not 1 <= day <= last:
        where = f"{calendar.month_name[month]} {year}" if year else calendar.month_name[month]
        raise ValidationError(f"{where} has no day {day}.")


def partial_date_or_none(day: int | None, month: int | None, year: int | None) -> PartialDate | None:
    if day is None or month is None:
        return None
    return PartialDate(day=day, month=month, year=year)
