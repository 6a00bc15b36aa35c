"""Stay in touch: how often to be in touch with a person, and when they are next due.

A person's cadence is their own (``contact_every`` x unit, stored as ``Person.cadence``), else
the shortest default of their tags (``TagCadence``). They are due that long after their last
contact (or their creation). ``Person.stay_due_at`` stores the instant, indexed, recomputed by
``people_refresh_stay_due`` after every write to its inputs; the exact calendar day is computed
in SQL (``with_stay_in_touch``) in the current time zone. Everything about it lives here: the
lists, the person page, the dashboard and the digest all ask this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, TypeAlias, TypedDict, TypeVar

from django.db import transaction
from django.db.models import (
    DateField,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, Greatest, Least, TruncDate
from django.utils import timezone

from crm import dateformats, events
from people.dates import EARLIEST_INSTANT, LATEST_INSTANT
from people.models import Person, TagCadence

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

DUE_SOON_DAYS = 7
DAYS_PER = {"days": 1, "weeks": 7, "months": 30}


def cadence_duration(every: int | None, unit: str) -> timedelta | None:
    """A stay-in-touch cadence as a duration (a month counts 30 days: cadences are not dates)."""
    if not every:
        return None
    return timedelta(days=every * DAYS_PER[unit])


def person_set_preferences(*, person: Person, announce: bool = True, **fields: object) -> Person:
    """Save how a person wants to be treated; their cadence follows their contact frequency.

    ``announce``: publish ``person.updated``; a caller that saves the person too publishes once."""
    for name, value in fields.items():
        setattr(person, name, value)
    person.cadence = cadence_duration(person.contact_every, person.contact_every_unit)
    person.full_clean()
    with transaction.atomic():
        person.save()
        people_refresh_stay_due(Person.objects.filter(pk=person.pk))
        if announce:
            events.publish(workspace=person.workspace, event=events.PERSON_UPDATED, ids=[person.pk])
    person.refresh_from_db(fields=["stay_due_at"])  # a later save() of this object keeps it
    return person


def people_refresh_stay_due(people: QuerySet[Person]) -> int:
    """Recompute ``stay_due_at`` for these people in one UPDATE.

    Call after writing any of its inputs: last contact, cadence, tags, or a tag's default
    cadence. The shortest cadence among the person's tags applies when they have none.
    Inside a transaction it runs once more after the commit (see below).
    """
    due = ExpressionWrapper(stay_base() + effective_cadence(), output_field=DateTimeField())
    updated = people.order_by().update(stay_due_at=due)
    # A write committing at the same moment (someone tagged while the tag's default changes)
    # is invisible to this statement, and this one to it. Run it again once committed: of two
    # such transactions, the one that commits last then sees both.
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: people.order_by().update(stay_due_at=due), robust=True)
    return updated


def effective_cadence() -> Coalesce:
    """A person's own cadence, else the shortest among their tags' defaults (null if none).

    The tags' default is spelled with the join table in an inner subquery (no join through the
    tag table, no GROUP BY): it runs once for every person without a cadence of their own, so
    on a big list its cost per row is what counts.
    """
    own_tags = Person.tags.through.objects.filter(person_id=OuterRef(OuterRef("pk"))).values("tag_id")
    tag_default = (
        TagCadence.objects.filter(workspace=OuterRef("workspace"), tag_id__in=own_tags)
        .order_by("duration")
        .values("duration")[:1]
    )
    return Coalesce(F("cadence"), Subquery(tag_default, output_field=DurationField()))


def stay_base() -> Greatest:
    """Last contact, else creation: what a cadence is added to.

    Held to the date range: a conversation stored in year 9999 before the range existed would
    make "+ cadence" overflow (a 500 on every page listing that person, and on saving them).
    """
    moment = Coalesce(F("last_contacted_at"), F("created_at"))
    latest, earliest = Value(LATEST_INSTANT, DateTimeField()), Value(EARLIEST_INSTANT, DateTimeField())
    return Greatest(Least(moment, latest, output_field=DateTimeField()), earliest, output_field=DateTimeField())


class StayAnnotations(TypedDict):
    """What ``with_stay_in_touch`` adds to each row (``stay_due_on`` is a timestamp on PostgreSQL:
    read it through ``as_date``)."""

    effective_cadence: timedelta | None
    stay_base_on: date
    stay_due_on: date | datetime | None


# A person row annotated by ``with_stay_in_touch`` (for the type checker only).
PersonWithStay: TypeAlias = "WithAnnotations[Person, StayAnnotations]"


PersonT = TypeVar("PersonT", bound=Person)
AnnotatedT = TypeVar("AnnotatedT", bound=PersonWithStay)


def with_stay_in_touch(qs: QuerySet[Person]) -> QuerySet[PersonWithStay]:
    """Annotate ``stay_due_on``: the day of last contact (or creation) in the current time zone
    + own cadence, else the tag default. Null when the person has no cadence at all.

    Days, not instants: a contact at 00:30 in summer time is due on the same calendar day
    two weeks later, even across a clock change.

    The cadence is read back from the stored instant (``stay_due_at`` is the same base + the
    cadence, kept by ``people_refresh_stay_due``): plain column arithmetic, where asking the
    tags' defaults again put a correlated subquery four times into every listing's SQL (its
    SELECT and its WHERE), compiled and run on each row.
    """
    base = stay_base()
    return qs.annotate(
        effective_cadence=ExpressionWrapper(F("stay_due_at") - base, output_field=DurationField()),
        stay_base_on=TruncDate(base, tzinfo=timezone.get_current_timezone()),
        stay_due_on=ExpressionWrapper(F("stay_base_on") + F("effective_cadence"), output_field=DateField()),
    )


def _day_start(day: date) -> datetime:
    """Midnight starting ``day`` in the current time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


