"""Trigram indexes on open needs' title and details for "who might be interested" (PostgreSQL
only; see people 0011 for the reasoning)."""

from __future__ import annotations

from django.db import migrations

from crm.migration_ops import postgresql_indexes

INDEXES = {
    "need_title_trgm": "interactions_need USING gin (UPPER(title::text) gin_trgm_ops)",
    "need_details_trgm": "interactions_need USING gin (UPPER(details::text) gin_trgm_ops)",
}


class Migration(migrations.Migration):
    dependencies = [("interactions", "0010_followup_due_index"), ("people", "0011_interest_search_indexes")]

    operations = [postgresql_indexes(INDEXES)]
