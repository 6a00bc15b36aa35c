"""The calendar month stays the same size as the book grows: the people's own dates listed (a
few a day, then "+N more"), family and pet birthdays counted per day, each day a link away."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from crm.models import Workspace
from people.models import FamilyMember, ImportantDate, Person, Pet
from reminders import services as reminder_services
from reminders.selectors import DATES_A_DAY
from tests.factories import PersonFactory

MARCH = datetime(2026, 3, 4, 12, tzinfo=UTC)


def _book(workspace: Workspace, people: int) -> None:
    for i, person in enumerate(
        PersonFactory.create_batch(people, workspace=workspace, birthday_day=20, birthday_month=3)
    ):
        reminder_services.follow_up_create(person=person, due_on=date(2026, 3, 18), note=f"Call {i}")
        FamilyMember.objects.create(
            workspace=workspace, person=person, relation="child", name=f"Kid{i}", birthday_day=20, birthday_month=3
        )
        Pet.objects.create(
            workspace=workspace, person=person, name=f"Rex{i}", species="dog", birthday_day=20, birthday_month=3
        )


@pytest.mark.django_db
@time_machine.travel(MARCH, tick=False)
def test_the_month_lists_people_and_counts_family_and_pet_birthdays(owner_client: Client, workspace: Workspace) -> None:
    _book(workspace, DATES_A_DAY + 3)

    page = owner_client.get(reverse("reminders:calendar")).content.decode()

    assert page.count("has a birthday") == DATES_A_DAY
    assert "+3 more, +22 family and pet birthdays" in page
    assert page.count("↻ ") == DATES_A_DAY  # the 18th's follow-ups, oldest first
    assert "+3 more follow-ups" in page
    assert "?day=2026-03-18" in page
    day = owner_client.get(reverse("reminders:calendar"), {"day": "2026-03-18"}).content.decode()
    assert all(f"Call {i}<" in day or f'Call {i}"' in day for i in range(DATES_A_DAY + 3))
    assert "Kid0" not in page
    assert "Rex0" not in page
    assert "?day=2026-03-20" in page


@pytest.mark.django_db
@time_machine.travel(MARCH, tick=False)
def test_the_days_page_shows_every_date_of_the_day(
    owner_client: Client, outsider_client: Client, workspace: Workspace
) -> None:
    _book(workspace, DATES_A_DAY + 3)

    page = owner_client.get(reverse("reminders:calendar"), {"day": "2026-03-20"}).content.decode()
    elsewhere = outsider_client.get(reverse("reminders:calendar"), {"day": "2026-03-20"}).content.decode()
    junk = owner_client.get(reverse("reminders:calendar"), {"day": "20-03-2026"})

    assert "Friday 20 March 2026" in page
    assert page.count("has a birthday") == 3 * (DATES_A_DAY + 3)
    assert "Kid0" in page
    assert "Rex0" in page
    assert "Kid0" not in elsewhere  # another workspace's day shows nothing of this one
    assert junk.status_code == 200
    assert "March 2026" in junk.content.decode()


@pytest.mark.django_db
@time_machine.travel(MARCH, tick=False)
def test_a_day_without_a_year_is_this_years_and_29_february_the_28th_in_a_common_year(
    owner_client: Client, workspace: Workspace
) -> None:
    PersonFactory(workspace=workspace, first_name="Leap", last_name="Day", birthday_day=29, birthday_month=2)

    # The calendar feed's yearly "+212 more birthdays" links a day without its year.
    page = owner_client.get(reverse("reminders:calendar"), {"day": "03-20"}).content.decode()
    leap = owner_client.get(reverse("reminders:calendar"), {"day": "02-29"}).content.decode()
    junk = owner_client.get(reverse("reminders:calendar"), {"day": "13-40"})

    assert "Friday 20 March 2026" in page
    assert "Saturday 28 February 2026" in leap
    assert "Leap Day" in leap
    assert junk.status_code == 200
    assert "March 2026" in junk.content.decode()


@pytest.mark.django_db
@time_machine.travel(MARCH, tick=False)
def test_a_day_of_birthdays_anniversaries_and_other_dates_lists_eight_and_counts_the_rest(
    owner_client: Client, workspace: Workspace
) -> None:
    for i in range(5):
        PersonFactory(workspace=workspace, first_name=f"B{i}", birthday_day=12, birthday_month=3)
        PersonFactory(workspace=workspace, first_name=f"A{i}", anniversary_day=12, anniversary_month=3)
        person = PersonFactory(workspace=workspace, first_name=f"D{i}")
        ImportantDate.objects.create(workspace=workspace, person=person, label="Opening", date_day=12, date_month=3)
    PersonFactory(workspace=workspace, first_name="Other", birthday_day=13, birthday_month=3)

    weeks = owner_client.get(reverse("reminders:calendar")).context["weeks"]

    days = {cell.day.day: cell for week in weeks for cell in week if cell.in_month}
    assert len(days[12].dates) == DATES_A_DAY
    assert days[12].more_dates == 15 - DATES_A_DAY  # all three kinds counted
    assert [d.text.split()[0] for d in days[12].dates] == ["A0", "A1", "A2", "A3", "A4", "B0", "B1", "B2"]
    assert [d.text for d in days[13].dates] == [days[13].dates[0].person.full_name + " has a birthday"]
    assert days[13].more_dates == 0


@pytest.mark.django_db
@time_machine.travel(MARCH, tick=False)
@pytest.mark.parametrize("people", [2, 30])
def test_the_month_costs_the_same_queries_and_rows_for_any_size(
    owner_client: Client, workspace: Workspace, people: int, django_assert_max_num_queries
) -> None:
    _book(workspace, people)

    with django_assert_max_num_queries(13):
        response = owner_client.get(reverse("reminders:calendar"))

    cells = [cell for week in response.context["weeks"] for cell in week]
    assert sum(len(cell.dates) for cell in cells) == min(people, DATES_A_DAY)
    assert sum(cell.more_dates for cell in cells) == max(0, people - DATES_A_DAY)
    assert sum(cell.relatives for cell in cells) == 2 * people
    assert sum(len(cell.follow_ups) for cell in cells) == min(people, DATES_A_DAY)
    assert sum(cell.more_follow_ups for cell in cells) == max(0, people - DATES_A_DAY)


@pytest.mark.django_db
@time_machine.travel(MARCH, tick=False)
def test_an_archived_persons_follow_ups_and_family_are_not_on_the_month(
    owner_client: Client, workspace: Workspace
) -> None:
    _book(workspace, 3)  # three people with a child, a dog and a follow-up each
    gone = PersonFactory(workspace=workspace, first_name="Gone", last_name="Away", birthday_day=20, birthday_month=3)
    FamilyMember.objects.create(
        workspace=workspace, person=gone, relation="child", name="Kid", birthday_day=20, birthday_month=3
    )
    reminder_services.follow_up_create(person=gone, due_on=date(2026, 3, 18), note="Call them")
    Person.objects.filter(pk=gone.pk).update(archived_at=MARCH)

    page = owner_client.get(reverse("reminders:calendar")).content.decode()

    assert "+6 family and pet birthdays" in page  # the three people's, not the archived one's child
    assert page.count("↻ ") == 3
    assert "Gone Away" not in page
