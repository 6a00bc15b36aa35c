"""What is due: computed in SQL from rows and denormalised fields, never by looping over people.

All dates are in the current time zone (the signed-in user's, activated by the middleware):
"due on 3 March" means 3 March where the user is.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeAlias, TypedDict, TypeVar

from django.db import connection
from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    Model,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import Least, RowNumber
from django.utils import timezone

from crm.models import User, Workspace
from interactions.models import FollowUp, Interaction, Need, Promise, follow_up_due, kind_for_channel, kind_words
from people.dates import PartialDate, end_of_week
from people.models import FamilyMember, ImportantDate, Person, Pet, Tag, TagCadence
from people.stay_in_touch import (
    PersonWithStay,
    as_date,
    reachable,
    stay_due_after_snooze,
    stay_due_between,
    stay_due_by,
    stay_due_within,
    with_stay_in_touch,
)
from reminders.models import DismissedDate, ReminderOccurrence

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

RowT = TypeVar("RowT", bound=Model)
COLD_AFTER_DAYS = 14  # overdue longer than this: "going cold" rather than "overdue"
DATES_AHEAD_DAYS = 14
# A big book has hundreds of birthdays (family and pets too) in two weeks: the dashboard shows
# the soonest, so its cost does not grow with the workspace, and links to the calendar.
DATES_LIMIT = 20


def _owned(qs: QuerySet[RowT], owner: User | None, path: str = "owner") -> QuerySet[RowT]:
    return qs.filter(**{path: owner}) if owner is not None else qs


def promises_of(owner: User | None) -> Q:
    """The open promises that are ``owner``'s to see: their people's (a teammate's shows as
    "Ngozi promised") and the ones they made themselves, about anyone: a promise stays with
    whoever made it when the customer is handed over. Everyone's when ``owner`` is None."""
    if owner is None:
        return Q()
    return Q(person__owner=owner) | Q(made_by=owner, direction=Promise.Direction.MINE)


class FollowUpDue(TypedDict):
    due: date  # the day it is due: its own, or the end of its snooze


# A follow-up row annotated by ``open_follow_ups`` (for the type checker only).
FollowUpWithDue: TypeAlias = "WithAnnotations[FollowUp, FollowUpDue]"


def open_follow_ups(workspace: Workspace) -> QuerySet[FollowUpWithDue]:
    return (
        FollowUp.objects.for_workspace(workspace)
        .filter(done_at__isnull=True, person__archived_at__isnull=True)
        .annotate(due=follow_up_due())
        .select_related("person")
    )


@dataclass(frozen=True)
class DateItem:
    """A birthday, anniversary or other date of a person, their family or pets."""

    key: str
    on: date
    person: Person
    text: str  # what to say: "Max, Anna's dog, turns 5"
    kind: str  # birthday, anniversary, date
    dismissed: bool = False


def _window(today: date, days: int) -> list[date]:
    return [today + timedelta(days=i) for i in range(days + 1)]


def _month_spans(days: list[date]) -> list[tuple[int, int, int, int, bool]]:
    """The window as (month, first day, last day, rank of day 0, 29 Feb stands in) per month.

    A window of a few weeks has at most three months. 29 Feb counts on 28 Feb in common
    years: a span reaching 28 Feb then also takes the 29th, ranked as the 28th.
    """
    spans: dict[int, list[Any]] = {}
    for i, day in enumerate(days):
        span = spans.setdefault(day.month, [day.day, day.day, i - day.day, False])
        span[1] = day.day
        if day.month == 2 and day.day == 28 and not calendar.isleap(day.year):
            span[1], span[3] = 29, True
    return [(month, lo, hi, offset, leap) for month, (lo, hi, offset, leap) in spans.items()]


def _pairs_q(days: list[date], prefix: str) -> Q:
    """Match a day/month pair falling in ``days``: one range per month, on (month, day) indexes."""
    q = Q()
    for month, lo, hi, _, _ in _month_spans(days):
        q |= Q(**{f"{prefix}_month": month, f"{prefix}_day__gte": lo, f"{prefix}_day__lte": hi})
    return q


