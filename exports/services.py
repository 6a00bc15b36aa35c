"""Exports (vCard 4.0, CSV) and the iCalendar feed. Exports stream: memory stays flat."""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

from django.conf import settings
from django.core.cache import caches
from django.db import transaction
from django.db.models import Count, F, Max, QuerySet, Window
from django.db.models.functions import RowNumber
from django.urls import reverse
from django.utils import timezone
from icalendar import vText
from icalendar.parser import Contentline

from crm import permissions
from crm.audit import Action, audit_record, people_count
from crm.models import Membership, User, Workspace, WorkspaceQuerySet
from exports import backup
from exports.models import FEED_KINDS, CalendarFeed, FeedChange, new_token
from interactions.models import FollowUp, Promise, follow_up_due
from people.dates import EARLIEST_REMEMBERED, PartialDate, in_range, partial_date_or_none
from people.models import ContactMethod, FamilyMember, ImportantDate, Person, Pet, ProfileFact, Tag
from people.profile import FACT_TYPES

CHUNK = 500
# Cells a spreadsheet would run as a formula (also after leading spaces): neutralised with "'".
FORMULA = re.compile(r"^\s*[=+\-@\t\r]")


def export_people(
    qs: QuerySet[Person], *, membership: Membership, include_private: bool = False, file_format: str = "vcf"
) -> Iterator[Person]:
    """People of the membership's workspace with everything exports show, in chunks
    (``iterator`` keeps memory flat). Private facts only for an owner who asks (a vCard:
    ``csv_rows`` never writes them). The audit log gets who took how many, in which format."""
    permissions.require(membership, "export")
    if include_private:
        permissions.require(membership, "export_private")
    if not isinstance(qs, WorkspaceQuerySet):  # people are always reached through the door
        raise TypeError("export_people needs a queryset of Person.objects")
    qs = qs.for_workspace(membership.workspace)
    private = include_private and file_format == "vcf"
    count = qs.count()
    audit_record(
        action=Action.EXPORT,
        membership=membership,
        summary=f"Exported {people_count(count)} as {file_format.upper()}{' with private facts' if private else ''}",
        details={"format": file_format, "count": count, "private": private},
    )
    people = qs.prefetch_related(None).select_related("company", "owner").only(*EXPORTED).iterator(chunk_size=CHUNK)
    return _with_records(people, workspace=membership.workspace, include_private=include_private)


# The columns vcard() and csv_rows() read: a person's other columns (preferences, the sealed
# topics to avoid, the photo) are not read at all.
EXPORTED = (
    "workspace_id", "first_name", "last_name", "nickname", "job_title", "how_we_met", "notes", "last_contacted_at",
    "birthday_day", "birthday_month", "birthday_year", "anniversary_day", "anniversary_month", "anniversary_year",
    "company__name", "owner__email",
)  # fmt: skip


class _Method(NamedTuple):
    kind: str
    label: str
    value: str
    is_primary: bool


class _Tag(NamedTuple):
    name: str
    kind: str


class _Relative(NamedTuple):
    relation: str
    name: str


class _Fact(NamedTuple):
    fact_type: str
    value: str
    is_private: bool

    @property
    def label(self) -> str:
        return FACT_TYPES[self.fact_type].label


@dataclass(frozen=True)
class _Records:
    """What an export writes of a person beyond their own row, read for a whole chunk at once."""

    methods: list[_Method]
    tags: list[_Tag]
    family: list[_Relative]
    facts: list[_Fact]


def _grouped(rows: Iterable[tuple[Any, ...]], make: Callable[..., Any]) -> dict[int, list[Any]]:
    out: dict[int, list[Any]] = {}
    for person_id, *values in rows:
        out.setdefault(person_id, []).append(make(*values))
    return out


