"""Validation and matching keys computed a step at a time over a whole batch give
exactly what each record gives alone: nothing leaks from one record to the next
(country context, issues, rejections, keys, features)."""

import csv
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from golden.domains import RecordRejected, get_domain
from golden.services.upsert import Outcome, SourceInput, prepare_source_inputs
from matching import services as matching

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "demo"

# Records each rejected for another reason, and records with invalid optional
# values, mixed in among the valid ones.
AWKWARD = {
    "customer": [
        {"kind": "person", "first_name": "Ana", "shoe_size": "38"},  # unknown attribute
        {"kind": "person", "first_name": "Ana\x00"},  # NUL character
        {"kind": "robot", "first_name": "R2"},  # invalid required value
        {"kind": "person", "email": "ana@example.test"},  # no name at all
        {"kind": "person", "last_name": "Silva", "phone": "12", "country": "PT"},
        {"kind": "person", "last_name": "Li", "phone": "020 7946 0018", "country": "GB"},
        {"kind": "person", "last_name": "Li", "phone": "020 7946 0018"},  # no country
        {"kind": "organization", "organization_name": "ACME GmbH", "tax_id": "DE000"},
        {"organization_name": "Muster AG", "country": "DE", "phone": "030 901820"},
    ],
    "supplier": [
        {"legal_name": "Muster AG", "country": "XX"},
        {"trade_name": "no legal name"},
        {"legal_name": "北京华信科技有限公司", "country": "CN", "tax_id": "123"},
    ],
    "material": [
        {"name": "Bolt M8", "gtin": "4006381333931"},
        {"name": "Bolt M8", "gtin": "4006381333933"},
        {"name": "Bolt M8", "colour": "red"},  # unknown attribute
        {"name": "Bolt\x00 M8"},
        {"unit_of_measure": "PCE"},  # no name
    ],
}


def _payloads(domain: str, tmp_path: Path) -> list[dict]:
    if domain == "material":
        files = sorted(DEMO.glob("*_materials.csv"))
    else:
        subprocess.run(
            [sys.executable, str(ROOT / "bench" / "generate_parties.py"), "--domain", domain,
             "--entities", "120", "--seed", "11", "--output-dir", str(tmp_path)],
            check=True, capture_output=True,
        )  # fmt: skip
        files = sorted(tmp_path.glob(f"{domain}-*.csv"))
    records = []
    for path in files:
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                row.pop("source_key", None)
                records.append({name: value for name, value in row.items() if value})
    awkward = AWKWARD[domain]
    for position, payload in enumerate(awkward):  # spread through the batch
        records.insert((position * 37) % len(records), payload)
    return records


def _same(outcome, alone) -> bool:
    if isinstance(alone, RecordRejected):
        return isinstance(outcome, RecordRejected) and (
            (outcome.reason, outcome.attribute, outcome.value)
            == (alone.reason, alone.attribute, alone.value)
        )
    return outcome == alone


@pytest.mark.parametrize("domain_name", ["customer", "supplier", "material"])
def test_a_batch_validates_and_keys_exactly_as_its_records_alone(domain_name, tmp_path):
    domain = get_domain(domain_name)
    payloads = _payloads(domain_name, tmp_path)

    outcomes = domain.validate_many(payloads)
    alone = [domain.validate_many([payload])[0] for payload in payloads]

    assert len(outcomes) == len(payloads)
    assert all(_same(a, b) for a, b in zip(outcomes, alone, strict=True))
    rejected = [outcome for outcome in outcomes if isinstance(outcome, RecordRejected)]
    valid = [outcome for outcome in outcomes if not isinstance(outcome, RecordRejected)]
    assert len(rejected) >= 3 and len(valid) > 50
    assert any(outcome.issues for outcome in valid)  # invalid optional values seen
    for payload, outcome in zip(payloads, outcomes, strict=True):
        if isinstance(outcome, RecordRejected):
            with pytest.raises(RecordRejected) as raised:
                domain.validate(payload)
            assert _same(raised.value, outcome)
        else:
            assert domain.validate(payload) == outcome

    canonicals = [outcome.canonical for outcome in valid]
    many = matching.record_keys_many(domain, canonicals)
    assert many == [matching.record_keys(domain, canonical) for canonical in canonicals]
    assert len({keys.blocking for keys in many}) > len(many) // 2  # not all alike


def test_a_batch_with_repeated_and_unusable_keys_is_prepared_row_by_row():
    person = {"kind": "person", "first_name": "Ana", "last_name": "Silva", "country": "PT"}
    records = [
        SourceInput("A", person),
        SourceInput("  ", person),
        SourceInput("B", {"kind": "robot", "first_name": "R2"}),
        SourceInput("A", person | {"email": "ana@example.test"}),
        SourceInput("C\x00", person),
        SourceInput(" C  ", person | {"phone": "12"}),
    ]

    batch = prepare_source_inputs("customer", records)

    reasons = [result.reason if result else None for result in batch.results]
    assert reasons[0] == "duplicate key 'A': a later record with the same key wins"
    assert reasons[1] == "missing source key"
    assert reasons[2].startswith("required attribute 'kind' is invalid")
    assert reasons[3] is None
    assert reasons[4] == "the source key contains a NUL character"
    assert reasons[5] is None
    assert all(r is None or r.outcome is Outcome.REJECTED for r in batch.results)
    assert list(batch.rows) == ["A", "C"]
    assert batch.rows["A"].index == 3 and batch.rows["A"].canonical["email"] == "ana@example.test"
    assert batch.rows["C"].issues and batch.rows["C"].issues[0]["attribute"] == "phone"
    alone = prepare_source_inputs("customer", [records[5]]).rows["C"]
    assert (alone.canonical, alone.issues, alone.digest, alone.keys) == (
        batch.rows["C"].canonical,
        batch.rows["C"].issues,
        batch.rows["C"].digest,
        batch.rows["C"].keys,
    )


@pytest.mark.parametrize("domain_name", ["customer", "material"])
def test_a_prepared_batch_survives_pickling_row_for_row(domain_name, tmp_path):
    """Batches cross from the importer's helper process to the writer pickled column
    by column: every row comes back whole, in order, with its rejections."""
    payloads = _payloads(domain_name, tmp_path)
    records = [SourceInput(f"K{index % 150}", payload) for index, payload in enumerate(payloads)]
    batch = prepare_source_inputs(domain_name, records)

    copy = pickle.loads(pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL))

    assert list(copy.rows) == list(batch.rows)
    assert copy == batch  # dataclass equality: every field of every row and result
    assert [r.reason if r else None for r in copy.results] == [
        r.reason if r else None for r in batch.results
    ]
    assert any(result is not None for result in copy.results)


def test_a_batch_being_written_is_not_pickled():
    batch = prepare_source_inputs(
        "customer", [SourceInput("A", {"kind": "person", "last_name": "Li"})]
    )
    batch.rows["A"].record = object()
    with pytest.raises(TypeError, match="being written"):
        pickle.dumps(batch)
