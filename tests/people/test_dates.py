from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from people.dates import (
    PartialDate,
    partial_date_or_none,
    series_next,
    shifted,
    validate_every,
    validate_in_range,
)


def test_a_yearless_birthday_has_no_age() -> None:
    birthday = PartialDate(day=15, month=4)

    assert str(birthday) == "15 April"
    assert birthday.age_on(date(2026, 5, 1)) is None


def test_age_counts_completed_years() -> None:
    birthday = PartialDate(day=15, month=4, year=1980)

    assert birthday.age_on(date(2026, 4, 14)) == 45
    assert birthday.age_on(date(2026, 4, 15)) == 46


def test_29_february_falls_on_28_february_in_common_years() -> None:
    leapling = PartialDate(day=29, month=2, year=2000)

    assert leapling.occurrence_in(2027) == date(2027, 2, 28)
    assert leapling.occurrence_in(2028) == date(2028, 2, 29)
    assert leapling.next_occurrence(date(2027, 3, 1)) == date(2028, 2, 29)
    assert leapling.age_on(date(2027, 2, 28)) == 27


@pytest.mark.parametrize(
    ("day", "month", "year", "message"),
    [
        (31, 2, None, "February has no day 31"),
        (30, 2, None, "February has no day 30"),
        (29, 2, 2023, "February 2023 has no day 29"),
        (31, 4, 1990, "April 1990 has no day 31"),
        (10, 13, None, "Month must be between 1 and 12"),
    ],
)
def test_impossible_dates_are_refused(day: int, month: int, year: int | None, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        PartialDate(day=day, month=month, year=year)


# The range: one place for every date a user or an import enters (see people/dates.py).


@pytest.mark.parametrize("value", [date(1, 1, 1), date(1899, 12, 31), date(2201, 1, 1), date(9999, 12, 31)])
def test_it_refuses_an_event_date_outside_1900_to_2200(value: date) -> None:
    with pytest.raises(ValidationError, match="Enter a date from 1900 to 2200"):
        validate_in_range(value)


def test_it_accepts_the_first_and_last_day_of_the_range() -> None:
    validate_in_range(date(1900, 1, 1))
    validate_in_range(datetime(2200, 12, 31, 23, 59, tzinfo=UTC))


@pytest.mark.parametrize("year", [1, 1849, 2201, 9999])
def test_a_remembered_date_has_a_year_from_1850_to_2200(year: int) -> None:
    with pytest.raises(ValidationError, match="Year must be between 1850 and 2200"):
        PartialDate(day=1, month=1, year=year)
    assert PartialDate(day=31, month=12, year=1850).year == 1850


def test_a_stored_date_from_before_the_range_reads_without_its_year_and_an_impossible_one_as_none() -> None:
    assert partial_date_or_none(31, 12, 9999) == PartialDate(day=31, month=12)
    assert partial_date_or_none(15, 4, 1) == PartialDate(day=15, month=4)
    assert partial_date_or_none(31, 2, 1990) is None
    assert partial_date_or_none(1, 99, None) is None


@pytest.mark.parametrize(
    ("unit", "every", "ok"),
    [("days", 365, True), ("days", 366, False), ("months", 365, True), ("years", 100, True), ("years", 101, False),
     ("weeks", 0, False)],
)  # fmt: skip
def test_a_repeat_is_at_most_365_of_a_unit_and_at_most_a_century(unit: str, every: int, ok: bool) -> None:
    if ok:
        validate_every(every, unit)
    else:
        with pytest.raises(ValidationError, match="Choose a number between 1 and"):
            validate_every(every, unit)


def test_a_step_past_2200_is_none_never_an_overflow() -> None:
    assert shifted(date(2200, 12, 1), months=1) is None
    assert shifted(date(9999, 12, 31), years=365) is None
    assert shifted(date(9999, 12, 31), days=1) is None
    assert shifted(date(2026, 1, 31), months=1) == date(2026, 2, 28)


def test_a_series_ends_when_its_next_day_would_fall_after_2200() -> None:
    assert series_next(anchor=date(2150, 6, 1), unit="years", every=50, index=1, after=date(2160, 1, 1)) == (
        1,
        date(2200, 6, 1),
    )
    assert series_next(anchor=date(2150, 6, 1), unit="years", every=50, index=1, after=date(2200, 6, 1)) is None
    assert series_next(anchor=date(9999, 12, 31), unit="years", every=365, index=1, after=date(2026, 3, 2)) is None


@pytest.mark.parametrize("unit", ["days", "weeks", "months", "years"])
def test_a_series_anchored_in_year_1_jumps_to_the_first_day_after_today_exactly(unit: str) -> None:
    today = date(2026, 3, 2)
    index, day = series_next(anchor=date(1, 1, 31), unit=unit, every=1, index=1, after=today)  # type: ignore[misc]

    assert today < day
    assert shifted(date(1, 1, 31), **{unit: index - 1}) <= today  # the one before is not after today
    assert day == shifted(date(1, 1, 31), **{unit: index})


@pytest.mark.django_db
@time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False)
def test_date_pickers_offer_only_the_range(owner_client: Client) -> None:
    page = owner_client.get(reverse("people:create")).content.decode()

    # A text field in the user's format (issue 16); its calendar (static/js/dates.js) takes the range.
    assert re.search(r'<input type="text" name="met_on"[^>]* data-min="1900-01-01"[^>]* data-max="2200-12-31"', page)
    year = re.search(r'<input[^>]*name="birthday_year"[^>]*>', page)
    assert year
    assert 'min="1850"' in year[0]
    assert 'max="2200"' in year[0]
