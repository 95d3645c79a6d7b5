"""import_crosswalk: legacy mapping tables put pairs of records into one golden record
as stewards' decisions that matching keeps."""

import csv
import io
import json
import re

import pytest
from django.core.management import CommandError, call_command

from golden.domains import get_domain
from golden.models import ChangeEvent, GoldenRecord, JournalEntry, SourceRecord
from golden.services import upsert_source_record
from matching import reviews, services
from matching.models import ReviewItem

from .invariants import assert_invariants, partition

TAX_A = "DE129274202"
TAX_B = "DE129274219"
ONE_PARTNER = "a key may be mapped to one partner only"


def put(system, key, **values):
    return upsert_source_record(system=system, domain="customer", source_key=key, payload=values)


def record(code, key):
    return SourceRecord.objects.get(system__code=code, source_key=key)


def crosswalk(path, *options, left="ERP", right="CRM", domain="customer"):
    out = io.StringIO()
    call_command(
        "import_crosswalk",
        str(path),
        "--left",
        left,
        "--right",
        right,
        "--domain",
        domain,
        *options,
        stdout=out,
        stderr=io.StringIO(),
    )
    # The run time varies; everything else is exact.
    return re.sub(r"; \d+\.\d\d s", "", out.getvalue())


def write(tmp_path, text, name="map.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def errors_of(path):
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def state():
    return (
        partition(),
        JournalEntry.objects.count(),
        ChangeEvent.objects.count(),
        list(GoldenRecord.objects.order_by("pk").values_list("pk", "status", "version")),
        list(
            ReviewItem.objects.order_by("pk").values_list(
                "record_a", "record_b", "status", "note", "decided_at", "updated_at"
            )
        ),
    )


@pytest.fixture
def apart(erp, crm):
    """Two records of two systems that matching keeps apart: nothing alike."""
    first = put(erp, "A1", organization_name="Acme GmbH", country="DE", city="Berlin")
    second = put(crm, "B1", organization_name="Zebra Foods Ltd", country="GB", city="Leeds")
    assert first.global_id != second.global_id
    return first, second


def test_a_pair_merges_the_golden_records_of_two_systems(apart, tmp_path):
    first, second = apart
    path = write(tmp_path, "ERP,CRM\nA1,B1\n")

    output = crosswalk(path)

    assert output == (
        "1 read, 1 merged, 0 already linked, 0 rejected, 0 conflicts, 0 repeated; "
        f"1 steward links recorded\nErrors file: {tmp_path / 'map.errors.csv'}\n"
    )
    # The older golden record survives, as when a steward merges a review item.
    assert partition() == {first.global_id: [("CRM", "B1"), ("ERP", "A1")]}
    assert GoldenRecord.objects.get(global_id=second.global_id).merged_into.global_id == (
        first.global_id
    )
    merge = JournalEntry.objects.get(action="merge", global_id=first.global_id)
    assert (merge.actor_label, merge.reason) == ("crosswalk:map.csv", "crosswalk map.csv row 2")
    item = ReviewItem.objects.get()
    assert (item.record_a, item.record_b) == (record("ERP", "A1"), record("CRM", "B1"))
    assert (item.status, item.note, item.domain) == (
        "merged",
        "crosswalk map.csv row 2",
        "customer",
    )
    assert item.decided_at is not None
    model = services.current_model(get_domain("customer"))
    assert (item.fingerprint_a, item.fingerprint_b) == (
        services.fingerprint(model, record("ERP", "A1").canonical),
        services.fingerprint(model, record("CRM", "B1").canonical),
    )
    # The pair's own score stays on the item: a steward sees they look nothing alike.
    assert item.probability < 0.01
    assert reviews.forced_links(get_domain("customer")) == {
        record("ERP", "A1").pk: {record("CRM", "B1").pk},
        record("CRM", "B1").pk: {record("ERP", "A1").pk},
    }
    assert errors_of(tmp_path / "map.errors.csv") == [
        ["row_number", "error_column", "error_value", "error_reason", "ERP", "CRM"]
    ]
    assert_invariants()


def test_a_pair_already_in_one_golden_record_is_recorded_without_a_merge(erp, crm, tmp_path):
    first = put(erp, "A1", organization_name="Acme GmbH", tax_id=TAX_A, country="DE")
    second = put(crm, "B1", organization_name="ACME Gesellschaft", tax_id=TAX_A, country="DE")
    assert first.global_id == second.global_id
    journal = JournalEntry.objects.count()

    output = crosswalk(write(tmp_path, "ERP,CRM\nA1,B1\n"))

    assert output.startswith(
        "1 read, 0 merged, 1 already linked, 0 rejected, 0 conflicts, 0 repeated; "
        "1 steward links recorded\n"
    )
    assert JournalEntry.objects.count() == journal
    item = ReviewItem.objects.get()
    assert (item.status, item.note) == ("merged", "crosswalk map.csv row 2")


def test_a_pending_review_item_of_the_pair_becomes_a_merged_decision(apart, tmp_path):
    a, b = record("ERP", "A1"), record("CRM", "B1")
    domain = get_domain("customer")
    reviews.queue(domain, services.current_model(domain), [(a.pk, b.pk, 0.7, [])])

    crosswalk(write(tmp_path, "ERP,CRM\nA1,B1\n"))

    item = ReviewItem.objects.get()
    assert (item.status, item.probability, item.note) == (
        "merged",
        0.7,
        "crosswalk map.csv row 2",
    )
    assert len(partition()) == 1


def test_keys_missing_or_not_on_file_are_reported_with_their_row_numbers(apart, tmp_path):
    path = write(tmp_path, "ERP,CRM,comment\nA1,B404,typo\n,B1,no left key\n=1+2,B1,x\n")
    errors = tmp_path / "rejected.csv"
    before = SourceRecord.objects.count()

    output = crosswalk(path, "--errors-out", str(errors))

    assert output.startswith("3 read, 0 merged, 0 already linked, 3 rejected, 0 conflicts")
    assert errors_of(errors) == [
        ["row_number", "error_column", "error_value", "error_reason", "ERP", "CRM", "comment"],
        [
            "2",
            "CRM",
            "B404",
            "no customer record of CRM has key 'B404' (a crosswalk creates no records: "
            "import them first)",
            "A1",
            "B404",
            "typo",
        ],
        ["3", "ERP", "", "no ERP key", "", "B1", "no left key"],
        [
            "4",
            "ERP",
            "'=1+2",
            "no customer record of ERP has key '=1+2' (a crosswalk creates no records: "
            "import them first)",
            "'=1+2",
            "B1",
            "x",
        ],
    ]
    assert SourceRecord.objects.count() == before
    assert len(partition()) == 2


def test_a_key_mapped_to_two_partners_rejects_every_row_of_the_key(erp, crm, tmp_path):
    for key, name in (("A1", "Acme GmbH"), ("A2", "Bolt AG")):
        put(erp, key, organization_name=name, country="DE")
    for key, name in (
        ("B1", "Zebra Foods"),
        ("B2", "Yak Tools"),
        ("B3", "Bolt Aktiengesellschaft"),
    ):
        put(crm, key, organization_name=name, country="GB")
    before = partition()
    path = write(tmp_path, "ERP;CRM\nA1;B1\nA1;B2\nA2;B3\n")

    output = crosswalk(path)

    assert output.startswith("3 read, 1 merged, 0 already linked, 0 rejected, 2 conflicts")
    reasons = [row[:4] for row in errors_of(tmp_path / "map.errors.csv")[1:]]
    assert reasons == [
        ["2", "ERP", "A1", "ERP key A1 is also mapped to CRM key B2 (row 3); " + ONE_PARTNER],
        ["3", "ERP", "A1", "ERP key A1 is also mapped to CRM key B1 (row 2); " + ONE_PARTNER],
    ]
    after = partition()
    assert len(after) == len(before) - 1
    assert [("CRM", "B3"), ("ERP", "A2")] in after.values()
    for key in ("A1", "B1", "B2"):
        assert (
            len(record("ERP" if key[0] == "A" else "CRM", key).golden_record.source_records.all())
            == 1
        )
    assert ReviewItem.objects.count() == 1


def test_a_binding_not_a_match_decision_is_respected(apart, tmp_path):
    a, b = record("ERP", "A1"), record("CRM", "B1")
    domain = get_domain("customer")
    reviews.queue(domain, services.current_model(domain), [(a.pk, b.pk, 0.7, [])])
    reviews.decide(ReviewItem.objects.get(), merge=False)
    before = state()

    output = crosswalk(write(tmp_path, "ERP,CRM\nA1,B1\n"))

    assert output.startswith("1 read, 0 merged, 0 already linked, 0 rejected, 1 conflicts")
    assert errors_of(tmp_path / "map.errors.csv")[1][:4] == [
        "2",
        "",
        "",
        "a steward declared ERP:A1 and CRM:B1 not a match; the pair would put them into one "
        "golden record",
    ]
    assert state() == before


def test_a_not_a_match_with_another_member_of_the_golden_record_is_respected(
    erp, crm, legacy, tmp_path
):
    put(erp, "A1", organization_name="Acme GmbH", tax_id=TAX_A, country="DE")
    put(legacy, "L1", organization_name="Acme", tax_id=TAX_A, country="DE")
    put(crm, "B1", organization_name="Zebra Foods Ltd", country="GB")
    b, other = record("CRM", "B1"), record("LEGACY", "L1")
    domain = get_domain("customer")
    reviews.queue(domain, services.current_model(domain), [(b.pk, other.pk, 0.7, [])])
    reviews.decide(ReviewItem.objects.get(), merge=False)

    output = crosswalk(write(tmp_path, "ERP,CRM\nA1,B1\n"))

    assert "1 conflicts" in output
    assert errors_of(tmp_path / "map.errors.csv")[1][3] == (
        "a steward declared LEGACY:L1 and CRM:B1 not a match; the pair would put them into one "
        "golden record"
    )
    assert len(partition()) == 2


def test_golden_records_with_different_tax_ids_are_not_merged(erp, crm, tmp_path):
    first = put(erp, "A1", organization_name="Acme GmbH", tax_id=TAX_A, country="DE")
    second = put(crm, "B1", organization_name="Acme GmbH", tax_id=TAX_B, country="DE")
    assert first.global_id != second.global_id
    before = state()

    output = crosswalk(write(tmp_path, "ERP,CRM\nA1,B1\n"))

    assert output.startswith("1 read, 0 merged, 0 already linked, 0 rejected, 1 conflicts")
    assert errors_of(tmp_path / "map.errors.csv")[1][3] == (
        f"{first.global_id} (ERP:A1) and {second.global_id} (CRM:B1) carry different tax_id"
    )
    assert state() == before


def test_rematch_never_splits_a_crosswalk_pair(erp, crm, tmp_path):
    # A1 and B1 are together through a shared e-mail address, which B1 then loses:
    # on their own, matching would part them.
    put(erp, "A1", organization_name="Acme GmbH", email="info@acme.example", country="DE")
    put(crm, "B1", organization_name="Zebra Foods Ltd", email="info@acme.example", country="GB")
    put(crm, "B1", organization_name="Zebra Foods Ltd", country="GB")
    put(erp, "A2", organization_name="Bolt AG", country="DE")
    put(crm, "B2", organization_name="Yak Tools Ltd", country="GB")
    out = io.StringIO()
    call_command("rematch", "--domain", "customer", "--dry-run", stdout=out)
    assert "would split: 1" in out.getvalue()
    crosswalk(write(tmp_path, "ERP,CRM\nA1,B1\nA2,B2\n"))
    together = partition()
    assert len(together) == 2

    out = io.StringIO()
    call_command("rematch", "--domain", "customer", stdout=out)

    assert "will split: 0" in out.getvalue()
    assert partition() == together
    assert_invariants()


def test_dry_run_changes_nothing(apart, erp, crm, tmp_path):
    put(erp, "A2", organization_name="Bolt AG", tax_id=TAX_A, country="DE")
    put(crm, "B2", organization_name="Bolt", tax_id=TAX_A, country="DE")
    before = state()

    output = crosswalk(write(tmp_path, "ERP,CRM\nA1,B1\nA2,B2\nA1,B9\n"), "--dry-run")

    assert output.startswith(
        "Dry run (nothing written): 3 read, 0 merged, 1 already linked, 0 rejected, "
        "2 conflicts, 0 repeated; 1 steward links recorded\n"
    )
    output = crosswalk(write(tmp_path, "ERP,CRM\nA1,B1\nA2,B2\n"), "--dry-run")
    assert output.startswith("Dry run (nothing written): 2 read, 1 merged, 1 already linked")
    assert state() == before


def test_the_same_file_again_links_nothing_new_and_publishes_nothing(apart, erp, crm, tmp_path):
    put(erp, "A2", organization_name="Bolt AG", tax_id=TAX_A, country="DE")
    put(crm, "B2", organization_name="Bolt", tax_id=TAX_A, country="DE")
    path = write(tmp_path, "ERP,CRM\nA1,B1\nA2,B2\n")
    assert crosswalk(path).startswith("2 read, 1 merged, 1 already linked")
    before = state()

    output = crosswalk(path)

    assert output.startswith(
        "2 read, 0 merged, 2 already linked, 0 rejected, 0 conflicts, 0 repeated; "
        "0 steward links recorded\n"
    )
    assert state() == before


def test_a_missing_column_is_one_line_and_changes_nothing(apart, tmp_path):
    path = write(tmp_path, "ERP,crm_code\nA1,B1\n")
    before = state()

    with pytest.raises(CommandError) as error:
        crosswalk(path)

    assert str(error.value) == (
        f"{path}: missing column for the CRM keys: 'CRM' or 'right_key' "
        "(header: 'ERP', 'crm_code'); name it with --right-column"
    )
    assert state() == before
    assert not (tmp_path / "map.errors.csv").exists()
    assert crosswalk(path, "--right-column", "CRM_CODE").startswith("1 read, 1 merged")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"ERP,CRM\nA1,B1\n\x00\x01\x02", "looks like a binary file"),
        ("ERP,CRM\nA1,Müller\n".encode("latin-1"), "cannot be decoded as utf-8"),
        (b'ERP,CRM\nA1,"B1\n', "unexpected end of data"),
    ],
)
def test_a_file_that_cannot_be_read_changes_nothing(apart, tmp_path, content, message):
    path = tmp_path / "map.csv"
    path.write_bytes(content)
    before = state()

    with pytest.raises(CommandError, match=message) as error:
        crosswalk(path, "--encoding", "utf-8")

    assert "\n" not in str(error.value)
    assert state() == before


