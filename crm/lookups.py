"""``pk__in_ids=<subquery>``: ``id = ANY(ARRAY(subquery))`` on PostgreSQL, plain ``IN`` elsewhere.

For a search whose matches come from a UNION of small indexed lookups: PostgreSQL misjudges how
many ids such a UNION yields (21,824 expected for 3,459 at 100,000 people) and then hash-joins
them against a scan of every person of the workspace. ``ARRAY(...)`` is worked out first, on
its own, and the people are then fetched by primary key: the cost follows the matches, not the
book. SQLite plans ``IN (subquery)`` that way already.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Field, Lookup


@Field.register_lookup
class InIds(Lookup):
    lookup_name = "in_ids"

    def as_sql(self, compiler: Any, connection: Any) -> Any:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        if not rhs.startswith("("):
            rhs = f"({rhs})"
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(ARRAY{rhs})", [*lhs_params, *rhs_params]
        return f"{lhs} IN {rhs}", [*lhs_params, *rhs_params]
