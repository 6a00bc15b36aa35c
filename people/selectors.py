"""Reads for people. Every function takes the workspace first."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

import crm.lookups  # noqa: F401 - registers pk__in_ids
from crm import dateformats
from crm.models import Workspace
from crm.pagination import Key, Ordering
from people.dates import end_of_week
from people.models import Company, ContactMethod, FamilyMember, Person, ProfileFact, Tag
from people.profile import Completeness, completeness
from people.stay_in_touch import StayAnnotations, reachable, stay_due_by, with_stay_in_touch

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class RowAnnotations(StayAnnotations):
    """What ``person_list`` adds to each row besides stay-in-touch."""

    company_name: str | None
    primary_email: str | None
    primary_phone: str | None


# A row of ``person_list`` (for the type checker only).
PersonRow: TypeAlias = "WithAnnotations[Person, RowAnnotations]"

# The allow-list of sorts, each ending in the id so pages never tie (keyset pagination), with
# the label the list's "Sort by" shows (its choices are built from here). Empty values sort
# the same way on SQLite and PostgreSQL: no company last; never contacted counts as the
# longest since contact.
ORDERINGS: dict[str, tuple[str, Ordering]] = {
    "name": ("Last name A–Z", Ordering((Key("last_name"), Key("first_name"), Key("id")))),
    "-name": ("Last name Z–A", Ordering((Key("last_name", True), Key("first_name", True), Key("id", True)))),
    "company": ("Company", Ordering((Key("company__name", nullable=True), Key("last_name"), Key("id")))),
    "last_contacted": (
        "Longest since contact",
        Ordering((Key("last_contacted_at", nulls_first=True, nullable=True), Key("id"))),
    ),
    "-last_contacted": (
        "Recently contacted",
        Ordering((Key("last_contacted_at", True, nullable=True), Key("id", True))),
    ),
    "-created": ("Newest", Ordering((Key("created_at", True), Key("id", True)))),
    "created": ("Oldest", Ordering((Key("created_at"), Key("id")))),
    "stay_due": ("Stay-in-touch due first", Ordering((Key("stay_due_at", nullable=True), Key("id")))),
}


def person_ordering(sort: str) -> Ordering:
    """The allowed ordering called ``sort``; anything else sorts by name."""
    return ORDERINGS.get(sort, ORDERINGS["name"])[1]


PHONE_LIKE = re.compile(r"\+?[\d\s().-]{5,}")


def _matches(workspace: Workspace, word: str) -> Q:
    """One search word: name, nickname, company, any email/phone/handle, or a tag.

    One ``id IN (... UNION ...)`` of small lookups, each answerable from its own index (the
    trigram indexes on PostgreSQL, see migration people 0002): the database joins a few
    matching ids instead of testing every person of the workspace against every column.
    """
    contact_q = Q(value__icontains=word)
    # Phones are stored as E.164: match the digits typed, without a national trunk "0".
    digits = re.sub(r"\D", "", word).lstrip("0")
    if len(digits) >= 3:
        contact_q |= Q(kind=ContactMethod.Kind.PHONE, value__contains=digits)
    people = Person.objects.for_workspace(workspace).order_by()  # (compound parts take no ORDER BY)
    named = people.filter(
        Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(nickname__icontains=word)
    ).values("pk")
    at_company = people.filter(
        company__in=Company.objects.for_workspace(workspace).filter(name__icontains=word).values("pk")
    ).values("pk")
    contacts = ContactMethod.objects.for_workspace(workspace).filter(contact_q).order_by().values("person_id")
    tagged = (
        Person.tags.through.objects.filter(tag__in=Tag.objects.for_workspace(workspace).filter(name__icontains=word))
        .order_by()
        .values("person_id")
    )
    return Q(pk__in_ids=named.union(at_company, contacts, tagged))  # see crm/lookups.py


def _primary(kind: str) -> QuerySet[ContactMethod, Any]:
    return ContactMethod.objects.filter(person_id=OuterRef("pk"), kind=kind, is_primary=True).values("value")[:1]


def person_list(
    workspace: Workspace,
    *,
    query: str = "",
    tag: str = "",
    owner: Any = None,
    archived: bool = False,
    due: bool = False,
    sort: str = "name",
) -> QuerySet[PersonRow]:
    """People of the workspace for lists: filtered, searched, sorted, with what rows show."""
    qs = (
        with_stay_in_touch(Person.objects.for_workspace(workspace))
        .filter(archived_at__isnull=not archived)
        # What a row shows of the company and contacts, as plain values: the primary email and
        # phone are two lookups on the one-primary-per-kind index for the rows shown, instead
        # of a query and a model object per contact.
        .annotate(
            company_name=F("company__name"),
            primary_email=Subquery(_primary(ContactMethod.Kind.EMAIL)),
            primary_phone=Subquery(_primary(ContactMethod.Kind.PHONE)),
        )
    )
    # "020 7946 0958" is one phone number, not three words.
    words = [query.strip()] if PHONE_LIKE.fullmatch(query.strip()) else query.split()[:8]
    for word in words:
        qs = qs.filter(_matches(workspace, word))
    if tag:
        qs = qs.filter(Exists(Tag.objects.filter(people=OuterRef("pk"), name=tag.strip().lower())))
    if owner is not None:
        qs = qs.filter(owner=owner)
    if due:  # due to stay in touch by the end of this week, as on the dashboard
        today = timezone.localdate()
        qs = stay_due_by(reachable(qs, today), end_of_week(today))
    if sort == "company":
        qs = qs.select_related("company")  # the page's cursor names the last row's company
    return qs.order_by(*person_ordering(sort).order_by())


def with_tag_names(people: list[Person]) -> list[Person]:
    """Set each person's ``tag_list``, their tag names A-Z, from one query of (person, name) pairs.

    What a list row shows; cheaper than prefetching a Tag object per tag per row.
    """
    names: dict[int, list[str]] = {p.pk: [] for p in people}
    pairs = Person.tags.through.objects.filter(person_id__in=names).order_by("tag__name", "tag_id")
    for person_id, name in pairs.values_list("person_id", "tag__name"):
        names[person_id].append(name)
    for person in people:
        # An attribute of a list row only, which the model does not declare (read by the templates).
        person.tag_list = names[person.pk]  # type: ignore[attr-defined]
    return people


def has_people(workspace: Workspace) -> bool:
    return Person.objects.for_workspace(workspace).filter(archived_at__isnull=True).exists()


def person_for_page(workspace: Workspace, pk: int) -> QuerySet[Person]:
    """The person page's person with everything it shows, in a fixed number of queries."""
    return (
        with_stay_in_touch(Person.objects.for_workspace(workspace))
        .filter(pk=pk)
        .select_related("owner", "company")
        .prefetch_related(
            Prefetch("tags", queryset=Tag.objects.order_by("name")),
            "contact_methods",
            "important_dates",
            "pets",
            Prefetch("family", queryset=FamilyMember.objects.select_related("linked_person")),
            Prefetch("family_links_in", queryset=FamilyMember.objects.select_related("person")),
            Prefetch("facts", queryset=ProfileFact.objects.order_by("section", "fact_type", "-learned_on", "-id")),
        )
    )


