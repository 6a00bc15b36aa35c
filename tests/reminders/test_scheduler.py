"""The scheduler materialises each reminder occurrence once and notifies it once."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from crm.models import User, Workspace
from reminders import services, tasks
from reminders.models import ReminderOccurrence
from tests.factories import PersonFactory

LONDON = ZoneInfo("Europe/London")
MORNING = datetime(2026, 3, 4, 7, 0, tzinfo=LONDON)


def _run_scheduler(*users: User) -> int:
    # What the beat dispatcher's batch task does, called directly (the real worker is in test_worker).
    return tasks.materialise_reminders_task.run([u.pk for u in users])


@pytest.mark.django_db
@time_machine.travel(MORNING, tick=False)
@pytest.mark.trust
def test_each_occurrence_is_created_once_however_often_it_runs(owner: User, workspace: Workspace) -> None:
    person = PersonFactory(workspace=workspace, owner=owner)
    services.follow_up_create(person=person, due_on=date(2026, 3, 4), note="Call back")

    assert _run_scheduler(owner) == 1
    assert _run_scheduler(owner) == 0  # a duplicated task
    assert _run_scheduler(owner, owner) == 0  # two dispatchers, same user
    assert ReminderOccurrence.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.trust
def test_after_downtime_a_missed_reminder_is_notified_once_not_per_missed_run(
    owner: User, workspace: Workspace
) -> None:
    person = PersonFactory(workspace=workspace, owner=owner, birthday_day=1, birthday_month=3)
    services.follow_up_create(person=person, due_on=date(2026, 2, 27), note="Quote")

    # The worker was down from 26 February; it comes back on 4 March.
    with time_machine.travel(MORNING, tick=False):
        _run_scheduler(owner)
        _run_scheduler(owner)

    occurrences = sorted(ReminderOccurrence.objects.values_list("key", "due_on"))
    assert occurrences == [
        (f"follow_up:{person.follow_ups.get().pk}", date(2026, 2, 27)),
        (f"person:{person.pk}:birthday", date(2026, 3, 1)),
    ]


@pytest.mark.django_db
@time_machine.travel(MORNING, tick=False)
def test_dates_are_reminded_at_the_lead_time_and_on_the_day(owner: User, workspace: Workspace) -> None:
    soon = PersonFactory(
        workspace=workspace, owner=owner, first_name="Soon", last_name="S", birthday_day=11, birthday_month=3
    )
    today = PersonFactory(
        workspace=workspace, owner=owner, first_name="Today", last_name="T", birthday_day=4, birthday_month=3
    )

    _run_scheduler(owner)

    texts = dict(ReminderOccurrence.objects.values_list("person_id", "text"))
    assert texts[soon.pk] == "In 7 days: Soon S has a birthday"
    assert texts[today.pk] == "Today T has a birthday"


@pytest.mark.django_db
def test_each_user_gets_reminders_on_their_own_local_day(owner: User, workspace: Workspace) -> None:
    owner.time_zone = "Pacific/Auckland"
    owner.save()
    services.follow_up_create(person=PersonFactory(workspace=workspace, owner=owner), due_on=date(2026, 3, 4))

    # 11:30 UTC on 3 March: already 4 March in Auckland.
    with time_machine.travel(datetime(2026, 3, 3, 11, 30, tzinfo=ZoneInfo("UTC")), tick=False):
        _run_scheduler(owner)
    assert ReminderOccurrence.objects.count() == 1

    owner.time_zone = "America/Los_Angeles"
    owner.save()
    ReminderOccurrence.objects.all().delete()
    with time_machine.travel(datetime(2026, 3, 3, 11, 30, tzinfo=ZoneInfo("UTC")), tick=False):
        _run_scheduler(owner)
    assert ReminderOccurrence.objects.count() == 0  # still 3 March in Los Angeles


@pytest.mark.django_db
@time_machine.travel(MORNING, tick=False)
def test_only_the_owners_reminders_and_notified_once(owner: User, member: User, workspace: Workspace) -> None:
    services.follow_up_create(person=PersonFactory(workspace=workspace, owner=member), due_on=date(2026, 3, 4))
    services.follow_up_create(person=PersonFactory(workspace=workspace, owner=owner), due_on=date(2026, 3, 4))

    _run_scheduler(owner, member)

    assert ReminderOccurrence.objects.filter(user=owner).count() == 1
    assert ReminderOccurrence.objects.filter(state="notified").count() == 2
    assert services.occurrences_notify(user=owner) == []  # nothing left to claim


@pytest.mark.django_db
@time_machine.travel(MORNING, tick=False)
def test_the_bell_counts_new_reminders_until_they_are_seen(
    owner_client: Client, owner: User, member: User, workspace: Workspace
) -> None:
    services.follow_up_create(
        person=PersonFactory(workspace=workspace, owner=owner, first_name="Anna"),
        due_on=date(2026, 3, 4),
        note="Call Anna",
    )
    services.follow_up_create(
        person=PersonFactory(workspace=workspace, owner=member), due_on=date(2026, 3, 4), note="Not mine"
    )
    _run_scheduler(owner, member)

    assert "Reminders: 1 new" in owner_client.get(reverse("dashboard")).content.decode()
    page = owner_client.get(reverse("reminders:notifications")).content.decode()
    assert "Call Anna" in page
    assert "Not mine" not in page
    assert "Reminders: 1 new" not in owner_client.get(reverse("dashboard")).content.decode()


@pytest.mark.django_db
def test_the_dispatcher_fans_out_every_user_in_batches(
    owner: User, member: User, outsider: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.hints import broker_up

    monkeypatch.setattr(tasks, "BATCH", 2)
    with broker_up(tasks.materialise_reminders_task) as sent:
        assert tasks.dispatch_reminders_task.run() == 2

    assert sorted(pk for (batch,) in sent for pk in batch) == sorted([owner.pk, member.pk, outsider.pk])
    assert not ReminderOccurrence.objects.exists()  # the dispatcher only hands out work


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("zone", "due", "before", "after"),
    [
        # Los Angeles springs forward on 8 March 2026: local midnight is 08:00 UTC that day.
        (
            "America/Los_Angeles",
            date(2026, 3, 8),
            datetime(2026, 3, 8, 7, 30, tzinfo=UTC),
            datetime(2026, 3, 8, 8, 30, tzinfo=UTC),
        ),
        # Auckland falls back on 5 April 2026: local midnight is still NZDT, 11:00 UTC on the 4th.
        (
            "Pacific/Auckland",
            date(2026, 4, 5),
            datetime(2026, 4, 4, 10, 30, tzinfo=UTC),
            datetime(2026, 4, 4, 11, 30, tzinfo=UTC),
        ),
    ],
)
def test_reminders_fall_due_at_local_midnight_across_dst_changes(
    owner: User, workspace: Workspace, zone: str, due: date, before: datetime, after: datetime
) -> None:
    owner.time_zone = zone
    owner.save()
    services.follow_up_create(person=PersonFactory(workspace=workspace, owner=owner), due_on=due)
    with time_machine.travel(before, tick=False):
        _run_scheduler(owner)
    assert ReminderOccurrence.objects.count() == 0
    with time_machine.travel(after, tick=False):
        _run_scheduler(owner)
    assert ReminderOccurrence.objects.count() == 1