def test_unknown_system_or_domain_is_one_line(apart, tmp_path):
    path = write(tmp_path, "ERP,CRM\nA1,B1\n")

    with pytest.raises(CommandError, match=r"^unknown source system 'WMS' \(known: CRM, ERP\)$"):
        crosswalk(path, right="wms")
    with pytest.raises(CommandError, match="unknown domain"):
        crosswalk(path, domain="vendor")
    with pytest.raises(CommandError, match="name the same system"):
        crosswalk(path, right="ERP")


def test_json_lines_with_left_key_and_right_key(apart, erp, crm, tmp_path):
    put(erp, "1000", organization_name="Bolt AG", country="DE")
    put(crm, "C-7", organization_name="Yak Tools Ltd", country="GB")
    lines = [
        json.dumps({"left_key": "A1", "right_key": "B1", "since": "2019"}),
        "not json",
        json.dumps({"left_key": 1000, "right_key": "C-7"}),
        json.dumps({"left_key": "A1", "right_key": "B1"}),
        json.dumps({"left_key": ["A3"], "right_key": "B3"}),
    ]
    path = write(tmp_path, "\n".join(lines) + "\n", name="map.jsonl")

    output = crosswalk(path)

    assert output.startswith(
        "5 read, 2 merged, 0 already linked, 2 rejected, 0 conflicts, 1 repeated"
    )
    header, *rows = errors_of(tmp_path / "map.errors.csv")
    assert header[4:] == ["left_key", "right_key", "json"]
    assert rows == [
        ["2", "", "", "not valid JSON: Expecting value", "", "", "not json"],
        ["4", "", "", "the same pair as row 1", "A1", "B1", lines[3]],
        [
            "5",
            "left_key",
            "['A3']",
            "a key must be text or a whole number",
            "['A3']",
            "B3",
            lines[4],
        ],
    ]
    assert len(partition()) == 2