def _with_records(people: Iterator[Person], *, workspace: Workspace, include_private: bool) -> Iterator[Person]:
    """The people, each with its ``_Records``: four queries a chunk of CHUNK people, read as
    plain rows. (Django's prefetch made a model and a queryset per row and person; it took
    most of an export's time.)"""
    while batch := list(itertools.islice(people, CHUNK)):
        ids = [p.pk for p in batch]
        methods = (
            ContactMethod.objects.for_workspace(workspace)
            .filter(person_id__in=ids)
            .order_by("kind", "-is_primary", "id")
        )
        links = Person.tags.through.objects.filter(person_id__in=ids, tag__workspace=workspace).order_by("tag__name")
        family = (
            FamilyMember.objects.for_workspace(workspace).filter(person_id__in=ids).order_by("relation", "name", "id")
        )
        facts = (
            ProfileFact.objects.for_workspace(workspace)
            .filter(person_id__in=ids)
            .order_by("section", "fact_type", "-learned_on", "-id")
        )
        if not include_private:
            facts = facts.filter(is_private=False)
        by = (
            _grouped(methods.values_list("person_id", "kind", "label", "value", "is_primary"), _Method),
            _grouped(links.values_list("person_id", "tag__name", "tag__kind"), _Tag),
            _grouped(family.values_list("person_id", "relation", "name"), _Relative),
            _grouped(facts.values_list("person_id", "fact_type", "value", "is_private"), _Fact),
        )
        for person in batch:
            person.__dict__[RECORDS] = _Records(*(rows.get(person.pk, []) for rows in by))
            yield person


RECORDS = "export_records"


def _records(person: Person) -> _Records:
    """The records ``export_people`` read with this person."""
    records: _Records = person.__dict__[RECORDS]
    return records


def _vcard_date(value: PartialDate) -> str:
    # RFC 6350 date-and-or-time: "--0415" when the year is not known.
    return f"{value.year:04d}{value.month:02d}{value.day:02d}" if value.year else f"--{value.month:02d}{value.day:02d}"


_VCARD_SPECIAL = re.compile(r"[\\,;\r\n]")
_NOTE_GAP = "\n\n"  # between the notes and each profile fact


def _vtext(value: str) -> str:
    """RFC 6350 TEXT: backslash, comma, semicolon and line breaks escaped (most values have none)."""
    if not _VCARD_SPECIAL.search(value):
        return value
    value = value.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;")
    return value.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")


FOLD_AT = 75  # octets a content line holds before it is folded (RFC 6350 3.2)


def _fold(line: str) -> str:
    """A content line folded at 75 octets (RFC 6350 3.2), ending in CRLF: each continuation
    line starts with a space, which counts, and no UTF-8 character is cut in two. (icalendar's
    folder does the same at a tenth of the speed: it took half the time of a card.)"""
    if line.isascii():
        if len(line) <= FOLD_AT:
            return line + "\r\n"
        rest = range(FOLD_AT, len(line), FOLD_AT - 1)
        return "\r\n ".join([line[:FOLD_AT]] + [line[i : i + FOLD_AT - 1] for i in rest]) + "\r\n"
    parts: list[str] = []
    part: list[str] = []
    size = 0
    for char in line:
        octets = len(char.encode())
        if size + octets > FOLD_AT:
            parts.append("".join(part))
            part, size = [], 1  # the continuation's leading space
        part.append(char)
        size += octets
    parts.append("".join(part))
    return "\r\n ".join(parts) + "\r\n"


