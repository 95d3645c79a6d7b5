"""bench/generate_parties.py: labelled, noisy customer and supplier files for matching."""

import csv
import subprocess
import sys
from collections import Counter, defaultdict
from itertools import combinations
from pathlib import Path

import pytest

from golden.domains import RecordRejected, get_domain

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "generate_parties.py"
SYSTEMS = ("ERP", "CRM", "LEGACY")
ENTITIES = 300
DOMAINS = ("customer", "supplier")
# Exact keys a matcher could link on; national and tax IDs only mean something per country.
EXACT_KEYS = {
    "customer": ("national_id", "tax_id", "email"),
    "supplier": ("tax_id", "duns", "bank_iban", "email"),
}
IDENTIFIERS = ("national_id", "tax_id", "duns", "bank_iban")


def generate(out, domain, *options, seed=7, entities=ENTITIES):
    command = [
        sys.executable, str(SCRIPT), "--domain", domain, "--entities", str(entities),
        "--seed", str(seed), "--output-dir", str(out), *options,
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, check=False)


def read_csv(path):
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def files(out):
    return {path.name: path.read_bytes() for path in sorted(Path(out).iterdir())}


@pytest.fixture(scope="module", params=DOMAINS)
def generated(request, tmp_path_factory):
    """(domain, {system: rows}, labels, output folder) of one run."""
    domain = request.param
    out = tmp_path_factory.mktemp(domain)
    result = generate(out, domain)
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith("generate_parties: ") and result.stderr.count("\n") == 1
    rows = {system: read_csv(out / f"{domain}-{system}.csv") for system in SYSTEMS}
    labels = read_csv(out / f"{domain}-labels.csv")
    return domain, rows, labels, out


def canonical_rows(domain, rows):
    """Validate every row as the import does; (system, key) -> (canonical values, issues)."""
    validator = get_domain(domain)
    result = {}
    for system, system_rows in rows.items():
        for row in system_rows:
            raw = {name: value for name, value in row.items() if name != "source_key"}
            try:
                validated = validator.validate(raw)
            except RecordRejected as error:
                pytest.fail(f"{system} {row['source_key']} rejected: {error.reason} ({row})")
            result[system, row["source_key"]] = (validated.canonical, validated.issues)
    return result


def key_set(domain, values):
    return {
        (name, values.get("country") if name in ("national_id", "tax_id") else "", values[name])
        for name in EXACT_KEYS[domain]
        if name in values
    }


def test_same_seed_gives_identical_files_and_another_seed_other_files(tmp_path):
    for domain in DOMAINS:
        runs = [tmp_path / f"{domain}-{n}" for n in range(3)]
        for out, seed in zip(runs, (11, 11, 12), strict=True):
            result = generate(out, domain, seed=seed, entities=200)
            assert result.returncode == 0, result.stderr
        first, again, other = (files(out) for out in runs)
        names = [f"{domain}-{name}.csv" for name in (*SYSTEMS, "labels")]
        assert sorted(first) == sorted(names)
        assert first == again
        assert all(first[name] != other[name] for name in names)


def test_header_is_the_key_column_plus_the_domain_attributes(generated):
    domain, _, _, out = generated
    expected = ["source_key", *get_domain(domain).attribute_names]
    for system in SYSTEMS:
        with (out / f"{domain}-{system}.csv").open(encoding="utf-8", newline="") as handle:
            assert next(csv.reader(handle)) == expected


def test_labels_cover_every_row_once_and_keys_are_unique_per_system(generated):
    _, rows, labels, _ = generated
    in_files = Counter((system, row["source_key"]) for system in SYSTEMS for row in rows[system])
    labelled = Counter((label["system"], label["source_key"]) for label in labels)
    assert max(in_files.values()) == 1 and max(labelled.values()) == 1
    assert in_files == labelled
    assert len({label["entity_id"] for label in labels}) == ENTITIES
    assert all(row["source_key"].startswith(("C", "S")) for row in rows["ERP"])
    assert all(row["source_key"].startswith("crm-") for row in rows["CRM"])
    assert all(row["source_key"].isdigit() for row in rows["LEGACY"])