def _rank(days: list[date], prefix: str) -> Case:
    """How many days into the window a day/month pair falls (past the window: after all)."""
    whens = []
    for month, lo, hi, offset, leap in _month_spans(days):
        if leap:
            whens.append(When(Q(**{f"{prefix}_month": 2, f"{prefix}_day": 29}), then=Value(offset + 28)))
        # Only the days in the window: a person's other date (say an anniversary earlier in
        # the same month) must not rank them before someone whose birthday is today.
        in_window = Q(**{f"{prefix}_month": month, f"{prefix}_day__gte": lo, f"{prefix}_day__lte": hi})
        whens.append(When(in_window, then=F(f"{prefix}_day") + Value(offset)))
    return Case(*whens, default=Value(len(days)), output_field=IntegerField())


def _soonest(qs: QuerySet[Any], rank: Any, limit: int | None) -> QuerySet[Any]:
    """With a limit, only the ``limit`` soonest rows, so the cost does not grow with the data."""
    if limit is None:
        return qs
    return qs.annotate(window_rank=rank).order_by("window_rank", "id")[:limit]


def _soonest_on(qs: QuerySet[Any], days: list[date], prefixes: tuple[str, ...], limit: int | None) -> QuerySet[Any]:
    """The rows with a day/month pair (of any of ``prefixes``: birthday, anniversary) falling in
    ``days``; with a limit, only the ``limit`` soonest. A row matching twice comes twice.

    Each month of the window is read in the order of its (month, day) index, so the few
    thousand family birthdays of a big book's next two weeks are not all joined and sorted to
    keep twenty. Several months or prefixes are a UNION ALL of those reads on PostgreSQL;
    SQLite cannot order the parts of a UNION, so there it is one query ranked as a whole.
    """
    matching = Q()
    for prefix in prefixes:
        matching |= _pairs_q(days, prefix)
    if limit is None:
        return qs.filter(matching)
    spans = _month_spans(days)
    if len(spans) * len(prefixes) > 1 and not connection.features.supports_slicing_ordering_in_compound:
        ranks = [_rank(days, prefix) for prefix in prefixes]
        return _soonest(qs.filter(matching), Least(*ranks) if len(ranks) > 1 else ranks[0], limit)
    parts = [
        qs.filter(**{f"{prefix}_month": month, f"{prefix}_day__gte": lo, f"{prefix}_day__lte": hi})
        .annotate(window_rank=_rank(days, prefix))
        .order_by(f"{prefix}_day", "id")[:limit]
        for prefix in prefixes
        for month, lo, hi, _, _ in spans
    ]
    if len(parts) == 1:
        return parts[0]
    return parts[0].union(*parts[1:], all=True).order_by("window_rank", "id")[:limit]


def _occurrence(value: PartialDate, days: list[date]) -> date:
    return value.next_occurrence(days[0])


def _turns(value: PartialDate, on: date) -> str:
    age = value.age_on(on)
    return f"turns {age}" if age is not None else "has a birthday"


def _relation(relative: FamilyMember | Pet) -> str:
    """Who they are to the person: "daughter", "dog" (a pet of no given species: "pet")."""
    if isinstance(relative, Pet):
        return relative.species or "pet"
    return relative.get_relation_display().lower()


# What a date line shows of a person (their name, for the text and the links): the rest of a
# Person row is not read, page after page.
_NAME = ("first_name", "last_name")
_BIRTHDAY = ("birthday_day", "birthday_month", "birthday_year")
_DATES = (*_BIRTHDAY, "anniversary_day", "anniversary_month", "anniversary_year")


