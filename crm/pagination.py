"""Keyset ("seek") pagination: page 100 costs what page 1 costs.

An offset (``LIMIT 50 OFFSET 4950``) makes the database read and throw away every row before
the page. A keyset page instead asks for the rows *after* the last row already shown, in the
list's order: ``WHERE (last_name, first_name, id) > ('Berg', 'Anna', 12)``, which an index
answers by seeking straight to that spot. Links carry that position as an opaque cursor
(``?after=...``), so a URL still names one page and can be shared; "Page 3 of 200" is
counted, in the same query as the total.

Counting is the one part that grows with the book: a count reads every row. Past
``estimate_over`` rows a list may instead say "about 100,000 people", as search engines do:
on PostgreSQL one statement counts at most that many rows (the rows before the page too, for
its number) and asks the planner's estimate only when the cap is reached, so page 1 of a book
of 100,000 costs what it costs at 10,000. SQLite, and every list that does not ask, counts
exactly.

Every ordering ends with the primary key, so no two rows tie and no row is skipped or shown
twice at a page boundary. NULLs sort where the ordering says (first or last), on SQLite and
PostgreSQL alike. django-cursor-pagination was considered: it only sorts NULLs last and its
OR-only filter gives PostgreSQL no range to seek to, which is the whole point here.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.core.paginator import Page, Paginator
from django.db import connections
from django.db.models import Count, F, Field, Model, OrderBy, Q, QuerySet, Window

from crm.middleware import CONTROL_CHARACTERS


@dataclass(frozen=True)
class Key:
    """One column of an ordering: a field path, its direction and where its NULLs go."""

    path: str
    descending: bool = False
    nulls_first: bool = False
    nullable: bool = False

    def reversed(self) -> Key:
        return Key(self.path, not self.descending, not self.nulls_first, self.nullable)

    def order_by(self) -> OrderBy:
        if not self.nullable:
            return F(self.path).desc() if self.descending else F(self.path).asc()
        nulls = {"nulls_first": True} if self.nulls_first else {"nulls_last": True}
        return F(self.path).desc(**nulls) if self.descending else F(self.path).asc(**nulls)


@dataclass(frozen=True)
class Ordering:
    """A total order over rows (the last key must be unique, e.g. ``id``)."""

    keys: tuple[Key, ...]

    def reversed(self) -> Ordering:
        return Ordering(tuple(k.reversed() for k in self.keys))

    def order_by(self) -> list[OrderBy]:
        return [k.order_by() for k in self.keys]

    def after(self, position: Sequence[Any]) -> Q:
        """Rows strictly after ``position`` in this order.

        ``(a, b, id) > (x, y, z)`` spelled out as ``a > x OR (a = x AND (b > y OR ...))`` (row
        comparisons exist on neither SQLite nor Django's public API), plus ``a >= x`` on its
        own: a plain range on the first column that lets an index seek instead of scan.
        """
        q = Q(pk__in=[])  # matches nothing: the OR below adds every way of being after
        equal = Q()
        for key, value in zip(self.keys, position, strict=True):
            if value is None:
                # After NULL: the non-NULL values if NULLs come first, else nothing at this key.
                if key.nulls_first:
                    q |= equal & Q(**{f"{key.path}__isnull": False})
                equal &= Q(**{f"{key.path}__isnull": True})
                continue
            beyond = Q(**{f"{key.path}__{'lt' if key.descending else 'gt'}": value})
            if key.nullable and not key.nulls_first:
                beyond |= Q(**{f"{key.path}__isnull": True})
            q |= equal & beyond
            equal &= Q(**{key.path: value})
        first, value = self.keys[0], position[0]
        if value is not None and not first.nullable:
            q &= Q(**{f"{first.path}__{'lte' if first.descending else 'gte'}": value})
        return q

    def position(self, obj: Model) -> list[Any]:
        """The values of ``obj`` for each key (following relations; a missing one is NULL)."""
        values = []
        for key in self.keys:
            value: Any = obj
            for part in key.path.split("__"):
                value = getattr(value, "pk" if part == "id" else part, None) if value is not None else None
            values.append(value)
        return values


def _field(model: type[Model], path: str) -> Field:
    parts = path.split("__")
    for part in parts[:-1]:
        related = model._meta.get_field(part).related_model
        if not isinstance(related, type):  # the orderings name relations by their fields only
            raise TypeError(f"{part!r} in the ordering {path!r} is not a relation")
        model = related
    field = model._meta.get_field(parts[-1])
    if not isinstance(field, Field):
        raise TypeError(f"The ordering {path!r} does not end at a field")
    return field


def encode_cursor(ordering: Ordering, obj: Model) -> str:
    values = [None if v is None else str(v) for v in ordering.position(obj)]
    return base64.urlsafe_b64encode(json.dumps(values, separators=(",", ":")).encode()).decode().rstrip("=")


# Years a date or time in a cursor of ours can have: wider than any Rapport stores (people.dates
# keeps 1850..2200), far from Python's own ends. "0001-01-01T00:00:00+14:00" is a valid datetime
# that SQLite overflows on when the query converts it to UTC.
SANE_YEARS = (1800, 2300)


def decode_cursor(ordering: Ordering, model: type[Model], cursor: str) -> list[Any] | None:
    """The position in a cursor, typed per field; None when it is not one of ours.

    Ours hold only text or null, and never a control character: JSON can spell NUL or a lone
    surrogate (``"\\u0000"``), which PostgreSQL cannot take in a query.
    """
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, list) or len(raw) != len(ordering.keys):
            return None
        if any(v is not None and (not isinstance(v, str) or CONTROL_CHARACTERS.search(v)) for v in raw):
            return None
        position = [
            None if v is None else _field(model, k.path).to_python(v) for k, v in zip(ordering.keys, raw, strict=True)
        ]
        if any(isinstance(v, date) and not SANE_YEARS[0] <= v.year <= SANE_YEARS[1] for v in position):
            return None
        return position
    except (ValueError, TypeError, binascii.Error, ValidationError, FieldDoesNotExist):
        return None


@dataclass
class KeysetPage:
    """One page of rows, with cursors for its neighbours and its number out of the total."""

    object_list: list[Any]
    number: int
    count: int
    per_page: int
    next_cursor: str = ""
    previous_cursor: str = ""
    # The position of the row just before this page (None on the first page): the timeline
    # shows the events between it and this page's rows.
    preceding: list[Any] | None = None
    # ``count`` is the planner's estimate, rounded ("about 100,000"); ``number`` is 0 when the
    # page is too far in to be numbered cheaply.
    estimated: bool = False

    def __iter__(self) -> Iterator[Any]:
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)

    @property
    def num_pages(self) -> int:
        return max(1, math.ceil(self.count / self.per_page))

    def has_next(self) -> bool:
        return bool(self.next_cursor)

    def has_previous(self) -> bool:
        return bool(self.previous_cursor)

    def has_other_pages(self) -> bool:
        return self.has_next() or self.has_previous()


def keyset_page(
    qs: QuerySet[Any],
    ordering: Ordering,
    *,
    per_page: int,
    after: str = "",
    before: str = "",
    count_with_rows: bool = False,
    estimate_over: int | None = None,
    count_qs: QuerySet[Any] | None = None,
) -> KeysetPage:
    """The page after the ``after`` cursor (or before ``before``; else the first page).

    Two queries whatever the page: the rows (one more than a page, to know whether another
    follows) and the counts. An unreadable cursor gives the first page, never an error.

    ``count_with_rows``: on the first page, count in the rows' own query (``COUNT(*) OVER ()``),
    one query instead of two. Right for a search, whose matches are all read to be sorted
    anyway; wrong for a plain list an index reads in order, which would then read every row.

    ``estimate_over``: past this many rows, an estimated total on PostgreSQL (see the module's
    comment); still two queries whatever the size of the book. ``count_qs``: the same rows
    without what only the page shows (annotations, joins), for the counts to read from an index
    alone.
    """
    model = qs.model
    position = decode_cursor(ordering, model, after or before) if (after or before) else None
    backwards = position is not None and not after
    walk = ordering.reversed() if backwards else ordering
    rows = qs.order_by(*walk.order_by())
    counting = qs.order_by()
    if estimate_over is not None and connections[qs.db].vendor == "postgresql":
        return _estimated_page(
            qs, ordering, position, backwards, per_page=per_page, cap=estimate_over, count_qs=count_qs
        )
    if position is None and count_with_rows:
        fetched = list(rows.annotate(_keyset_total=Window(Count("pk")))[: per_page + 1])
        total = fetched[0]._keyset_total if fetched else 0
        return _page(ordering, fetched, per_page=per_page, total=total, beyond=total)
    if position is None:
        total = beyond = counting.aggregate(total=Count("pk"))["total"]
    else:
        rows = rows.filter(walk.after(position))
        totals = counting.aggregate(total=Count("pk"), beyond=Count("pk", filter=walk.after(position)))
        total, beyond = totals["total"], totals["beyond"]
    fetched = list(rows[: per_page + 1])
    if not backwards:
        return _page(ordering, fetched, per_page=per_page, total=total, beyond=beyond, position=position)
    # Read backwards from the cursor: reverse to the list's order.
    more = len(fetched) > per_page
    items = fetched[:per_page]
    items.reverse()
    return KeysetPage(
        object_list=items,
        number=max(0, beyond - len(items)) // per_page + 1,  # rows before this page
        count=total,
        per_page=per_page,
        next_cursor=encode_cursor(ordering, items[-1]) if items else "",
        previous_cursor=encode_cursor(ordering, items[0]) if more and items else "",
        preceding=ordering.position(fetched[-1]) if more else None,
    )


def _capped_counts(qs: QuerySet[Any], preceding: QuerySet[Any] | None, cap: int) -> tuple[int, bool, int | None]:
    """(total, estimated, rows in ``preceding``): one PostgreSQL statement that reads at most
    ``cap`` + 1 rows of each, with the planner's estimate of the total once the cap is reached.
    The rows in ``preceding`` are None past the cap."""
    connection = connections[qs.db]
    parts, params = [], []
    for part in (qs, preceding):
        if part is None:
            parts.append("SELECT 0 AS n")
            continue
        sql, part_params = part.values("pk")[: cap + 1].query.get_compiler(using=qs.db).as_sql()
        parts.append(f"SELECT COUNT(*) AS n FROM ({sql}) AS capped")  # noqa: S608 - the ORM's own SQL
        params.extend(part_params)
    everything, everything_params = qs.order_by().values("pk").query.get_compiler(using=qs.db).as_sql()
    estimate_of = connection.ops.compose_sql(everything, everything_params)  # type: ignore[attr-defined]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT total.n, before.n, CASE WHEN total.n > %s THEN rapport_row_estimate(%s) END "  # noqa: S608
            f"FROM ({parts[0]}) AS total, ({parts[1]}) AS before",
            [cap, estimate_of, *params],
        )
        counted, before, estimate = cursor.fetchone()
    if counted <= cap:
        return counted, False, before
    # Never "about 9,000" for a list known to hold more than the cap; two significant figures.
    estimate = max(int(estimate or 0), cap + 1)
    rounded = round(estimate, 2 - len(str(estimate)))
    return rounded, True, before if before <= cap else None


def _estimated_page(
    qs: QuerySet[Any],
    ordering: Ordering,
    position: list[Any] | None,
    backwards: bool,
    *,
    per_page: int,
    cap: int,
    count_qs: QuerySet[Any] | None = None,
) -> KeysetPage:
    """A page whose total may be an estimate, numbered by counting (capped) the rows before it."""
    counting = qs if count_qs is None else count_qs
    walk = ordering.reversed() if backwards else ordering
    rows = qs.order_by(*walk.order_by())
    preceding = None
    if position is not None:
        rows = rows.filter(walk.after(position))
        # The rows before the cursor in the list's order, read backwards from it by the index.
        earlier = ordering.reversed()
        preceding = counting.filter(earlier.after(position)).order_by(*earlier.order_by())
    total, estimated, before = _capped_counts(counting.order_by(*ordering.order_by()), preceding, cap)
    fetched = list(rows[: per_page + 1])
    more = len(fetched) > per_page
    items = fetched[:per_page]
    if backwards:
        items.reverse()
        number = 0 if before is None else max(0, before - len(items)) // per_page + 1
        return KeysetPage(
            object_list=items,
            number=number,
            count=total,
            per_page=per_page,
            next_cursor=encode_cursor(ordering, items[-1]) if items else "",
            previous_cursor=encode_cursor(ordering, items[0]) if more and items else "",
            preceding=ordering.position(fetched[-1]) if more else None,
            estimated=estimated,
        )
    # Forward: the rows before this page are those before the cursor's row, and that row.
    number = 1 if position is None else (0 if before is None else (before + 1) // per_page + 1)
    return KeysetPage(
        object_list=items,
        number=number,
        count=total,
        per_page=per_page,
        next_cursor=encode_cursor(ordering, items[-1]) if more and items else "",
        previous_cursor=encode_cursor(ordering, items[0]) if position is not None and items else "",
        preceding=position,
        estimated=estimated,
    )


def _page(
    ordering: Ordering,
    fetched: list[Any],
    *,
    per_page: int,
    total: int,
    beyond: int,
    position: list[Any] | None = None,
) -> KeysetPage:
    """A forward page from the rows read after ``position`` (one more than a page)."""
    more = len(fetched) > per_page
    items = fetched[:per_page]
    return KeysetPage(
        object_list=items,
        number=(total - beyond) // per_page + 1,
        count=total,
        per_page=per_page,
        next_cursor=encode_cursor(ordering, items[-1]) if more and items else "",
        previous_cursor=encode_cursor(ordering, items[0]) if position is not None and items else "",
        preceding=position,
    )


def counted_page(qs: QuerySet[Any], *, per_page: int, number: str | int | None) -> Page[Any]:
    """An offset page (``?page=3``) counted in its own query with ``COUNT(*) OVER ()``.

    For a ranked list whose every match is scored and sorted before the first row comes out
    (who might be interested): the count is then free, where Django's Paginator would run the
    whole match again for ``COUNT(*)``. One query; a page past the end gives the last page.
    """
    try:
        wanted = max(1, int(number or 1))
    except (TypeError, ValueError):
        wanted = 1
    counted = qs.annotate(_page_total=Window(Count("pk")))
    rows = list(counted[(wanted - 1) * per_page : wanted * per_page])
    if not rows and wanted > 1:
        # Past the end (or the list shrank): count, then show the last page. Rare: two queries.
        total = qs.count()
        wanted = max(1, math.ceil(total / per_page))
        rows = list(counted[(wanted - 1) * per_page : wanted * per_page])
    paginator: Paginator[Any] = Paginator(rows, per_page)
    paginator.count = rows[0]._page_total if rows else 0
    return Page(rows, wanted, paginator)
