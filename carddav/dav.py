"""Radicale (a maintained CalDAV/CardDAV server) answers the protocol; Rapport plugs in its own
auth, rights and storage, so the address books are a read-only view of the people, behind the
workspace door.

Radicale is mounted as a WSGI application inside a Django view (``carddav.views.dav``), which
authenticates the app password and checks the path against the user's memberships *before*
Radicale sees the request; the plugins here read that decision from ``current`` (a context
variable set for the one request) and check it again:

- auth: the user the view authenticated (Radicale never sees the password);
- rights: the principal ``u<id>`` may list itself, and read ("r") the book of each workspace
  it is a member of now; nothing is ever writable;
- storage: ``/u<id>/`` is the principal and address-book home, ``/u<id>/<workspace id>/`` a book,
  ``/u<id>/<workspace id>/<person id>.vcf`` a card. Sync tokens and ETags come from
  ``carddav.services.book_refresh``.
"""

from __future__ import annotations

import contextlib
import contextvars
import email.utils
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

import vobject
from django.utils import timezone
from radicale import Application, config, pathutils, types
from radicale.auth import BaseAuth
from radicale.item import Item
from radicale.rights import BaseRights
from radicale.storage import BaseCollection, BaseStorage

from carddav import cards, selectors, services
from carddav.models import AddressBook
from crm.models import Membership, User
from people.models import Person

TOKEN = re.compile(r"urn:rapport:sync:(\d+):(\d+)")
HREF = re.compile(r"([1-9]\d{0,18})\.vcf")


@dataclass
class DavRequest:
    """One DAV request, as the view authenticated it."""

    user: User
    memberships: dict[str, Membership]  # by workspace id, as in the path
    version: str = "4.0"
    books: dict[str, AddressBook] = field(default_factory=dict)
    refreshed: dict[int, services.Refreshed] = field(default_factory=dict)

    @property
    def principal(self) -> str:
        return principal_of(self.user)

    def book(self, workspace_id: str) -> AddressBook:
        if workspace_id not in self.books:
            self.books[workspace_id] = services.book_get(membership=self.memberships[workspace_id])
        return self.books[workspace_id]

    def refresh(self, book: AddressBook) -> services.Refreshed:
        # Once a request: a PROPFIND asks for the ctag, the sync token and every ETag.
        if book.pk not in self.refreshed:
            self.refreshed[book.pk] = services.book_refresh(book=book)
        return self.refreshed[book.pk]


current: contextvars.ContextVar[DavRequest | None] = contextvars.ContextVar("rapport_dav_request", default=None)


def principal_of(user: User) -> str:
    return f"u{user.pk}"


def _http_date(value: datetime | None) -> str:
    return email.utils.format_datetime(value or timezone.now(), usegmt=True)


class Auth(BaseAuth):
    """The user ``carddav.views.dav`` authenticated by app password; nobody else."""

    def get_external_login(self, environ: types.WSGIEnviron) -> tuple[str, str]:
        request = current.get()
        return (request.principal, "") if request else ("", "")

    def _login(self, login: str, password: str) -> str:
        request = current.get()
        return login if request and login == request.principal else ""


class Rights(BaseRights):
    """Read-only, and only one's own principal and the books of one's memberships of now."""

    def authorization(self, user: str, user_groups: set, path: str) -> str:
        request = current.get()
        if not user or request is None or user != request.principal:
            return ""
        parts = pathutils.strip_path(path).split("/") if pathutils.strip_path(path) else []
        if not parts:
            return "R"
        if parts[0] != user:
            return ""
        if len(parts) == 1:
            return "R"
        return "r" if len(parts) == 2 and parts[1] in request.memberships else ""


class Card(Item):
    """A card whose text is rendered only when asked for (a listing needs only ETags)."""

    def __init__(self, *, render: Callable[[], str], **kwargs: Any) -> None:
        super().__init__(text="", **kwargs)
        self._text = None
        self._render = render

    def serialize(self) -> str:
        if self._text is None:
            self._text = self._render()
        return self._text

    @property
    def vobject_item(self) -> Any:  # read by addressbook-query filters
        if self._vobject_item is None:
            self._vobject_item = vobject.readOne(self.serialize())
        return self._vobject_item


