"""The table of Django's database cache, which holds the rate-limit counters when no Redis is set.

Created whichever cache is configured, so switching from Redis to the database later needs no
extra step; empty and unused while Redis holds the counters. The name is frozen here as
migrations are (settings.CACHE_TABLE says the same).
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands.createcachetable import Command as CreateCacheTable
from django.db import migrations

TABLE = "rapport_cache"


def create_table(apps: Any, schema_editor: Any) -> None:
    command = CreateCacheTable()
    command.verbosity = 0
    command.create_table(schema_editor.connection.alias, TABLE, dry_run=False)


def drop_table(apps: Any, schema_editor: Any) -> None:
    schema_editor.execute(f"DROP TABLE IF EXISTS {schema_editor.quote_name(TABLE)}")


class Migration(migrations.Migration):
    dependencies = [("crm", "0004_membership_viewer_role")]

    operations = [migrations.RunPython(create_table, drop_table)]