def upcoming_dates(
    workspace: Workspace,
    *,
    today: date,
    days: int,
    owner: User | None = None,
    limit: int | None = None,
) -> list[DateItem]:
    """Dates in the next ``days`` days, in four small queries on (month, day) indexes.

    With ``limit``, the ``limit`` soonest only (a page shows those; the scheduler wants all).
    """
    window = _window(today, days)
    people = _owned(Person.objects.for_workspace(workspace).filter(archived_at__isnull=True), owner)
    # A person whose birthday and anniversary both fall in the window is read twice: once is enough.
    soonest = {p.pk: p for p in _soonest_on(people.only(*_NAME, *_DATES), window, ("birthday", "anniversary"), limit)}
    items = [i for p in soonest.values() for i in _own_dates(p, window, ("birthday", "anniversary"))]
    # A family member's and a pet's birthday read alike: "Ada, Tom's daughter, turns 7".
    relative_kinds: tuple[tuple[QuerySet[FamilyMember] | QuerySet[Pet], str, str], ...] = (
        (FamilyMember.objects.for_workspace(workspace), "family", "relation"),
        (Pet.objects.for_workspace(workspace), "pet", "species"),
    )
    for of_workspace, key, what in relative_kinds:
        relatives = _owned(of_workspace.filter(person__archived_at__isnull=True), owner, "person__owner")
        # django-stubs reads a FamilyMember-or-Pet queryset as their abstract base, which has
        # neither field; both models have both.
        relatives = relatives.select_related("person").only(  # type: ignore[misc]
            "name", what, *_BIRTHDAY, "person", *(f"person__{f}" for f in _NAME)
        )
        for r in _soonest_on(relatives, window, ("birthday",), limit):
            if r.birthday is None:  # stored before validation, and not a real date: nothing to remind
                continue
            on = _occurrence(r.birthday, window)
            text = f"{r.name}, {r.person.first_name}'s {_relation(r)}, {_turns(r.birthday, on)}"
            items.append(DateItem(f"{key}:{r.pk}", on, r.person, text, "birthday"))
    dates = _other_dates(workspace, owner).filter(_pairs_q(window, "date"))
    items += [i for d in _soonest(dates, _rank(window, "date"), limit) if (i := _other_date(d, window))]
    return sorted(_with_dismissed(workspace, items, window), key=lambda i: (i.on, i.text))[:limit]


def _own_dates(p: Person, window: list[date], kinds: tuple[str, ...]) -> list[DateItem]:
    """A person's birthday and anniversary lines falling in ``window`` (of ``kinds``)."""
    items = []
    if "birthday" in kinds and p.birthday and window[0] <= (on := _occurrence(p.birthday, window)) <= window[-1]:
        items.append(DateItem(f"person:{p.pk}:birthday", on, p, f"{p.full_name} {_turns(p.birthday, on)}", "birthday"))
    if (
        "anniversary" in kinds
        and p.anniversary
        and window[0] <= (on := _occurrence(p.anniversary, window)) <= window[-1]
    ):
        years = p.anniversary.age_on(on)
        text = f"{p.full_name}'s anniversary" + (f" ({years} years)" if years else "")
        items.append(DateItem(f"person:{p.pk}:anniversary", on, p, text, "anniversary"))
    return items


def _other_dates(workspace: Workspace, owner: User | None) -> QuerySet[ImportantDate]:
    dates = _owned(
        ImportantDate.objects.for_workspace(workspace).filter(person__archived_at__isnull=True), owner, "person__owner"
    ).select_related("person")
    return dates.only("label", "date_day", "date_month", "date_year", "person", *(f"person__{f}" for f in _NAME))


def _other_date(d: ImportantDate, window: list[date]) -> DateItem | None:
    if d.date is None:  # stored before validation, and not a real date: nothing to remind
        return None
    return DateItem(f"date:{d.pk}", _occurrence(d.date, window), d.person, f"{d.person.full_name}: {d.label}", "date")


def _with_dismissed(workspace: Workspace, items: list[DateItem], window: list[date]) -> list[DateItem]:
    dismissed = set(
        DismissedDate.objects.for_workspace(workspace)
        .filter(occurs_on__gte=window[0], occurs_on__lte=window[-1])
        .values_list("key", "occurs_on")
    )
    return [DateItem(i.key, i.on, i.person, i.text, i.kind, dismissed=(i.key, i.on) in dismissed) for i in items]


def _first_per_day(qs: QuerySet[Any], rank: Case, per_day: int, *names: str) -> QuerySet[Any]:
    """Each day's first ``per_day`` rows by ``names``, each row with its day's whole count
    (``day_total``): one query whose rows do not grow with the book."""
    return (
        qs.annotate(
            window_rank=rank,
            day_place=Window(RowNumber(), partition_by=[F("window_rank")], order_by=[F(n) for n in (*names, "pk")]),
            day_total=Window(Count("pk"), partition_by=[F("window_rank")]),
        )
        .filter(day_place__lte=per_day)
        .order_by()
    )


