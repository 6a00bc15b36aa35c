"""Calendar apps poll the feed every few minutes: a poll that changed nothing is a 304 after one
query (ETag / Last-Modified), any change to what the feed shows gives the new feed, and the
user chooses which kinds of events it includes."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from icalendar import Calendar

from crm.models import User, Workspace
from exports import services as export_services
from exports.models import CalendarFeed, FeedChange
from people.models import FamilyMember, Person
from reminders import services as reminder_services
from tests.factories import PersonFactory

NOW = datetime(2026, 3, 4, 12, tzinfo=UTC)


def _feed_url(client: Client) -> str:
    client.post(reverse("exports:feed_create"))
    return reverse("exports:feed", args=[CalendarFeed.objects.get().token])


def _summaries(response) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(str(e["SUMMARY"]) for e in Calendar.from_ical(response.content).walk("VEVENT"))


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_a_poll_that_changed_nothing_is_a_304_after_one_query(
    owner_client: Client, owner: User, workspace: Workspace, django_assert_num_queries
) -> None:
    anna = PersonFactory(
        workspace=workspace, owner=owner, first_name="Anna", last_name="Berg", birthday_day=20, birthday_month=3
    )
    url = _feed_url(owner_client)
    app = Client()
    first = app.get(url)
    assert first.status_code == 200
    assert first["ETag"]
    assert first["Last-Modified"]

    with django_assert_num_queries(1):
        again = app.get(url, headers={"if-none-match": first["ETag"]})
    assert again.status_code == 304
    assert again.content == b""
    assert app.get(url, headers={"if-modified-since": first["Last-Modified"]}).status_code == 304

    # A conversation moves last contact, which no feed shows: still unchanged.
    Person.objects.filter(pk=anna.pk).update(last_contacted_at=NOW)
    assert app.get(url, headers={"if-none-match": first["ETag"]}).status_code == 304


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_a_poll_that_does_not_say_what_it_has_reads_the_copy_until_something_changes(
    owner_client: Client,
    member_client: Client,
    owner: User,
    member: User,
    workspace: Workspace,
    django_assert_num_queries,
) -> None:
    anna = PersonFactory(
        workspace=workspace, owner=owner, first_name="Anna", last_name="Berg", birthday_day=20, birthday_month=3
    )
    url = _feed_url(owner_client)
    app = Client()  # an app that never sends If-None-Match or If-Modified-Since
    first = app.get(url)

    with django_assert_num_queries(1):  # the version's one query; the copy written for it
        again = app.get(url)
    assert again.status_code == 200
    assert again.content == first.content
    assert again["ETag"] == first["ETag"]

    Person.objects.filter(pk=anna.pk).update(first_name="Annie")
    changed = app.get(url)
    assert _summaries(changed) == ["🎂 Annie Berg's birthday"]
    assert changed["ETag"] != first["ETag"]
    # Another user's feed with other choices has its own copy, never this one's.
    member_client.post(reverse("exports:feed_create"))
    theirs = CalendarFeed.objects.get(user=member)
    export_services.feed_choose(feed=theirs, kinds=["follow_ups"], mine_only=False)
    assert _summaries(app.get(reverse("exports:feed", args=[theirs.token]))) == []


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    "change",
    ["follow_up", "family_birthday", "renamed", "bulk_archived", "deleted"],
)
def test_any_change_the_feed_shows_gives_the_new_feed(
    owner_client: Client, owner: User, workspace: Workspace, change: str
) -> None:
    anna = PersonFactory(
        workspace=workspace, owner=owner, first_name="Anna", last_name="Berg", birthday_day=20, birthday_month=3
    )
    url = _feed_url(owner_client)
    app = Client()
    etag = app.get(url)["ETag"]

    if change == "follow_up":
        reminder_services.follow_up_create(person=anna, due_on=date(2026, 3, 9), note="Samples")
    elif change == "family_birthday":
        FamilyMember.objects.create(
            workspace=workspace, person=anna, relation="child", name="Kit", birthday_day=2, birthday_month=5
        )
    elif change == "renamed":
        Person.objects.filter(pk=anna.pk).update(first_name="Annie")
    elif change == "bulk_archived":
        Person.objects.filter(pk=anna.pk).update(archived_at=NOW)
    else:
        anna.delete()

    fresh = app.get(url, headers={"if-none-match": etag})
    assert fresh.status_code == 200
    assert fresh["ETag"] != etag


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_the_feed_includes_only_the_kinds_and_people_chosen(
    owner_client: Client, owner: User, member: User, workspace: Workspace
) -> None:
    mine = PersonFactory(
        workspace=workspace, owner=owner, first_name="Anna", last_name="Berg", birthday_day=20, birthday_month=3
    )
    theirs = PersonFactory(
        workspace=workspace, owner=member, first_name="Carl", last_name="Dahl", birthday_day=21, birthday_month=3
    )
    reminder_services.follow_up_create(person=mine, due_on=date(2026, 3, 9), note="Samples")
    reminder_services.follow_up_create(person=theirs, due_on=date(2026, 3, 10), note="Quote")
    url = _feed_url(owner_client)
    etag = Client().get(url)["ETag"]

    saved = owner_client.post(
        reverse("exports:feed_create"), {"choices": "1", "kinds": ["follow_ups"], "mine_only": "on"}, follow=True
    )

    assert "Calendar feed updated" in saved.content.decode()
    response = Client().get(url, headers={"if-none-match": etag})
    assert response.status_code == 200
    assert _summaries(response) == ["Follow up with Anna Berg: Samples"]
    page = owner_client.get(reverse("exports:page")).content.decode()
    assert re.search(r'value="follow_ups"[^>]*checked', page)
    assert not re.search(r'value="birthdays"[^>]*checked', page)


@pytest.mark.django_db
def test_a_feed_with_no_kinds_chosen_is_refused_with_a_message(owner_client: Client) -> None:
    url = _feed_url(owner_client)

    response = owner_client.post(reverse("exports:feed_create"), {"choices": "1"}, follow=True)

    assert "Choose at least one kind of event" in response.content.decode()
    assert CalendarFeed.objects.get().kind_set == {"birthdays", "family", "dates", "follow_ups", "promises"}
    assert Client().get(url).status_code == 200


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_pruning_the_change_log_keeps_polls_unchanged_and_later_changes_seen(
    owner_client: Client, owner: User, workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export_services, "FEED_CHANGE_PRUNE_BATCH", 2)  # several batches
    for name in ("Anna", "Ben", "Cleo", "Dev", "Ede"):
        PersonFactory(workspace=workspace, owner=owner, first_name=name, birthday_day=20, birthday_month=3)
    other = Workspace.objects.create(name="Other")
    PersonFactory(workspace=other, first_name="Olu", birthday_day=1, birthday_month=1)
    gone = Workspace.objects.create(name="Gone")
    FeedChange.objects.create(workspace_id=gone.pk)
    FeedChange.objects.create(workspace_id=gone.pk)
    Workspace.objects.filter(pk=gone.pk).delete()
    url = _feed_url(owner_client)
    app = Client()
    first = app.get(url)
    before = FeedChange.objects.count()

    deleted = export_services.feed_changes_prune()

    assert deleted == before - 2  # one row left for each workspace there is
    assert sorted(FeedChange.objects.values_list("workspace_id", flat=True)) == sorted([workspace.pk, other.pk])
    assert app.get(url, headers={"if-none-match": first["ETag"]}).status_code == 304
    assert app.get(url, headers={"if-modified-since": first["Last-Modified"]}).status_code == 304
    assert export_services.feed_changes_prune() == 0  # a repeat finds nothing

    Person.objects.filter(workspace=workspace, first_name="Ben").update(first_name="Benedict")
    changed = app.get(url, headers={"if-none-match": first["ETag"]})
    assert changed.status_code == 200
    assert "Benedict" in " ".join(_summaries(changed))


def _events(response) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return {str(e["SUMMARY"]): e for e in Calendar.from_ical(response.content).walk("VEVENT")}


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_a_crowded_day_holds_eight_events_of_a_kind_and_one_more_that_opens_the_day(
    owner_client: Client, owner: User, workspace: Workspace, django_assert_max_num_queries
) -> None:
    def crowd(start: int, stop: int) -> None:
        for i in range(start, stop):
            person = PersonFactory(
                workspace=workspace, owner=owner, first_name=f"Ada{i:02d}", last_name="Lind", birthday_day=14,
                birthday_month=12,
            )  # fmt: skip
            FamilyMember.objects.create(
                workspace=workspace, person=person, relation="child", name=f"Kid{i:02d}", birthday_day=14,
                birthday_month=12,
            )  # fmt: skip
            reminder_services.follow_up_create(person=person, due_on=date(2026, 3, 9), note=f"Call {i:02d}")

    crowd(0, 2)
    PersonFactory(workspace=workspace, owner=owner, first_name="Bo", last_name="", birthday_day=15, birthday_month=12)
    url = _feed_url(owner_client)
    with django_assert_max_num_queries(9) as few:
        quiet = Client().get(url)
    crowd_first = len(few.captured_queries)
    assert "+" not in " ".join(_events(quiet))  # a quiet day: every event by name, none collapsed

    crowd(2, 11)  # eleven born on 14 December, their eleven children, eleven calls on 9 March
    with django_assert_max_num_queries(crowd_first):  # as many queries however crowded the day
        response = Client().get(url)

    events = _events(response)
    birthdays = sorted(s for s in events if s.endswith("Lind's birthday"))
    assert birthdays == [f"🎂 Ada{i:02d} Lind's birthday" for i in range(8)]  # the first eight by name
    assert "🎂 Bo's birthday" in events  # the next day is its own
    more = events["+3 more birthdays"]
    assert more.decoded("dtstart") == date(2000, 12, 14)
    assert more["rrule"]["FREQ"] == ["YEARLY"]
    assert len([s for s in events if s.startswith("🎂 Kid")]) == 8
    assert "+3 more family birthdays" in events
    assert len([s for s in events if s.startswith("Follow up with")]) == 8
    more_calls = events["+3 more follow-ups"]
    assert more_calls.decoded("dtstart") == date(2026, 3, 9)

    # Each "+3 more" opens the day's page, which lists every one of the day.
    day_page = owner_client.get(str(more["url"])).content.decode()
    assert all(f"Ada{i:02d} Lind" in day_page for i in range(11))
    assert "Monday 14 December 2026" in day_page
    calls_page = owner_client.get(str(more_calls["url"])).content.decode()
    assert all(f"Call {i:02d}" in calls_page for i in range(11))