def vcard(person: Person) -> str:
    """One vCard 4.0 for a person, written line by line: vobject's objects cost about 1 ms a
    card (100 s for a book of 100,000); the lines are the ones it wrote, and the round-trip
    tests read them back with the importer."""
    lines = ["BEGIN:VCARD", "VERSION:4.0", f"FN:{_vtext(person.full_name)}"]
    lines.append(f"N:{_vtext(person.last_name)};{_vtext(person.first_name)};;;")
    if person.nickname:
        lines.append(f"NICKNAME:{_vtext(person.nickname)}")
    if person.company:
        lines.append(f"ORG:{_vtext(person.company.name)}")
    if person.job_title:
        lines.append(f"TITLE:{_vtext(person.job_title)}")
    kinds = {"email": "EMAIL", "phone": "TEL", "website": "URL", "social": "URL", "address": "ADR"}
    groups = 0
    records = _records(person)
    for method in records.methods:
        types, custom = label_types(method.label)
        prefix = ""
        if custom:  # a label of the user's own: Apple's grouped label, which Google and Apple read
            groups += 1
            prefix = f"item{groups}."
            lines.append(f"{prefix}X-ABLABEL:{_vtext(custom)}")
        params = (f";TYPE={','.join(types)}" if types else "") + (";PREF=1" if method.is_primary else "")
        value = _vtext(method.value)
        if method.kind == ContactMethod.Kind.ADDRESS:
            value = f";;{value};;;;"  # the whole address as the street: post box, extended, street, ...
        lines.append(f"{prefix}{kinds[method.kind]}{params}:{value}")
    if person.birthday:
        lines.append(f"BDAY:{_vcard_date(person.birthday)}")
    if person.anniversary:
        lines.append(f"ANNIVERSARY:{_vcard_date(person.anniversary)}")
    tags = records.tags
    if labels := [t.name for t in tags if t.kind == Tag.Kind.LABEL]:
        lines.append("CATEGORIES:" + ",".join(_vtext(label) for label in labels))
    for interest in (t.name for t in tags if t.kind == Tag.Kind.INTEREST):
        lines.append(f"INTEREST:{_vtext(interest)}")  # RFC 6715: what they care about is not a group
    for member in records.family:
        relation = member.relation if member.relation in {"spouse", "child", "parent", "sibling"} else "kin"
        lines.append(f"RELATED;TYPE={relation};VALUE=text:{_vtext(member.name)}")
    notes = [person.notes] if person.notes else []
    notes += [f"{f.label}: {f.value}" for f in records.facts]
    if notes:
        lines.append(f"NOTE:{_vtext(_NOTE_GAP.join(notes))}")
    lines.append(f"UID:urn:rapport:person:{person.workspace_id}:{person.pk}")
    lines.append("END:VCARD")
    return "".join(_fold(line) for line in lines)


# TYPE values RFC 6350 defines for emails, phones, addresses and URLs; "mobile" is a cell.
TYPE_WORDS = {"home": "home", "work": "work", "cell": "cell", "mobile": "cell", "voice": "voice", "fax": "fax",
              "text": "text", "pager": "pager", "video": "video", "textphone": "textphone"}  # fmt: skip


def label_types(label: str) -> tuple[list[str], str]:
    """A label as TYPE values when it is made of words vCard knows ("work", "home fax"), else
    no TYPE and the label itself, to go out as a grouped X-ABLABEL ("work inbox", "Yacht")."""
    words = label.lower().replace(",", " ").split()
    if words and all(word in TYPE_WORDS for word in words):
        return [TYPE_WORDS[word] for word in words], ""
    return [], label.strip()


def vcards(people: Iterable[Person]) -> Iterator[str]:
    for person in people:
        yield vcard(person)


CSV_HEADER = [
    "First name", "Last name", "Nickname", "Company", "Job title", "Emails", "Phones", "Addresses", "Websites",
    "Birthday", "Anniversary", "Tags", "Interests", "Owner", "Last contacted", "How we met", "Notes", "Profile",
]  # fmt: skip


def safe_cell(value: object) -> str:
    """A CSV cell a spreadsheet will not execute: formula-like text gets a leading quote."""
    text = "" if value is None else str(value)
    return "'" + text if FORMULA.match(text) else text