def own_dates_by_day(
    workspace: Workspace, *, first: date, last: date, per_day: int, owner: User | None = None
) -> tuple[dict[date, list[DateItem]], dict[date, int]]:
    """The people's own dates (birthdays, anniversaries, other dates) from ``first`` to ``last``:
    each day's first ``per_day`` by name, and how many the day has in all.

    Three queries, each at most ``per_day`` rows a day: at 100,000 people a month holds about
    10,000 of them, which the month page turned into lines to show eight a day.
    """
    window = _window(first, (last - first).days)
    people = _owned(Person.objects.for_workspace(workspace).filter(archived_at__isnull=True), owner)
    totals: dict[tuple[str, int], int] = {}
    items: list[DateItem] = []
    for kind in ("birthday", "anniversary"):
        rows = _first_per_day(
            people.filter(_pairs_q(window, kind)).only(*_NAME, *_DATES), _rank(window, kind), per_day, *_NAME
        )
        for p in rows:
            totals[kind, p.window_rank] = p.day_total
            items += _own_dates(p, window, (kind,))
    names = (f"person__{f}" for f in _NAME)
    for d in _first_per_day(
        _other_dates(workspace, owner).filter(_pairs_q(window, "date")), _rank(window, "date"), per_day, *names
    ):
        totals["date", d.window_rank] = d.day_total
        if item := _other_date(d, window):
            items.append(item)
    by_day: dict[date, list[DateItem]] = {}
    for item in sorted(_with_dismissed(workspace, items, window), key=lambda i: (i.on, i.text)):
        by_day.setdefault(item.on, []).append(item)
    counts: dict[date, int] = {}
    for (_, rank), n in totals.items():
        counts[window[rank]] = counts.get(window[rank], 0) + n
    return {day: shown[:per_day] for day, shown in by_day.items()}, counts


def person_stay_row(workspace: Workspace, *, person: Person) -> PersonWithStay:
    """``person`` as the dashboard lists them, with the day they are due from the cadence."""
    row = with_stay_in_touch(Person.objects.for_workspace(workspace).filter(pk=person.pk))[0]
    row.stay_due_on = as_date(row.stay_due_on)
    return row


def tag_cadences(workspace: Workspace) -> QuerySet[TagCadence]:
    """The workspace's stay-in-touch defaults by tag."""
    return TagCadence.objects.for_workspace(workspace).select_related("tag")


NOTIFICATIONS_SHOWN = 100


def notifications_delivered(*, user: User) -> list[ReminderOccurrence]:
    """The reminders the scheduler delivered to ``user`` (the bell's page), newest first."""
    return list(
        ReminderOccurrence.objects.visible_to(user)
        .exclude(state=ReminderOccurrence.State.PENDING)
        .select_related("person", "workspace")[:NOTIFICATIONS_SHOWN]
    )


def date_item(workspace: Workspace, *, key: str, on: date) -> DateItem | None:
    """The one date line ``key`` on ``on`` (as the dashboard lists it), None if it is not there
    any more (the birthday was edited since)."""
    return next((i for i in upcoming_dates(workspace, today=on, days=0) if i.key == key), None)


@dataclass
class PersonContext:
    """What to mention about a person: family, pets, interests, the last conversation."""

    ask_about: list[str] = field(default_factory=list)
    last_summary: str = ""
    last_kind: str = ""  # "WhatsApp message": the last conversation was on WhatsApp
    log_kind: str = Interaction.Kind.CALL  # what "Log it" starts as: their preferred channel