@dataclass(frozen=True)
class ProfileView:
    sections: list[tuple[Any, list[ProfileFact]]]
    completeness: Completeness
    # Per section as ``sections``: its progress, what the record answers (label, value), its facts.
    rows: list[tuple[Any, list[tuple[str, str]], list[ProfileFact]]]


def recorded_profile(person: Person, *, include_private: bool = True) -> dict[str, str]:
    """What the person's record already answers of the profile, by item or fact type key,
    read from the person page's prefetched relations (no query of its own)."""
    family = list(person.family.all())
    partners = [f for f in family if f.relation in ("spouse", "partner")]
    pets = list(person.pets.all())
    interests = [t.name for t in person.tags.all() if t.kind == Tag.Kind.INTEREST]
    addresses = [c.value for c in person.contact_methods.all() if c.kind == "address"]
    reach = [person.get_preferred_channel_display(), person.best_time, person.cadence_text]
    found = {
        "birthday": str(person.birthday or ""),
        "anniversary": str(person.anniversary or ""),
        "marital_status": ", ".join(f"{f.name} ({f.get_relation_display().lower()})" for f in partners),
        "spouse_interests": "; ".join(f"{f.name}: {f.interests}" for f in partners if f.interests),
        "children": ", ".join(f.name for f in family if f.relation == "child"),
        "pets": ", ".join(f"{p.name} ({p.species})" if p.species else p.name for p in pets),
        "company": ", ".join(str(part) for part in (person.job_title, person.company) if part),
        "residence": addresses[0] if addresses else "",
        "interests": ", ".join(interests),
        "likes": "; ".join(part for part in (person.likes, person.dislikes and f"not {person.dislikes}") if part),
        "how_we_met": person.how_we_met or (f"met {dateformats.format_date(person.met_on)}" if person.met_on else ""),
        "contact_preferences": ", ".join(part for part in reach if part),
    }
    if include_private:
        found["topics_to_avoid"] = person.topics_to_avoid
    return {key: value for key, value in found.items() if value}


def profile_view(person: Person, *, include_private: bool = True) -> ProfileView:
    """Facts grouped by Mackay section (from the prefetched ``facts``), what the record
    already answers, and the completeness of both."""
    facts = [f for f in person.facts.all() if include_private or not f.is_private]
    recorded = recorded_profile(person, include_private=include_private)
    done = completeness({f.fact_type for f in facts} | set(recorded))
    sections = [(p, [f for f in facts if f.section == p.section.key]) for p in done.sections]
    rows = [
        (p, [(item.label, recorded[item.key]) for item in p.section.items if item.key in recorded], section_facts)
        for p, section_facts in sections
    ]
    return ProfileView(sections=sections, completeness=done, rows=rows)


def tag_names(workspace: Workspace, *, prefix: str = "", limit: int = 20) -> list[str]:
    qs = Tag.objects.for_workspace(workspace)
    if prefix:
        qs = qs.filter(name__startswith=prefix.strip().lower())
    return list(qs.order_by("name").values_list("name", flat=True)[:limit])


def _person_count() -> Count:
    return Count("people", filter=Q(people__archived_at__isnull=True))


def companies_counted(workspace: Workspace) -> QuerySet[Company]:
    """The workspace's companies, each with ``person_count``: its people not archived."""
    return Company.objects.for_workspace(workspace).annotate(person_count=_person_count())


def company_list(workspace: Workspace, *, query: str = "") -> QuerySet[Company]:
    qs = Company.objects.for_workspace(workspace).annotate(person_count=_person_count())
    if query:
        qs = qs.filter(name__icontains=query)
    return qs.filter(person_count__gt=0).order_by("name")


def person_autocomplete(workspace: Workspace, *, query: str, limit: int = 10) -> list[PersonRow]:
    if not query.strip():
        return []
    return list(person_list(workspace, query=query).order_by("last_name", "first_name", "id")[:limit])
