"""Trigram indexes for "who might be interested" (PostgreSQL only; SQLite searches with LIKE).

Its substring match (``icontains``: ``UPPER(col::text) LIKE '%SAILING%'``) read every person's
notes and likes, every profile fact (300,000 at 100,000 people) and family member (170,000);
with these the database reads only the rows that contain the topic's trigrams.
"""

from __future__ import annotations

from django.db import migrations

from crm.migration_ops import postgresql_indexes

INDEXES = {
    "person_notes_trgm": "people_person USING gin (UPPER(notes::text) gin_trgm_ops)",
    "person_likes_trgm": "people_person USING gin (UPPER(likes::text) gin_trgm_ops)",
    "fact_value_trgm": "people_profilefact USING gin (UPPER(value::text) gin_trgm_ops)",
    "family_interests_trgm": "people_familymember USING gin (UPPER(interests::text) gin_trgm_ops)",
    "tag_name_trgm": "people_tag USING gin (UPPER(name::text) gin_trgm_ops)",
}


class Migration(migrations.Migration):
    dependencies = [("people", "0010_tagcadence_moved")]

    operations = [postgresql_indexes(INDEXES)]
