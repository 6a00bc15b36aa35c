"""Writes for contact sync: app passwords, a book's scope, and refreshing a book's cards."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from carddav import cards, selectors
from carddav.models import AddressBook, AppPassword, Card, password_digest
from crm import permissions
from crm.audit import Action, audit_record
from crm.models import Membership, User
from people.models import Person


def new_password() -> str:
    # 4 groups of 6 from a 32-letter alphabet without look-alikes: 120 bits, easy to type on a phone.
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(6)) for _ in range(4))


def app_password_create(*, user: User, name: str) -> tuple[AppPassword, str]:
    """A new app password for a device: the row and the password, which is shown this once
    (only its hash is kept)."""
    password = new_password()
    app_password = AppPassword(user=user, name=name.strip(), digest=password_digest(password))
    app_password.full_clean()
    with transaction.atomic():
        app_password.save()
        audit_record(
            action=Action.APP_PASSWORD_CREATED,
            actor=user,
            summary=f"Contacts sync password “{app_password.name}”",
            details={"app_password": app_password.pk},
        )
    return app_password, password


@transaction.atomic
def app_password_revoke(*, app_password: AppPassword) -> None:
    """The device stops syncing at its next request; revoking twice records once."""
    if AppPassword.objects.filter(pk=app_password.pk, revoked_at__isnull=True).update(revoked_at=timezone.now()):
        audit_record(
            action=Action.APP_PASSWORD_REVOKED,
            actor=app_password.user,
            summary=f"Contacts sync password “{app_password.name}”",
            details={"app_password": app_password.pk},
        )


def app_password_check(*, email: str, password: str) -> AppPassword | None:
    """The active app password of the account ``email`` that ``password`` is, or None; marks its
    last use (at most once a minute, so a syncing phone does not write on every request)."""
    found = (
        AppPassword.objects.active()
        .select_related("user")
        .filter(digest=password_digest(password), user__email__iexact=email.strip(), user__is_active=True)
        .first()
    )
    if found is None:
        return None
    now = timezone.now()
    if found.last_used_at is None or (now - found.last_used_at).total_seconds() > 60:
        AppPassword.objects.filter(pk=found.pk).update(last_used_at=now)
        found.last_used_at = now
    return found


def book_get(*, membership: Membership) -> AddressBook:
    """The member's address book of the workspace, made on first use."""
    permissions.require(membership, "view")
    book = selectors.book_for(membership.workspace, user=membership.user)
    if book is not None:
        return book
    try:
        with transaction.atomic():
            book = AddressBook(workspace=membership.workspace, user=membership.user)
            book.full_clean(validate_constraints=False)
            book.save()
            return book
    except IntegrityError:  # made by a parallel request of the same phone
        return AddressBook.objects.for_workspace(membership.workspace).get(user=membership.user)


def book_set_scope(*, membership: Membership, scope: str) -> AddressBook:
    """Only my people / everyone. The next sync removes or adds the difference."""
    book = book_get(membership=membership)
    book.scope = scope
    book.full_clean(validate_constraints=False)
    book.save(update_fields=["scope"])
    return book


@dataclass
class Refreshed:
    """A book as of one refresh: its version (the sync token) and each present card's ETag."""

    book: AddressBook
    etags: dict[int, str]
    people: dict[int, tuple[Person, list[cards.Method]]]


@transaction.atomic
def book_refresh(*, book: AddressBook) -> Refreshed:
    """Render every card of the book and record what changed since the last refresh: a card
    whose ETag changed, a new person, and a person who left the book (gone) take the book's next
    version; nothing changed, nothing is written.

    The book's row is locked first (then its cards), so two devices of one user refreshing at
    once number their changes one after the other; a change is never given a version a client
    has already been handed as its token.
    """
    book = AddressBook.objects.select_for_update(of=("self",)).select_related("workspace").get(pk=book.pk)
    sources = selectors.card_sources(book)
    etags = {person.pk: cards.etag(person, methods) for person, methods in sources}
    known = {
        person_id: (card_id, etag, gone)
        for card_id, person_id, etag, gone in Card.objects.for_workspace(book.workspace)
        .filter(book=book)
        .values_list("id", "person_id", "etag", "gone")
    }
    new = [pk for pk in etags if pk not in known]
    changed = [pk for pk, (_, etag, gone) in known.items() if pk in etags and (gone or etag != etags[pk])]
    left = [pk for pk, (_, _, gone) in known.items() if pk not in etags and not gone]
    if new or changed or left:
        version = book.version + 1
        AddressBook.objects.filter(pk=book.pk).update(version=version)
        book.version = version
        Card.objects.bulk_create(
            [Card(book=book, person_id=pk, etag=etags[pk], version=version) for pk in new], batch_size=500
        )
        updates = [Card(pk=known[pk][0], etag=etags[pk], version=version, gone=False) for pk in changed]
        updates += [Card(pk=known[pk][0], etag=known[pk][1], version=version, gone=True) for pk in left]
        Card.objects.bulk_update(updates, ["etag", "version", "gone"], batch_size=500)
    return Refreshed(book=book, etags=etags, people={person.pk: (person, m) for person, m in sources})