def person_context(people: QuerySet[Person], *, person_ids: set[int]) -> dict[int, PersonContext]:
    """ "Ask about..." lines for many people in four queries, whatever their number: the
    dashboard's rows and the digest share them. ``people``: where to look, a workspace's people
    (``for_workspace``) or a user's in all their workspaces (``for_member``).

    Plain rows throughout: a prefetch built a filtered queryset per person and relation, and a
    model per row, for the few words each line shows."""
    if not person_ids:
        return {}
    last = Interaction.objects.filter(people=OuterRef("pk")).order_by("-occurred_at")
    rows = list(
        people.filter(pk__in=person_ids)
        .annotate(last_summary=Subquery(last.values("summary")[:1]), last_kind=Subquery(last.values("kind")[:1]))
        .values_list("pk", "first_name", "preferred_channel", "last_summary", "last_kind")
    )
    # Only the relatives of the people ``people`` lets us see, nobody else's.
    first_names = {pk: first_name for pk, first_name, *_ in rows}
    pets: dict[int, list[str]] = {}
    for person_id, name, species in (
        Pet.objects.filter(person_id__in=first_names)
        .order_by("person_id", "name", "id")
        .values_list("person_id", "name", "species")
    ):
        pets.setdefault(person_id, []).append(f"{name}, {first_names[person_id]}'s {species or 'pet'}")
    relations = dict(FamilyMember.Relation.choices)
    family: dict[int, list[str]] = {}
    for person_id, name, relation, interests in (
        FamilyMember.objects.filter(person_id__in=first_names)
        .order_by("person_id", "relation", "name", "id")
        .values_list("person_id", "name", "relation", "interests")
    ):
        extra = f" ({interests})" if interests else ""
        family.setdefault(person_id, []).append(
            f"{name}, {first_names[person_id]}'s {str(relations[relation]).lower()}{extra}"
        )
    tags: dict[int, list[str]] = {}
    for person_id, tag in (
        Person.tags.through.objects.filter(person_id__in=first_names, tag__kind=Tag.Kind.INTEREST)
        .order_by("person_id", "tag__name")
        .values_list("person_id", "tag__name")
    ):
        tags.setdefault(person_id, []).append(tag)
    result = {}
    for pk, _, channel, last_summary, last_kind in rows:
        lines = pets.get(pk, [])[:2] + family.get(pk, [])[:3]
        if pk in tags:
            lines.append("their interest in " + ", ".join(tags[pk][:3]))
        result[pk] = PersonContext(
            ask_about=lines,
            last_summary=last_summary or "",
            last_kind=kind_words(last_kind) if last_kind else "",
            log_kind=kind_for_channel(channel),
        )
    return result


@dataclass
class Dashboard:
    today: date
    week_end: date
    overdue: list[Any] = field(default_factory=list)
    due_today: list[Any] = field(default_factory=list)
    this_week: list[Any] = field(default_factory=list)
    dates: list[DateItem] = field(default_factory=list)
    more_dates: bool = False  # more than DATES_LIMIT: the calendar shows them all
    going_cold: list[PersonWithStay] = field(default_factory=list)
    promises: list[Promise] = field(default_factory=list)
    quiet_needs: list[Need] = field(default_factory=list)
    recent: list[Interaction] = field(default_factory=list)
    capped: set[str] = field(default_factory=set)  # parts where a source read all it could

    @cached_property
    def shown(self) -> dict[str, list[Any]]:
        """What the page lists of each "To do" part; the digest takes the whole lists."""
        return {name: getattr(self, name)[:TODO_SHOWN] for name in ("overdue", "due_today", "this_week")}

    @cached_property
    def counts(self) -> dict[str, str]:
        """Per part, the count in its section title: "3", or "50+" when not all were read."""
        return {
            name: f"{len(getattr(self, name))}{'+' if name in self.capped else ''}"
            for name in ("overdue", "due_today", "this_week")
        }

    @cached_property
    def more(self) -> dict[str, str]:
        """Per part, what the page says past its list: "", "2 more", or "More" when not all were read."""
        more = {}
        for name in ("overdue", "due_today", "this_week"):
            hidden = max(0, len(getattr(self, name)) - TODO_SHOWN)
            more[name] = ("More" if name in self.capped else f"{hidden} more") if hidden else ""
        return more


@dataclass(frozen=True)
class DueItem:
    """One line of "what to do": a follow-up, or a person due for a stay-in-touch."""

    kind: str  # follow_up or stay_in_touch
    due: date
    person: Person
    follow_up: FollowUp | None = None


SECTION_LIMIT = 25  # of each source (follow-ups, people due) read for "To do"
LIST_LIMIT = 10  # open promises, quiet needs
TODO_SHOWN = 10  # of each part of "To do" on the page; the rest are a link away


