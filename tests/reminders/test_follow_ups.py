"""Follow-ups: one-off and recurring (every N honoured exactly), edit, delete, isolation."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm.models import User, Workspace
from digests.services import digest_action
from interactions.models import FollowUp
from reminders import services
from tests.factories import PersonFactory


@pytest.mark.django_db
def test_done_on_a_one_off_closes_it_once(workspace: Workspace) -> None:
    follow_up = services.follow_up_create(person=PersonFactory(workspace=workspace), due_on=date(2026, 3, 4))

    assert services.follow_up_done(follow_up=follow_up) is True
    assert services.follow_up_done(follow_up=follow_up) is False  # a double click
    follow_up.refresh_from_db()
    assert follow_up.done_at is not None


@pytest.mark.django_db
def test_monthly_from_31_january_keeps_to_month_ends(workspace: Workspace) -> None:
    follow_up = services.follow_up_create(
        person=PersonFactory(workspace=workspace), due_on=date(2026, 1, 31), repeat_every=1, repeat_unit="months"
    )
    seen = []
    for _ in range(4):
        follow_up.refresh_from_db()
        services.follow_up_done(follow_up=follow_up, today=follow_up.due_on)
        follow_up.refresh_from_db()
        seen.append(follow_up.due_on)

    assert seen == [date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30), date(2026, 5, 31)]


@pytest.mark.django_db
def test_every_n_is_honoured_exactly_and_advances_from_the_schedule(workspace: Workspace) -> None:
    follow_up = services.follow_up_create(
        person=PersonFactory(workspace=workspace), due_on=date(2026, 1, 5), repeat_every=3, repeat_unit="weeks"
    )

    # Done late, on 20 January: the next is still three weeks after the 5th, not after the 20th.
    services.follow_up_done(follow_up=follow_up, today=date(2026, 1, 20))
    follow_up.refresh_from_db()
    assert follow_up.due_on == date(2026, 1, 26)

    # After a long absence, missed occurrences collapse into the next one after today.
    services.follow_up_done(follow_up=follow_up, today=date(2026, 5, 1))
    follow_up.refresh_from_db()
    assert follow_up.due_on == date(2026, 5, 11)
    assert (follow_up.due_on - date(2026, 1, 5)).days % 21 == 0


@pytest.mark.django_db
def test_a_year_of_daily_follow_ups_across_dst_never_drifts(workspace: Workspace) -> None:
    zone = ZoneInfo("America/Los_Angeles")
    follow_up = services.follow_up_create(
        person=PersonFactory(workspace=workspace), due_on=date(2026, 1, 1), repeat_every=1, repeat_unit="days"
    )
    # Done each morning at 08:00 Los Angeles time, through both 2026 clock changes; "today"
    # comes from the clock and the user's time zone, as in the app.
    with (
        time_machine.travel(datetime(2026, 1, 1, 8, 0, tzinfo=zone), tick=False) as traveller,
        timezone.override(zone),
    ):
        for day in range(365):
            follow_up.refresh_from_db()
            expected = date(2026, 1, 1) + timedelta(days=day)
            assert follow_up.due_on == expected
            assert timezone.localdate() == expected
            services.follow_up_done(follow_up=follow_up)
            traveller.move_to(
                datetime.combine(expected + timedelta(days=1), datetime.min.time().replace(hour=8), tzinfo=zone)
            )
    follow_up.refresh_from_db()
    assert (follow_up.due_on, follow_up.occurrence) == (date(2027, 1, 1), 365)


@pytest.mark.django_db
def test_follow_ups_are_added_edited_and_deleted_from_the_person_page(
    owner_client: Client, workspace: Workspace
) -> None:
    person = PersonFactory(workspace=workspace)

    owner_client.post(
        reverse("reminders:follow_up_create", args=[person.pk]),
        {"due_on": "2026-12-01", "note": "Renewal", "repeat_every": "1", "repeat_unit": "years"},
    )
    follow_up = FollowUp.objects.get()
    assert follow_up.recurrence == "every year"
    owner_client.post(
        reverse("reminders:follow_up_edit", args=[follow_up.pk]),
        {"due_on": "2026-12-15", "note": "Renewal call", "repeat_every": "", "repeat_unit": "weeks"},
    )
    follow_up.refresh_from_db()
    assert (follow_up.due_on, follow_up.note, follow_up.is_recurring) == (date(2026, 12, 15), "Renewal call", False)
    assert (
        "Delete this follow-up?"
        in owner_client.get(reverse("reminders:follow_up_delete", args=[follow_up.pk])).content.decode()
    )
    owner_client.post(reverse("reminders:follow_up_delete", args=[follow_up.pk]))
    assert not FollowUp.objects.exists()


@pytest.mark.django_db
def test_bad_follow_up_input_is_refused_next_to_the_field(owner_client: Client, workspace: Workspace) -> None:
    person = PersonFactory(workspace=workspace)

    response = owner_client.post(
        reverse("reminders:follow_up_create", args=[person.pk]),
        {"due_on": "2026-02-31", "repeat_every": "0", "repeat_unit": "weeks"},
    )

    page = response.content.decode()
    assert "Enter a valid date." in page
    assert "Choose a number between 1 and 365." in page
    assert not FollowUp.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("reminders:follow_up_done", "post"),
        ("reminders:follow_up_snooze", "post"),
        ("reminders:follow_up_edit", "get"),
        ("reminders:follow_up_edit", "post"),
        ("reminders:follow_up_delete", "get"),
        ("reminders:follow_up_delete", "post"),
    ],
)
def test_another_workspaces_follow_up_is_a_404(
    outsider_client: Client, workspace: Workspace, name: str, method: str
) -> None:
    follow_up = services.follow_up_create(
        person=PersonFactory(workspace=workspace), due_on=date(2026, 3, 4), note="Secret"
    )

    response = getattr(outsider_client, method)(
        reverse(name, args=[follow_up.pk]), {"snooze": "1w", "due_on": "2026-05-05"}
    )

    assert response.status_code == 404
    follow_up.refresh_from_db()
    assert (follow_up.done_at, follow_up.snoozed_until, follow_up.due_on) == (None, None, date(2026, 3, 4))


@pytest.mark.django_db
def test_another_workspaces_person_cannot_be_snoozed_or_followed_up(
    outsider_client: Client, workspace: Workspace
) -> None:
    person = PersonFactory(workspace=workspace)

    assert (
        outsider_client.post(reverse("reminders:cadence_snooze", args=[person.pk]), {"snooze": "1w"}).status_code == 404
    )
    assert (
        outsider_client.post(
            reverse("reminders:follow_up_create", args=[person.pk]), {"due_on": "2026-05-05"}
        ).status_code
        == 404
    )
    person.refresh_from_db()
    assert person.cadence_snoozed_until is None
    assert not FollowUp.objects.exists()


@pytest.mark.django_db
def test_done_twice_on_a_recurring_follow_up_marks_one_occurrence(owner_client: Client, workspace: Workspace) -> None:
    follow_up = services.follow_up_create(
        person=PersonFactory(workspace=workspace), due_on=date(2026, 3, 4), repeat_every=1, repeat_unit="weeks"
    )

    with time_machine.travel(datetime(2026, 3, 4, 9, 0, tzinfo=ZoneInfo("Europe/London")), tick=False):
        for _ in range(2):  # two tabs showing the same occurrence
            owner_client.post(reverse("reminders:follow_up_done", args=[follow_up.pk]), {"occurrence": "0"})

    follow_up.refresh_from_db()
    assert (follow_up.due_on, follow_up.occurrence) == (date(2026, 3, 11), 1)


@pytest.mark.django_db
@time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Europe/London")), tick=False)
def test_done_on_a_series_whose_next_day_falls_after_2200_ends_it_and_says_so(
    owner_client: Client, workspace: Workspace
) -> None:
    person = PersonFactory(workspace=workspace)
    follow_up = services.follow_up_create(person=person, due_on=date(2190, 1, 1), repeat_every=10, repeat_unit="years")
    done = reverse("reminders:follow_up_done", args=[follow_up.pk])

    owner_client.post(done, {"occurrence": "0"})
    follow_up.refresh_from_db()
    assert (follow_up.due_on, follow_up.done_at) == (date(2200, 1, 1), None)  # 2200 is still in range

    response = owner_client.post(done, {"occurrence": "1", "next": person.get_absolute_url()}, follow=True)

    assert "That was the last of the series: the next would fall after 2200." in response.content.decode()
    follow_up.refresh_from_db()
    assert follow_up.done_at is not None
    assert follow_up.due_on == date(2200, 1, 1)


@pytest.mark.django_db
@time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Europe/London")), tick=False)
@pytest.mark.parametrize(
    ("every", "unit", "message"),
    [("101", "years", "Choose a number between 1 and 100."), ("366", "days", "Choose a number between 1 and 365.")],
)
def test_a_repeat_longer_than_the_unit_allows_is_refused_next_to_the_field(
    owner_client: Client, workspace: Workspace, every: str, unit: str, message: str
) -> None:
    person = PersonFactory(workspace=workspace)

    response = owner_client.post(
        reverse("reminders:follow_up_create", args=[person.pk]),
        {"due_on": "2026-03-09", "repeat_every": every, "repeat_unit": unit},
    )

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not FollowUp.objects.exists()


@pytest.mark.django_db
@time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Europe/London")), tick=False)
def test_done_from_a_digest_link_ends_a_series_past_2200_and_says_so(owner: User, workspace: Workspace) -> None:
    follow_up = services.follow_up_create(
        person=PersonFactory(workspace=workspace), due_on=date(2200, 1, 1), repeat_every=1, repeat_unit="years"
    )

    text = digest_action(user=owner, action="done", target=f"follow_up:{follow_up.pk}:0")

    assert text.endswith("That was the last of the series: the next would fall after 2200.")
    follow_up.refresh_from_db()
    assert follow_up.done_at is not None