def csv_rows(people: Iterable[Person]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush(row: Sequence[object]) -> str:
        writer.writerow([safe_cell(v) for v in row])
        out = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return out

    yield "\ufeff" + flush(CSV_HEADER)  # BOM: Excel opens UTF-8 correctly
    for p in people:
        by_kind: dict[str, list[str]] = {}
        records = _records(p)
        for m in records.methods:
            by_kind.setdefault(m.kind, []).append(f"{m.label}: {m.value}" if m.label else m.value)
        tags = records.tags
        # The profile page promises private facts are never in a CSV, whoever exports it.
        shared_facts = [f for f in records.facts if not f.is_private]
        yield flush(
            [
                p.first_name,
                p.last_name,
                p.nickname,
                p.company.name if p.company else "",
                p.job_title,
                "; ".join(by_kind.get("email", [])),
                "; ".join(by_kind.get("phone", [])),
                " | ".join(by_kind.get("address", [])),
                "; ".join(by_kind.get("website", []) + by_kind.get("social", [])),
                str(p.birthday or ""),
                str(p.anniversary or ""),
                ", ".join(t.name for t in tags if t.kind == Tag.Kind.LABEL),
                ", ".join(t.name for t in tags if t.kind == Tag.Kind.INTEREST),
                p.owner.email if p.owner else "",
                p.last_contacted_at.date().isoformat() if p.last_contacted_at else "",
                p.how_we_met,
                p.notes,
                "; ".join(f"{f.label}: {f.value}" for f in shared_facts),
            ]
        )


def workspace_backup(*, membership: Membership, as_json: bool = False) -> Iterator[str] | Iterator[bytes]:
    """The whole workspace (private facts included) as a ZIP, or its JSON: owners only.

    Checked here, before the stream starts: a refusal inside the generator would cut a
    download short instead of showing the 403 page.
    """
    permissions.require(membership, "backup")
    workspace = membership.workspace
    audit_record(
        action=Action.BACKUP_DOWNLOADED,
        membership=membership,
        summary=f"Downloaded the workspace backup ({'JSON' if as_json else 'ZIP'})",
        details={"format": "json" if as_json else "zip"},
    )
    return backup.workspace_json(workspace) if as_json else backup.workspace_zip(workspace)


# --- Calendar feed --------------------------------------------------------------------------


@transaction.atomic
def feed_for(*, user: User, workspace: Workspace, regenerate: bool = False) -> CalendarFeed:
    """The user's feed in this workspace; ``regenerate`` gives it a new secret (old URL dies)."""
    feed, created = CalendarFeed.objects.get_or_create(user=user, workspace=workspace)
    if regenerate and not created:
        feed.token = new_token()
        feed.save(update_fields=["token", "updated_at"])
        audit_record(
            action=Action.FEED_REGENERATED, actor=user, workspace=workspace, summary="Made a new calendar feed link"
        )
    elif created:
        audit_record(action=Action.FEED_CREATED, actor=user, workspace=workspace, summary="Made a calendar feed link")
    return feed


def feed_choose(*, feed: CalendarFeed, kinds: Iterable[str], mine_only: bool) -> CalendarFeed:
    """Which kinds of events the feed includes, and whether only the user's own people."""
    feed.kinds = ",".join(kind for kind in FEED_KINDS if kind in set(kinds))
    feed.mine_only = mine_only
    feed.full_clean()
    feed.save(update_fields=["kinds", "mine_only", "updated_at"])
    return feed


def feed_revoke(*, user: User, workspace: Workspace) -> None:
    CalendarFeed.objects.for_workspace(workspace).filter(user=user).delete()


_ICS_SPECIAL = re.compile(r"[\\;,\r\n]")


class ContentLines:
    """Content lines (RFC 5545 and vCard share their escaping and folding), line by line.
    icalendar's and vobject's objects cost ~1 ms an item, which is 30 s for a big book; here
    icalendar's own escaping and folding rules are used on plain lines instead."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, name: str, value: str) -> None:
        line = f"{name}:{value}"
        short = len(line) <= 75 and (line.isascii() or len(line.encode()) <= 75)
        self.lines.append(line if short else Contentline(line).to_ical().decode())

    def text(self, name: str, value: str) -> None:
        # Most names need no escaping at all; icalendar escapes the ones that do.
        self.add(name, escape(value))

    def to_bytes(self) -> bytes:
        return ("\r\n".join(self.lines) + "\r\n").encode()


def escape(value: str) -> str:
    """A TEXT value with its backslashes, commas, semicolons and line breaks escaped."""
    return vText(value).to_ical().decode() if _ICS_SPECIAL.search(value) else value


class _Ics(ContentLines):
    """iCalendar text of a feed, event by event."""

    def __init__(self, stamp: datetime) -> None:
        super().__init__()
        self.stamp = stamp.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")

    def event(self, uid: str, summary: str, url: str, start: date, rrule: str = "") -> None:
        if not in_range(start, earliest=EARLIEST_REMEMBERED):
            return  # a row stored before dates had a range: left out rather than fail the whole feed
        self.lines.append("BEGIN:VEVENT")
        self.add("UID", uid)
        self.lines.append(f"DTSTAMP:{self.stamp}")  # required by RFC 5545
        self.text("SUMMARY", summary)
        self.add("URL", url)
        end = start + timedelta(days=1)  # in range, so never past year 9999
        self.lines.append(f"DTSTART;VALUE=DATE:{start.year:04d}{start.month:02d}{start.day:02d}")
        self.lines.append(f"DTEND;VALUE=DATE:{end.year:04d}{end.month:02d}{end.day:02d}")
        if rrule:
            self.lines.append(f"RRULE:{rrule}")  # short and ASCII: no folding
            self.lines.append("TRANSP:TRANSPARENT")
        self.lines.append("END:VEVENT")

    def yearly(self, uid: str, summary: str, day: int | None, month: int | None, year: int | None, url: str) -> None:
        """A yearly all-day event from a stored day, month and maybe year."""
        value = partial_date_or_none(day, month, year)  # lenient: a bad stored year is dropped
        if value is None or day is None or month is None:
            return  # a row that bypassed validation: leave it out rather than fail the whole feed
        # On 28 February in common years: the last day of February every year.
        leap = month == 2 and day == 29
        rrule = "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=-1" if leap else "FREQ=YEARLY"
        # Without a year, 2000: a leap year, so 29 February exists.
        self.event(uid, summary, url, date(value.year or 2000, month, day), rrule)


# Events of a kind a calendar day holds; the rest of that day's are one event, "+212 more
# family birthdays", linking to the day's page. At 100,000 people a day has about 270 people's
# birthdays and 470 of their family's: a phone calendar (and the feed) stays readable and bounded.
FEED_PER_DAY = 8


def _first_per_day(rows: QuerySet[Any], day: Sequence[str], order: Sequence[str], *fields: str) -> QuerySet[Any]:
    """Each day's first FEED_PER_DAY of ``rows`` by ``order``, as ``fields`` and then the day's
    count in all: the rows read stay the same in number however many share the day."""
    partition = [F(f) for f in day]
    return (
        rows.annotate(
            day_place=Window(RowNumber(), partition_by=partition, order_by=[F(f) for f in (*order, "pk")]),
            day_total=Window(Count("pk"), partition_by=partition),
        )
        .filter(day_place__lte=FEED_PER_DAY)
        .order_by()
        .values_list(*fields, "day_total")
    )


class _Overflow:
    """Per day, how many events a kind had and how many the feed wrote: the rest become one."""

    def __init__(self) -> None:
        self.totals: dict[Any, int] = {}
        self.shown: dict[Any, int] = {}

    def count(self, day: Any, total: int) -> None:
        self.totals[day] = total
        self.shown[day] = self.shown.get(day, 0) + 1

    def more(self) -> Iterator[tuple[Any, int]]:
        for day, total in sorted(self.totals.items()):
            if total > self.shown[day]:
                yield day, total - self.shown[day]


def calendar_feed_text(*, feed: CalendarFeed, version: str) -> bytes:
    """The feed at ``version`` (its ETag): written once, then read from the "feeds" cache until
    it changes, so a calendar app polling without If-None-Match costs the version's one query.
    The version names the feed's token and data, so no other feed's or version's copy is read."""
    cache = caches["feeds"]
    key = f"calendar-feed:{version.strip(chr(34))}"
    text: bytes | None = cache.get(key)
    if text is None:
        text = calendar_feed(feed=feed)
        cache.set(key, text)
    return text


def calendar_feed(*, feed: CalendarFeed) -> bytes:
    """RFC 5545 calendar of birthdays, anniversaries, follow-ups and promise due dates, each
    day holding at most FEED_PER_DAY of a kind and then "+N more" (see FEED_PER_DAY)."""
    stamp = timezone.now().replace(microsecond=0)
    workspace, site = feed.workspace, settings.SITE_URL
    host = site.split("://", 1)[-1].split("/", 1)[0] or "rapport"
    calendar_url = site + reverse("reminders:calendar")
    cal = _Ics(stamp)
    cal.lines += ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Rapport//Personal CRM//EN"]
    cal.text("X-WR-CALNAME", f"Rapport: {workspace.name}")

    def url(person_id: int) -> str:
        return f"{site}/people/{person_id}/"

    # Plain tuples, not model instances: a big book has tens of thousands of dates.
    def name(first: str, last: str) -> str:
        return f"{first} {last}" if last else first

    def yearly_more(kind: str, overflow: _Overflow, what: str) -> None:
        """A day's events past FEED_PER_DAY as one yearly event, linking to that day's page."""
        for (month, day), n in overflow.more():
            link = f"{calendar_url}?day={month:02d}-{day:02d}"
            cal.yearly(f"more-{kind}-{month:02d}{day:02d}@{host}", f"+{n} more {what}", day, month, None, link)

    live: dict[str, Any] = {"person__archived_at__isnull": True}
    people = Person.objects.for_workspace(workspace).filter(archived_at__isnull=True)
    if feed.mine_only:  # "only my people": theirs, and everything about them
        live["person__owner_id"] = feed.user_id
        people = people.filter(owner_id=feed.user_id)
    kinds = feed.kind_set
    if "birthdays" in kinds:
        for kind, emoji, what in (("birthday", "🎂", "birthday"), ("anniversary", "💍", "anniversary")):
            overflow = _Overflow()
            day_of = (f"{kind}_month", f"{kind}_day")
            for pk, first, last, day, month, year, total in _first_per_day(
                people.filter(**{f"{kind}_day__isnull": False, f"{kind}_month__isnull": False}),
                day_of, ("first_name", "last_name"),
                "id", "first_name", "last_name", f"{kind}_day", f"{kind}_month", f"{kind}_year",
            ).iterator(chunk_size=CHUNK):  # fmt: skip
                overflow.count((month, day), total)
                summary = f"{emoji} {name(first, last)}'s {what}"
                cal.yearly(f"person-{pk}-{kind}@{host}", summary, day, month, year, url(pk))
            yearly_more(kind, overflow, f"{what}s")
    if "family" in kinds:
        relations = dict(FamilyMember.Relation.choices)
        relatives: tuple[tuple[Any, str, str, Callable[[str, str, str], str]], ...] = (
            (FamilyMember, "relation", "family", lambda who, of, r: f"🎂 {who} ({of}'s {relations.get(r, r).lower()})"),
            (Pet, "species", "pet", lambda who, of, species: f"🐾 {who} ({of}'s {species or 'pet'})"),
        )
        for model, what, key, words in relatives:
            overflow = _Overflow()
            for pk, member, which, day, month, year, person_id, first, total in _first_per_day(
                model.objects.for_workspace(workspace).filter(
                    birthday_day__isnull=False, birthday_month__isnull=False, **live
                ),
                ("birthday_month", "birthday_day"), ("name",),
                "id", "name", what, "birthday_day", "birthday_month", "birthday_year", "person_id",
                "person__first_name",
            ).iterator(chunk_size=CHUNK):  # fmt: skip
                overflow.count((month, day), total)
                cal.yearly(f"{key}-{pk}@{host}", words(member, first, which), day, month, year, url(person_id))
            yearly_more(key, overflow, f"{key} birthdays")
    if "dates" in kinds:
        overflow = _Overflow()
        for pk, text, day, month, year, person_id, first, last, total in _first_per_day(
            ImportantDate.objects.for_workspace(workspace).filter(
                date_day__isnull=False, date_month__isnull=False, **live
            ),
            ("date_month", "date_day"), ("person__first_name", "person__last_name"),
            "id", "label", "date_day", "date_month", "date_year", "person_id", "person__first_name",
            "person__last_name",
        ).iterator(chunk_size=CHUNK):  # fmt: skip
            overflow.count((month, day), total)
            cal.yearly(f"date-{pk}@{host}", f"{name(first, last)}: {text}", day, month, year, url(person_id))
        yearly_more("date", overflow, "dates")
    if "follow_ups" in kinds:
        overflow = _Overflow()
        open_ones = FollowUp.objects.for_workspace(workspace).filter(done_at__isnull=True, **live)
        for pk, note, due, person_id, first, last, total in _first_per_day(
            open_ones.annotate(due=follow_up_due()),
            ("due",), (),
            "id", "note", "due", "person_id", "person__first_name", "person__last_name",
        ).iterator(chunk_size=CHUNK):  # fmt: skip
            overflow.count(due, total)
            summary = f"Follow up with {name(first, last)}: {note}".rstrip(": ")
            cal.event(f"follow-up-{pk}@{host}", summary, url(person_id), due)
        for due, n in overflow.more():
            link = f"{calendar_url}?day={due.isoformat()}"
            cal.event(f"more-follow-ups-{due:%Y%m%d}@{host}", f"+{n} more follow-ups", link, due)
    if "promises" in kinds:
        overflow = _Overflow()
        for pk, direction, text, promised_on, person_id, first, last, maker_id, maker_name, maker_email, total in (
            _first_per_day(
                Promise.objects.for_workspace(workspace).filter(kept_at__isnull=True, due_on__isnull=False, **live),
                ("due_on",), (),
                "id", "direction", "text", "due_on", "person_id", "person__first_name", "person__last_name",
                "made_by_id", "made_by__display_name", "made_by__email",
            ).iterator(chunk_size=CHUNK)
        ):  # fmt: skip
            overflow.count(promised_on, total)
            # The calendar is its user's own: their promise is "I promised", a teammate's is named.
            # One with no maker on record reads as it always did, as the calendar user's.
            if direction == Promise.Direction.THEIRS:
                who = "They promised"
            elif maker_id is None or maker_id == feed.user_id:
                who = "I promised"
            else:
                who = f"{User(display_name=maker_name, email=maker_email).name} promised"
            cal.event(f"promise-{pk}@{host}", f"{who} {name(first, last)}: {text}", url(person_id), promised_on)
        for due, n in overflow.more():  # promises are on the dashboard, not on a day's page
            cal.event(f"more-promises-{due:%Y%m%d}@{host}", f"+{n} more promises", site + reverse("dashboard"), due)
    cal.lines.append("END:VCALENDAR")
    return cal.to_bytes()


# Rows of the feed change log deleted per statement: a long-unpruned log drains in steps, each
# a short transaction, instead of one DELETE holding locks over millions of rows.
FEED_CHANGE_PRUNE_BATCH = 10_000


def feed_changes_prune() -> int:
    """Delete every FeedChange row but each workspace's latest, and all of a deleted workspace's.

    A feed's ETag and Last-Modified are its workspace's latest row (``feed_for_token``), and
    nothing reads an older one, so keeping the latest keeps every calendar app's next poll a 304.
    Beat runs it daily; a repeat finds nothing, and a write meanwhile only adds a newer row.
    """
    latest = dict(
        FeedChange.objects.values("workspace_id").annotate(last=Max("id")).values_list("workspace_id", "last")
    )
    live = set(Workspace.objects.filter(id__in=latest).values_list("id", flat=True))
    deleted = 0
    for workspace_id, last in latest.items():
        older = FeedChange.objects.filter(workspace_id=workspace_id)
        if workspace_id in live:
            older = older.filter(id__lt=last)
        while ids := list(older.order_by("id").values_list("id", flat=True)[:FEED_CHANGE_PRUNE_BATCH]):
            deleted += FeedChange.objects.filter(id__in=ids).delete()[0]
    return deleted