def dashboard(
    workspace: Workspace,
    *,
    user: User,
    owner: User | None,
    today: date | None = None,
    per_part: int = SECTION_LIMIT,
) -> Dashboard:
    """The "This week" page: a fixed number of queries whatever the size of the workspace.

    ``per_part``: how many of each source (follow-ups, people due) each part of "To do" reads.
    The page shows TODO_SHOWN and needs one more to know there are more; the digest lists more.
    """
    today = today or timezone.localdate()
    week_end = end_of_week(today)
    board = Dashboard(today=today, week_end=week_end)

    # Each part (overdue, today, rest of the week) reads its own soonest SECTION_LIMIT, so a
    # long overdue list never hides what is due today.
    # Declared: the annotation's name is what lets the type checker see ``due`` through ``_owned``.
    open_ones: QuerySet[FollowUpWithDue] = _owned(open_follow_ups(workspace), owner, "person__owner")
    # One query a part, each a seek on the index followup_ws_open_due_at that reads the rows it
    # keeps: a window over every due row sorted them all (6,815 to keep 33 at 100,000 people).
    in_order = open_ones.order_by("due", "id")
    items = []
    for rows in (
        in_order.filter(due__lt=today),
        in_order.filter(due=today),
        in_order.filter(due__gt=today, due__lte=week_end),
    ):
        items += [DueItem("follow_up", f.due, f.person, f) for f in rows[:per_part]]

    people_of = _owned(Person.objects.for_workspace(workspace), owner)
    people = with_stay_in_touch(reachable(people_of, today))
    cold_before = today - timedelta(days=COLD_AFTER_DAYS)
    for first, last in ((cold_before, today - timedelta(days=1)), (today, today)):
        due = stay_due_between(people, first, last).order_by("stay_due_at", "id")[:per_part]
        # Every row has a due day (the queries keep only people with a cadence): ``if on`` says so.
        items += [DueItem("stay_in_touch", on, p) for p in due if (on := as_date(p.stay_due_on))]
    rest = stay_due_within(people_of, today, today + timedelta(days=1), week_end, limit=per_part)
    items += [DueItem("stay_in_touch", on, p) for p in rest if (on := stay_due_after_snooze(p, today))]
    cold = stay_due_by(people, cold_before - timedelta(days=1))
    board.going_cold = list(cold.order_by("stay_due_at", "id")[:10])
    for p in board.going_cold:
        p.stay_due_on = as_date(p.stay_due_on)

    for item in sorted(items, key=lambda i: (i.due, i.person.last_name)):
        if item.due < today:
            board.overdue.append(item)
        elif item.due == today:
            board.due_today.append(item)
        else:
            board.this_week.append(item)
    board.capped = {
        name
        for name in ("overdue", "due_today", "this_week")
        if sum(1 for i in getattr(board, name) if i.kind == "follow_up") == per_part
        or sum(1 for i in getattr(board, name) if i.kind == "stay_in_touch") == per_part
    }

    board.dates = upcoming_dates(
        workspace, today=today, days=max(DATES_AHEAD_DAYS, user.date_lead_days), owner=owner, limit=DATES_LIMIT + 1
    )
    board.more_dates = len(board.dates) > DATES_LIMIT
    board.dates = board.dates[:DATES_LIMIT]
    board.promises = list(
        Promise.objects.for_workspace(workspace)
        .filter(promises_of(owner), kept_at__isnull=True, person__archived_at__isnull=True)
        .select_related("person", "made_by")
        .order_by(F("due_on").asc(nulls_last=True), "id")[:LIST_LIMIT]
    )
    quiet_since = timezone.now() - timedelta(days=30)
    board.quiet_needs = list(
        _owned(Need.objects.for_workspace(workspace), owner, "person__owner")
        .filter(status__in=Need.OPEN_STATUSES, person__archived_at__isnull=True)
        .filter(Q(person__last_contacted_at__lt=quiet_since) | Q(person__last_contacted_at__isnull=True))
        .select_related("person")
        .order_by("opened_on", "id")[:LIST_LIMIT]
    )
    recent = Interaction.objects.for_workspace(workspace)
    if owner is not None:
        recent = recent.filter(created_by=owner)
    board.recent = list(recent.prefetch_related("people")[:10])
    return board


@dataclass(frozen=True)
class CalendarDay:
    day: date
    in_month: bool
    follow_ups: list[FollowUp]
    dates: list[DateItem]
    more_dates: int = 0  # the people's own dates of the day past DATES_A_DAY
    relatives: int = 0  # family and pet birthdays of the day, shown as a count with a link
    more_follow_ups: int = 0  # the day's follow-ups past DATES_A_DAY


# Of the people's own dates, and of follow-ups, in a day's cell; the rest are on the day's page.
DATES_A_DAY = 8


def _archived(workspace: Workspace) -> QuerySet[Person, Any]:
    """The workspace's archived people's ids, to leave out with ``exclude(person_id__in=...)``:
    the few looked up on their own index (people 0014), not a join of a month's 14,000
    relatives or 10,000 follow-ups to 100,000 people to find them."""
    return Person.objects.for_workspace(workspace).filter(archived_at__isnull=False).values("pk")