def test_every_row_is_accepted_and_identifiers_stay_valid(generated):
    domain, rows, _, _ = generated
    validated = canonical_rows(domain, rows)
    with_issues = [issues for _, issues in validated.values() if issues]
    assert len(with_issues) <= 0.02 * len(validated)
    assert not [issue for issues in with_issues for issue in issues
                if issue["attribute"] in IDENTIFIERS]  # fmt: skip


def test_duplicates_rarely_share_an_exact_key(generated):
    domain, rows, labels, _ = generated
    validated = canonical_rows(domain, rows)
    by_entity = defaultdict(list)
    for label in labels:
        by_entity[label["entity_id"]].append(validated[label["system"], label["source_key"]][0])
    sizes = Counter(len(records) for records in by_entity.values())
    multi = sum(count for size, count in sizes.items() if size > 1)
    assert 0.3 * ENTITIES <= multi <= 0.7 * ENTITIES  # default --duplicate-rate 0.5
    assert max(sizes) <= 4
    pairs = shared = 0
    for records in by_entity.values():
        for a, b in combinations(records, 2):
            pairs += 1
            shared += bool(key_set(domain, a) & key_set(domain, b))
    assert pairs and 0.05 < shared / pairs < 0.4


def test_distinct_entities_never_share_an_identifier(generated):
    domain, rows, labels, _ = generated
    validated = canonical_rows(domain, rows)
    owner = {}
    for label in labels:
        values = validated[label["system"], label["source_key"]][0]
        for key in key_set(domain, values):
            assert owner.setdefault(key, label["entity_id"]) == label["entity_id"], key


def test_some_duplicates_sit_in_the_same_system(generated):
    _, _, labels, _ = generated
    per_system = Counter((label["entity_id"], label["system"]) for label in labels)
    assert any(count > 1 for count in per_system.values())


def test_hard_non_matches_look_alike(generated):
    """Relatives at one address, namesakes, sister companies: same name or address parts,
    different entities."""
    domain, rows, labels, _ = generated
    entity = {(label["system"], label["source_key"]): label["entity_id"] for label in labels}
    groups = defaultdict(set)
    for system in SYSTEMS:
        for row in rows[system]:
            if domain == "customer" and row["kind"] == "person":
                look = (row["last_name"], row["address_line1"], row["city"])
            else:
                name = row["organization_name"] if domain == "customer" else row["legal_name"]
                look = (name.split()[0] if " " in name else name[:4], row["city"])
            groups[tuple(part.casefold() for part in look)].add(entity[system, row["source_key"]])
    assert sum(len(members) > 1 for members in groups.values()) >= 3


def test_noise_is_visible(generated):
    """Variants differ from the clean record in names, formats and missing values."""
    domain, rows, _, _ = generated
    legacy = rows["LEGACY"]
    assert any(row["country"] and len(row["country"]) != 2 for row in legacy)
    assert sum(not row["email"] for system in SYSTEMS for row in rows[system]) > 20
    names = ("last_name", "organization_name") if domain == "customer" else ("legal_name",)
    assert any(row[name].isupper() for row in legacy for name in names)


def test_other_system_codes_and_option_errors(tmp_path):
    result = generate(tmp_path, "supplier", "--systems", "SAP,SHOP", entities=50)
    assert result.returncode == 0, result.stderr
    assert sorted(files(tmp_path)) == [
        "supplier-SAP.csv",
        "supplier-SHOP.csv",
        "supplier-labels.csv",
    ]
    single = generate(tmp_path / "one", "customer", "--systems", "ERP", entities=50)
    assert single.returncode == 0, single.stderr
    assert len(read_csv(tmp_path / "one" / "customer-ERP.csv")) > 50
    for options in (("--duplicate-rate", "1.5"), ("--systems", "ERP,erp"), ("--systems", "a b")):
        result = generate(tmp_path / "bad", "customer", *options, entities=5)
        assert result.returncode == 2, options
