"""The filters of blocking codes and identity keys on file that a bulk load uses to
skip index lookups (``matching.services.bulk_load``): they never hide a code that is
on file, also after another connection commits, and an import gives the same
clusters with them as without them."""

import contextlib
import io
import random
import sqlite3

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from golden.models import SourceRecord
from golden.services import upsert_source_record
from matching import services
from matching.models import BlockingKey, MatchKey

from .generated import customer_file

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="the filter is used on SQLite only"
)


def customer(system, key, **values):
    payload = {"kind": "person", "country": "DE", **values}
    return upsert_source_record(system=system, domain="customer", source_key=key, payload=payload)


def codes_of(key):
    record = SourceRecord.objects.get(source_key=key)
    return set(BlockingKey.objects.filter(source_record=record).values_list("code", flat=True))


def kept_codes(filters, codes):
    return filters.worth_looking_up("customer", set(), codes)[1]


def kept_keys(filters, domain, keys):
    return filters.worth_looking_up(domain, keys, set())[0]


def unknown_codes(count, seed=1):
    generator = random.Random(seed)
    return {generator.getrandbits(63) for _ in range(count)}


def test_sqlite_reports_commits_of_other_connections_only(tmp_path):
    """The property the filter relies on: ``PRAGMA data_version`` changes for a
    connection exactly when another connection has committed."""
    path = tmp_path / "versions.sqlite3"
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("CREATE TABLE t (x)")
    other = sqlite3.connect(path, isolation_level=None)

    def version():
        return writer.execute("PRAGMA data_version").fetchone()[0]

    start = version()
    writer.execute("INSERT INTO t VALUES (1)")
    assert version() == start  # its own commit
    other.execute("PRAGMA wal_checkpoint(PASSIVE)")
    assert version() == start  # a checkpoint changes no data
    other.execute("SELECT count(*) FROM t").fetchone()
    assert version() == start
    other.execute("INSERT INTO t VALUES (2)")
    assert version() != start


def test_filters_keep_every_code_and_key_on_file_and_drop_nearly_all_others(erp):
    customer(erp, "C1", first_name="Anna", last_name="Berg", email="anna@example.com")
    customer(erp, "C2", organization_name="Acme GmbH", kind="organization", city="Berlin")
    on_file = set(BlockingKey.objects.values_list("code", flat=True))
    assert on_file
    unknown = unknown_codes(5_000) - on_file

    with services.bulk_load(expected_codes=10_000) as codes, transaction.atomic():
        kept = kept_codes(codes, on_file | unknown)
        assert on_file <= kept
        assert len(kept & unknown) < 250  # a 1 % false-positive rate: about 50

        keys = set(MatchKey.objects.values_list("key", flat=True))
        assert keys and kept_keys(codes, "customer", keys) == keys
        assert kept_keys(codes, "supplier", keys) == set()  # per domain
        assert kept_keys(codes, "customer", {"email:nobody@example.com"}) == set()

        # Codes and keys the load writes are known at once, without a rebuild.
        customer(erp, "C3", first_name="Carl", last_name="Dahl", email="carl@example.com")
        written = codes_of("C3")
        assert written and kept_codes(codes, written) == written
        new_keys = set(
            MatchKey.objects.filter(source_record__source_key="C3").values_list("key", flat=True)
        )
        assert new_keys and kept_keys(codes, "customer", new_keys) == new_keys
        assert codes.rebuilds == 0


def test_a_commit_by_another_connection_rebuilds_the_filter_then_gives_it_up(erp, monkeypatch):
    versions = iter([7, 7, 8, 9, 10, 11])
    monkeypatch.setattr(
        services._CodesOnFile, "_data_version", staticmethod(lambda cursor: next(versions))
    )
    customer(erp, "C1", first_name="Anna", last_name="Berg", email="anna@example.com")
    record = SourceRecord.objects.get(source_key="C1")
    foreign = 123_456_789  # as if written by another process: not through this load

    with services.bulk_load(expected_codes=1_000) as codes, transaction.atomic():
        assert kept_codes(codes, {foreign}) == set()  # built at version 7
        BlockingKey.objects.create(code=foreign, source_record=record)
        assert kept_codes(codes, {foreign}) == set()  # still 7: nobody else committed
        assert kept_codes(codes, {foreign}) == {foreign}  # 8: built again, sees it
        assert codes.rebuilds == 1
        kept_codes(codes, {1})  # 9
        kept_codes(codes, {1})  # 10
        # A fourth change in one load: concurrent writers; every code is looked up.
        everything = unknown_codes(100)
        assert kept_codes(codes, everything) == everything
        assert codes.given_up


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_or_a_load_every_code_is_looked_up():
    everything = unknown_codes(100)
    with services.bulk_load(expected_codes=1_000) as codes:
        assert kept_codes(codes, everything) == everything  # autocommit: no lock held
    assert services._worth_looking_up("customer", set(), everything) == (set(), everything)


def test_an_import_gives_the_same_clusters_with_and_without_the_filter(
    tmp_path, monkeypatch, settings, db
):
    source = tmp_path / "customers.csv"
    customer_file(source, rows=2500, seed=5, duplicate_rate=0.3)
    settings.MDM_IMPORT_BATCH_SIZE = 300

    def imported() -> set[frozenset]:
        with transaction.atomic():
            call_command(
                "import_records", str(source), "--domain", "customer", "--system", "LEGACY",
                "--create-system", stdout=io.StringIO(),
            )  # fmt: skip
            groups: dict[int, set] = {}
            for golden, key in SourceRecord.objects.values_list("golden_record_id", "source_key"):
                groups.setdefault(golden, set()).add(key)
            transaction.set_rollback(True)
        return {frozenset(keys) for keys in groups.values()}

    filtered = imported()
    looked_up = []
    real = services._CodesOnFile.worth_looking_up

    def counting(self, domain, keys, codes):
        kept = real(self, domain, keys, codes)
        looked_up.append((len(codes), len(kept[1])))
        return kept

    monkeypatch.setattr(services._CodesOnFile, "worth_looking_up", counting)
    assert imported() == filtered
    asked, kept = map(sum, zip(*looked_up, strict=True))
    assert kept < asked / 2  # most codes of new customers are on file under no one

    monkeypatch.setattr(services, "bulk_load", lambda expected_codes: contextlib.nullcontext())
    unfiltered = imported()
    assert unfiltered == filtered
    assert sum(len(keys) > 1 for keys in filtered) > 400  # duplicates were linked


def test_a_load_does_without_the_filters_when_they_would_be_too_large(erp, monkeypatch):
    customer(erp, "C1", first_name="Anna", last_name="Berg", email="anna@example.com")
    monkeypatch.setattr(services, "CODE_FILTER_MAX_ENTRIES", 5_000)
    everything = unknown_codes(100)
    with services.bulk_load(expected_codes=10_000) as codes, transaction.atomic():
        assert kept_codes(codes, everything) == everything
        assert codes.given_up and codes.codes is None
