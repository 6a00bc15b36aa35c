"""Triggers that append an ``exports_feedchange`` row on every write to what a calendar feed
shows (see ``exports.models.FeedChange``), on SQLite and PostgreSQL alike.

Triggers, not service code: bulk updates, imports, merges and cascades all change feeds, and a
trigger sees every one of them. A person's row changes often for reasons no feed shows (each
conversation moves ``last_contacted_at``), so its UPDATE trigger fires only when a column the
feed uses changes.
"""

from __future__ import annotations

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

TABLES = (
    "people_person",
    "people_familymember",
    "people_pet",
    "people_importantdate",
    "reminders_followup",
    "interactions_promise",
)
PERSON_COLUMNS = (
    "first_name",
    "last_name",
    "owner_id",
    "archived_at",
    "birthday_day",
    "birthday_month",
    "birthday_year",
    "anniversary_day",
    "anniversary_month",
    "anniversary_year",
)
EVENTS = {"INSERT": "NEW", "UPDATE": "NEW", "DELETE": "OLD"}


def _when(table: str, event: str, distinct: str) -> str:
    if table != "people_person" or event != "UPDATE":
        return ""
    return "WHEN (" + " OR ".join(f"OLD.{c} {distinct} NEW.{c}" for c in PERSON_COLUMNS) + ")"


def create(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(
            """
            CREATE OR REPLACE FUNCTION rapport_feed_changed() RETURNS trigger AS $$
            BEGIN
                IF TG_OP = 'DELETE' THEN
                    INSERT INTO exports_feedchange (workspace_id, at) VALUES (OLD.workspace_id, now());
                ELSE
                    INSERT INTO exports_feedchange (workspace_id, at) VALUES (NEW.workspace_id, now());
                END IF;
                RETURN NULL;
            END
            $$ LANGUAGE plpgsql
            """
        )
    for table in TABLES:
        for event, row in EVENTS.items():
            name = f"feedchange_{table}_{event.lower()}"
            if vendor == "postgresql":
                schema_editor.execute(
                    f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW "
                    f"{_when(table, event, 'IS DISTINCT FROM')} EXECUTE FUNCTION rapport_feed_changed()"
                )
            elif vendor == "sqlite":
                schema_editor.execute(
                    f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW {_when(table, event, 'IS NOT')} "
                    f"BEGIN INSERT INTO exports_feedchange (workspace_id, at) "
                    f"VALUES ({row}.workspace_id, strftime('%Y-%m-%d %H:%M:%f', 'now')); END",
                    None,  # no parameters: the % of strftime stays as written
                )


def drop(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        for event in EVENTS:
            name = f"feedchange_{table}_{event.lower()}"
            if vendor == "postgresql":
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            elif vendor == "sqlite":
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")
    if vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS rapport_feed_changed()")


class Migration(migrations.Migration):
    dependencies = [
        ("exports", "0002_feed_kinds_and_changes"),
        ("people", "0011_interest_search_indexes"),
        ("interactions", "0011_need_search_trigrams"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
