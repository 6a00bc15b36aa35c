"""Reads for contact sync: who is in a book, and the cards' sources."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.db.models import QuerySet

from carddav.cards import Method
from carddav.models import AddressBook, AppPassword, Card
from crm.models import Membership, User, Workspace
from people.models import ContactMethod, Person

PERSON_FIELDS = (
    "id", "workspace_id", "first_name", "last_name", "nickname", "company__name", "job_title", "notes", "photo",
    "birthday_day", "birthday_month", "birthday_year", "anniversary_day", "anniversary_month", "anniversary_year",
    "updated_at",
)  # fmt: skip


def app_passwords(user: User) -> QuerySet[AppPassword]:
    return AppPassword.objects.filter(user=user).active()


def memberships(user: User) -> QuerySet[Membership]:
    """The workspaces a device of ``user`` syncs, read at every request: a removed member's
    phone stops seeing the workspace at once."""
    return (
        Membership.objects.filter(user=user)
        .select_related("workspace", "user")
        .order_by("workspace__name", "workspace_id")
    )


def membership(user: User, workspace_id: int) -> Membership | None:
    return memberships(user).filter(workspace_id=workspace_id).first()


def book_for(workspace: Workspace, *, user: User) -> AddressBook | None:
    return AddressBook.objects.for_workspace(workspace).filter(user=user).first()


def _in_book(book: AddressBook, prefix: str = "") -> dict[str, object]:
    """Who a book holds: active (not archived) people of its workspace; with "only my people",
    those the book's user owns. As lookups, for people or (``prefix="person__"``) their rows."""
    lookups: dict[str, object] = {f"{prefix}archived_at__isnull": True}
    if book.scope == AddressBook.Scope.MINE:
        lookups[f"{prefix}owner_id"] = book.user_id
    return lookups


def book_people(book: AddressBook) -> QuerySet[Person]:
    return Person.objects.for_workspace(book.workspace).filter(**_in_book(book))


def card_sources(book: AddressBook, ids: Iterable[int] | None = None) -> list[tuple[Person, list[Method]]]:
    """Each person of the book (or of ``ids`` among them) with their contact methods, in two
    queries whatever the size: the methods are read by a join, not an IN list of ids."""
    people = book_people(book)
    rows = ContactMethod.objects.for_workspace(book.workspace).filter(**_in_book(book, "person__"))
    if ids is not None:
        wanted = list(ids)
        people = people.filter(pk__in=wanted)
        rows = rows.filter(person_id__in=wanted)
    methods: dict[int, list[Method]] = defaultdict(list)
    ordered = rows.order_by("person_id", "kind", "-is_primary", "id")
    for person_id, kind, label, value, is_primary in ordered.values_list(
        "person_id", "kind", "label", "value", "is_primary"
    ).iterator(chunk_size=2000):
        methods[person_id].append(Method(kind, label, value, is_primary))
    found = people.select_related("company").only(*PERSON_FIELDS).order_by("id")
    return [(person, methods.get(person.pk, [])) for person in found.iterator(chunk_size=2000)]


def cards_changed_since(book: AddressBook, version: int) -> list[tuple[int, bool]]:
    """(person id, gone) of every card changed after ``version``: one query."""
    rows = Card.objects.for_workspace(book.workspace).filter(book=book, version__gt=version)
    return list(rows.order_by("person_id").values_list("person_id", "gone"))