class Collection(BaseCollection):
    """The root, a principal (its own address-book home), or one workspace's address book."""

    def __init__(self, path: str, *, workspace_id: str = "") -> None:
        self._path = path
        self._workspace_id = workspace_id

    @property
    def path(self) -> str:
        return self._path

    @property
    def _request(self) -> DavRequest:
        request = current.get()
        if request is None:  # only carddav.views.dav calls Radicale, and it always sets one
            raise RuntimeError("A DAV collection was read outside carddav.views.dav")
        return request

    @property
    def _book(self) -> AddressBook:
        return self._request.book(self._workspace_id)

    def get_meta(self, key: str | None = None) -> Any:
        meta: dict[str, str] = {}
        if self._workspace_id:
            workspace = self._request.memberships[self._workspace_id].workspace
            meta = {
                "tag": "VADDRESSBOOK",
                "D:displayname": f"Rapport – {workspace.name}",
                "CR:addressbook-description": f"The people of {workspace.name} in Rapport (read-only)",
            }
        return meta if key is None else meta.get(key)

    def set_meta(self, props: Mapping[str, str]) -> None:
        raise PermissionError("Rapport's address books are read-only")

    @property
    def last_modified(self) -> str:
        return _http_date(None)

    @property
    def etag(self) -> str:
        if not self._workspace_id:
            return '""'
        refreshed = self._request.refresh(self._book)
        return f'"rapport-{refreshed.book.pk}-{refreshed.book.version}"'

    def sync(self, old_token: str = "") -> tuple[str, Iterable[str]]:
        """The book's version as a token; from an old token, the cards changed since (one query)."""
        refreshed = self._request.refresh(self._book)
        book = refreshed.book
        token = f"urn:rapport:sync:{book.pk}:{book.version}"
        if not old_token:
            return token, [f"{pk}.vcf" for pk in sorted(refreshed.etags)]
        match = TOKEN.fullmatch(old_token)
        if not match or int(match[1]) != book.pk or int(match[2]) > book.version:
            raise ValueError(f"Not a sync token of this address book: {old_token!r}")
        return token, [f"{pk}.vcf" for pk, _ in selectors.cards_changed_since(book, int(match[2]))]

    def _item(self, person: Person, methods: list[cards.Method], etag: str) -> Card:
        version = self._request.version

        def render() -> str:
            return cards.render(person, methods, version=version, photo=cards.photo_bytes(person))

        return Card(
            render=render,
            collection=self,
            href=f"{person.pk}.vcf",
            etag=f'"{etag}"',
            uid=f"urn:rapport:person:{person.workspace_id}:{person.pk}",
            name="VCARD",
            component_name="",  # as Radicale's own cards: the name of a calendar's component
            time_range=(0, 0),
            last_modified=_http_date(person.updated_at),
        )

    def get_multi(self, hrefs: Iterable[str]) -> Iterable[tuple[str, Item | None]]:
        if not self._workspace_id:
            return [(href, None) for href in hrefs]
        hrefs = list(hrefs)
        wanted = {int(m[1]): href for href in hrefs if (m := HREF.fullmatch(href))}
        refreshed = self._request.refreshed.get(self._book.pk)
        if refreshed is not None:
            sources = [refreshed.people[pk] for pk in wanted if pk in refreshed.people]
        else:
            sources = selectors.card_sources(self._book, wanted)
        found = {person.pk: self._item(person, methods, cards.etag(person, methods)) for person, methods in sources}
        return [(href, found.get(int(m[1])) if (m := HREF.fullmatch(href)) else None) for href in hrefs]

    def get_all(self) -> Iterable[Item]:
        if not self._workspace_id:
            return []
        refreshed = self._request.refresh(self._book)
        return [
            self._item(person, methods, refreshed.etags[pk])
            for pk, (person, methods) in sorted(refreshed.people.items())
        ]

    def get_filtered(self, filters: Iterable[Any]) -> Iterable[tuple[Item, bool]]:
        # An address book has no time ranges to prefilter on: every card, and Radicale's
        # addressbook-query then tests each against the filters.
        return ((item, False) for item in self.get_all())

    def has_uid(self, uid: str) -> bool:
        return False

    def upload(self, href: str, item: Item) -> tuple[Item, Item | None]:
        raise PermissionError("Rapport's address books are read-only")

    def delete(self, href: str | None = None) -> None:
        raise PermissionError("Rapport's address books are read-only")


class Storage(BaseStorage):
    """Rapport's people as Radicale's storage, read-only."""

    def discover(
        self,
        path: str,
        depth: str = "0",
        child_context_manager: Callable[[str, str | None], AbstractContextManager[None]] | None = None,
        user_groups: set[str] | None = None,
    ) -> Iterator[types.CollectionOrItem]:
        request = current.get()
        if request is None:
            return
        sane = pathutils.strip_path(path)
        parts = sane.split("/") if sane else []
        if not parts:
            yield Collection("")
            if depth != "0":
                yield Collection(request.principal)
            return
        if parts[0] != request.principal or len(parts) > 3:
            return
        if len(parts) == 1:
            yield Collection(request.principal)
            if depth != "0":
                for workspace_id in request.memberships:
                    yield Collection(f"{request.principal}/{workspace_id}", workspace_id=workspace_id)
            return
        if parts[1] not in request.memberships:
            return
        book = Collection(f"{request.principal}/{parts[1]}", workspace_id=parts[1])
        if len(parts) == 3:
            (_, item), *_ = book.get_multi([parts[2]])
            if item is not None:
                yield item
            return
        yield book
        if depth != "0":
            yield from book.get_all()

    @contextlib.contextmanager
    def acquire_lock(self, mode: str, user: str = "", *args: Any, **kwargs: Any) -> Iterator[None]:
        # The database's transactions are the locks (book_refresh locks the book's row).
        yield

    def move(self, item: Item, to_collection: BaseCollection, to_href: str) -> None:
        raise PermissionError("Rapport's address books are read-only")

    def create_collection(self, href: str, items: Any = None, props: Any = None) -> Any:
        raise PermissionError("Rapport's address books are read-only")

    def verify(self) -> bool:
        return True


@cache
def application() -> Application:
    """Radicale with Rapport's plugins, made once per process (it keeps no state of its own)."""
    configuration = config.load([])
    configuration.update(
        {
            "auth": {"type": Auth, "delay": "0"},  # throttling is the view's (django-axes)
            "rights": {"type": Rights},
            "storage": {"type": Storage},
            "web": {"type": "none"},
            "server": {"delay_on_error": "0"},
        },
        "rapport",
        privileged=True,
    )
    return Application(configuration)
