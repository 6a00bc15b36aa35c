"""The digest tells the truth: when the next one comes, what its subject says, and what each
link in it will do."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse

from crm.models import Membership, User, Workspace
from digests import services
from people.models import FamilyMember, Pet
from reminders import services as reminder_services
from tests.factories import PersonFactory, UserFactory

# Africa/Lagos is UTC+1 all year: 07:20 UTC is 08:20 in Lagos.
TUESDAY_0820_LAGOS = datetime(2026, 12, 1, 7, 20, tzinfo=UTC)
TUESDAY_0800_LONDON = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)  # GMT


def _settings(**overrides: str) -> dict[str, str]:
    return {
        "display_name": "Ngozi",
        "time_zone": "Africa/Lagos",
        "digest": "daily",
        "digest_weekday": "0",
        "digest_hour": "8",
        "date_lead_days": "14",
        **overrides,
    }


def _user(workspace: Workspace, **fields: object) -> User:
    defaults = {
        "email": "dana@example.com",
        "time_zone": "Europe/London",
        "digest": "daily",
        "digest_hour": 8,
        "digest_always": True,
        "digest_since": datetime(2020, 1, 1, tzinfo=UTC),
    }
    user = UserFactory(current_workspace=workspace, **{**defaults, **fields})
    Membership.objects.create(workspace=workspace, user=user, role="owner")
    return user


def _send(user: User, now: datetime) -> mail.EmailMultiAlternatives:
    with time_machine.travel(now, tick=False):
        (run_id,) = services.digest_dispatch(users=[user], now=now)
        assert services.digest_send(run_id=run_id) == "sent"
    (message,) = mail.outbox
    return message


# --- When the next digest comes --------------------------------------------------------------


@pytest.mark.django_db
@time_machine.travel(TUESDAY_0820_LAGOS, tick=False)
def test_it_says_the_next_digest_comes_tomorrow_after_choosing_the_hour_that_has_begun(
    owner_client: Client, owner: User
) -> None:
    response = owner_client.post(reverse("account_settings"), _settings(), follow=True)

    page = response.content.decode()
    assert "Settings saved. Next digest: tomorrow 08:00 (Africa/Lagos)." in page
    assert "Next digest: <strong>tomorrow 08:00 (Africa/Lagos)</strong>" in page
    # The dispatcher agrees: nothing today, and the digest is due at the time the page named.
    owner.refresh_from_db()
    tomorrow_0800 = datetime(2026, 12, 2, 7, 0, tzinfo=UTC)
    assert services.due_period(owner, TUESDAY_0820_LAGOS + timedelta(hours=15)) is None
    assert services.due_period(owner, tomorrow_0800 - timedelta(minutes=1)) is None
    assert services.due_period(owner, tomorrow_0800) == (date(2026, 12, 2), tomorrow_0800)


@pytest.mark.django_db
@time_machine.travel(TUESDAY_0820_LAGOS, tick=False)
def test_it_says_today_when_the_hour_is_still_to_come(owner_client: Client) -> None:
    response = owner_client.post(reverse("account_settings"), _settings(digest_hour="17"), follow=True)

    assert "Next digest: today 17:00 (Africa/Lagos)." in response.content.decode()


@pytest.mark.django_db
@time_machine.travel(TUESDAY_0820_LAGOS, tick=False)
def test_a_weekly_digest_names_its_day_and_off_says_off(owner_client: Client) -> None:
    weekly = owner_client.post(reverse("account_settings"), _settings(digest="weekly"), follow=True)
    off = owner_client.post(reverse("account_settings"), _settings(digest="off"), follow=True)

    assert "Next digest: Monday 7 December 08:00 (Africa/Lagos)." in weekly.content.decode()
    assert "Next digest: Off." in off.content.decode()


@pytest.mark.django_db
@time_machine.travel(TUESDAY_0820_LAGOS, tick=False)
def test_an_invalid_form_still_says_when_the_saved_schedule_sends(owner_client: Client, owner: User) -> None:
    owner_client.post(reverse("account_settings"), _settings())

    page = owner_client.post(reverse("account_settings"), _settings(digest="weekly", date_lead_days="99"))

    assert "Choose between 0 and 60 days." in page.content.decode()
    assert "Next digest: <strong>tomorrow 08:00 (Africa/Lagos)</strong>" in page.content.decode()


@pytest.mark.django_db
def test_the_weekly_day_is_marked_to_hide_in_daily_mode_and_works_without_javascript(owner_client: Client) -> None:
    page = owner_client.get(reverse("account_settings")).content.decode()

    weekday = re.search(r'<div class="col-md-4" data-shown-if="digest=weekly">(.*?)</select>', page, re.S)
    assert weekday is not None
    assert 'name="digest_weekday"' in weekday.group(1)
    assert "hidden" not in weekday.group(0)  # without JavaScript it stays there to choose
    assert ' style="' not in page


# --- Subjects --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_birthdays_on_thursday_and_saturday_are_this_weeks_not_todays(workspace: Workspace) -> None:
    user = _user(workspace)
    anna = PersonFactory(workspace=workspace, owner=user, first_name="Anna", birthday_day=5, birthday_month=3)
    FamilyMember.objects.create(
        workspace=workspace, person=anna, relation="child", name="Tom", birthday_day=7, birthday_month=3
    )

    message = _send(user, TUESDAY_0800_LONDON)

    assert message.subject == "2 birthdays this week (Thu, Sat)"
    assert "Today" not in message.subject


@pytest.mark.django_db
def test_the_subject_counts_each_kind_and_says_when(workspace: Workspace) -> None:
    user = _user(workspace)
    anna = PersonFactory(
        workspace=workspace,
        owner=user,
        first_name="Anna",
        birthday_day=3,
        birthday_month=3,
        anniversary_day=4,
        anniversary_month=3,
    )
    Pet.objects.create(workspace=workspace, person=anna, name="Max", species="dog", birthday_day=12, birthday_month=3)
    reminder_services.follow_up_create(person=anna, due_on=date(2026, 3, 3), note="Send the quote")

    message = _send(user, TUESDAY_0800_LONDON)

    assert message.subject == (
        "1 person to contact today, 1 birthday today and 1 more in the next 9 days, 1 anniversary tomorrow"
    )


@pytest.mark.django_db
def test_a_weekly_digest_says_this_week_and_a_quiet_one_says_nothing_due(workspace: Workspace) -> None:
    user = _user(workspace, digest="weekly", digest_weekday=1)
    anna = PersonFactory(workspace=workspace, owner=user, first_name="Anna")
    reminder_services.follow_up_create(person=anna, due_on=date(2026, 3, 6), note="Send the quote")
    assert _send(user, TUESDAY_0800_LONDON).subject == "1 person to contact this week"

    mail.outbox.clear()
    other = _user(Workspace.objects.create(name="Quiet"), email="quiet@example.com")
    assert _send(other, TUESDAY_0800_LONDON + timedelta(days=1)).subject == "Nothing due today"


# --- Ask about, once --------------------------------------------------------------------------


@pytest.mark.django_db
def test_ask_about_shows_once_per_person_under_their_first_item(workspace: Workspace) -> None:
    user = _user(workspace)
    anna = PersonFactory(
        workspace=workspace, owner=user, first_name="Anna", last_name="Berg", birthday_day=5, birthday_month=3
    )
    Pet.objects.create(workspace=workspace, person=anna, name="Max", species="dog")
    reminder_services.follow_up_create(person=anna, due_on=date(2026, 3, 2), note="Send the quote")
    reminder_services.follow_up_create(person=anna, due_on=date(2026, 3, 3), note="Book the tasting")

    message = _send(user, TUESDAY_0800_LONDON)
    html = message.alternatives[0][0]

    for body in (message.body, html.replace("&#x27;", "'")):
        assert body.count("Ask about Max, Anna's dog") == 1
        # Under the first item: today's tasting (today's come first), before the overdue quote.
        assert body.index("Book the tasting") < body.index("Ask about") < body.index("Send the quote")


# --- Links that say what they will do --------------------------------------------------------


def _link(user: User, action: str, target: str) -> str:
    return reverse("digests:action", args=[services.action_token(user=user, action=action, target=target)])


@pytest.mark.django_db
def test_the_confirm_page_names_the_item(workspace: Workspace, owner: User) -> None:
    anna = PersonFactory(workspace=workspace, owner=owner, first_name="Anna", last_name="Berg")
    follow_up = reminder_services.follow_up_create(person=anna, due_on=date(2026, 3, 4), note="Send the quote")
    client = Client()

    done = client.get(_link(owner, "done", f"follow_up:{follow_up.pk}:{follow_up.occurrence}")).content.decode()
    snooze = client.get(_link(owner, "snooze", f"follow_up:{follow_up.pk}")).content.decode()
    person = client.get(_link(owner, "snooze", f"person:{anna.pk}")).content.decode()

    assert "Mark “Send the quote” for Anna Berg done?" in done
    assert "Snooze “Send the quote” for Anna Berg for a week?" in snooze
    assert "Snooze staying in touch with Anna Berg for a week?" in person


@pytest.mark.django_db
def test_the_confirm_page_names_nothing_from_another_workspace(workspace: Workspace, outsider: User) -> None:
    anna = PersonFactory(workspace=workspace, first_name="Anna", last_name="Berg")
    follow_up = reminder_services.follow_up_create(person=anna, due_on=date(2026, 3, 4), note="Send the quote")

    response = Client().get(_link(outsider, "done", f"follow_up:{follow_up.pk}"))

    assert response.status_code == 410
    assert "no longer exists" in response.content.decode()
    assert "Anna" not in response.content.decode()
    assert "Send the quote" not in response.content.decode()
