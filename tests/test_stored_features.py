"""Stored comparison features: written with the index, read back for old records,
ignored when the record changed or the matching code is another version."""

import pytest

from golden.models import SourceRecord
from golden.services import upsert_source_record
from matching import services
from matching.models import RecordFeatures

ANNA = {"kind": "person", "first_name": "Anna", "last_name": "Schmidt", "birth_date": "1980-04-02",
        "city": "Berlin", "postal_code": "10115", "country": "DE"}  # fmt: skip


def test_features_are_stored_with_the_index_and_read_back(erp, crm, monkeypatch):
    first = upsert_source_record(system=erp, domain="customer", source_key="1", payload=ANNA)
    record = SourceRecord.objects.get(pk=first.source_record_id)
    stored = RecordFeatures.objects.get(source_record_id=record.pk)
    assert stored.payload_hash == record.payload_hash
    assert stored.fingerprint == services.features_fingerprint()

    services.features_cache.clear()
    prepared = []
    real = services._preparer

    def counting(spec):
        model = real(spec)
        monkeypatch.setattr(model, "prepare", lambda values: prepared.append(values) or
                            type(model).prepare(model, values))  # fmt: skip
        monkeypatch.setattr(model, "prepare_many", lambda records: prepared.extend(records) or
                            type(model).prepare_many(model, records))  # fmt: skip
        return model

    monkeypatch.setattr(services, "_preparer", counting)
    second = upsert_source_record(
        system=crm, domain="customer", source_key="A", payload=ANNA | {"first_name": "Ana"}
    )

    assert second.global_id == first.global_id  # matched through the stored features
    # Only the new record was prepared; the member's features were read back.
    assert [values["first_name"] for values in prepared] == ["Ana"]


def test_stored_features_of_another_version_or_content_are_not_used(erp):
    first = upsert_source_record(system=erp, domain="customer", source_key="1", payload=ANNA)
    record = SourceRecord.objects.get(pk=first.source_record_id)
    digests = {record.pk: record.payload_hash}
    assert list(services._stored_features([record.pk], digests)) == [record.pk]

    assert services._stored_features([record.pk], {record.pk: "another"}) == {}
    RecordFeatures.objects.filter(source_record_id=record.pk).update(fingerprint="old")
    assert services._stored_features([record.pk], digests) == {}


def test_an_update_replaces_and_a_retirement_drops_the_stored_features(erp):
    first = upsert_source_record(system=erp, domain="customer", source_key="1", payload=ANNA)
    before = RecordFeatures.objects.get(source_record_id=first.source_record_id).data

    upsert_source_record(
        system=erp, domain="customer", source_key="1", payload=ANNA | {"city": "Potsdam"}
    )
    after = RecordFeatures.objects.get(source_record_id=first.source_record_id)
    assert bytes(after.data) != bytes(before)
    assert after.payload_hash == SourceRecord.objects.get(pk=first.source_record_id).payload_hash

    from golden.services import retire_source_record

    retire_source_record(source_record=SourceRecord.objects.get(pk=first.source_record_id))
    assert not RecordFeatures.objects.filter(source_record_id=first.source_record_id).exists()


def test_the_feature_cache_keeps_the_stored_form_and_gives_back_equal_features():
    spec = object()
    cache = services.FeatureCache(size=2)
    features = (frozenset({"anna"}), ("schmidt", "anna"), None, 1980.5)
    cache.put(spec, 1, "a", features)
    assert isinstance(cache._entries[(id(spec), 1, "a")][1], bytes)
    assert cache.get(spec, 1, "a") == features
    assert cache.get(spec, 1, "another digest") is None

    unmarshallable = (object(),)
    cache.put(spec, 2, "b", unmarshallable)
    assert cache.get(spec, 2, "b") is unmarshallable
    cache.put(spec, 3, "c", features)  # over its size: the least recently used goes
    assert cache.get(spec, 1, "a") is None
    assert cache.get(spec, 3, "c") == features


def test_the_upgrade_writes_the_material_blocking_keys_again_with_the_stem_rule(erp, crm):
    from importlib import import_module

    from django.apps import apps

    from matching.models import BlockingKey

    def indexed():
        return sorted(BlockingKey.objects.values_list("code", "source_record"))

    migration = import_module("matching.migrations.0006_material_code_stems")
    put = upsert_source_record
    put(system=erp, domain="material", source_key="M1", payload={"name": "Camcorder - FS100S"})
    put(system=erp, domain="material", source_key="M2", payload={"name": "Valve VX2000"})
    written = indexed()
    stem = services.blocking_code("material", "stem:FS100")
    BlockingKey.objects.filter(code=stem).delete()  # as written before the stem rule
    assert indexed() != written

    migration.reindex_materials(apps, None)
    migration.reindex_materials(apps, None)  # again: nothing doubled

    assert indexed() == written
    assert BlockingKey.objects.filter(code=stem).count() == 1
    assert migration.code("material", "stem:FS100") == stem


@pytest.mark.django_db(transaction=True)
def test_the_blocking_key_table_changes_its_primary_key_both_ways_keeping_every_row():
    from django.core.management import call_command
    from django.db import connection

    from golden.models import SourceSystem
    from matching.models import BlockingKey

    erp = SourceSystem.objects.create(code="ERP", name="ERP", priority={})
    for key, name in [("M1", "Camcorder - FS100S"), ("M2", "Valve VX2000"), ("M3", "Valve")]:
        upsert_source_record(system=erp, domain="material", source_key=key, payload={"name": name})
    rows = sorted(BlockingKey.objects.values_list("code", "source_record"))
    assert rows

    def table_rows():
        with connection.cursor() as cursor:
            cursor.execute("SELECT code, source_record_id FROM matching_blockingkey")
            return sorted(cursor.fetchall())

    def columns():
        with connection.cursor() as cursor:
            return [c.name for c in connection.introspection.get_table_description(
                cursor, "matching_blockingkey"
            )]  # fmt: skip

    try:
        call_command("migrate", "matching", "0006", verbosity=0)
        assert table_rows() == rows
        assert "id" in columns()
    finally:
        call_command("migrate", "matching", verbosity=0)
    assert table_rows() == rows
    assert columns() == ["code", "source_record_id"]
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT sql FROM sqlite_master WHERE name = 'matching_blockingkey'")
            assert cursor.fetchone()[0].endswith("WITHOUT ROWID")
    assert sorted(BlockingKey.objects.values_list("code", "source_record")) == rows
    # Still written and read through the ORM and the services.
    upsert_source_record(system=erp, domain="material", source_key="M4", payload={"name": "FS100"})
    assert BlockingKey.objects.count() > len(rows)


def test_the_upgrade_writes_the_material_blocking_keys_again_with_spelled_codes(erp):
    from importlib import import_module

    from django.apps import apps

    from matching.models import BlockingKey

    migration = import_module("matching.migrations.0008_material_spelled_codes")
    upsert_source_record(
        system=erp, domain="material", source_key="M1", payload={"name": "Earbuds - MDR EX32LP/WHI"}
    )
    spelled = services.blocking_code("material", "code:MDREX32LPWHI")
    BlockingKey.objects.filter(code=spelled).delete()  # as written before the rule

    migration.reindex_materials(apps, None)

    assert BlockingKey.objects.filter(code=spelled).count() == 1
