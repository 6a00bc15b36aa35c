"""Cursor pages for the API on the same keyset as the list pages (``crm.pagination``): the
cursor is the last row's position in the list's order, so page 100 costs what page 1 costs."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from crm.pagination import KeysetPage, Ordering, keyset_page

DEFAULT_LIMIT = 50
MAX_LIMIT = 100


def _limit(request: Request) -> int:
    raw = request.query_params.get("limit", "")
    return min(MAX_LIMIT, max(1, int(raw))) if raw.isdigit() else DEFAULT_LIMIT


class KeysetPagination(BasePagination):
    """``?after=CURSOR`` (or ``?before=``) and ``?limit=`` (1-100, 50 by default).

    The view says its order with ``keyset_ordering(request)``; an unreadable cursor is the
    first page, as on the pages."""

    page: KeysetPage
    request: Request

    def paginate_queryset(self, queryset: QuerySet[Any], request: Request, view: Any = None) -> list[Any]:
        ordering: Ordering = view.keyset_ordering(request)
        self.request = request
        self.page = keyset_page(
            queryset,
            ordering,
            per_page=_limit(request),
            after=request.query_params.get("after", ""),
            before=request.query_params.get("before", ""),
            count_with_rows=getattr(view, "count_with_rows", lambda r: False)(request),
        )
        return self.page.object_list

    def _link(self, param: str, cursor: str) -> str | None:
        if not cursor:
            return None
        url = self.request.build_absolute_uri()
        url = remove_query_param(remove_query_param(url, "after"), "before")
        return replace_query_param(url, param, cursor)

    def get_paginated_response(self, data: Any) -> Response:
        return Response(
            {
                "count": self.page.count,
                "next": self._link("after", self.page.next_cursor),
                "previous": self._link("before", self.page.previous_cursor),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["count", "next", "previous", "results"],
            "properties": {
                "count": {"type": "integer", "description": "Rows matching, on every page."},
                "next": {"type": ["string", "null"], "format": "uri", "description": "The next page, or null."},
                "previous": {"type": ["string", "null"], "format": "uri", "description": "The page before, or null."},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        def param(name: str, description: str, kind: str = "string") -> dict[str, Any]:
            return {
                "name": name,
                "required": False,
                "in": "query",
                "description": description,
                "schema": {"type": kind},
            }

        return [
            param("after", "Cursor: the page after this one (from `next`)."),
            param("before", "Cursor: the page before this one (from `previous`)."),
            param("limit", f"Rows per page, 1-{MAX_LIMIT} ({DEFAULT_LIMIT} by default).", "integer"),
        ]
