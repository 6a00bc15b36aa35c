"""The "This week" dashboard: stay-in-touch cadences, follow-ups, dates, mine and team."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm.models import User, Workspace
from interactions.models import FollowUp
from interactions.services import interaction_log
from people import stay_in_touch
from people.models import FamilyMember, Person, Pet
from people.stay_in_touch import people_refresh_stay_due
from reminders import services
from tests.factories import PersonFactory, cadenced_person

LONDON = ZoneInfo("Europe/London")
WEDNESDAY = datetime(2026, 3, 4, 9, 0, tzinfo=LONDON)


def _board(client: Client, **params: str):
    response = client.get(reverse("dashboard"), params)
    assert response.status_code == 200
    return response.context["board"]


def _names(items) -> list[str]:
    return [i.person.first_name for i in items]


@pytest.mark.django_db
@time_machine.travel(WEDNESDAY, tick=False)
def test_stay_in_touch_is_due_from_last_contact_plus_cadence(
    owner_client: Client, owner: User, workspace: Workspace
) -> None:
    cadenced_person(workspace, owner, "Recent", last_days_ago=3)  # due in 11 days: not this week
    cadenced_person(workspace, owner, "Thursday", last_days_ago=13)  # due tomorrow
    cadenced_person(workspace, owner, "Today", last_days_ago=14)
    cadenced_person(workspace, owner, "Late", last_days_ago=20)  # 6 days overdue
    cadenced_person(workspace, owner, "Cold", last_days_ago=60)  # 46 days overdue: going cold

    board = _board(owner_client)

    assert _names(board.overdue) == ["Late"]
    assert _names(board.due_today) == ["Today"]
    assert _names(board.this_week) == ["Thursday"]
    assert [p.first_name for p in board.going_cold] == ["Cold"]


@pytest.mark.django_db
@time_machine.travel(WEDNESDAY, tick=False)
def test_logging_a_conversation_resets_the_clock(owner_client: Client, owner: User, workspace: Workspace) -> None:
    late = cadenced_person(workspace, owner, "Late", last_days_ago=20)
    assert _names(_board(owner_client).overdue) == ["Late"]

    interaction_log(workspace=workspace, user=owner, people=[late], summary="Caught up")

    board = _board(owner_client)
    assert board.overdue == []
    assert board.this_week == []


@pytest.mark.django_db
@time_machine.travel(WEDNESDAY, tick=False)
def test_do_not_contact_and_snooze_push_it_out(owner_client: Client, owner: User, workspace: Workspace) -> None:
    quiet = cadenced_person(workspace, owner, "Quiet", last_days_ago=20)
    quiet.do_not_contact_until = date(2026, 3, 10)
    quiet.save()
    snoozed = cadenced_person(workspace, owner, "Snoozed", last_days_ago=20)

    response = owner_client.post(reverse("reminders:cadence_snooze", args=[snoozed.pk]), {"snooze": "1w"}, follow=True)

    assert "Snoozed" in response.content.decode()
    assert _board(owner_client).overdue == []
    with time_machine.travel(datetime(2026, 3, 12, 9, 0, tzinfo=LONDON), tick=False):
        assert sorted(_names(_board(owner_client).overdue)) == ["Quiet", "Snoozed"]


@pytest.mark.django_db
@time_machine.travel(WEDNESDAY, tick=False)
def test_a_tag_default_cadence_applies_when_a_person_has_none(
    owner_client: Client, owner: User, workspace: Workspace
) -> None:
    PersonFactory(
        workspace=workspace,
        first_name="Key",
        owner=owner,
        tags=["key-account"],
        last_contacted_at=timezone.now() - timedelta(days=16),
    )
    own = cadenced_person(workspace, owner, "Own", last_days_ago=16, every=2, unit="months")
    own.tags.set(PersonFactory(workspace=workspace, tags=["key-account"]).tags.all())

    response = owner_client.post(
        reverse("reminders:cadences"), {"tag_name": "Key-Account", "every": "2", "unit": "weeks"}, follow=True
    )

    assert "Stay-in-touch default saved." in response.content.decode()
    assert _names(_board(owner_client).overdue) == ["Key"]  # Own's two months win over the tag's two weeks


@pytest.mark.django_db
def test_only_owners_set_tag_defaults(member_client: Client) -> None:
    assert member_client.get(reverse("reminders:cadences")).status_code == 403


@pytest.mark.django_db
@time_machine.travel(WEDNESDAY, tick=False)
def test_badges_show_the_stay_in_touch_state_in_lists_and_on_the_page(
    owner_client: Client, owner: User, workspace: Workspace
) -> None:
    late = cadenced_person(workspace, owner, "Late", last_days_ago=20)
    cadenced_person(workspace, owner, "Soon", last_days_ago=10)
    cadenced_person(workspace, owner, "Fine", last_days_ago=1)

    page = owner_client.get(reverse("people:list")).content.decode()

    assert page.count(">Overdue</span>") == 1
    assert page.count(">Due soon</span>") == 1
    assert page.count(">In touch</span>") == 1
    assert ">Overdue</span>" in owner_client.get(reverse("people:detail", args=[late.pk])).content.decode()


@pytest.mark.django_db
@time_machine.travel(WEDNESDAY, tick=False)
def test_follow_ups_fall_into_overdue_today_and_this_week(
    owner_client: Client, owner: User, workspace: Workspace
) -> None:
    for name, due in (
        ("Past", date(2026, 3, 2)),
        ("Now", date(2026, 3, 4)),
        ("Sunday", date(2026, 3, 8)),
        ("Next", date(2026, 3, 9)),
    ):
        services.follow_up_create(person=PersonFactory(workspace=workspace, first_name=name, owner=owner), due_on=due)

    board = _board(owner_client)

    assert (_names(board.overdue), _names(board.due_today), _names(board.this_week)) == (["Past"], ["Now"], ["Sunday"])


@pytest.mark.django_db
@time_machine.travel(WEDNESDAY, tick=False)
def test_done_and_snooze_work_without_a_page_reload(owner_client: Client, owner: User, workspace: Workspace) -> None:
    person = PersonFactory(workspace=workspace, owner=owner)
    done = services.follow_up_create(person=person, due_on=date(2026, 3, 4), note="Call back")
    later = services.follow_up_create(person=person, due_on=date(2026, 3, 4), note="Quote")

    response = owner_client.post(reverse("reminders:follow_up_done", args=[done.pk]), HTTP_HX_REQUEST="true")
    # The row comes back marked done, with its Undo (issue 16: it no longer just vanishes).
    assert response.status_code == 200
    assert "Done: follow-up with" in response.content.decode()
    assert ">Undo</button>" in response.content.decode()
    owner_client.post(
        reverse("reminders:follow_up_snooze", args=[later.pk]), {"until": "2026-03-20"}, HTTP_HX_REQUEST="true"
    )

    assert _board(owner_client).due_today == []
    later.refresh_from_db()
    assert later.snoozed_until == date(2026, 3, 20)
    bad = owner_client.post(
        reverse("reminders:follow_up_snooze", args=[later.pk]), {"until": "yesterday"}, HTTP_HX_REQUEST="true"
    )
    assert bad.status_code == 422
    past = owner_client.post(
        reverse("reminders:follow_up_snooze", args=[later.pk]), {"until": "2026-03-01"}, follow=True
    )
    assert "Snooze to a day after today." in past.content.decode()


@pytest.mark.django_db
@time_machine.travel(WEDNESDAY, tick=False)
def test_dates_say_what_to_say(owner_client: Client, owner: User, workspace: Workspace) -> None:
    anna = PersonFactory(
        workspace=workspace,
        first_name="Anna",
        last_name="Berg",
        owner=owner,
        birthday_day=6,
        birthday_month=3,
        birthday_year=1980,
    )
    Pet.objects.create(
        workspace=workspace,
        person=anna,
        name="Max",
        species="dog",
        birthday_day=6,
        birthday_month=3,
        birthday_year=2021,
    )
    FamilyMember.objects.create(
        workspace=workspace, person=anna, relation="child", name="Lia", birthday_day=15, birthday_month=3
    )
    PersonFactory(workspace=workspace, first_name="Far", owner=owner, birthday_day=1, birthday_month=5)

    texts = [d.text for d in _board(owner_client).dates]

    assert texts == ["Anna Berg turns 46", "Max, Anna's dog, turns 5", "Lia, Anna's child, has a birthday"]


@pytest.mark.django_db
@time_machine.travel(datetime(2026, 2, 25, 9, 0, tzinfo=LONDON), tick=False)
def test_29_february_birthdays_show_on_28_february_in_common_years(
    owner_client: Client, owner: User, workspace: Workspace
) -> None:
    PersonFactory(workspace=workspace, first_name="Leap", owner=owner, birthday_day=29, birthday_month=2)

    dates = _board(owner_client).dates

    assert [(d.person.first_name, d.on) for d in dates] == [("Leap", date(2026, 2, 28))]


@pytest.mark.django_db
@time_machine.travel(WEDNESDAY, tick=False)
def test_a_date_marked_done_stays_done_this_year(
    owner_client: Client, owner: User, workspace: Workspace, outsider_client: Client
) -> None:
    anna = PersonFactory(workspace=workspace, owner=owner, birthday_day=6, birthday_month=3)
    key = f"person:{anna.pk}:birthday"

    assert outsider_client.post(reverse("reminders:date_dismiss"), {"key": key, "on": "2026-03-06"}).status_code == 404
    owner_client.post(reverse("reminders:date_dismiss"), {"key": key, "on": "2026-03-06"})
    owner_client.post(reverse("reminders:date_dismiss"), {"key": key, "on": "2026-03-06"})  # a second click is harmless

    (item,) = _board(owner_client).dates
    assert item.dismissed


@pytest.mark.django_db
def test_due_today_means_today_where_the_user_is(owner_client: Client, owner: User, workspace: Workspace) -> None:
    person = PersonFactory(workspace=workspace, owner=owner)
    services.follow_up_create(person=person, due_on=date(2026, 3, 4))
    # 11:30 UTC on 3 March is already 4 March (00:30) in Auckland and still 3 March in Los Angeles.
    moment = datetime(2026, 3, 3, 11, 30, tzinfo=ZoneInfo("UTC"))

    for zone, expected in (("Pacific/Auckland", "due_today"), ("America/Los_Angeles", "this_week")):
        owner.time_zone = zone
        owner.save()
        with time_machine.travel(moment, tick=False):
            board = _board(owner_client)
        assert len(getattr(board, expected)) == 1, zone


@pytest.mark.django_db
@time_machine.travel(WEDNESDAY, tick=False)
def test_members_see_their_own_owners_switch_to_the_team(
    owner_client: Client, member_client: Client, owner: User, member: User, workspace: Workspace
) -> None:
    services.follow_up_create(
        person=PersonFactory(workspace=workspace, first_name="Mine", owner=owner), due_on=date(2026, 3, 4)
    )
    services.follow_up_create(
        person=PersonFactory(workspace=workspace, first_name="Theirs", owner=member), due_on=date(2026, 3, 4)
    )

    assert _names(_board(owner_client).due_today) == ["Mine"]
    assert sorted(_names(_board(owner_client, scope="team").due_today)) == ["Mine", "Theirs"]
    assert _names(_board(owner_client, scope="team", member=str(member.pk)).due_today) == ["Theirs"]
    assert _names(_board(member_client, scope="team").due_today) == ["Theirs"]  # members cannot widen it


@pytest.mark.django_db
@pytest.mark.parametrize("count", [10, 1000])
def test_the_dashboard_costs_the_same_queries_for_10_or_1000_people(
    owner_client: Client, owner: User, workspace: Workspace, count: int, django_assert_max_num_queries
) -> None:
    long_ago = timezone.now() - timedelta(days=100)
    people = Person.objects.bulk_create(
        [
            Person(
                workspace=workspace,
                first_name=f"P{i}",
                owner=owner,
                last_contacted_at=long_ago - timedelta(days=i % 30),
                cadence=timedelta(days=14 + i % 90),
                birthday_day=1 + i % 28,
                birthday_month=1 + i % 12,
            )
            for i in range(count)
        ]
    )
    FollowUp.objects.bulk_create(
        [
            FollowUp(workspace=workspace, person=p, due_on=timezone.localdate() - timedelta(days=i % 10))
            for i, p in enumerate(people)
        ]
    )

    people_refresh_stay_due(Person.objects.for_workspace(workspace))  # as the services keep it
    # The session's "last seen" is written at most once a minute: a setup that took longer
    # (1,000 people on a busy machine) would count that write. Measure the next request.
    owner_client.get(reverse("dashboard"))

    # A query for each part of "To do" (two for the rest of the week's stay-in-touch: the awake
    # and the snoozed-into-the-week), and four for every row's "Ask about" line.
    with django_assert_max_num_queries(27):
        response = owner_client.get(reverse("dashboard"))

    assert response.status_code == 200
    assert len(response.context["board"].going_cold) == 10  # everyone is long overdue
    if count > 100:  # more follow-ups than the page lists: the rest are a link away
        assert "More:" in response.content.decode()


@pytest.mark.django_db
@time_machine.travel(WEDNESDAY, tick=False)
def test_the_calendar_shows_the_month(owner_client: Client, owner: User, workspace: Workspace) -> None:
    anna = PersonFactory(
        workspace=workspace, first_name="Anna", last_name="Berg", owner=owner, birthday_day=20, birthday_month=3
    )
    services.follow_up_create(person=anna, due_on=date(2026, 3, 11), note="Samples")

    page = owner_client.get(reverse("reminders:calendar")).content.decode()
    other = owner_client.get(reverse("reminders:calendar"), {"year": "2026", "month": "4"}).content.decode()
    junk = owner_client.get(reverse("reminders:calendar"), {"year": "x", "month": "13"})

    assert "March 2026" in page
    assert "Anna Berg has a birthday" in page
    assert "↻ Anna Berg" in page
    assert "April 2026" in other
    assert "Anna Berg has a birthday" not in other
    assert junk.status_code == 200


@pytest.mark.django_db
@time_machine.travel(WEDNESDAY, tick=False)
def test_the_calendar_stops_at_the_ends_of_the_range(owner_client: Client, workspace: Workspace) -> None:
    last = owner_client.get(reverse("reminders:calendar"), {"year": "2200", "month": "12"}).content.decode()
    first = owner_client.get(reverse("reminders:calendar"), {"year": "1900", "month": "1"}).content.decode()
    beyond = owner_client.get(reverse("reminders:calendar"), {"year": "2201", "month": "1"}).content.decode()
    dismissed = owner_client.post(
        reverse("reminders:date_dismiss"),
        {"key": f"person:{PersonFactory(workspace=workspace).pk}:birthday", "on": "9999-12-31"},
    )

    assert "December 2200" in last
    assert 'rel="next"' not in last
    assert 'rel="prev"' in last
    assert "January 1900" in first
    assert 'rel="prev"' not in first
    assert "March 2026" in beyond  # out of range: this month
    assert dismissed.status_code == 404


@pytest.mark.django_db
def test_hostile_calendar_and_dismiss_input_is_not_a_500(owner_client: Client) -> None:
    assert owner_client.get(reverse("reminders:calendar"), {"year": "9" * 25, "month": "1"}).status_code == 200
    assert (
        owner_client.post(reverse("reminders:date_dismiss"), {"key": "person:²", "on": "2026-03-04"}).status_code == 404
    )


@pytest.mark.django_db
@time_machine.travel(WEDNESDAY, tick=False)
def test_a_removed_member_no_longer_sees_that_workspaces_reminders(
    member_client: Client, member: User, owner: User, workspace: Workspace
) -> None:
    from crm.models import Membership
    from reminders.tasks import materialise_reminders_task

    services.follow_up_create(
        person=PersonFactory(workspace=workspace, owner=member), due_on=date(2026, 3, 4), note="Secret deal"
    )
    materialise_reminders_task.run([member.pk])
    Membership.objects.filter(user=member).delete()
    other = Membership.objects.create(workspace=PersonFactory().workspace, user=member, role="owner")
    member.current_workspace = other.workspace
    member.save()

    page = member_client.get(reverse("reminders:notifications")).content.decode()

    assert "Secret deal" not in page


@pytest.mark.django_db
@time_machine.travel(datetime(2026, 11, 2, 12, 0, tzinfo=LONDON), tick=False)
def test_stay_in_touch_counts_calendar_days_across_the_clock_change(
    owner_client: Client, owner: User, workspace: Workspace
) -> None:
    # Last contact at 00:30 summer time on 20 October; every two weeks means 3 November (GMT by then).
    person = PersonFactory(
        workspace=workspace,
        owner=owner,
        first_name="Night",
        last_contacted_at=datetime(2026, 10, 20, 0, 30, tzinfo=LONDON),
    )
    stay_in_touch.person_set_preferences(person=person, contact_every=2, contact_every_unit="weeks")

    board = _board(owner_client)

    assert board.overdue == []
    assert [(i.person.first_name, i.due) for i in board.this_week] == [("Night", date(2026, 11, 3))]


@pytest.mark.django_db
@time_machine.travel(WEDNESDAY, tick=False)
def test_a_big_book_shows_the_soonest_dates_and_links_to_the_calendar(
    owner_client: Client, owner: User, workspace: Workspace
) -> None:
    # 40 birthdays over the next two weeks (people, family and pets), more than the page shows.
    for i in range(40):
        day = WEDNESDAY.date() + timedelta(days=i % 14)
        person = PersonFactory(workspace=workspace, owner=owner, first_name=f"P{i}")
        if i % 3 == 0:
            Pet.objects.create(
                workspace=workspace, person=person, name=f"Pet{i}", birthday_day=day.day, birthday_month=day.month
            )
        elif i % 3 == 1:
            FamilyMember.objects.create(
                workspace=workspace, person=person, relation="child", name=f"Kid{i}", birthday_day=day.day,
                birthday_month=day.month,
            )  # fmt: skip
        else:
            person.birthday_day, person.birthday_month = day.day, day.month
            person.save()

    response = owner_client.get(reverse("dashboard"))
    board = response.context["board"]

    assert len(board.dates) == 20
    assert [d.on for d in board.dates] == sorted(d.on for d in board.dates)
    assert board.dates[-1].on <= WEDNESDAY.date() + timedelta(days=7)  # the soonest 20 of 40
    assert board.dates[0].on == WEDNESDAY.date()
    assert "More dates in the calendar" in response.content.decode()
    few = _board(owner_client, scope="team")  # the team view is capped the same way
    assert len(few.dates) == 20


# --- Ask about: the digest's context line on the page -------------------------------------------


def _ask_people(workspace: Workspace, owner: User, count: int) -> None:
    for i in range(count):
        person = cadenced_person(workspace, owner, f"Due{i}", last_days_ago=14)  # due today
        Pet.objects.create(workspace=workspace, person=person, name=f"Bingo{i}", species="dog")
        FamilyMember.objects.create(
            workspace=workspace, person=person, name=f"Max{i}", relation=FamilyMember.Relation.CHILD
        )


@pytest.mark.django_db
@time_machine.travel(WEDNESDAY, tick=False)
def test_each_row_says_what_to_ask_about_as_the_digest_does(
    owner_client: Client, owner: User, workspace: Workspace
) -> None:
    _ask_people(workspace, owner, 1)

    body = owner_client.get(reverse("dashboard")).content.decode().replace("&#x27;", "'")

    assert "Ask about Bingo0, Due0's dog · Max0, Due0's child" in body


@pytest.mark.django_db
@time_machine.travel(WEDNESDAY, tick=False)
@pytest.mark.parametrize("count", [1, 8])
def test_the_ask_about_lines_cost_the_same_queries_for_1_or_8_rows(
    owner_client: Client, owner: User, workspace: Workspace, count: int, django_assert_max_num_queries
) -> None:
    _ask_people(workspace, owner, count)

    with django_assert_max_num_queries(27):
        body = owner_client.get(reverse("dashboard")).content.decode()

    assert body.count("Ask about Bingo") == count


@pytest.mark.django_db
@time_machine.travel(WEDNESDAY, tick=False)
def test_a_snoozed_row_keeps_its_ask_about_line(owner_client: Client, owner: User, workspace: Workspace) -> None:
    _ask_people(workspace, owner, 1)
    person = Person.objects.get(first_name="Due0")

    response = owner_client.post(
        reverse("reminders:cadence_snooze", args=[person.pk]), {"snooze": "1d", "row": "due"}, HTTP_HX_REQUEST="true"
    )

    assert "Ask about Bingo0" in response.content.decode()
