"""Email digests: when they are due, what they say, sent once, and the links inside them."""

from __future__ import annotations

import smtplib
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm.models import User, Workspace
from digests import services, tasks
from digests.models import DigestRun
from people import services as people_services
from people.models import Pet
from reminders import services as reminder_services
from tests.factories import PersonFactory

MONDAY_0800_LONDON_WINTER = datetime(2026, 3, 23, 8, 0, tzinfo=UTC)  # GMT
MONDAY_0800_LONDON_SUMMER = datetime(2026, 3, 30, 7, 0, tzinfo=UTC)  # BST, after 29 March


class FailingBackend(BaseEmailBackend):
    def send_messages(self, messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


def _user(workspace: Workspace, email: str, **fields: object) -> User:
    from crm.models import Membership
    from tests.factories import UserFactory

    defaults = {
        "time_zone": "Europe/London",
        "digest": "weekly",
        "digest_weekday": 0,
        "digest_hour": 8,
        "digest_since": datetime(2020, 1, 1, tzinfo=UTC),
    }
    user = UserFactory(email=email, current_workspace=workspace, **{**defaults, **fields})
    Membership.objects.create(workspace=workspace, user=user, role="owner")
    return user


def _with_work(user: User, workspace: Workspace, due: date) -> None:
    anna = PersonFactory(workspace=workspace, owner=user, first_name="Anna", last_name="Berg")
    Pet.objects.create(workspace=workspace, person=anna, name="Max", species="dog")
    people_services.fact_add(person=anna, fact_type="health", value="Recovering from surgery")
    anna.topics_to_avoid = "Her divorce"
    anna.save()
    reminder_services.follow_up_create(person=anna, due_on=due, note="Send the quote")


def _dispatch_and_send(now: datetime) -> list[str]:
    with time_machine.travel(now, tick=False):
        return [
            services.digest_send(run_id=i) for i in services.digest_dispatch(users=list(User.objects.all()), now=now)
        ]


@pytest.mark.django_db
@pytest.mark.parametrize("monday", [MONDAY_0800_LONDON_WINTER, MONDAY_0800_LONDON_SUMMER])
def test_it_arrives_at_0800_london_time_on_both_sides_of_the_clock_change(
    workspace: Workspace, monday: datetime
) -> None:
    user = _user(workspace, "ldn@example.com")
    _with_work(user, workspace, due=monday.date())

    services.digest_dispatch(users=[user], now=monday - timedelta(minutes=1))
    # At 07:59 local the latest period is still last week's.
    assert list(DigestRun.objects.values_list("period", flat=True)) == [monday.date() - timedelta(days=7)]
    DigestRun.objects.all().delete()

    assert _dispatch_and_send(monday) == ["sent"]
    assert DigestRun.objects.get().period == monday.date()


@pytest.mark.django_db
def test_kiritimati_and_pago_pago_each_get_theirs_on_their_own_day(workspace: Workspace) -> None:
    kiritimati = _user(workspace, "k@example.com", time_zone="Pacific/Kiritimati", digest="daily")
    pago = _user(workspace, "p@example.com", time_zone="Pacific/Pago_Pago", digest="daily")
    now = datetime(2026, 3, 4, 18, 30, tzinfo=UTC)  # 5 March 08:30 in Kiritimati, 4 March 07:30 in Pago Pago

    services.digest_dispatch(users=[kiritimati, pago], now=now)

    periods = dict(DigestRun.objects.values_list("user__email", "period"))
    assert periods == {"k@example.com": date(2026, 3, 5), "p@example.com": date(2026, 3, 3)}


@pytest.mark.django_db
def test_one_digest_per_period_however_often_it_is_dispatched(workspace: Workspace) -> None:
    user = _user(workspace, "once@example.com")
    _with_work(user, workspace, due=MONDAY_0800_LONDON_WINTER.date())
    later = MONDAY_0800_LONDON_WINTER + timedelta(hours=3)

    first = _dispatch_and_send(MONDAY_0800_LONDON_WINTER)
    again = _dispatch_and_send(later)  # a later beat run in the same week
    with time_machine.travel(later, tick=False):
        duplicate = services.digest_send(run_id=DigestRun.objects.get().pk)  # a redelivered task

    assert (first, again, duplicate) == (["sent"], [], "not-claimed")
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_the_digest_says_what_to_do_with_context_and_nothing_private(workspace: Workspace, settings) -> None:
    settings.SITE_URL = "https://crm.example.com"
    user = _user(workspace, "dana@example.com")
    _with_work(user, workspace, due=MONDAY_0800_LONDON_WINTER.date())

    _dispatch_and_send(MONDAY_0800_LONDON_WINTER)

    (message,) = mail.outbox
    html = message.alternatives[0][0]
    assert message.subject == "1 person to contact this week"
    assert message.to == ["dana@example.com"]
    for body in (message.body, html):
        assert "Anna Berg" in body
        assert "Send the quote" in body
        assert "Max, Anna&#x27;s dog" in body or "Max, Anna's dog" in body
        assert "https://crm.example.com/digest/a/" in body
        assert "surgery" not in body
        assert "divorce" not in body
    run = DigestRun.objects.get()
    assert message.extra_headers["Message-ID"] == f"<digest-{run.pk}-{user.pk}-2026-03-23@crm.example.com>"
    assert message.extra_headers["List-Unsubscribe"].startswith("<https://crm.example.com/digest/unsubscribe/")
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "<img" not in html
    assert "<link" not in html


@pytest.mark.django_db
def test_an_empty_week_sends_nothing_unless_asked(workspace: Workspace) -> None:
    _user(workspace, "quiet@example.com")
    _user(workspace, "always@example.com", digest_always=True)

    _dispatch_and_send(MONDAY_0800_LONDON_WINTER)

    states = dict(DigestRun.objects.values_list("user__email", "state"))
    assert states == {"quiet@example.com": "empty", "always@example.com": "sent"}
    assert [m.to for m in mail.outbox] == [["always@example.com"]]
    assert mail.outbox[0].subject == "Nothing due this week"


@pytest.mark.django_db
def test_after_downtime_one_digest_for_the_current_period_and_a_stale_one_is_skipped(workspace: Workspace) -> None:
    user = _user(workspace, "late@example.com", digest="daily")
    _with_work(user, workspace, due=date(2026, 3, 1))
    # A run queued on 2 March whose worker never came; the dispatcher is back on 4 March.
    stale = DigestRun.objects.create(
        user=user, period=date(2026, 3, 2), scheduled_at=datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    )

    results = _dispatch_and_send(datetime(2026, 3, 4, 9, 0, tzinfo=UTC))

    stale.refresh_from_db()
    assert stale.state == "skipped"
    assert "late" in stale.error
    assert sorted(results) == ["sent", "skipped"]
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_smtp_failures_are_retried_then_shown_as_failed(
    workspace: Workspace, settings, owner_client: Client, owner: User
) -> None:
    settings.EMAIL_BACKEND = "tests.digests.test_digests.FailingBackend"
    owner.digest_always = True
    owner.save()
    run = DigestRun.objects.create(
        user=owner, period=date(2026, 11, 16), scheduled_at=datetime(2026, 11, 16, 8, tzinfo=UTC)
    )

    with (
        time_machine.travel(datetime(2026, 11, 16, 8, 1, tzinfo=UTC), tick=False),
        pytest.raises(smtplib.SMTPServerDisconnected),
    ):
        services.digest_send(run_id=run.pk)
    run.refresh_from_db()
    assert (run.state, run.attempts) == ("queued", 1)  # released for the retry
    assert "Connection unexpectedly closed" in run.error

    services.digest_mark_failed(run_id=run.pk, error=run.error)  # what the task does after its last retry
    page = owner_client.get(reverse("account_settings")).content.decode()
    assert "Failed" in page
    assert "Connection unexpectedly closed" in page


@pytest.mark.django_db
def test_the_send_task_retries_with_backoff(workspace: Workspace, settings, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.EMAIL_BACKEND = "tests.digests.test_digests.FailingBackend"
    user = _user(workspace, "retry@example.com", digest_always=True)
    run = DigestRun.objects.create(
        user=user, period=date(2026, 11, 16), scheduled_at=datetime(2026, 11, 16, 8, tzinfo=UTC)
    )
    countdowns: list[int] = []

    def fake_retry(exc: Exception, countdown: int) -> Exception:
        countdowns.append(countdown)
        return RuntimeError("retry scheduled")

    monkeypatch.setattr(tasks.send_digest_task, "retry", fake_retry)
    with time_machine.travel(datetime(2026, 11, 16, 9, tzinfo=UTC), tick=False), pytest.raises(RuntimeError):
        tasks.send_digest_task.run(run.pk)
    assert countdowns == [60]


def _action_link(user: User, action: str, target: str) -> str:
    return reverse("digests:action", args=[services.action_token(user=user, action=action, target=target)])


@pytest.mark.django_db
def test_email_links_ask_before_acting_and_work_without_login(workspace: Workspace, owner: User) -> None:
    person = PersonFactory(workspace=workspace, owner=owner)
    follow_up = reminder_services.follow_up_create(person=person, due_on=date(2026, 3, 4))
    link = _action_link(owner, "done", f"follow_up:{follow_up.pk}")
    client = Client()

    confirm = client.get(link)
    follow_up.refresh_from_db()
    assert f"Mark the follow-up with {person} done?" in confirm.content.decode()
    assert follow_up.done_at is None  # a link scanner opening it changes nothing

    done = client.post(link)
    follow_up.refresh_from_db()
    assert "Done: follow-up with" in done.content.decode()
    assert follow_up.done_at is not None


@pytest.mark.django_db
def test_snooze_a_week_from_the_email(workspace: Workspace, owner: User) -> None:
    person = PersonFactory(workspace=workspace, owner=owner)

    Client().post(_action_link(owner, "snooze", f"person:{person.pk}"))

    person.refresh_from_db()
    assert person.cadence_snoozed_until is not None


@pytest.mark.django_db
def test_a_link_does_only_what_the_users_role_allows_now(workspace: Workspace, owner: User, viewer: User) -> None:
    person = PersonFactory(workspace=workspace, owner=viewer)  # sent while they were a member
    link = _action_link(viewer, "snooze", f"person:{person.pk}")

    response = Client().post(link)

    assert response.status_code == 403
    assert "Viewers can look, but not add or change anything." in response.content.decode()
    person.refresh_from_db()
    assert person.cadence_snoozed_until is None


@pytest.mark.django_db
def test_expired_forged_or_foreign_links_change_nothing(workspace: Workspace, owner: User, outsider: User) -> None:
    follow_up = reminder_services.follow_up_create(
        person=PersonFactory(workspace=workspace, owner=owner), due_on=date(2026, 3, 4)
    )
    link = _action_link(owner, "done", f"follow_up:{follow_up.pk}")
    foreign = _action_link(outsider, "done", f"follow_up:{follow_up.pk}")
    client = Client()

    with time_machine.travel(datetime.now(tz=UTC) + timedelta(days=15)):
        assert "expired" in client.post(link).content.decode()
    assert client.post(link[:-5] + "xxxx/").status_code == 410
    assert "no longer exists" in client.post(foreign).content.decode()
    follow_up.refresh_from_db()
    assert follow_up.done_at is None


@pytest.mark.django_db
def test_one_click_unsubscribe_without_logging_in(owner: User) -> None:
    url = reverse("digests:unsubscribe", args=[services.unsubscribe_token(owner)])
    client = Client(enforce_csrf_checks=True)

    assert "Stop the digest emails" in client.get(url).content.decode()
    owner.refresh_from_db()
    assert owner.digest == "weekly"
    # RFC 8058: the mail client POSTs "List-Unsubscribe=One-Click", with no CSRF token.
    response = client.post(url, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    owner.refresh_from_db()
    assert owner.digest == "off"
    assert Client().get(url[:-3] + "zz/").status_code == 410


@pytest.mark.django_db
def test_preview_and_test_send(
    owner_client: Client, owner: User, workspace: Workspace, django_capture_on_commit_callbacks
) -> None:
    _with_work(owner, workspace, due=timezone.localdate())

    preview = owner_client.get(reverse("digests:preview")).content.decode()
    assert "Send the quote" in preview
    assert "<table" in preview

    with django_capture_on_commit_callbacks() as callbacks:
        response = owner_client.post(reverse("digests:send_test"), follow=True)
    assert "A test digest to owner@example.com is queued: it will be sent shortly" in response.content.decode()
    assert len(callbacks) == 1
    run = DigestRun.objects.get()
    assert run.is_test
    assert services.digest_send(run_id=run.pk) == "sent"
    assert mail.outbox[0].to == [owner.email]


@pytest.mark.django_db
def test_digest_settings_are_saved(owner: User) -> None:
    # Saved a fortnight before the day checked: the new schedule starts when it is saved.
    with time_machine.travel(datetime(2027, 5, 20, 12, tzinfo=UTC), tick=False):
        owner_client = Client()
        owner_client.force_login(owner)
        owner_client.post(
            reverse("account_settings"),
            {
                "display_name": "O",
                "time_zone": "Europe/Paris",
                "digest": "daily",
                "digest_weekday": "2",
                "digest_hour": "7",
                "date_lead_days": "3",
            },
        )

    owner.refresh_from_db()
    assert (owner.digest, owner.digest_hour, owner.date_lead_days) == ("daily", 7, 3)
    assert owner.digest_since == datetime(2027, 5, 20, 12, tzinfo=UTC)  # the new schedule starts when saved
    assert services.due_period(owner, datetime(2027, 5, 20, 5, 30, tzinfo=UTC)) is None
    assert services.due_period(owner, datetime(2027, 6, 1, 5, 30, tzinfo=UTC)) == (
        date(2027, 6, 1),
        datetime(2027, 6, 1, 7, 0, tzinfo=ZoneInfo("Europe/Paris")),
    )


@pytest.mark.django_db
def test_no_digest_for_a_send_time_before_the_schedule_was_chosen(workspace: Workspace) -> None:
    thursday = datetime(2026, 3, 26, 15, 37, tzinfo=UTC)
    user = _user(workspace, "new@example.com", digest_since=thursday)

    assert services.due_period(user, thursday + timedelta(minutes=5)) is None  # not last Monday's
    next_monday = datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
    assert services.due_period(user, next_monday) == (
        date(2026, 3, 30),
        next_monday.astimezone(ZoneInfo("Europe/London")),
    )


@pytest.mark.django_db
def test_a_digest_queued_before_unsubscribing_is_not_sent(workspace: Workspace) -> None:
    user = _user(workspace, "gone@example.com", digest_always=True)
    run = DigestRun.objects.create(user=user, period=date(2026, 3, 23), scheduled_at=MONDAY_0800_LONDON_WINTER)
    services.digest_unsubscribe(user=user)

    with time_machine.travel(MONDAY_0800_LONDON_WINTER, tick=False):
        assert services.digest_send(run_id=run.pk) == "skipped"
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_daily_digest_lists_only_today(workspace: Workspace) -> None:
    user = _user(workspace, "daily@example.com", digest="daily")
    wednesday = date(2026, 3, 4)
    _with_work(user, workspace, due=wednesday + timedelta(days=2))  # due Friday

    with (
        time_machine.travel(datetime(2026, 3, 4, 9, 0, tzinfo=UTC), tick=False),
        timezone.override(ZoneInfo("Europe/London")),
    ):
        digest = services.digest_content(user=user, today=wednesday)

    assert digest.this_week == []


@pytest.mark.django_db
def test_clicking_done_twice_in_an_email_marks_one_occurrence(workspace: Workspace, owner: User) -> None:
    follow_up = reminder_services.follow_up_create(
        person=PersonFactory(workspace=workspace, owner=owner),
        due_on=date(2026, 3, 4),
        repeat_every=1,
        repeat_unit="weeks",
    )
    link = _action_link(owner, "done", f"follow_up:{follow_up.pk}:{follow_up.occurrence}")

    with time_machine.travel(datetime(2026, 3, 4, 9, 0, tzinfo=UTC), tick=False):
        Client().post(link)
        Client().post(link)

    follow_up.refresh_from_db()
    assert follow_up.due_on == date(2026, 3, 11)
