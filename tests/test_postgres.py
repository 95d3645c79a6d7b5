"""Concurrency on PostgreSQL: many connections writing at once (skipped on SQLite)."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import close_old_connections, connection

from golden.global_ids import allocate_serials
from golden.models import ChangeEvent, GoldenRecord, SourceRecord, SourceSystem
from golden.services import upsert_source_record

from .invariants import assert_invariants

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def in_parallel(workers, function, items):
    barrier = threading.Barrier(workers)

    def call(item):
        try:
            barrier.wait(timeout=30)
            return function(item)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(call, items))


def test_fifty_parallel_upserts_of_one_key_give_one_record_and_one_global_id():
    system = SourceSystem.objects.create(code="ERP", name="ERP")

    def upsert(n):
        close_old_connections()
        return upsert_source_record(
            system=system,
            domain="customer",
            source_key="1000123",
            payload={"organization_name": "Acme GmbH", "city": f"Berlin {n % 3}"},
        )

    results = in_parallel(50, upsert, range(50))

    assert SourceRecord.objects.count() == 1
    assert GoldenRecord.objects.count() == 1
    assert len({result.global_id for result in results}) == 1
    assert_invariants()


def test_ten_thousand_ids_from_parallel_connections_are_unique():
    def allocate(worker):
        close_old_connections()
        serials = [allocate_serials("material", 1)[0] for _ in range(400)]
        for size in (1, 7, 42, 150, 400):
            serials += allocate_serials("material", size)
        return serials

    batches = in_parallel(10, allocate, range(10))
    serials = [serial for batch in batches for serial in batch]

    assert len(serials) == 10_000
    assert len(set(serials)) == 10_000


def test_parallel_writers_publish_events_in_commit_order():
    system = SourceSystem.objects.create(code="CRM", name="CRM")

    def upsert(n):
        close_old_connections()
        return upsert_source_record(
            system=system,
            domain="supplier",
            source_key=f"V{n}",
            payload={"legal_name": f"Supplier {n}", "duns": f"{100000000 + n % 10}"},
        )

    in_parallel(20, upsert, range(100))

    assert SourceRecord.objects.count() == 100
    assert ChangeEvent.objects.filter(event_type="xref.added").count() == 100
    # Event ids follow commit order: the events of one operation are contiguous.
    assert_invariants()


def test_parallel_upserts_sharing_a_tax_id_end_in_one_golden_record():
    systems = [SourceSystem.objects.create(code=f"S{n}", name=f"S{n}") for n in range(4)]

    def upsert(n):
        close_old_connections()
        return upsert_source_record(
            system=systems[n % 4],
            domain="supplier",
            source_key=f"K{n}",
            payload={"legal_name": f"Acme {n}", "tax_id": "DE129274202"},
        )

    results = in_parallel(40, upsert, range(40))

    assert len({result.global_id for result in results}) == 1
    assert GoldenRecord.objects.filter(status="active").count() == 1
    assert SourceRecord.objects.count() == 40
    assert_invariants()


def test_parallel_upserts_of_fuzzy_duplicates_give_one_golden_record(monkeypatch):
    """No shared identifier, only fuzzy evidence: the blocking-key locks serialise
    the writers, so each one sees the records committed before it."""
    import dataclasses

    from golden.domains import DOMAINS

    from .test_matching_service import SPEC

    monkeypatch.setitem(
        DOMAINS, "material", dataclasses.replace(DOMAINS["material"], matching=SPEC)
    )
    systems = [SourceSystem.objects.create(code=f"S{n}", name=f"S{n}") for n in range(4)]
    spellings = ["Turbo pump", "TURBO PUMP", "turbo pump", "Turbo  Pump"]

    def upsert(n):
        close_old_connections()
        return upsert_source_record(
            system=systems[n % 4],
            domain="material",
            source_key=f"K{n}",
            payload={"name": spellings[n % 4], "manufacturer": "Acme"},
        )

    results = in_parallel(16, upsert, range(16))

    assert SourceRecord.objects.count() == 16
    assert GoldenRecord.objects.filter(status="active").count() == 1
    assert len({result.global_id for result in results}) == 1
    assert_invariants()


def test_the_lookup_indexes_cover_the_columns_the_lookup_reads():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'golden_sourcerecord'"
        )
        definitions = dict(cursor.fetchall())
    assert definitions["source_record_unique_key"].endswith(
        "(system_id, domain, source_key) INCLUDE (golden_record_id, retired)"
    )
    assert definitions["source_golden_live_idx"].endswith(
        "(golden_record_id, retired) INCLUDE (system_id, source_key)"
    )


def test_the_lookup_runs_as_a_prepared_statement(client):
    from api.keys import create_api_key

    erp = SourceSystem.objects.create(code="ERP", name="ERP")
    upsert_source_record(
        system=erp, domain="customer", source_key="1", payload={"organization_name": "Acme"}
    )
    _, plain = create_api_key(erp)
    for _ in range(3):
        answer = client.get("/api/v1/customer/xref/ERP/1", HTTP_X_API_KEY=plain)
        assert answer.status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert any("golden_sourcerecord sr" in text and "source_key = $3" in text for text in prepared)


def test_array_parameters_select_by_integers_and_by_text():
    system = SourceSystem.objects.create(code="ARR", name="Arrays")
    results = [
        upsert_source_record(
            system=system,
            domain="customer",
            source_key=key,
            payload={"kind": "organization", "organization_name": f"Array Test {key}"},
        )
        for key in ("plain", 'with "quote', "with,comma", "{brace}")
    ]
    ids = [result.source_record_id for result in results]
    by_id = SourceRecord.objects.filter(pk__any_of=[ids[0], ids[2], 10**15])
    assert sorted(record.pk for record in by_id) == sorted([ids[0], ids[2]])
    keys = ['with "quote', "with,comma", "{brace}"]
    by_key = SourceRecord.objects.filter(source_key__any_of=keys)
    assert sorted(record.source_key for record in by_key) == sorted(keys)
