"""Email digests: when each user's digest is due, what it says, sending it once, and the
signed links inside it.

Guarantee (see docs/digests.md): at most one digest row per user and local period, claimed
before sending. If a worker dies after the SMTP server accepted the message but before the
row says "sent", the claim expires and the message is sent again with the same Message-ID,
so the receiving side can recognise the duplicate: delivery is at-least-once, identified.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.db.models import Q
from django.urls import reverse
from django.utils import dateformat, timezone

from crm import dateformats, permissions
from crm.emails import make_message
from crm.models import Membership, User
from crm.queue import claim, claim_timeout, enqueue_on_commit
from digests.models import DigestRun
from people.dates import end_of_week
from people.handover import handovers_mark_told
from people.models import Handover, Person
from reminders import selectors as reminder_selectors
from reminders.handover import handovers_to_tell

ACTION_MAX_AGE = timedelta(days=14)
ACTION_SALT = "rapport.digest-action"
UNSUBSCRIBE_SALT = "rapport.digest-unsubscribe"


def period_length(user: User) -> timedelta:
    return timedelta(days=7 if user.digest == User.Digest.WEEKLY else 1)


def _send_time(user: User, day: date) -> datetime:
    return datetime.combine(day, time(user.digest_hour), tzinfo=user.zone)


def _latest_send(user: User, now: datetime) -> tuple[date, datetime]:
    """The user's latest scheduled send (local day, instant) at or before ``now``."""
    day = now.astimezone(user.zone).date()
    if user.digest == User.Digest.WEEKLY:
        day -= timedelta(days=(day.weekday() - user.digest_weekday) % 7)
    scheduled = _send_time(user, day)
    if scheduled > now:
        day -= period_length(user)
        scheduled = _send_time(user, day)
    return day, scheduled


def due_period(user: User, now: datetime) -> tuple[date, datetime] | None:
    """The user's latest scheduled send (local day, instant) at or before ``now``, if any.

    "08:00" is 08:00 on the user's wall clock on both sides of a DST change.
    """
    if user.digest == User.Digest.OFF:
        return None
    day, scheduled = _latest_send(user, now)
    if scheduled < user.digest_since:
        return None  # chosen after this send time: the first digest is the next scheduled one
    return day, scheduled


def next_send(user: User, now: datetime) -> datetime | None:
    """When the dispatcher will next find a digest of this user due, after ``now`` (None: off).

    The send after the latest one ``due_period`` knows of, so a schedule chosen at 08:20 for
    08:00 says tomorrow: today's send time had passed when it was chosen.
    """
    if user.digest == User.Digest.OFF:
        return None
    day, _ = _latest_send(user, now)
    return _send_time(user, day + period_length(user))


def next_digest_text(*, user: User, now: datetime) -> str:
    """ "tomorrow 08:00 (Africa/Lagos)", "Monday 8 December 08:00 (Africa/Lagos)" or "Off"."""
    at = next_send(user, now)
    if at is None:
        return "Off"
    local = at.astimezone(user.zone)
    days = (local.date() - now.astimezone(user.zone).date()).days
    day = {0: "today", 1: "tomorrow"}.get(days) or dateformats.format_date(local, "long_no_year")
    return f"{day} {local:%H:%M} ({user.zone.key})"


def digest_dispatch(*, users: list[User], now: datetime) -> list[int]:
    """Create the due period rows for these users (idempotent) and return queued run ids.

    A constant number of queries per batch, whatever its size. After downtime only the
    current period is created: nobody gets one digest per missed run.
    """
    rows = []
    for user in users:
        due = due_period(user, now)
        if due is not None:
            rows.append(DigestRun(user=user, period=due[0], scheduled_at=due[1]))
    DigestRun.objects.bulk_create(rows, ignore_conflicts=True)
    abandoned = Q(state=DigestRun.State.SENDING, claimed_at__lt=now - claim_timeout())
    return list(
        DigestRun.objects.filter(Q(state=DigestRun.State.QUEUED) | abandoned, user__in=[u.pk for u in users])
        .filter(period__isnull=False)
        .values_list("pk", flat=True)
    )


