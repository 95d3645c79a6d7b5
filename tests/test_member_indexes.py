"""The candidate queries of matching read indexes, not the wide source and golden
record rows (migration golden.0009), and the migration runs both ways."""

import pytest
from django.core.management import call_command
from django.db import connection

from golden import bulk
from golden.services import upsert_source_record

ANNA = {"kind": "person", "first_name": "Anna", "last_name": "Schmidt", "birth_date": "1980-04-02",
        "city": "Berlin", "postal_code": "10115", "country": "DE"}  # fmt: skip
RECORD_TABLES = ("golden_sourcerecord", "golden_goldenrecord")


def _index_sql(name):
    with connection.cursor() as cursor:
        cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = %s", [name])
        row = cursor.fetchone()
    return row[0] if row else None


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite query plans")
def test_candidate_queries_read_the_record_tables_through_covering_indexes(erp, crm, monkeypatch):
    statements = []
    real = bulk.driver_rows

    def spying(cursor, sql, params):
        statements.append((sql, list(params)))
        return real(cursor, sql, params)

    monkeypatch.setattr(bulk, "driver_rows", spying)
    upsert_source_record(system=erp, domain="customer", source_key="1", payload=ANNA)
    second = upsert_source_record(
        system=crm, domain="customer", source_key="A", payload=ANNA | {"first_name": "Ana"}
    )
    assert second.outcome.value == "attached"

    reading_records = [(sql, params) for sql, params in statements if "golden_sourcerecord" in sql]
    # Members by blocked record, members by golden record, identity keys by record.
    assert any("INDEXED BY source_record_golden_idx" in sql for sql, _ in reading_records)
    assert any("g.domain = ?" in sql for sql, _ in reading_records)
    with connection.cursor() as cursor:
        for sql, params in reading_records:
            if "canonical" in sql:  # values of members without stored features
                continue
            plan = [row[3] for row in cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)]
            for step in plan:
                if any(f" {table}" in step or " sr " in step or " g " in step
                       for table in RECORD_TABLES):  # fmt: skip
                    assert "COVERING INDEX" in step, (sql, plan)


@pytest.mark.django_db(transaction=True)
def test_the_member_lookup_indexes_migrate_both_ways(erp):
    upsert_source_record(system=erp, domain="customer", source_key="1", payload=ANNA)

    def names():
        with connection.cursor() as cursor:
            return set(connection.introspection.get_constraints(cursor, "golden_sourcerecord"))

    assert "source_record_golden_idx" in names()
    if connection.vendor == "sqlite":
        assert "payload_hash" in _index_sql("source_golden_live_idx")
    try:
        call_command("migrate", "golden", "0008", verbosity=0)
        assert "source_record_golden_idx" not in names()
        assert "source_golden_live_idx" in names()
        if connection.vendor == "sqlite":
            assert "payload_hash" not in _index_sql("source_golden_live_idx")
    finally:
        call_command("migrate", "golden", verbosity=0)
    assert {"source_record_golden_idx", "source_golden_live_idx"} <= names()
    if connection.vendor == "sqlite":
        assert "payload_hash" in _index_sql("source_golden_live_idx")
    again = upsert_source_record(system=erp, domain="customer", source_key="1", payload=ANNA)
    assert again.outcome.value == "unchanged"
