"""Full-text indexes for Search notes on family members (notes and interests) and on tag names
(a person's interests), PostgreSQL only; SQLite searches with LIKE and needs none.

The expressions are exactly what ``SearchVector(..., config="english")`` compiles to, so
PostgreSQL uses them for the selector's queries (see migration 0002 for the same reasoning).
"""

from __future__ import annotations

from django.db import migrations

from crm.migration_ops import postgresql_indexes

INDEXES = {
    "family_text_fts": (
        "people_familymember USING gin "
        "(to_tsvector('english'::regconfig, COALESCE(notes, '') || ' ' || COALESCE(interests, '')))"
    ),
    "tag_name_fts": "people_tag USING gin (to_tsvector('english'::regconfig, COALESCE(name, '')))",
}


class Migration(migrations.Migration):
    dependencies = [("people", "0005_date_ranges")]

    operations = [postgresql_indexes(INDEXES)]
