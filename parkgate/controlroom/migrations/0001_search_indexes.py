"""Trigram indexes for the control room search (PostgreSQL only).

The search matches folded names (``parking_parker.search_text``) and canonical plate keys
(``parking_plate.key``) with ``LIKE '%term%'``; a GIN index with ``gin_trgm_ops`` serves that.
Other databases (SQLite for ``make run``) do without: the search there is a plain scan.
"""

from django.db import migrations

INDEXES = [
    ("controlroom_parker_search_trgm", "parking_parker", "search_text"),
    ("controlroom_plate_key_trgm", "parking_plate", "key"),
]


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column in INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({column} gin_trgm_ops)"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _column in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("parking", "0001_initial")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
