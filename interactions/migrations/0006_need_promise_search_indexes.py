"""Full-text indexes for Search notes (and the top-bar search) on needs (title and details)
and promises, PostgreSQL only; SQLite searches with LIKE and needs none.

The expressions are exactly what ``SearchVector(..., config="english")`` compiles to, so
PostgreSQL uses them for the selectors' queries (as migration 0003 does for conversations).
"""

from __future__ import annotations

from django.db import migrations

from crm.migration_ops import postgresql_indexes

INDEXES = {
    "need_text_fts": (
        "interactions_need USING gin "
        "(to_tsvector('english'::regconfig, COALESCE(title, '') || ' ' || COALESCE(details, '')))"
    ),
    "promise_text_fts": "interactions_promise USING gin (to_tsvector('english'::regconfig, COALESCE(text, '')))",
}


class Migration(migrations.Migration):
    dependencies = [("interactions", "0005_date_ranges")]

    operations = [postgresql_indexes(INDEXES)]