def digest_request_test(*, user: User) -> DigestRun:
    from digests.tasks import send_digest_task

    run = DigestRun.objects.create(user=user, period=None, scheduled_at=timezone.now())
    enqueue_on_commit(send_digest_task, run.pk)
    return run


# --- Content --------------------------------------------------------------------------------


@dataclass
class Digest:
    user: User
    today: date
    weekly: bool
    due_today: list[Any] = field(default_factory=list)
    overdue: list[Any] = field(default_factory=list)
    this_week: list[Any] = field(default_factory=list)  # after today (weekly digests only)
    dates: list[Any] = field(default_factory=list)
    promises: list[Any] = field(default_factory=list)
    going_cold: list[Person] = field(default_factory=list)
    # Customers handed over to the user since a digest last told them, with what came along.
    received: list[Handover] = field(default_factory=list)
    context: dict[int, reminder_selectors.PersonContext] = field(default_factory=dict)

    @property
    def people_to_contact(self) -> int:
        return len({i.person.pk for i in self.to_do} | {p.pk for p in self.going_cold})

    @property
    def to_do(self) -> list[Any]:
        """The follow-ups and stay-in-touch items, in the email's order: today's first."""
        return self.due_today + self.overdue + self.this_week

    @property
    def is_empty(self) -> bool:
        return not (self.to_do or self.dates or self.promises or self.going_cold or self.received)

    @property
    def subject(self) -> str:
        """What the digest holds and when, each part with its own time: "1 person to contact
        today, 2 birthdays this week (Thu, Sat)", never a week's birthdays called today's."""
        when = "this week" if self.weekly else "today"
        parts = []
        if self.people_to_contact:
            parts.append(f"{_count(self.people_to_contact, 'person', 'people')} to contact {when}")
        for kind, (one, many) in DATE_KINDS.items():
            days = sorted(d.on for d in self.dates if d.kind == kind)
            if days:
                parts.append(_dates_phrase(days, self.today, one, many))
        if self.promises:
            parts.append(_count(len(self.promises), "open promise", "open promises"))
        if self.received:
            people = len({h.person_id for h in self.received})
            parts.append(f"{_count(people, 'person', 'people')} handed over to you")
        return ", ".join(parts) if parts else f"Nothing due {when}"


def preheader(digest: Digest) -> str:
    """The line a mail program shows after the subject: whom first, and what to ask them about.
    "Today: Anna Berg (Send the quote), Ben Carter and 2 more. Remember Max, Anna's dog."."""
    if digest.is_empty:
        return "Nothing is due: a quiet day to surprise someone."
    people: dict[int, Any] = {}
    for item in digest.to_do:
        people.setdefault(item.person.pk, item)
    parts = []
    if people:
        first = list(people.values())
        names = [
            f"{i.person.full_name} ({i.follow_up.note})"
            if n == 0 and i.follow_up and i.follow_up.note
            else i.person.full_name
            for n, i in enumerate(first[:2])
        ]
        more = f" and {len(first) - 2} more" if len(first) > 2 else ""
        when = "Today" if digest.due_today or digest.overdue or not digest.weekly else "This week"
        parts.append(f"{when}: {', '.join(names)}{more}.")
        known = digest.context.get(first[0].person.pk)
        if known and known.ask_about:
            parts.append(f"Remember {known.ask_about[0]}.")
    elif digest.dates:
        parts.append(f"{digest.dates[0].text}.")
    return " ".join(parts) or digest.subject