def stay_due_by(people: QuerySet[AnnotatedT], day: date) -> QuerySet[AnnotatedT]:
    """People (annotated by ``with_stay_in_touch``) due to stay in touch on or before ``day``.

    Found from the stored, indexed instant (``stay_due_at``); the exact calendar day is then
    checked on those rows only. The two differ by at most a day across a clock change, so
    the instant bound is a day wider than the day it stands for (and likewise below).
    """
    return people.filter(stay_due_at__lt=_day_start(day + timedelta(days=2)), stay_due_on__lte=day)


def stay_due_between(people: QuerySet[AnnotatedT], first: date, last: date) -> QuerySet[AnnotatedT]:
    """As ``stay_due_by``, due from ``first`` to ``last`` (both included)."""
    return stay_due_by(people, last).filter(
        stay_due_at__gte=_day_start(first - timedelta(days=1)), stay_due_on__gte=first
    )


def as_date(value: date | datetime | None) -> date | None:
    """PostgreSQL gives ``date + interval`` back as a timestamp; the day is what counts."""
    return value.date() if isinstance(value, datetime) else value


def stay_in_touch_state(person: Person, today: date) -> str:
    """ok, soon (within 7 days) or overdue; "" without a cadence. Pushed-out people are ok."""
    due_on = as_date(getattr(person, "stay_due_on", None))
    if due_on is None:
        return ""
    pushed = max(filter(None, (person.do_not_contact_until, person.cadence_snoozed_until)), default=None)
    if pushed and pushed > today:
        return "ok"
    if due_on < today:
        return "overdue"
    if due_on <= today + timedelta(days=DUE_SOON_DAYS):
        return "soon"
    return "ok"


@dataclass(frozen=True)
class StayStatus:
    """A person's one stay-in-touch state, the same wherever they appear (lists, their page,
    the dashboard). Someone never contacted is not "in touch": what is due is a first contact."""

    state: str  # ok, soon, overdue
    due_on: date
    first_contact: bool

    @property
    def due_words(self) -> str:
        return "was due" if self.state == "overdue" else "due"

    @property
    def label(self) -> str:
        if self.first_contact:
            return f"First contact {self.due_words} {dateformats.format_date(self.due_on, 'day_month')}"
        return {"overdue": "Overdue", "soon": "Due soon", "ok": "In touch"}[self.state]


def stay_status(person: Person, today: date) -> StayStatus | None:
    """The state of a person annotated by ``with_stay_in_touch``; None without a cadence."""
    state = stay_in_touch_state(person, today)
    due_on = as_date(getattr(person, "stay_due_on", None))
    if not state or due_on is None:  # the one is empty exactly when the other is None
        return None
    pushed = max(filter(None, (person.do_not_contact_until, person.cadence_snoozed_until)), default=due_on)
    return StayStatus(state, max(due_on, pushed), first_contact=person.last_contacted_at is None)


def reachable(qs: QuerySet[PersonT], today: date) -> QuerySet[PersonT]:
    """Not archived, and neither asked for quiet nor snoozed past today."""
    return qs.filter(archived_at__isnull=True).filter(
        Q(do_not_contact_until__isnull=True) | Q(do_not_contact_until__lte=today),
        Q(cadence_snoozed_until__isnull=True) | Q(cadence_snoozed_until__lte=today),
    )


def stay_due_after_snooze(person: PersonWithStay, today: date) -> date | None:
    """The day a person (annotated by ``with_stay_in_touch``) is due: a snooze past today moves
    it to the day the snooze ends, never earlier than the cadence says. None without a cadence."""
    due_on = as_date(person.stay_due_on)
    snoozed = person.cadence_snoozed_until
    if due_on is None or snoozed is None or snoozed <= today:
        return due_on
    return max(due_on, snoozed)


def stay_due_within(
    people: QuerySet[Person], today: date, first: date, last: date, *, limit: int
) -> list[PersonWithStay]:
    """The ``limit`` people due to stay in touch from ``first`` to ``last`` (days after today)
    soonest by ``stay_due_at``, annotated by ``with_stay_in_touch``, counting those snoozed into
    those days: a snooze ends on a day and they are due again then (``stay_due_after_snooze``).
    Snoozing a day moves someone to tomorrow instead of off the page until tomorrow (issue 16).

    Two queries, each the soonest ``limit`` of one index range (stay_due_at for the awake,
    cadence_snoozed_until for the waking), merged: as one query with an OR, PostgreSQL walked
    the stay_due_at index from the start and filtered out everyone overdue (21,478 rows at
    100,000 people) to find the week's eleven. The two sets cannot overlap (a snooze past today
    or not), so the soonest ``limit`` of both are the soonest ``limit`` of all.
    """
    quiet_over = Q(do_not_contact_until__isnull=True) | Q(do_not_contact_until__lte=today)
    candidates = with_stay_in_touch(people.filter(quiet_over, archived_at__isnull=True))
    awake = candidates.filter(
        Q(cadence_snoozed_until__isnull=True) | Q(cadence_snoozed_until__lte=today),
        stay_due_at__lt=_day_start(last + timedelta(days=2)),
        stay_due_at__gte=_day_start(first - timedelta(days=1)),
        stay_due_on__lte=last,
        stay_due_on__gte=first,
    )
    waking = candidates.filter(
        cadence_snoozed_until__gt=today,
        cadence_snoozed_until__gte=first,
        cadence_snoozed_until__lte=last,
        stay_due_on__lte=last,
    )
    found = [p for part in (awake, waking) for p in part.order_by("stay_due_at", "id")[:limit]]
    return sorted(found, key=lambda p: (p.stay_due_at, p.pk))[:limit]