@pytest.mark.parametrize("batch_size", ["1", "500"])
def test_pairs_that_chain_end_in_one_golden_record(erp, crm, tmp_path, batch_size):
    put(erp, "A1", organization_name="Acme GmbH", country="DE")
    put(erp, "A2", organization_name="Bolt AG", email="info@bolt.example", country="DE")
    put(crm, "B1", organization_name="Zebra Foods", email="info@bolt.example", country="GB")
    put(crm, "B2", organization_name="Yak Tools Ltd", country="GB")
    assert len(partition()) == 3

    output = crosswalk(write(tmp_path, "erp\tcrm\nA1\tB1\nA2\tB2\n"), "--batch-size", batch_size)

    assert output.startswith("2 read, 2 merged, 0 already linked")
    assert list(partition().values()) == [
        [("CRM", "B1"), ("CRM", "B2"), ("ERP", "A1"), ("ERP", "A2")]
    ]
    assert_invariants()


def test_an_errors_file_fixed_by_hand_loads_as_it_is(apart, tmp_path):
    path = write(tmp_path, "ERP,CRM\nA1,B2\n")
    crosswalk(path)
    errors = tmp_path / "map.errors.csv"
    errors.write_text(errors.read_text(encoding="utf-8").replace("A1,B2", "A1,B1"))

    output = crosswalk(errors)

    assert output.startswith("1 read, 1 merged")