DATE_KINDS = {
    "birthday": ("birthday", "birthdays"),
    "anniversary": ("anniversary", "anniversaries"),
    "date": ("important date", "important dates"),
}


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _dates_phrase(days: list[date], today: date, one: str, many: str) -> str:
    """ "2 birthdays this week (Thu, Sat)", "1 birthday today and 1 more in the next 9 days"."""
    on_today = days.count(today)
    ahead = [d for d in days if d > today]
    phrases = [f"{_count(on_today, one, many)} today"] if on_today else []
    if ahead:
        if ahead[-1] == today + timedelta(days=1):
            when = "tomorrow"
        elif ahead[-1] <= end_of_week(today):
            names = list(dict.fromkeys(dateformat.format(d, "D") for d in ahead))
            when = "this week" + (f" ({', '.join(names)})" if len(names) <= 3 else "")
        else:
            when = f"in the next {(ahead[-1] - today).days} days"
        phrases.append(f"{f'{len(ahead)} more' if on_today else _count(len(ahead), one, many)} {when}")
    return " and ".join(phrases)


def digest_content(*, user: User, today: date) -> Digest:
    """The digest's items for the user's people in each of their workspaces (call inside the
    user's time zone). Nothing private goes in: no private facts, no topics to avoid."""
    digest = Digest(user=user, today=today, weekly=user.digest != User.Digest.DAILY)
    for membership in Membership.objects.filter(user=user).select_related("workspace"):
        board = reminder_selectors.dashboard(membership.workspace, user=user, owner=user, today=today)
        digest.overdue += board.overdue
        digest.due_today += board.due_today
        digest.this_week += board.this_week if digest.weekly else []
        digest.dates += [d for d in board.dates if not d.dismissed]
        digest.promises += board.promises
        digest.going_cold += board.going_cold
    digest.received = handovers_to_tell(user=user)
    people = {i.person.pk for i in digest.to_do} | {d.person.pk for d in digest.dates}
    people |= {p.pk for p in digest.going_cold}
    digest.context = reminder_selectors.person_context(Person.objects.for_member(user), person_ids=people)
    return digest


# --- Signed links ---------------------------------------------------------------------------

ACTIONS = {"done": "Mark done", "snooze": "Snooze a week"}


def action_token(*, user: User, action: str, target: str) -> str:
    """A link for one action on one reminder for one user (``target``: follow_up:12, person:3)."""
    return signing.dumps({"u": user.pk, "a": action, "t": target}, salt=ACTION_SALT, compress=True)


def action_from_token(token: str) -> tuple[User, str, str]:
    data = signing.loads(token, salt=ACTION_SALT, max_age=ACTION_MAX_AGE)
    user = User.objects.get(pk=data["u"], is_active=True)
    if data["a"] not in ACTIONS:
        raise signing.BadSignature("unknown action")
    return user, data["a"], data["t"]


def unsubscribe_token(user: User) -> str:
    return signing.dumps({"u": user.pk}, salt=UNSUBSCRIBE_SALT)


def user_from_unsubscribe_token(token: str) -> User:
    return User.objects.get(pk=signing.loads(token, salt=UNSUBSCRIBE_SALT)["u"])


def digest_unsubscribe(*, user: User) -> None:
    User.objects.filter(pk=user.pk).update(digest=User.Digest.OFF)


def _action_target(*, user: User, target: str) -> tuple[Any, str]:
    """The follow-up (and the occurrence seen in the email) or person a link acts on, found
    only in the user's workspaces."""
    from interactions.models import FollowUp

    kind, _, raw = target.partition(":")
    if kind == "follow_up":
        pk, _, seen = raw.partition(":")
        return FollowUp.objects.for_member(user).select_related("person").get(pk=int(pk)), seen
    if kind == "person":
        return Person.objects.for_member(user).get(pk=int(raw)), ""
    raise Person.DoesNotExist


def action_question(*, user: User, action: str, target: str) -> str:
    """What the confirm page asks, naming the item: "Mark “Send the quote” for Anna Berg done?"."""
    obj, _ = _action_target(user=user, target=target)
    if isinstance(obj, Person):
        if action != "snooze":
            raise Person.DoesNotExist
        return f"Snooze staying in touch with {obj} for a week?"
    what = f"“{obj.note}” for {obj.person}" if obj.note else f"the follow-up with {obj.person}"
    return f"Mark {what} done?" if action == "done" else f"Snooze {what} for a week?"


