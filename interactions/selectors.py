"""Reads for interactions, needs and promises. Every function takes the workspace first."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from crm.models import User, Workspace
from interactions.models import FollowUp, Interaction, Need, NeedUpdate, Promise
from people.models import FamilyMember, Person, ProfileFact, Tag
from people.stay_in_touch import with_stay_in_touch


def interaction_list(workspace: Workspace, *, person: Person | None = None, kind: str = "") -> QuerySet[Interaction]:
    qs = Interaction.objects.for_workspace(workspace).prefetch_related(
        Prefetch("people", queryset=Person.objects.only("id", "first_name", "last_name", "workspace_id"))
    )
    if person is not None:
        # Through the join table: a conversation with several people appears once.
        qs = qs.filter(pk__in=Interaction.people.through.objects.filter(person=person).values("interaction_id"))
    if kind in Interaction.Kind.values:
        qs = qs.filter(kind=kind)
    return qs.select_related("created_by")


def interaction_logged_before(workspace: Workspace, *, client_id: uuid.UUID) -> Interaction | None:
    """The conversation a phone already sent with this id (its offline queue retries), if any."""
    return Interaction.objects.for_workspace(workspace).filter(client_id=client_id).first()


def person_kinds(workspace: Workspace, *, person: Person) -> list[str]:
    """The kinds of conversation had with ``person``, most frequent first (the timeline's filter)."""
    rows = (
        Interaction.objects.for_workspace(workspace)
        .filter(pk__in=Interaction.people.through.objects.filter(person=person).values("interaction_id"))
        .values("kind")
        .annotate(n=Count("id"))
        .order_by("-n", "kind")
    )
    return [row["kind"] for row in rows]


@dataclass(frozen=True)
class TimelineEvent:
    """Something that happened to a person besides a conversation, for the timeline."""

    at: datetime
    kind: str  # need_opened, need_solved, need_dropped, need_in_progress, promise_made, promise_kept, fact_learned
    text: str
    private: bool = False


def timeline_events(
    workspace: Workspace,
    *,
    person: Person,
    newer_than: datetime | None,
    older_than: datetime | None,
    viewer: User | None = None,
) -> list[TimelineEvent]:
    """Need moves, promises and facts about ``person`` between two times (for one timeline page).

    Facts come from ``person.facts`` (prefetched by the person page); two queries in all.
    """

    def inside(at: datetime | None) -> bool:
        return at is not None and (newer_than is None or at > newer_than) and (older_than is None or at <= older_than)

    def window(field: str) -> Q:
        q = Q()
        if newer_than is not None:
            q &= Q(**{f"{field}__gt": newer_than})
        if older_than is not None:
            q &= Q(**{f"{field}__lte": older_than})
        return q

    events: list[TimelineEvent] = []
    updates = NeedUpdate.objects.for_workspace(workspace).filter(window("at"), need__person=person)
    for u in updates.select_related("need")[:200]:
        events.append(TimelineEvent(u.at, f"need_{u.status}", u.need.title))
    promises = Promise.objects.for_workspace(workspace).filter(person=person).select_related("made_by")
    if newer_than is not None or older_than is not None:
        # (An empty Q would vanish from the OR, so the unbounded case does not filter at all.)
        promises = promises.filter(window("created_at") | (window("kept_at") & Q(kept_at__isnull=False)))
    for p in promises[:200]:
        if inside(p.created_at):
            events.append(TimelineEvent(p.created_at, "promise_made", f"{p.said_by(viewer)}: {p.text}"))
        if p.kept_at is not None and inside(p.kept_at):
            events.append(TimelineEvent(p.kept_at, "promise_kept", p.text))
    for f in person.facts.all():
        if inside(f.created_at):
            events.append(TimelineEvent(f.created_at, "fact_learned", f"{f.label}: {f.value}", private=f.is_private))
    return sorted(events, key=lambda e: e.at, reverse=True)


def person_open_needs(workspace: Workspace, *, person: Person) -> QuerySet[Need]:
    return Need.objects.for_workspace(workspace).filter(person=person, status__in=Need.OPEN_STATUSES)


def person_open_promises(workspace: Workspace, *, person: Person) -> QuerySet[Promise]:
    return (
        Promise.objects.for_workspace(workspace)
        .filter(person=person, kept_at__isnull=True)
        .select_related("made_by")
        .order_by(Coalesce("due_on", Value("9999-12-31")).asc(), "id")
    )


def person_open_follow_ups(workspace: Workspace, *, person: Person) -> QuerySet[FollowUp]:
    return FollowUp.objects.for_workspace(workspace).filter(person=person, done_at__isnull=True)


def need_list(workspace: Workspace, *, status: str = "", tag: str = "") -> QuerySet[Need]:
    qs = Need.objects.for_workspace(workspace).select_related("person").prefetch_related("tags")
    if status == "open_all":
        qs = qs.filter(status__in=Need.OPEN_STATUSES)
    elif status in Need.Status.values:
        qs = qs.filter(status=status)
    if tag:
        name = tag.strip().lower()
        # A need matches a tag of its own or of its person.
        qs = qs.filter(
            Exists(Tag.objects.filter(needs=OuterRef("pk"), name=name))
            | Exists(Tag.objects.filter(people=OuterRef("person_id"), name=name))
        )
    return qs.order_by("-opened_on", "-id")


def need_for_page(workspace: Workspace, pk: int) -> QuerySet[Need]:
    return (
        Need.objects.for_workspace(workspace)
        .filter(pk=pk)
        .select_related("person")
        .prefetch_related(
            "tags",
            Prefetch("updates", queryset=NeedUpdate.objects.select_related("interaction")),
            Prefetch(
                "interactions",
                queryset=Interaction.objects.order_by("-occurred_at").prefetch_related(
                    Prefetch("people", queryset=Person.objects.only("id", "first_name", "last_name", "workspace_id"))
                ),
            ),
        )
    )


def interested_in(workspace: Workspace, *, topic: str) -> QuerySet[Person]:
    """People who might care about ``topic``, best match first.

    An interest tag or an open need counts most, then what the profile says (never private
    facts), then family interests, notes and likes.
    """
    topic = topic.strip().lower()
    if not topic:
        return Person.objects.none()

    def weight(condition: Any, points: int) -> Case:
        return Case(When(condition, then=Value(points)), default=Value(0), output_field=IntegerField())

    interest = Tag.objects.filter(people=OuterRef("pk"), kind=Tag.Kind.INTEREST, name__icontains=topic)
    need = Need.objects.filter(person=OuterRef("pk"), status__in=Need.OPEN_STATUSES).filter(
        Q(title__icontains=topic) | Q(details__icontains=topic)
    )
    fact = ProfileFact.objects.filter(person=OuterRef("pk"), is_private=False, value__icontains=topic)
    family = FamilyMember.objects.filter(person=OuterRef("pk"), interests__icontains=topic)
    written = Q(notes__icontains=topic) | Q(likes__icontains=topic)
    # Who matches at all (exactly those scoring above 0), from each table on its own, so the
    # scores below are worked out for those people only, and counting needs no scores at all.
    people = Person.objects.for_workspace(workspace).order_by()
    candidates = (
        people.filter(written)
        .values("pk")
        .union(
            Person.tags.through.objects.filter(
                tag__in=Tag.objects.for_workspace(workspace).filter(kind=Tag.Kind.INTEREST, name__icontains=topic)
            )
            .order_by()
            .values("person_id"),
            Need.objects.for_workspace(workspace)
            .filter(status__in=Need.OPEN_STATUSES)
            .filter(Q(title__icontains=topic) | Q(details__icontains=topic))
            .order_by()
            .values("person_id"),
            ProfileFact.objects.for_workspace(workspace)
            .filter(is_private=False, value__icontains=topic)
            .order_by()
            .values("person_id"),
            FamilyMember.objects.for_workspace(workspace)
            .filter(interests__icontains=topic)
            .order_by()
            .values("person_id"),
        )
    )
    return (
        with_stay_in_touch(Person.objects.for_workspace(workspace))
        .filter(archived_at__isnull=True, pk__in=candidates)
        .annotate(
            score=weight(Exists(interest), 5)
            + weight(Exists(need), 4)
            + weight(Exists(fact), 3)
            + weight(Exists(family), 2)
            + weight(written, 1),
            by_interest=Exists(interest),
            by_need=Exists(need),
            by_fact=Exists(fact),
            by_family=Exists(family),
        )
        .select_related("company")
        .order_by("-score", "last_name", "first_name", "id")
    )


def interest_names(workspace: Workspace) -> list[str]:
    return list(
        Tag.objects.for_workspace(workspace)
        .filter(kind=Tag.Kind.INTEREST)
        .order_by("name")
        .values_list("name", flat=True)
    )


RANKED_MATCHES = 300


@dataclass(frozen=True)
class NoteHit:
    """One place a search matched: a conversation, a fact, notes, a need, a promise, family, an interest."""

    kind: str  # conversation, fact, notes, need, promise, family, interest
    person: Person
    text: str
    at: datetime | date
    rank: float
    interaction: Interaction | None = None
    private: bool = False
    need: Need | None = None
    promise: Promise | None = None

    @property
    def label(self) -> str:
        """The badge a hit wears: what kind of text matched."""
        if self.interaction is not None:
            return self.interaction.get_kind_display()
        if self.need is not None:
            return f"Need ({self.need.get_status_display().lower()})"
        return HIT_LABELS[self.kind]


HIT_LABELS = {"fact": "Profile", "notes": "Notes", "promise": "Promise", "family": "Family", "interest": "Interest"}


def _text_filter(qs: QuerySet[Any], fields: tuple[str, ...], query: str) -> QuerySet[Any]:
    """The rows whose ``fields`` match ``query``: full text on PostgreSQL (answered by the GIN
    indexes of the search migrations, which use the very same expressions), every word as a
    substring on SQLite."""
    if connection.vendor == "postgresql":
        search = SearchQuery(query, config="english", search_type="websearch")
        return qs.alias(document=SearchVector(*fields, config="english")).filter(document=search)
    for word in query.split()[:8]:
        match = Q()
        for name in fields:
            match |= Q(**{f"{name}__icontains": word})
        qs = qs.filter(match)
    return qs


def _text_match(qs: QuerySet[Any], fields: tuple[str, ...], query: str) -> QuerySet[Any]:
    """``_text_filter`` ranked on PostgreSQL; newest first on SQLite (no ranking there)."""
    matching = _text_filter(qs, fields, query)
    if connection.vendor == "postgresql":
        # Ranking re-reads each row's text, so a common word in a big workspace (thousands of
        # matches) would cost thousands of parses: rank the newest matches only.
        newest = matching.order_by("-pk").values("pk")[:RANKED_MATCHES]
        vector = SearchVector(*fields, config="english")
        search = SearchQuery(query, config="english", search_type="websearch")
        return qs.filter(pk__in=newest).annotate(rank=SearchRank(vector, search)).order_by("-rank", "-pk")
    return matching.annotate(rank=Value(1.0, output_field=FloatField())).order_by("-pk")


# What each kind of written text is searched in: (rows, their searched fields). The person's
# own notes, their facts, their conversations, what they need, what was promised, what their
# family cares about, and their interest tags: everything written about someone.
def _written(workspace: Workspace) -> dict[str, tuple[QuerySet[Any], tuple[str, ...]]]:
    return {
        "conversation": (Interaction.objects.for_workspace(workspace), ("summary", "notes")),
        "fact": (ProfileFact.objects.for_workspace(workspace), ("value",)),
        "notes": (Person.objects.for_workspace(workspace), ("notes",)),
        "need": (Need.objects.for_workspace(workspace), ("title", "details")),
        "promise": (Promise.objects.for_workspace(workspace), ("text",)),
        "family": (FamilyMember.objects.for_workspace(workspace), ("notes", "interests")),
        "interest": (
            Person.tags.through.objects.filter(tag__workspace=workspace, tag__kind=Tag.Kind.INTEREST),
            ("tag__name",),
        ),
    }


def note_search(workspace: Workspace, *, query: str, limit: int = 30, viewer: User | None = None) -> list[NoteHit]:
    """What was written about anyone that mentions ``query``: conversations, profile facts,
    notes, needs (any status), promises, family members' notes and interests, interest tags.

    One query per kind, each the ``limit`` best matches (index-backed on PostgreSQL), merged by
    rank and then recency, so a word in a need ranks as the same word in a conversation.
    Private facts are found too (members see them on the person page) and are marked private.
    """
    query = query.strip()[:200]
    if not query:
        return []
    people_only = Person.objects.only("id", "first_name", "last_name", "workspace_id")
    written = _written(workspace)

    def matches(kind: str) -> QuerySet[Any]:
        return _text_match(*written[kind], query)

    hits: list[NoteHit] = []
    for i in matches("conversation").prefetch_related(Prefetch("people", queryset=people_only))[:limit]:
        for person in i.people.all()[:1]:
            hits.append(NoteHit("conversation", person, i.notes or i.summary, i.occurred_at, i.rank, interaction=i))
    for f in matches("fact").select_related("person")[:limit]:
        hits.append(NoteHit("fact", f.person, f"{f.label}: {f.value}", f.learned_on, f.rank, private=f.is_private))
    for p in matches("notes")[:limit]:
        hits.append(NoteHit("notes", p, p.notes, p.updated_at, p.rank))
    for n in matches("need").select_related("person")[:limit]:
        hits.append(NoteHit("need", n.person, n.details or n.title, n.opened_on, n.rank, need=n))
    for pr in matches("promise").select_related("person", "made_by")[:limit]:
        text = f"{pr.said_by(viewer)}: {pr.text}"
        hits.append(NoteHit("promise", pr.person, text, pr.created_at, pr.rank, promise=pr))
    for m in matches("family").select_related("person")[:limit]:
        said = " · ".join(part for part in (m.interests, m.notes) if part)
        hits.append(NoteHit("family", m.person, f"{m}: {said}", m.person.updated_at, m.rank))
    for t in matches("interest").select_related("person", "tag")[:limit]:
        hits.append(NoteHit("interest", t.person, f"Interested in {t.tag.name}", t.person.updated_at, t.rank))

    def newest(hit: NoteHit) -> float:
        at = hit.at if isinstance(hit.at, datetime) else datetime.combine(hit.at, datetime.min.time(), tzinfo=UTC)
        return at.timestamp()

    return sorted(hits, key=lambda h: (-h.rank, -newest(h)))[:limit]


@dataclass(frozen=True)
class NoteMentions:
    """Who is mentioned in writing, for the people search's "also in notes" hint."""

    people: list[tuple[Person, list[str]]]  # (person, the kinds of text that mention them)
    more: bool  # more people than shown


# How the hint names a kind of text (a fact is what the profile page shows).
MENTION_LABELS = {"fact": "profile"}


def note_mentions(workspace: Workspace, *, query: str, limit: int = 5) -> NoteMentions:
    """The first ``limit`` people whose written text matches ``query`` as Search notes matches it.

    Two queries whatever the size: one UNION of (person, kind) from every kind of text, each
    part unranked (index-backed on PostgreSQL), then the people shown.
    """
    query = query.strip()[:200]
    if not query:
        return NoteMentions([], more=False)
    person_of = {"conversation": "people", "notes": "pk", "interest": "person_id"}
    parts = [
        _text_filter(qs, fields, query)
        .order_by()
        .annotate(written_in=Value(kind, output_field=CharField()))
        .values_list(person_of.get(kind, "person_id"), "written_in")
        for kind, (qs, fields) in _written(workspace).items()
    ]
    pairs = list(parts[0].union(*parts[1:])[:RANKED_MATCHES])
    kinds: dict[int, list[str]] = {}
    for person_id, kind in pairs:
        if person_id is not None:
            kinds.setdefault(person_id, []).append(MENTION_LABELS.get(kind, kind))
    people = (
        Person.objects.for_workspace(workspace)
        .filter(pk__in=list(kinds))
        .only("id", "first_name", "last_name")
        .order_by("last_name", "first_name", "id")[:limit]
    )
    return NoteMentions([(p, sorted(set(kinds[p.pk]))) for p in people], more=len(kinds) > limit)


# The top-bar search: one selector per group. People and companies match by name as the people
# list does (substrings, trigram indexes); conversations, needs and promises match their words
# as Search notes does (full text on PostgreSQL). Each is a queryset in the order its full list
# shows, so the results page takes its first few and a group's own page paginates it.


def conversation_search(workspace: Workspace, *, query: str) -> QuerySet[Interaction]:
    """Conversations whose summary or notes mention ``query``, newest first."""
    found = _text_filter(Interaction.objects.for_workspace(workspace), ("summary", "notes"), query.strip()[:200])
    people_only = Person.objects.only("id", "first_name", "last_name", "workspace_id")
    return found.prefetch_related(Prefetch("people", queryset=people_only)).order_by("-occurred_at", "-id")


def need_search(workspace: Workspace, *, query: str) -> QuerySet[Need]:
    """Needs whose title or details mention ``query``: open ones first, then newest first."""
    found = _text_filter(Need.objects.for_workspace(workspace), ("title", "details"), query.strip()[:200])
    still_open = Case(When(status__in=Need.OPEN_STATUSES, then=Value(0)), default=Value(1))
    return found.select_related("person").order_by(still_open, "-opened_on", "-id")


def promise_search(workspace: Workspace, *, query: str) -> QuerySet[Promise]:
    """Promises that mention ``query``: unkept ones first, soonest due first."""
    found = _text_filter(Promise.objects.for_workspace(workspace), ("text",), query.strip()[:200])
    return found.select_related("person", "made_by").order_by(
        F("kept_at").asc(nulls_first=True), Coalesce("due_on", Value("9999-12-31")).asc(), "-id"
    )