def test_a_legacy_export_in_latin_1_with_semicolons_is_detected(erp, crm, tmp_path):
    put(erp, "MÜLLER-1", organization_name="Müller GmbH", country="DE")
    put(crm, "C-7", organization_name="Zebra Foods Ltd", country="GB")
    path = tmp_path / "map.csv"
    path.write_bytes("alt;neu;Bemerkung\nMÜLLER-1;C-7;übernommen\n".encode("latin-1"))

    output = crosswalk(path, "--left-column", "ALT", "--right-column", "Neu")

    assert output.startswith("1 read, 1 merged")
    assert list(partition().values()) == [[("CRM", "C-7"), ("ERP", "MÜLLER-1")]]


def test_a_retired_record_of_a_pair_rejoins_its_partner_when_it_returns(apart, erp, tmp_path):
    from golden.services import retire_source_record

    first, _ = apart
    crosswalk(write(tmp_path, "ERP,CRM\nA1,B1\n"))
    retire_source_record(source_record=record("ERP", "A1"))
    assert partition() == {first.global_id: [("CRM", "B1")]}

    back = put(erp, "A1", organization_name="Acme GmbH", country="DE", city="Berlin")

    assert back.outcome == "updated"
    assert back.global_id == first.global_id
    assert [item["comparison"] for item in back.explanation] == ["steward"]
    assert partition() == {first.global_id: [("CRM", "B1"), ("ERP", "A1")]}
    assert_invariants()
