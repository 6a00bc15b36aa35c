from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from people.dates import PartialDate


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