def relative_birthdays_by_day(
    workspace: Workspace, *, first: date, last: date, owner: User | None = None
) -> dict[date, int]:
    """How many family and pet birthdays fall on each day from ``first`` to ``last``: two
    grouped counts, however many there are (11,440 family birthdays a month at 100,000 people)."""
    window = _window(first, (last - first).days)
    counts: dict[date, int] = {}
    # Everyone's but the archived people's (see ``_archived``).
    archived = _archived(workspace)
    for of_workspace in (FamilyMember.objects.for_workspace(workspace), Pet.objects.for_workspace(workspace)):
        if owner is None:
            relatives = of_workspace.exclude(person_id__in=archived)
        else:
            relatives = of_workspace.filter(person__archived_at__isnull=True, person__owner=owner)
        rows = (
            relatives.filter(_pairs_q(window, "birthday"))
            .annotate(window_rank=_rank(window, "birthday"))
            .order_by()
            .values("window_rank")
            .annotate(n=Count("pk"))
        )
        for row in rows:
            if row["window_rank"] < len(window):
                on = window[row["window_rank"]]
                counts[on] = counts.get(on, 0) + row["n"]
    return counts


def calendar_month(
    workspace: Workspace, *, year: int, month: int, owner: User | None = None
) -> list[list[CalendarDay]]:
    """A month grid (weeks from Monday) of follow-ups and dates.

    The people's own dates are listed (DATES_A_DAY a day, then "+12 more"); their family's and
    pets' birthdays are counted per day ("+212 birthdays"), so the page stays the same size
    as the book grows. Each day links to its page with everything.
    """
    weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)
    first, last = weeks[0][0], weeks[-1][-1]
    by_day: dict[date, list[FollowUp]] = {}
    follow_ups_a_day: dict[date, int] = {}
    open_ones = FollowUp.objects.for_workspace(workspace).filter(done_at__isnull=True)
    if owner is None:
        open_ones = open_ones.exclude(person_id__in=_archived(workspace))
    else:
        open_ones = open_ones.filter(person__archived_at__isnull=True, person__owner=owner)
    follow_ups = (
        open_ones.annotate(due=follow_up_due())
        .filter(due__gte=first, due__lte=last)
        .only("note", "person_id", "due_on", "snoozed_until")
    )
    # Each day's first DATES_A_DAY (oldest first) and the day's count: a month of a big book
    # has thousands, which the page listed (500 of them) without saying how many more. The
    # names are read for those only, in one more query: not joined for the thousands counted.
    shown = _first_per_day(follow_ups, follow_up_due(), DATES_A_DAY).prefetch_related(
        Prefetch("person", queryset=Person.objects.for_workspace(workspace).only(*_NAME))
    )
    for f in sorted(shown, key=lambda f: (f.due, f.pk)):
        by_day.setdefault(f.due, []).append(f)
        follow_ups_a_day[f.due] = f.day_total
    dates_by_day, dates_a_day = own_dates_by_day(workspace, first=first, last=last, per_day=DATES_A_DAY, owner=owner)
    relatives = relative_birthdays_by_day(workspace, first=first, last=last, owner=owner)
    return [
        [
            CalendarDay(
                d,
                d.month == month,
                by_day.get(d, []),
                dates_by_day.get(d, []),
                more_dates=max(0, dates_a_day.get(d, 0) - len(dates_by_day.get(d, []))),
                relatives=relatives.get(d, 0),
                more_follow_ups=follow_ups_a_day.get(d, 0) - len(by_day.get(d, [])),
            )
            for d in week
        ]
        for week in weeks
    ]


def calendar_day(workspace: Workspace, *, day: date, owner: User | None = None) -> CalendarDay:
    """Everything on one day: its follow-ups and every date, the family's and pets' too."""
    open_ones: QuerySet[FollowUpWithDue] = _owned(open_follow_ups(workspace), owner, "person__owner")
    follow_ups: list[FollowUp] = []
    follow_ups.extend(open_ones.filter(due=day).order_by("id")[:500])
    return CalendarDay(day, True, follow_ups, upcoming_dates(workspace, today=day, days=0, owner=owner))
