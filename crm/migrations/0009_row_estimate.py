"""``rapport_row_estimate(query)``: the planner's row estimate for a query, PostgreSQL only.

Lists past ESTIMATE_OVER rows say "about 100,000 people" (crm/pagination.py) instead of counting
every row of a large book on every page view. The estimate comes from EXPLAIN, which a plain
SELECT cannot call; this function lets the page ask for it in the same statement as its capped
count (the PostgreSQL wiki's count_estimate). SQLite keeps exact counts and needs nothing.
"""

from __future__ import annotations

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

CREATE = """
CREATE OR REPLACE FUNCTION rapport_row_estimate(query text) RETURNS bigint AS $$
DECLARE
    plan json;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON) ' || query INTO plan;
    RETURN (plan -> 0 -> 'Plan' ->> 'Plan Rows')::bigint;
END
$$ LANGUAGE plpgsql VOLATILE  -- EXPLAIN is allowed only in a volatile function
"""


def create(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS rapport_row_estimate(text)")


class Migration(migrations.Migration):
    dependencies = [("crm", "0008_user_theme")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
