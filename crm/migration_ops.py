"""A migration operation for indexes only PostgreSQL has (trigram, full text).

SQLite has neither and searches with plain LIKE, so there the operation does nothing. Index
definitions are raw SQL because the expressions must be exactly what the ORM's lookups compile
to (``UPPER(col) LIKE``, ``to_tsvector('english', COALESCE(col, ''))``) for PostgreSQL to use them.
"""

from __future__ import annotations

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


def postgresql_indexes(indexes: dict[str, str]) -> migrations.RunPython:
    """Create (and on reverse drop) each ``name: "table USING gin (...)"`` on PostgreSQL only."""

    def create(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        if schema_editor.connection.vendor == "postgresql":
            for name, definition in indexes.items():
                schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")

    def drop(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        if schema_editor.connection.vendor == "postgresql":
            for name in indexes:
                schema_editor.execute(f"DROP INDEX IF EXISTS {name}")

    return migrations.RunPython(create, drop, elidable=False)
