"""Full-text index on conversations (summary and notes) for note search, PostgreSQL only.

The expression is exactly what ``SearchVector("summary", "notes", config="english")``
compiles to, so PostgreSQL uses the index for the selector's query. SQLite: a no-op (search
falls back to LIKE there).
"""

from __future__ import annotations

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

NAME = "interaction_text_fts"
EXPRESSION = "to_tsvector('english'::regconfig, COALESCE(summary, '') || ' ' || COALESCE(notes, ''))"


def create(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {NAME} ON interactions_interaction USING gin ({EXPRESSION})")


def drop(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {NAME}")


class Migration(migrations.Migration):
    dependencies = [("interactions", "0002_initial")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
