"""Which birthdays fall in a window of days: across months, the year end and 29 February."""

from __future__ import annotations

from datetime import date

import pytest

from crm.models import User, Workspace
from people.models import FamilyMember, Pet
from reminders.selectors import upcoming_dates
from tests.factories import PersonFactory


def _born(workspace: Workspace, owner: User, name: str, month: int, day: int) -> None:
    PersonFactory(workspace=workspace, owner=owner, first_name=name, birthday_month=month, birthday_day=day)


@pytest.mark.django_db
def test_a_window_across_new_year_finds_both_years_soonest_first(workspace: Workspace, owner: User) -> None:
    for name, month, day in [("Jan9", 1, 9), ("Jan3", 1, 3), ("Dec31", 12, 31), ("Dec20", 12, 20), ("Dec19", 12, 19)]:
        _born(workspace, owner, name, month, day)

    items = upcoming_dates(workspace, today=date(2026, 12, 20), days=14)

    assert [(i.person.first_name, i.on) for i in items] == [
        ("Dec20", date(2026, 12, 20)),
        ("Dec31", date(2026, 12, 31)),
        ("Jan3", date(2027, 1, 3)),
    ]
    # With a limit, the soonest win: the January birthday ranks after December's.
    assert [i.person.first_name for i in upcoming_dates(workspace, today=date(2026, 12, 20), days=14, limit=2)] == [
        "Dec20",
        "Dec31",
    ]


@pytest.mark.django_db
def test_a_window_over_three_months_takes_whole_months_between(workspace: Workspace, owner: User) -> None:
    for name, month, day in [("Jan31", 1, 31), ("Feb1", 2, 1), ("Feb27", 2, 27), ("Mar2", 3, 2), ("Mar3", 3, 3)]:
        _born(workspace, owner, name, month, day)

    items = upcoming_dates(workspace, today=date(2027, 1, 31), days=30)  # 31 Jan to 2 Mar 2027

    assert [i.person.first_name for i in items] == ["Jan31", "Feb1", "Feb27", "Mar2"]


@pytest.mark.django_db
def test_29_february_ranks_as_28_february_in_a_common_year(workspace: Workspace, owner: User) -> None:
    _born(workspace, owner, "Leap", 2, 29)
    _born(workspace, owner, "March", 3, 1)

    items = upcoming_dates(workspace, today=date(2027, 2, 20), days=14, limit=1)
    assert [(i.person.first_name, i.on) for i in items] == [("Leap", date(2027, 2, 28))]
    # A window that ends on 28 February still takes the 29th.
    assert [i.person.first_name for i in upcoming_dates(workspace, today=date(2027, 2, 14), days=14)] == ["Leap"]
    # In a leap year the 29th is its own day, and a window ending on the 28th leaves it out.
    assert upcoming_dates(workspace, today=date(2028, 2, 14), days=14) == []


@pytest.mark.django_db
def test_a_date_outside_the_window_does_not_rank_someone_first(workspace: Workspace, owner: User) -> None:
    # Birthday at the end of the window; anniversary earlier the same month, before the window.
    PersonFactory(
        workspace=workspace, owner=owner, first_name="Later", birthday_month=2, birthday_day=3,
        anniversary_month=1, anniversary_day=2,
    )  # fmt: skip
    _born(workspace, owner, "Today", 1, 20)
    assert [i.person.first_name for i in upcoming_dates(workspace, today=date(2027, 1, 20), days=14, limit=1)] == [
        "Today"
    ]

    # The same across new year: an anniversary on 5 December is before a window from the 20th.
    PersonFactory(
        workspace=workspace, owner=owner, first_name="NewYear", birthday_month=1, birthday_day=3,
        anniversary_month=12, anniversary_day=5,
    )  # fmt: skip
    _born(workspace, owner, "Tomorrow", 12, 21)
    assert [i.person.first_name for i in upcoming_dates(workspace, today=date(2026, 12, 20), days=14, limit=1)] == [
        "Tomorrow"
    ]


@pytest.mark.django_db
def test_family_and_pets_across_new_year_keep_the_soonest_and_no_date_twice(workspace: Workspace, owner: User) -> None:
    anna = PersonFactory(
        workspace=workspace, owner=owner, first_name="Anna", last_name="Berg", birthday_month=12, birthday_day=21,
        anniversary_month=12, anniversary_day=22,
    )  # fmt: skip
    for name, month, day in [("Jan2", 1, 2), ("Dec31", 12, 31), ("Dec25", 12, 25)]:
        FamilyMember.objects.create(
            workspace=workspace, person=anna, relation="child", name=name, birthday_month=month, birthday_day=day
        )
    Pet.objects.create(workspace=workspace, person=anna, name="Rex", species="dog", birthday_month=1, birthday_day=1)

    items = upcoming_dates(workspace, today=date(2026, 12, 20), days=14, limit=4)

    # Her birthday and anniversary once each, then the soonest child: each month read on its own.
    assert [(i.on, i.kind) for i in items] == [
        (date(2026, 12, 21), "birthday"),
        (date(2026, 12, 22), "anniversary"),
        (date(2026, 12, 25), "birthday"),
        (date(2026, 12, 31), "birthday"),
    ]
    assert [i.text for i in items][2:] == ["Dec25, Anna's child, has a birthday", "Dec31, Anna's child, has a birthday"]
    whole = upcoming_dates(workspace, today=date(2026, 12, 20), days=14, limit=10)
    assert [i.on for i in whole][-2:] == [date(2027, 1, 1), date(2027, 1, 2)]  # Rex, then Jan2
    assert len({(i.key, i.on) for i in whole}) == len(whole) == 6
