"""Matching reads the members of candidate golden records from indexes alone.

- ``source_record_golden_idx`` (id, retired, golden record): the golden record of
  the source records a blocking key found.
- On SQLite, ``source_golden_live_idx`` also carries the system and the payload hash
  as key columns (SQLite has no INCLUDE), so the members of a golden record, with
  what their stored features are checked against, come from the index without
  reading the wide table rows. Should a later migration rebuild the table on SQLite,
  Django recreates the index from the model (its two declared columns): lookups are
  then slower, never wrong. PostgreSQL keeps the index of migration 0008.
"""

from django.db import migrations, models

TABLE = "golden_sourcerecord"
WIDE = (
    "DROP INDEX source_golden_live_idx",
    f"CREATE INDEX source_golden_live_idx ON {TABLE} "
    "(golden_record_id, retired, system_id, payload_hash)",
)
NARROW = (
    "DROP INDEX source_golden_live_idx",
    f"CREATE INDEX source_golden_live_idx ON {TABLE} (golden_record_id, retired)",
)


def _on_sqlite(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "sqlite":
            for sql in statements:
                schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("golden", "0008_covering_lookup_indexes")]

    operations = [
        migrations.AddIndex(
            model_name="sourcerecord",
            index=models.Index(
                fields=["id", "retired", "golden_record"], name="source_record_golden_idx"
            ),
        ),
        migrations.RunPython(_on_sqlite(WIDE), _on_sqlite(NARROW)),
    ]