def digest_action(*, user: User, action: str, target: str) -> str:
    """Carry out a digest link's action; the reminder must be in one of the user's workspaces."""
    from reminders import services as reminder_services

    obj, seen = _action_target(user=user, target=target)
    # The link is the user's: it does only what their role in that workspace lets them do.
    permissions.require_user(user=user, workspace=obj.workspace, capability="write")
    until = timezone.localdate() + timedelta(days=7)
    if isinstance(obj, Person):
        if action != "snooze":
            raise Person.DoesNotExist
        reminder_services.cadence_snooze(person=obj, until=until)
        return f"{obj} snoozed for a week."
    if action == "done":
        if seen.isdigit():
            obj.occurrence = int(seen)  # the occurrence in the email: a second click is a no-op
        reminder_services.follow_up_done(follow_up=obj)
        ended = f" {reminder_services.SERIES_ENDED}" if obj.is_recurring and obj.done_at else ""
        return f"Done: follow-up with {obj.person}.{ended}"
    reminder_services.follow_up_snooze(follow_up=obj, until=until)
    return f"Follow-up with {obj.person} snoozed for a week."


# --- Sending --------------------------------------------------------------------------------


def message_id(run: DigestRun) -> str:
    domain = settings.SITE_URL.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0] or "rapport.local"
    return f"<digest-{run.pk}-{run.user_id}-{run.period or 'test'}@{domain}>"


def render_digest(*, run: DigestRun, digest: Digest) -> Any:
    user = run.user
    site = settings.SITE_URL

    def link(action: str, target: str) -> str:
        return site + reverse("digests:action", args=[action_token(user=user, action=action, target=target)])

    unsubscribe = site + reverse("digests:unsubscribe", args=[unsubscribe_token(user)])
    context = {
        "digest": digest,
        "run": run,
        "link": link,
        "unsubscribe_url": unsubscribe,
        "settings_url": site + reverse("account_settings"),
        "dashboard_url": site + reverse("dashboard"),
    }
    context["items"] = _items_with_links(digest, link)
    context["preheader"] = preheader(digest)
    headers = {
        "Message-ID": message_id(run),
        "List-Unsubscribe": f"<{unsubscribe}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "Auto-Submitted": "auto-generated",
    }
    return make_message("digest", to=user.email, context=context, headers=headers)


def _items_with_links(digest: Digest, link: Any) -> dict[str, list[dict[str, Any]]]:
    site = settings.SITE_URL

    def person_links(person: Person) -> dict[str, str]:
        known = digest.context.get(person.pk)  # promises' people have none: their link logs a call
        kind = f"&kind={known.log_kind}" if known else ""
        return {
            "person_url": site + reverse("people:detail", args=[person.pk]),
            "log_url": site + reverse("interactions:create") + f"?person={person.pk}{kind}",
        }

    told: set[int] = set()

    def context(person: Person) -> reminder_selectors.PersonContext | None:
        """The "Ask about" block under a person's first item only: under each of their items
        it would repeat word for word. Called in the order the email lists the sections."""
        if person.pk in told:
            return None
        told.add(person.pk)
        return digest.context.get(person.pk)

    def due(item: Any) -> dict[str, Any]:
        target = (
            f"follow_up:{item.follow_up.pk}:{item.follow_up.occurrence}"
            if item.follow_up
            else f"person:{item.person.pk}"
        )
        what = (item.follow_up.note or "Follow up") if item.follow_up else "Stay in touch"
        entry = {"item": item, "what": what, **person_links(item.person), "context": context(item.person)}
        entry["snooze_url"] = link("snooze", target)
        entry["done_url"] = link("done", target) if item.follow_up else ""
        return entry

    items: dict[str, list[dict[str, Any]]] = {}
    items["due_today"] = [due(i) for i in digest.due_today]
    items["overdue"] = [due(i) for i in digest.overdue]
    items["this_week"] = [due(i) for i in digest.this_week]
    items["dates"] = [{"item": d, **person_links(d.person), "context": context(d.person)} for d in digest.dates]
    items["promises"] = [{"item": p, "said": p.said_by(digest.user), **person_links(p.person)} for p in digest.promises]
    items["received"] = [
        {
            "item": h,
            **person_links(h.person),
            "what": received_words(h),
            "promises": [{"said": p.said_by(digest.user), "item": p} for p in _prefetched(h.person, "open_promises")],
        }
        for h in digest.received
    ]
    items["going_cold"] = [
        {"item": p, **person_links(p), "context": context(p), "snooze_url": link("snooze", f"person:{p.pk}")}
        for p in digest.going_cold
    ]
    return items


