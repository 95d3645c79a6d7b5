"""On PostgreSQL, the two indexes the ID lookup reads also carry the columns it
selects, so a lookup reads index pages only (an index-only scan), never the wide
table rows: a key's golden record from the unique key, a golden record's
cross-references from ``source_golden_live_idx``. Same names, same key columns as
the model declares; only the stored extra columns differ. SQLite has no covering
indexes (Django would drop the unique constraint there), so nothing changes on it."""

from django.db import migrations

TABLE = "golden_sourcerecord"
COVERED = [
    (
        f"ALTER TABLE {TABLE} DROP CONSTRAINT source_record_unique_key",
        f"ALTER TABLE {TABLE} ADD CONSTRAINT source_record_unique_key "
        "UNIQUE (system_id, domain, source_key) INCLUDE (golden_record_id, retired)",
    ),
    (
        "DROP INDEX source_golden_live_idx",
        f"CREATE INDEX source_golden_live_idx ON {TABLE} (golden_record_id, retired) "
        "INCLUDE (system_id, source_key)",
    ),
]
PLAIN = [
    (
        f"ALTER TABLE {TABLE} DROP CONSTRAINT source_record_unique_key",
        f"ALTER TABLE {TABLE} ADD CONSTRAINT source_record_unique_key "
        "UNIQUE (system_id, domain, source_key)",
    ),
    (
        "DROP INDEX source_golden_live_idx",
        f"CREATE INDEX source_golden_live_idx ON {TABLE} (golden_record_id, retired)",
    ),
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for pair in statements:
            for sql in pair:
                schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("golden", "0007_source_system_write_permission")]

    operations = [migrations.RunPython(_run(COVERED), _run(PLAIN))]
