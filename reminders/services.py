"""Writes for reminders: follow-ups (done, snooze, recurrence), cadences, dismissed dates."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from crm.models import User, Workspace
from interactions.models import FollowUp

# Follow-ups are written where the conversations that call for them are; imported here for the
# reminders pages and for callers that work with follow-ups as reminders.
from interactions.services import follow_up_create  # noqa: F401
from people import stay_in_touch
from people.dates import LATEST, RANGE_MESSAGE, in_range, validate_every
from people.models import Person, Tag, TagCadence
from people.services import normalise_tag
from people.stay_in_touch import cadence_duration, people_refresh_stay_due
from reminders.models import DismissedDate, ReminderOccurrence

MAX_SNOOZE_DAYS = 366
SERIES_ENDED = f"That was the last of the series: the next would fall after {LATEST.year}."


def _check_snooze(until: date) -> None:
    today = timezone.localdate()
    if not in_range(until):
        raise ValidationError({"until": RANGE_MESSAGE})
    if until <= today:
        raise ValidationError({"until": "Snooze to a day after today."})
    if until > today + timedelta(days=MAX_SNOOZE_DAYS):
        raise ValidationError({"until": "Snooze for at most a year."})


def follow_up_update(
    *, follow_up: FollowUp, due_on: date, note: str, repeat_every: int | None, repeat_unit: str
) -> FollowUp:
    """Edit a follow-up; a new date or rule starts the series again from that date."""
    if due_on != follow_up.due_on or repeat_every != follow_up.repeat_every or repeat_unit != follow_up.repeat_unit:
        follow_up.anchor_on, follow_up.occurrence, follow_up.snoozed_until = due_on, 0, None
    follow_up.due_on, follow_up.note = due_on, note.strip()
    follow_up.repeat_every, follow_up.repeat_unit = repeat_every or None, repeat_unit
    follow_up.full_clean()
    follow_up.save()
    return follow_up


def follow_up_delete(*, follow_up: FollowUp) -> None:
    """Delete a follow-up (a recurring one: the whole series)."""
    follow_up.delete()


def follow_up_done(*, follow_up: FollowUp, today: date | None = None) -> bool:
    """Mark a follow-up done. A recurring one moves to its next scheduled day after today.

    A series whose next day would fall past the dates Rapport keeps (2200) ends: it is done,
    and ``follow_up.done_at`` says so to the caller, who tells the user.

    The UPDATE is conditional on the occurrence it saw, so a double click (or two tabs) marks
    one occurrence once. Returns False when someone else already did.
    """
    today = today or timezone.localdate()
    current = FollowUp.objects.filter(pk=follow_up.pk, occurrence=follow_up.occurrence, done_at__isnull=True)
    following = follow_up.next_after(today) if follow_up.is_recurring else None
    if following is None:
        now = timezone.now()
        if current.update(done_at=now) != 1:
            return False
        follow_up.done_at = now
        return True
    index, due_on = following
    moved = {"due_on": due_on, "anchor_on": follow_up.anchor_on or follow_up.due_on, "occurrence": index}
    if current.update(**moved, snoozed_until=None) != 1:
        return False
    # The caller shows the follow-up as it now is (its next day) and can offer to undo it.
    for name, value in moved.items():
        setattr(follow_up, name, value)
    follow_up.snoozed_until = None
    return True


def follow_up_snooze(*, follow_up: FollowUp, until: date) -> FollowUp:
    _check_snooze(until)
    FollowUp.objects.filter(pk=follow_up.pk).update(snoozed_until=until)
    follow_up.snoozed_until = until
    return follow_up


@dataclass(frozen=True)
class FollowUpState:
    """What Done and Snooze change on a follow-up: enough to put it back exactly (Undo)."""

    due_on: date
    anchor_on: date | None
    occurrence: int
    snoozed_until: date | None
    done_at: datetime | None

    @classmethod
    def of(cls, follow_up: FollowUp) -> FollowUpState:
        return cls(
            due_on=follow_up.due_on,
            anchor_on=follow_up.anchor_on,
            occurrence=follow_up.occurrence,
            snoozed_until=follow_up.snoozed_until,
            done_at=follow_up.done_at,
        )

    def as_fields(self) -> dict[str, Any]:
        return asdict(self)


def follow_up_restore(*, follow_up: FollowUp, before: FollowUpState, after: FollowUpState) -> bool:
    """Undo a Done or Snooze: put the follow-up back exactly as it was ``before``.

    Conditional on it still being as the action left it (``after``), so a second click on
    Undo, or an Undo after someone edited, snoozed or finished it since, changes nothing and
    returns False: an Undo never overwrites a later change.
    """
    restored = FollowUp.objects.filter(pk=follow_up.pk, **after.as_fields()).update(**before.as_fields())
    if restored != 1:
        return False
    for name, value in before.as_fields().items():
        setattr(follow_up, name, value)
    return True


def cadence_snooze(*, person: Person, until: date) -> Person:
    """Push a stay-in-touch reminder out without pretending we were in touch."""
    _check_snooze(until)
    Person.objects.filter(pk=person.pk).update(cadence_snoozed_until=until)
    person.cadence_snoozed_until = until
    return person


def cadence_snooze_restore(*, person: Person, before: date | None, after: date) -> bool:
    """Undo a stay-in-touch snooze: the snooze it had ``before`` (none, or an earlier one) is back.

    Conditional, as ``follow_up_restore``: only while the snooze is still the one the Undo is
    for, so a second Undo or one after a later snooze changes nothing (False).
    """
    if Person.objects.filter(pk=person.pk, cadence_snoozed_until=after).update(cadence_snoozed_until=before) != 1:
        return False
    person.cadence_snoozed_until = before
    return True


def date_dismiss(*, workspace: Workspace, key: str, occurs_on: date) -> DismissedDate | None:
    """Mark this year's occurrence of a birthday or anniversary as done (idempotent).

    Returns the row this call created, None when it was already done (a second click).
    """
    try:
        with transaction.atomic():
            return DismissedDate.objects.create(workspace=workspace, key=key[:50], occurs_on=occurs_on)
    except IntegrityError:
        return None  # already done: a second click is harmless


def date_restore(*, workspace: Workspace, dismissed_pk: int, key: str, occurs_on: date) -> bool:
    """Undo marking a date done: the row that Done created goes (once; a second Undo is a no-op)."""
    deleted, _ = (
        DismissedDate.objects.for_workspace(workspace).filter(pk=dismissed_pk, key=key, occurs_on=occurs_on).delete()
    )
    return deleted > 0


# --- Undo tokens --------------------------------------------------------------------------------

UNDO_SALT = "reminders.undo"
# Long enough for the flash message after a form post without JavaScript; the page offers the
# button for a few seconds only. The restore itself is conditional, so a late Undo never
# overwrites a later change: the age limit only keeps an old button from surprising anyone.
UNDO_MAX_AGE = timedelta(minutes=15)


def undo_token(*, workspace: Workspace, user: User, kind: str, target: str, before: Any, after: Any) -> str:
    """A signed note of what an action changed, for the Undo button that reverses it.

    Signed, so the values a restore writes are the ones the server recorded, never the
    browser's; bound to the workspace, the user and the item it is for.
    """
    payload = {"w": workspace.pk, "u": user.pk, "k": kind, "t": target, "b": before, "a": after}
    return signing.dumps(payload, salt=UNDO_SALT, compress=True, serializer=_UndoSerializer)


def undo_read(*, token: str, workspace: Workspace, user: User, kind: str, target: str) -> tuple[Any, Any]:
    """The (before, after) of a token from ``undo_token``; ValidationError when it is not one for
    this item, workspace and user, or too old."""
    try:
        payload = signing.loads(token, salt=UNDO_SALT, max_age=UNDO_MAX_AGE, serializer=_UndoSerializer)
    except signing.SignatureExpired as exc:
        raise ValidationError("Too late to undo: change it by hand instead.") from exc
    except signing.BadSignature as exc:
        raise ValidationError("That Undo is not valid any more.") from exc
    if (payload.get("w"), payload.get("u"), payload.get("k"), payload.get("t")) != (
        workspace.pk,
        user.pk,
        kind,
        target,
    ):
        raise ValidationError("That Undo is not valid any more.")
    return payload["b"], payload["a"]


class _UndoSerializer:
    """JSON with dates and datetimes (a follow-up's state), read back as the same types."""

    def dumps(self, obj: Any) -> bytes:
        return json.dumps(obj, default=_encode, separators=(",", ":")).encode()

    def loads(self, data: bytes) -> Any:
        return json.loads(data.decode(), object_hook=_decode)


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$d": value.isoformat()}
    if isinstance(value, FollowUpState):
        return {"$fu": value.as_fields()}
    raise TypeError(f"Cannot sign {type(value).__name__}")


def _decode(obj: dict[str, Any]) -> Any:
    if "$dt" in obj:
        return datetime.fromisoformat(obj["$dt"])
    if "$d" in obj:
        return date.fromisoformat(obj["$d"])
    if "$fu" in obj:
        return FollowUpState(**obj["$fu"])
    return obj


@transaction.atomic
def tag_cadence_set(*, workspace: Workspace, tag_name: str, every: int, unit: str) -> TagCadence:
    name = normalise_tag(tag_name)
    if not name:
        raise ValidationError({"tag_name": "Type a tag."})
    try:
        validate_every(every, unit)
    except ValidationError as exc:
        raise ValidationError({"every": exc.messages}) from exc
    tag = Tag.objects.for_workspace(workspace).filter(name=name, kind=Tag.Kind.LABEL).first()
    if tag is None:
        raise ValidationError({"tag_name": f"No person is tagged “{name}” yet."})
    cadence, _ = TagCadence.objects.update_or_create(
        workspace=workspace, tag=tag, defaults={"every": every, "unit": unit, "duration": cadence_duration(every, unit)}
    )
    people_refresh_stay_due(Person.objects.for_workspace(workspace).filter(tags=tag))
    return cadence


@transaction.atomic
def tag_cadence_delete(*, cadence: TagCadence) -> None:
    cadence.delete()
    people_refresh_stay_due(Person.objects.for_workspace(cadence.workspace).filter(tags=cadence.tag_id))


# --- Materialising and notifying ------------------------------------------------------------

MISSED_DATES_DAYS = 7  # a birthday missed while the worker was down is still notified, once


def occurrences_materialise(*, user: User, today: date) -> int:
    """Create the reminder occurrences due for ``user`` up to ``today`` (their local day).

    Covers their people in every workspace they belong to: open follow-ups and stay-in-touch
    due by today (each keyed by its own due day, so a reminder missed during downtime gives
    one occurrence, not one per missed run), and dates on the day or at the lead time.
    Idempotent: rows that exist are left alone.
    """
    from crm.models import Membership
    from reminders import selectors

    rows: list[ReminderOccurrence] = []
    for membership in Membership.objects.filter(user=user).select_related("workspace"):
        workspace = membership.workspace
        for f in selectors.open_follow_ups(workspace).filter(person__owner=user, due__lte=today)[:500]:
            rows.append(_occurrence(workspace, user, f.person, f"follow_up:{f.pk}", f.due, f.note or "Follow up"))
        people = stay_in_touch.with_stay_in_touch(
            stay_in_touch.reachable(Person.objects.for_workspace(workspace), today)
        )
        for p in stay_in_touch.stay_due_by(people.filter(owner=user), today).order_by("stay_due_at", "id")[:500]:
            due = stay_in_touch.as_date(p.stay_due_on)
            if due is not None:  # always: stay_due_by keeps only people with a cadence
                rows.append(_occurrence(workspace, user, p, f"stay:{p.pk}", due, f"Stay in touch with {p.full_name}"))
        start = today - timedelta(days=MISSED_DATES_DAYS)
        for item in selectors.upcoming_dates(
            workspace, today=start, days=MISSED_DATES_DAYS + user.date_lead_days, owner=user
        ):
            lead = item.on - timedelta(days=user.date_lead_days)
            if item.on <= today or lead == today:
                text = item.text if item.on <= today else f"In {user.date_lead_days} days: {item.text}"
                day = item.on if item.on <= today else lead
                rows.append(_occurrence(workspace, user, item.person, item.key, day, text))
    mine = ReminderOccurrence.objects.filter(user=user)
    before = mine.count()
    ReminderOccurrence.objects.bulk_create(rows, ignore_conflicts=True)
    return mine.count() - before


def _occurrence(
    workspace: Workspace, user: User, person: Person, key: str, due_on: date, text: str
) -> ReminderOccurrence:
    return ReminderOccurrence(workspace=workspace, user=user, person=person, key=key, due_on=due_on, text=text[:300])


@transaction.atomic
def occurrences_notify(*, user: User) -> list[int]:
    """Claim the user's pending occurrences (pending -> notified); return the ids claimed.

    Rows are locked with SKIP LOCKED on PostgreSQL (SQLite serialises writers anyway), so a
    duplicated or concurrent call never claims a row twice.
    """
    pending = ReminderOccurrence.objects.select_for_update(skip_locked=True).filter(
        user=user, state=ReminderOccurrence.State.PENDING
    )
    ids = list(pending.values_list("pk", flat=True))
    ReminderOccurrence.objects.filter(pk__in=ids).update(
        state=ReminderOccurrence.State.NOTIFIED, notified_at=timezone.now()
    )
    return ids


def occurrences_mark_seen(*, user: User) -> None:
    ReminderOccurrence.objects.filter(user=user, state=ReminderOccurrence.State.NOTIFIED).update(
        state=ReminderOccurrence.State.SEEN
    )
