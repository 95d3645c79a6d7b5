import csv
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from golden.models import ChangeEvent, GoldenRecord, JournalEntry, SourceRecord, SourceSystem
from golden.services import merge_golden_records

from .invariants import assert_invariants
from .payloads import PERSON

HEADER = "source_key,organization_name,tax_id,country,email,phone\n"
ROWS = (
    "1000,Acme GmbH,DE129274202,DE,info@acme.example,030 1234567\n"
    "1001,Bolt Ltd,,GB,sales@bolt.example,\n"
    "1002,ACME Gesellschaft,DE 129 274 202,Germany,,\n"
    "1003,,,,,\n"
)


def run(*args):
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def import_file(path, domain, system, *options):
    return run("import_records", str(path), "--domain", domain, "--system", system, *options)


def state():
    return (
        SourceRecord.objects.count(),
        GoldenRecord.objects.count(),
        ChangeEvent.objects.count(),
        JournalEntry.objects.count(),
        SourceSystem.objects.count(),
    )


@pytest.fixture
def customers(tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text(HEADER + ROWS, encoding="utf-8")
    return path


def test_import_reports_and_writes_rejected_rows_to_the_errors_file(db, customers, tmp_path):
    errors = tmp_path / "errors.csv"

    output = import_file(
        str(customers), "customer", "ERP", "--create-system", "--errors-out", str(errors)
    )

    assert (
        "4 read, 2 created, 0 updated, 0 unchanged, 1 attached, 0 queued for review, 1 rejected"
        in output
    )
    assert SourceRecord.objects.count() == 3
    assert GoldenRecord.objects.count() == 2
    rows = list(csv.DictReader(errors.open(encoding="utf-8")))
    assert len(rows) == 1
    assert rows[0]["row_number"] == "5"
    assert rows[0]["source_key"] == "1003"
    assert "no identifying attribute" in rows[0]["error_reason"]
    assert_invariants()


def test_importing_the_same_file_twice_changes_and_publishes_nothing(db, customers, tmp_path):
    import_file(
        str(customers),
        "customer",
        "ERP",
        "--create-system",
        "--errors-out",
        str(tmp_path / "e1.csv"),
    )
    before = state()

    output = import_file(
        str(customers), "customer", "ERP", "--errors-out", str(tmp_path / "e2.csv")
    )

    assert (
        "4 read, 0 created, 0 updated, 3 unchanged, 0 attached, 0 queued for review, 1 rejected"
        in output
    )
    assert state() == before


def test_fixed_errors_file_imports_as_it_is(db, customers, tmp_path):
    errors = tmp_path / "errors.csv"
    import_file(str(customers), "customer", "ERP", "--create-system", "--errors-out", str(errors))
    text = errors.read_text(encoding="utf-8").replace("1003,,", "1003,Fixed Name AG,")
    errors.write_text(text, encoding="utf-8")

    output = import_file(
        str(errors), "customer", "ERP", "--errors-out", str(tmp_path / "again.csv")
    )

    assert "1 read, 1 created" in output
    assert SourceRecord.objects.get(source_key="1003").canonical["organization_name"] == (
        "Fixed Name AG"
    )


def test_dry_run_writes_nothing(db, customers, tmp_path):
    SourceSystem.objects.create(code="ERP", name="ERP")
    before = state()

    output = import_file(
        str(customers), "customer", "ERP", "--dry-run", "--errors-out", str(tmp_path / "e.csv")
    )

    assert output.startswith("Dry run (nothing written): 4 read, 2 created")
    assert state() == before


def test_json_lines(db, tmp_path):
    path = tmp_path / "materials.jsonl"
    lines = [
        {"source_key": "M-1", "name": "Turntable", "gtin": "012345678905", "net_weight": 4.5},
        {"source_key": "M-2", "name": "Turntable PS-LX350H", "gtin": "0012345678905"},
        "not json",
        {"source_key": "M-3", "name": "Bolt", "colour": "red"},
    ]
    path.write_text(
        "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n"
    )
    errors = tmp_path / "errors.jsonl"

    output = import_file(
        str(path), "material", "WMS", "--create-system", "--errors-out", str(errors)
    )

    assert (
        "4 read, 1 created, 0 updated, 0 unchanged, 1 attached, 0 queued for review, 2 rejected"
        in output
    )
    reported = [json.loads(line) for line in errors.read_text().splitlines()]
    assert [(r["row_number"], r["error_reason"][:14]) for r in reported] == [
        (3, "not valid JSON"),
        (4, "unknown attrib"),
    ]
    assert SourceRecord.objects.get(source_key="M-1").canonical["net_weight"] == "4.5"


def test_duplicate_key_in_one_file_last_wins_and_is_reported(db, tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("source_key,legal_name\nV1,First\nV2,Other\nV1,Second\n")
    errors = tmp_path / "errors.csv"

    output = import_file(
        str(path), "supplier", "PROC", "--create-system", "--errors-out", str(errors)
    )

    assert "1 duplicate keys (last wins)" in output
    assert SourceRecord.objects.get(source_key="V1").canonical["legal_name"] == "Second"
    rows = list(csv.DictReader(errors.open()))
    assert [(r["row_number"], r["legal_name"]) for r in rows] == [("2", "First")]
    assert "also on row 4" in rows[0]["error_reason"]


def test_duplicate_key_across_batches_last_wins(db, tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("source_key,legal_name\nV1,First\nV2,Other\nV1,Second\n")

    import_file(
        str(path),
        "supplier",
        "PROC",
        "--create-system",
        "--batch-size",
        "1",
        "--errors-out",
        str(tmp_path / "e.csv"),
    )

    assert SourceRecord.objects.get(source_key="V1").canonical["legal_name"] == "Second"
    assert_invariants()


def test_row_with_ten_thousand_columns_is_rejected_with_its_row_number(db, tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text("source_key,legal_name\nV1,Ok\n" + ",".join(["x"] * 10_000) + "\nV3,Fine\n")
    errors = tmp_path / "errors.csv"

    output = import_file(
        str(path), "supplier", "PROC", "--create-system", "--errors-out", str(errors)
    )

    assert "3 read, 2 created" in output and "1 rejected" in output
    row = next(csv.DictReader(errors.open()))
    assert row["row_number"] == "3"
    assert row["error_reason"] == "row has 10000 fields, the header has 2"


def _file_error(path, *extra, domain="customer"):
    SourceSystem.objects.get_or_create(code="ERP", defaults={"name": "ERP"})
    before = state()
    with pytest.raises(CommandError) as error:
        import_file(str(path), domain, "ERP", *extra)
    assert state() == before, "a failed file must leave the database as it was"
    message = str(error.value)
    assert "\n" not in message
    return message


def test_missing_key_column(db, tmp_path):
    path = tmp_path / "nokey.csv"
    path.write_text("code,organization_name\n1,Acme\n")

    assert "missing key column 'source_key'" in _file_error(path)
    assert "1 read, 1 created" in import_file(
        str(path),
        "customer",
        "ERP",
        "--key-column",
        "code",
        "--errors-out",
        str(tmp_path / "e.csv"),
    )


def test_wrong_encoding_fails_before_writing_anything(db, tmp_path):
    path = tmp_path / "latin1.csv"
    good_rows = "".join(f"{n},Name {n}\n" for n in range(3000))
    path.write_bytes(
        b"source_key,organization_name\n"
        + good_rows.encode()
        + "9999,Müller AG\n".encode("latin-1")
    )

    message = _file_error(path, "--encoding", "utf-8")

    assert "cannot be decoded as utf-8" in message and "--encoding" in message
    assert "1 created" not in message
    # Detected by default: the first megabyte is not UTF-8, and reads as Latin-1.
    assert "3001 read, 3001 created" in import_file(
        str(path),
        "customer",
        "ERP",
        "--errors-out",
        str(tmp_path / "e.csv"),
    )
    assert SourceRecord.objects.get(source_key="9999").canonical["organization_name"] == "Müller AG"


def test_gbk_encoded_file(db, tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes("source_key,legal_name,country\nV1,北京华信科技有限公司,CN\n".encode("gbk"))

    import_file(
        str(path),
        "supplier",
        "ERP",
        "--create-system",
        "--encoding",
        "gbk",
        "--errors-out",
        str(tmp_path / "e.csv"),
    )

    assert SourceRecord.objects.get().canonical["legal_name"] == "北京华信科技有限公司"


def test_unknown_domain(db, customers):
    assert "unknown domain 'vendor'" in _file_error(customers, domain="vendor")


def test_unknown_column_is_refused_not_dropped(db, tmp_path):
    path = tmp_path / "typo.csv"
    path.write_text("source_key,organization_name,emial\n1,Acme,a@b.example\n")

    assert "unknown column(s) for customer: 'emial'" in _file_error(path)


def test_header_with_ten_thousand_columns(db, tmp_path):
    path = tmp_path / "wide-header.csv"
    path.write_text("source_key," + ",".join(f"c{n}" for n in range(10_000)) + "\n")

    message = _file_error(path)

    assert "10000 unknown column(s)" in message and "and 9992 more" in message


@pytest.mark.parametrize("content", [b"", b"\n\n  \n"])
def test_empty_file(db, tmp_path, content):
    path = tmp_path / "empty.csv"
    path.write_bytes(content)

    assert "the file is empty" in _file_error(path)


def test_binary_file(db, tmp_path):
    path = tmp_path / "picture.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))

    assert "looks like a binary file" in _file_error(path)


def test_broken_quoting_fails_the_file(db, tmp_path):
    path = tmp_path / "quotes.csv"
    path.write_text('source_key,organization_name\n1,Acme\n2,"Bad "quote" here\n')

    assert "line" in _file_error(path)


def test_crlf_bom_and_quoted_newlines(db, tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes(
        "\ufeffsource_key;organization_name;address_line1\r\n"
        '1;"Acme; Co";"Main St 1\r\nBuilding B"\r\n'.encode()
    )

    import_file(
        str(path),
        "customer",
        "ERP",
        "--create-system",
        "--delimiter",
        ";",
        "--errors-out",
        str(tmp_path / "e.csv"),
    )

    record = SourceRecord.objects.get(source_key="1")
    assert record.canonical["organization_name"] == "Acme; Co"
    assert record.canonical["address_line1"] == "Main St 1 Building B"
    assert record.raw_payload["address_line1"] == "Main St 1\r\nBuilding B"


def test_unknown_system_needs_create_system(db, customers):
    with pytest.raises(CommandError, match="unknown source system 'NEW'.*--create-system"):
        import_file(str(customers), "customer", "NEW")
    assert not SourceSystem.objects.exists()


def test_export_xrefs_and_lookup(db, customers, tmp_path):
    import_file(
        str(customers),
        "customer",
        "ERP",
        "--create-system",
        "--errors-out",
        str(tmp_path / "e.csv"),
    )
    acme = SourceRecord.objects.get(source_key="1000").golden_record
    bolt = SourceRecord.objects.get(source_key="1001").golden_record

    exported = run("export_xrefs", "--domain", "customer")
    rows = list(csv.reader(io.StringIO(exported)))
    assert rows[0] == ["global_id", "system", "source_key"]
    assert sorted(rows[1:]) == sorted(
        [
            [acme.global_id, "ERP", "1000"],
            [acme.global_id, "ERP", "1002"],
            [bolt.global_id, "ERP", "1001"],
        ]
    )
    out = tmp_path / "x.jsonl"
    run("export_xrefs", "--domain", "customer", "--format", "jsonl", "--output", str(out))
    assert len(out.read_text().splitlines()) == 3

    by_key = run("lookup", "ERP", "1002", "--domain", "customer")
    assert acme.global_id in by_key and "ERP:1000" in by_key and "ERP:1002" in by_key

    merge_golden_records(survivor=acme, merged=bolt)
    redirected = json.loads(run("lookup", bolt.global_id.lower(), "--json"))
    assert redirected["global_id"] == acme.global_id
    assert redirected["redirect_chain"] == [bolt.global_id, acme.global_id]

    typo = bolt.global_id[:-1] + ("A" if bolt.global_id[-1] != "A" else "B")
    with pytest.raises(CommandError, match="check character does not match"):
        run("lookup", typo)
    with pytest.raises(CommandError, match="no such ID"):
        from golden.global_ids import format_global_id

        run("lookup", format_global_id("CUS", 999_999))
    with pytest.raises(CommandError, match="no customer with key"):
        run("lookup", "ERP", "nope", "--domain", "customer")


def test_validation_in_a_helper_process_gives_the_same_result(db, tmp_path, settings, monkeypatch):
    from golden.importing import load as importing

    pools = []
    original = importing._helper_context
    monkeypatch.setattr(
        importing, "_helper_context", lambda reader: pools.append(original(reader)) or pools[-1]
    )
    path = tmp_path / "many.csv"
    lines = ["source_key,organization_name,tax_id,country,email"]
    for n in range(120):
        tax = "DE129274202" if n % 10 == 0 else ""
        email = f"team{n % 7}@shared.example" if n % 3 == 0 else ""
        name = "" if n == 55 else f"Firm {n}"
        lines.append(f"K{n},{name},{tax},DE,{email}")
    path.write_text("\n".join(lines) + "\nK7,Firm 7 again,,DE,\n")

    def import_with(workers):
        with transaction.atomic():
            result = import_and_read(workers)
            transaction.set_rollback(True)  # each run starts from an empty database
        return result

    def import_and_read(workers):
        settings.MDM_IMPORT_VALIDATION_WORKERS = workers
        settings.MDM_IMPORT_PARALLEL_MIN_BYTES = 0
        output = import_file(
            str(path),
            "customer",
            "ERP",
            "--create-system",
            "--batch-size",
            "16",
            "--errors-out",
            str(tmp_path / f"e{workers}.csv"),
        )
        clusters = {}
        for record in SourceRecord.objects.all():
            clusters.setdefault(record.golden_record_id, set()).add(record.source_key)
        return output.split(";")[0], sorted(sorted(keys) for keys in clusters.values())

    in_process = import_with(0)
    with_helper = import_with(1)

    assert with_helper == in_process
    assert in_process[0].startswith("121 read, ")
    assert in_process[0].endswith(
        ", 1 updated, 0 unchanged, "
        + in_process[0].split(", ")[4]
        + ", "
        + in_process[0].split(", ")[5]
        + ", 1 rejected"
    )
    assert len(in_process[1]) < 119  # identifiers linked records across batches
    assert_invariants()


def test_the_collector_settings_are_restored_after_an_import(db, customers, tmp_path):
    import gc

    before = gc.get_threshold()

    import_file(
        customers, "customer", "ERP", "--create-system", "--errors-out", str(tmp_path / "e")
    )

    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
    assert gc.isenabled()


def test_an_import_collects_reference_cycles_between_batches_not_during_them():
    import gc
    import weakref

    from golden.importing.load import _collector_tuned_for_bulk

    class Node:
        pass

    with _collector_tuned_for_bulk() as collector:
        assert not gc.isenabled()
        node = Node()
        node.itself = node  # freed only by the cycle collector
        gone = weakref.ref(node)
        del node
        allocated = [Node() for _ in range(100_000)]  # enough to set off the collector
        assert gone() is not None
        del allocated
        collector.batch_done()
        assert gone() is None
    assert gc.isenabled()


def test_lookup_and_explain_show_only_what_a_role_may_read(erp, crm, roles):
    from golden.services import upsert_source_record

    first = upsert_source_record(system=erp, domain="customer", source_key="P1", payload=PERSON)
    upsert_source_record(
        system=crm,
        domain="customer",
        source_key="P2",
        payload=PERSON | {"first_name": "Ana", "national_id": "", "birth_date": "1952-07-27"},
    )

    everything = run("lookup", first.global_id)
    assert "RMNFNC52L26B758P" in everything and "1952-07-26" in everything
    as_integration = run("lookup", first.global_id, "--role", "integration")
    assert "Schmidt" in as_integration
    assert "RMNFNC52L26B758P" not in as_integration and "1952-07-26" not in as_integration
    as_json = json.loads(run("lookup", first.global_id, "--json", "--role", "integration"))
    assert "national_id" not in as_json["values"] and "birth_date" not in as_json["values"]
    assert as_json["values"]["last_name"] == "Schmidt"

    # Explanations name levels, never values; with a role, record names are made of
    # the values it may read (here: every name).
    hidden = run("explain", "ERP:P1", "CRM:P2", "--role", "integration")
    assert "1952" not in hidden and "RMNFNC52L26B758P" not in hidden
    assert "birth_date: birth date differs in one digit" in hidden
    assert "ERP:P1 (Anna Schmidt) vs CRM:P2 (Ana Schmidt)" in hidden

    with pytest.raises(CommandError, match="unknown role 'sales'"):
        run("lookup", first.global_id, "--role", "sales")
    with pytest.raises(CommandError, match="unknown role 'sales'"):
        run("explain", "ERP:P1", "CRM:P2", "--role", "sales")