def _prefetched(person: Person, name: str) -> list[Any]:
    """A list ``people.handover`` prefetched onto the person (``to_attr``): the model does not declare it."""
    rows: list[Any] = getattr(person, name)
    return rows


def received_words(handover: Handover) -> str:
    """ "from Olivia Owner, with 1 open follow-up and 2 open needs"."""
    person = handover.person
    parts = [
        _count(len(items), one, many)
        for items, one, many in (
            (_prefetched(person, "open_follow_ups"), "open follow-up", "open follow-ups"),
            (_prefetched(person, "open_needs"), "open need", "open needs"),
            (_prefetched(person, "open_promises"), "open promise", "open promises"),
        )
        if items
    ]
    words = f"from {handover.from_user.name}" if handover.from_user else "handed over"
    if handover.by and handover.by != handover.from_user:
        words += f" by {handover.by.name}"
    if parts:
        words += ", with " + (parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1])
    return words


def digest_send(*, run_id: int, now: datetime | None = None) -> str:
    """Send one digest run once. Returns the state it ended in.

    Claims the row (queued, or a sending claim older than ``CLAIM_TIMEOUT_SECONDS`` left by a killed
    worker) with a conditional UPDATE; a run claimed elsewhere is left alone. A run more than
    a period late is skipped and recorded. On an error the claim is released for a retry.
    """
    now = now or timezone.now()
    if not claim(DigestRun, pk=run_id, now=now):
        return "not-claimed"
    run = DigestRun.objects.select_related("user").get(pk=run_id)
    user = run.user
    if not run.is_test and (not user.is_active or user.digest == User.Digest.OFF):
        return _finish(run, DigestRun.State.SKIPPED, error="Digests were turned off before it was sent.")
    if not run.is_test and now - run.scheduled_at > period_length(user):
        return _finish(run, DigestRun.State.SKIPPED, error="More than a period late: skipped, not sent.")
    try:
        with timezone.override(user.zone), dateformats.override(user.date_style):
            digest = digest_content(user=user, today=timezone.localdate())
            if digest.is_empty and not user.digest_always and not run.is_test:
                return _finish(run, DigestRun.State.EMPTY)
            message = render_digest(run=run, digest=digest)
        message.send()
    except Exception as exc:
        DigestRun.objects.filter(pk=run.pk).update(
            state=DigestRun.State.QUEUED, error=str(exc)[:1000], attempts=run.attempts + 1
        )
        raise
    state = _finish(run, DigestRun.State.SENT, message_id=message_id(run))
    if not run.is_test:
        # Told once sent, not before: a send that failed tells them in its retry. A worker
        # killed right here tells them again in the next digest, which is the safe side.
        handovers_mark_told(handover_ids=[h.pk for h in digest.received])
    return state


def _finish(run: DigestRun, state: str, *, error: str = "", message_id: str = "") -> str:
    DigestRun.objects.filter(pk=run.pk).update(
        state=state,
        error=error,
        message_id=message_id,
        sent_at=timezone.now() if state == DigestRun.State.SENT else None,
    )
    return state


def digest_mark_failed(*, run_id: int, error: str) -> None:
    DigestRun.objects.filter(pk=run_id).exclude(state=DigestRun.State.SENT).update(
        state=DigestRun.State.FAILED, error=error[:1000]
    )
