"""PostgreSQL indexes for search: trigrams for "contains" on names, companies and contacts;
full text for notes and facts. SQLite has neither and searches with plain LIKE: no-op there.

The trigram indexes are on ``UPPER(column)`` because that is what Django's ``icontains``
compiles to on PostgreSQL (``UPPER(col::text) LIKE UPPER('%ann%')``): the queries stay the
same on both databases and PostgreSQL finds the index by itself. The full-text expressions are
exactly what ``SearchVector(..., config="english")`` compiles to, for the same reason.
"""

from __future__ import annotations

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

INDEXES = {
    "person_first_name_trgm": "people_person USING gin (UPPER(first_name::text) gin_trgm_ops)",
    "person_last_name_trgm": "people_person USING gin (UPPER(last_name::text) gin_trgm_ops)",
    "person_nickname_trgm": "people_person USING gin (UPPER(nickname::text) gin_trgm_ops)",
    "company_name_trgm": "people_company USING gin (UPPER(name::text) gin_trgm_ops)",
    "contact_value_trgm": "people_contactmethod USING gin (UPPER(value::text) gin_trgm_ops)",
    "person_notes_fts": "people_person USING gin (to_tsvector('english'::regconfig, COALESCE(notes, '')))",
    "fact_value_fts": "people_profilefact USING gin (to_tsvector('english'::regconfig, COALESCE(value, '')))",
}


def create(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, definition in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")


def drop(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("people", "0001_initial")]

    operations = [
        TrigramExtension(),  # itself a no-op on other databases
        migrations.RunPython(create, drop, elidable=False),
    ]
