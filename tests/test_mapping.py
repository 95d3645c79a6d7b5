"""Mapping profiles: every transform, profile validation, and imports of files whose
columns are not attribute names (CSV, Excel, JSON Lines), profiles stored per system
and reused by name, the admin form."""

import csv
import datetime as dt
import json

import pytest
import yaml
from django.core.management import CommandError
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from golden.admin_imports import MappingProfileForm
from golden.domains import get_domain
from golden.importing import (
    MappingError,
    MappingRowError,
    MappingSpec,
    parse_mapping,
    resolve_mapping,
)
from golden.models import MappingProfile, SourceRecord, SourceSystem

from .test_commands import _file_error, import_file, state

CUSTOMER = get_domain("customer")

PROFILE = """\
name: erp-kunden
description: Kundenstamm aus dem ERP
domain: customer
key: Kundennr
attributes:
  kind: {constant: person}
  first_name: Vorname
  last_name: {column: Nachname}
  birth_date: {column: Geb.datum, date_format: "%d.%m.%Y"}
  country:
    column: Land
    map: {Deutschland: DE, Österreich: AT, Schweiz: CH}
    ignore_case: true
  postal_code: {split: PLZ Ort, index: 0}
  city: {split: PLZ Ort, maxsplit: 1, index: 1}
  phone: Telefon
  email: {column: E-Mail, lower: true}
"""

GERMAN = (
    "Kundennr;Vorname;Nachname;Geb.datum;Land;PLZ Ort;Telefon;E-Mail;Notiz\n"
    "1000123;Max;Mustermann;17.05.1980;Deutschland;10115 Berlin;030 1234567;"
    "Max.Mustermann@Example.DE;Stammkunde\n"
    "1000124; Erika ;Müller;03.11.1975;ÖSTERREICH;8010 Graz;;;\n"
    "1000125;Hans;Schmidt;31.02.1980;Schweiz;60311 Frankfurt am Main;;;\n"
    "1000126;;;01.01.1990;Deutschland;;;;kein Name\n"
)


def rule_value(rule, row, attribute="first_name"):
    mapping = parse_mapping({"key": "K", "attributes": {attribute: rule}}, CUSTOMER)
    return mapping.apply({"K": "1", **row})[1][attribute]


@pytest.mark.parametrize(
    ("rule", "row", "expected"),
    [
        # column: a name, or {column: ...}; trimmed unless trim: false
        ("Vorname", {"Vorname": "  Max "}, "Max"),
        ({"column": "Vorname"}, {"Vorname": "Max"}, "Max"),
        ({"column": "Vorname", "trim": False}, {"Vorname": "  Max "}, "  Max "),
        ("Vorname", {}, ""),
        ("Vorname", {"Vorname": None}, ""),
        # numbers and booleans of JSON Lines read as text
        ("Nr", {"Nr": 1000123}, "1000123"),
        ("Nr", {"Nr": 12.0}, "12"),
        ("Nr", {"Nr": 1.5}, "1.5"),
        ("Nr", {"Nr": True}, "true"),
        # concat: empty parts are left out
        ({"concat": ["Vorname", "Nachname"]}, {"Vorname": "Max", "Nachname": "Muster"},
         "Max Muster"),
        ({"concat": ["A", "B", "C"], "separator": "-"}, {"A": "1", "B": " ", "C": "3"}, "1-3"),
        ({"concat": ["A", "B"], "separator": ""}, {"A": "x", "B": "y"}, "xy"),
        ({"concat": ["A", "B"], "trim": False}, {"A": " x", "B": "y "}, " x y "),
        # split: 0-based index, negative from the end, on whitespace unless a separator
        ({"split": "Name"}, {"Name": "Max  Peter Muster"}, "Max"),
        ({"split": "Name", "index": -1}, {"Name": "Max  Peter Muster"}, "Muster"),
        ({"split": "Name", "index": 5}, {"Name": "Max Muster"}, ""),
        ({"split": "Name", "separator": ",", "index": 1}, {"Name": "Muster, Max"}, "Max"),
        ({"split": "Name", "separator": ",", "index": 1, "trim": False},
         {"Name": "Muster, Max"}, " Max"),
        ({"split": "Ort", "maxsplit": 1, "index": 1}, {"Ort": "60311 Frankfurt am Main"},
         "Frankfurt am Main"),
        # constant
        ({"constant": "Anna"}, {"Vorname": "Max"}, "Anna"),
        ({"constant": 7}, {}, "7"),
        # map: exact, ignore_case, default, unmapped values pass through, blanks stay blank
        ({"column": "A", "map": {"M": "Max"}}, {"A": "M"}, "Max"),
        ({"column": "A", "map": {"M": "Max"}}, {"A": "m"}, "m"),
        ({"column": "A", "map": {"M": "Max"}, "ignore_case": True}, {"A": "m"}, "Max"),
        ({"column": "A", "map": {"M": "Max"}}, {"A": "X"}, "X"),
        ({"column": "A", "map": {"M": "Max"}, "default": "Anna"}, {"A": "X"}, "Anna"),
        ({"column": "A", "map": {"M": "Max"}, "default": "Anna"}, {"A": ""}, ""),
        ({"column": "A", "map": {"": "Leer"}}, {"A": "  "}, "Leer"),
        ({"column": "A", "map": {"-": None}}, {"A": "-"}, ""),
        ({"column": "A", "map": {1: "Eins"}}, {"A": "1"}, "Eins"),
        ({"concat": ["A", "B"], "map": {"a b": "AB"}}, {"A": "a", "B": "b"}, "AB"),
        ({"split": "A", "index": 1, "map": {"x": "X-Ray"}}, {"A": "w x"}, "X-Ray"),
        # upper and lower, after the map
        ({"column": "A", "upper": True}, {"A": "müller"}, "MÜLLER"),
        ({"column": "A", "lower": True}, {"A": "MÜLLER"}, "müller"),
        ({"column": "A", "map": {"m": "max"}, "upper": True}, {"A": "m"}, "MAX"),
    ],
)  # fmt: skip
def test_value_transforms(rule, row, expected):
    assert rule_value(rule, row) == expected


@pytest.mark.parametrize(
    ("rule", "cell", "expected"),
    [
        ({"column": "D", "date_format": "%d.%m.%Y"}, "17.05.1980", "1980-05-17"),
        ({"column": "D", "date_format": "%d.%m.%Y"}, "7.5.1980", "1980-05-07"),
        ({"column": "D", "date_format": "%d.%m.%y"}, "17.05.80", "1980-05-17"),
        ({"column": "D", "date_format": "%m/%d/%Y"}, "05/17/1980", "1980-05-17"),
        ({"column": "D", "date_format": "%Y%m%d"}, "19800517", "1980-05-17"),
        ({"column": "D", "date_format": ["%d.%m.%Y", "%d/%m/%Y"]}, "17/05/1980", "1980-05-17"),
        # already ISO (as Excel date cells read): kept
        ({"column": "D", "date_format": "%d.%m.%Y"}, "1980-05-17", "1980-05-17"),
        ({"column": "D", "date_format": "%d.%m.%Y"}, "", ""),
        # not in the format: the text is passed on for validation to judge
        ({"column": "D", "date_format": "%d.%m.%Y"}, "31.02.1980", "31.02.1980"),
        ({"column": "D", "date_format": "%d.%m.%Y"}, "unbekannt", "unbekannt"),
        ({"column": "D", "map": {"?": ""}, "date_format": "%d.%m.%Y"}, "?", ""),
    ],
)
def test_date_formats(rule, cell, expected):
    assert rule_value(rule, {"D": cell}, attribute="birth_date") == expected


@pytest.mark.parametrize(
    ("key", "row", "expected"),
    [
        ("Nr", {"Nr": " 1000123 "}, "1000123"),
        ({"column": "Nr", "upper": True}, {"Nr": "k-7"}, "K-7"),
        ({"concat": ["Mandant", "Nr"], "separator": "-"}, {"Mandant": "01", "Nr": "7"}, "01-7"),
        # a key made of several columns needs all of them
        ({"concat": ["Mandant", "Nr"], "separator": "-"}, {"Mandant": "", "Nr": "7"}, ""),
        ({"split": "Ref", "separator": "/", "index": -1}, {"Ref": "ERP/DE/42"}, "42"),
        ("Nr", {}, ""),
    ],
)
def test_key_rules(key, row, expected):
    mapping = parse_mapping({"key": key, "attributes": {"first_name": "V"}}, CUSTOMER)
    assert mapping.apply(row)[0] == expected


def test_columns_not_in_the_profile_are_ignored():
    mapping = parse_mapping(yaml.safe_load(PROFILE), CUSTOMER)

    key, payload = mapping.apply(
        {"Kundennr": "1", "Vorname": "Max", "Notiz": "x", "row_number": "4", "extra": "y"}
    )

    assert key == "1"
    assert payload == {
        "kind": "person",
        "first_name": "Max",
        "last_name": "",
        "birth_date": "",
        "country": "",
        "postal_code": "",
        "city": "",
        "phone": "",
        "email": "",
    }
    assert mapping.source_columns == (
        "Kundennr", "Vorname", "Nachname", "Geb.datum", "E-Mail", "Telefon", "PLZ Ort", "Land",
    )  # fmt: skip
    assert mapping.key_column == "Kundennr"
    assert mapping.name == "erp-kunden"
    assert mapping.description == "Kundenstamm aus dem ERP"


def test_a_value_a_transform_cannot_handle():
    mapping = parse_mapping(
        {
            "key": "Nr",
            "attributes": {
                "kind": {"column": "Art", "date_format": "%d.%m.%Y"},
                "phone": {"column": "Tel", "upper": True},
            },
        },
        CUSTOMER,
    )
    # Optional: passed on as it was, for validation to record.
    assert mapping.apply({"Nr": "1", "Art": "1980-01-01", "Tel": ["030 1", "030 2"]}) == (
        "1",
        {"kind": "1980-01-01", "phone": ["030 1", "030 2"]},
    )
    # Required or the key: the row is rejected, naming the column, value and reason.
    with pytest.raises(MappingRowError) as error:
        mapping.apply({"Nr": "1", "Art": "person"})
    assert (error.value.column, error.value.value, error.value.reason) == (
        "Art",
        "person",
        "kind: not a date in the format %d.%m.%Y",
    )
    with pytest.raises(MappingRowError) as error:
        mapping.apply({"Nr": {"id": 1}, "Art": "1980-01-01"})
    assert (error.value.column, error.value.value, error.value.reason) == (
        "Nr",
        '{"id": 1}',
        "source key: expected text or a number, got a mapping",
    )


def test_to_json_is_compact_and_round_trips():
    mapping = parse_mapping(yaml.safe_load(PROFILE), CUSTOMER)

    data = mapping.to_json()

    assert data == {
        "key": "Kundennr",
        "attributes": {
            "kind": {"constant": "person"},
            "first_name": "Vorname",
            "last_name": "Nachname",
            "birth_date": {"column": "Geb.datum", "date_format": "%d.%m.%Y"},
            "country": {
                "column": "Land",
                "map": {"Deutschland": "DE", "Österreich": "AT", "Schweiz": "CH"},
                "ignore_case": True,
            },
            "postal_code": {"split": "PLZ Ort", "index": 0},
            "city": {"split": "PLZ Ort", "index": 1, "maxsplit": 1},
            "phone": "Telefon",
            "email": {"column": "E-Mail", "lower": True},
        },
    }
    assert json.loads(json.dumps(data)) == data
    again = MappingSpec.from_json(data, CUSTOMER, name="erp-kunden")
    assert again == mapping
    assert again.name == "erp-kunden"
    assert MappingSpec.from_json(again.to_json(), CUSTOMER).to_json() == data


KNOWN_RULE_KEYS = (
    "column, concat, split, constant, separator, index, maxsplit, trim, map, default, "
    "ignore_case, upper, lower, date_format"
)
CUSTOMER_ATTRIBUTES = ", ".join(CUSTOMER.attribute_names)


@pytest.mark.parametrize(
    ("profile", "message"),
    [
        ([1, 2], "a mapping profile is a mapping with 'key' and 'attributes', not a list"),
        ({"key": "K", "attributes": {"first_name": "V"}, "colums": {}},
         "unknown key 'colums' (known: name, description, domain, key, attributes)"),
        ({"domain": "material", "key": "K", "attributes": {"first_name": "V"}},
         "the profile is for domain 'material', not 'customer'"),
        ({"attributes": {"first_name": "V"}},
         "missing 'key': the column (or concat of columns) of the source key"),
        ({"key": "K"},
         "'attributes' must map attribute names to columns or rules, e.g. {first_name: Vorname}"),
        ({"key": "K", "attributes": ["first_name"]},
         "'attributes' must map attribute names to columns or rules, e.g. "
         "{first_name: Vorname}; got a list"),
        ({"key": "K", "attributes": {"frist_name": "V"}},
         "attribute 'frist_name': not a customer attribute; did you mean 'first_name'? "
         f"(known: {CUSTOMER_ATTRIBUTES})"),
        ({"key": "K", "attributes": {"first_name": {"column": "V", "trimm": False}}},
         f"attribute 'first_name': unknown key 'trimm'; did you mean 'trim'? "
         f"(known: {KNOWN_RULE_KEYS})"),
        ({"key": "K", "attributes": {"first_name": {"map": {"M": "Max"}}}},
         "attribute 'first_name': 'map' needs a column, concat or split to map from"),
        ({"key": "K", "attributes": {"first_name": {"trim": True}}},
         "attribute 'first_name': needs one of column, concat, split, constant"),
        ({"key": "K", "attributes": {"first_name": {"column": "A", "split": "B"}}},
         "attribute 'first_name': has both 'column' and 'split'; give one"),
        ({"key": "K", "attributes": {"first_name": 3.5}},
         "attribute 'first_name': expected a column name or a rule such as {column: ...}, "
         "got 3.5"),
        ({"key": "K", "attributes": {"first_name": " "}},
         "attribute 'first_name': 'column' must name a column, got ' '"),
        ({"key": "K", "attributes": {"first_name": "row_number"}},
         "attribute 'first_name': column 'row_number' is reserved for errors files"),
        ({"key": "K", "attributes": {"first_name": {"concat": "A"}}},
         "attribute 'first_name': 'concat' must be a list of columns, e.g. [Vorname, Name]"),
        ({"key": "K", "attributes": {"first_name": {"column": "A", "separator": ","}}},
         "attribute 'first_name': 'separator' goes with concat or split, not column"),
        ({"key": "K", "attributes": {"first_name": {"split": "A", "separator": ""}}},
         "attribute 'first_name': 'separator' must be non-empty text"),
        ({"key": "K", "attributes": {"first_name": {"column": "A", "index": 1}}},
         "attribute 'first_name': 'index' goes with split"),
        ({"key": "K", "attributes": {"first_name": {"split": "A", "index": "1"}}},
         "attribute 'first_name': 'index' must be a whole number (0 is the first part, "
         "-1 the last)"),
        ({"key": "K", "attributes": {"first_name": {"split": "A", "maxsplit": 0}}},
         "attribute 'first_name': 'maxsplit' must be a whole number of at least 1"),
        ({"key": "K", "attributes": {"first_name": {"column": "A", "trim": "no"}}},
         "attribute 'first_name': 'trim' must be true or false, not 'no'"),
        ({"key": "K", "attributes": {"first_name": {"column": "A", "upper": True,
                                                    "lower": True}}},
         "attribute 'first_name': 'upper' and 'lower' exclude each other"),
        ({"key": "K", "attributes": {"first_name": {"column": "A", "default": "x"}}},
         "attribute 'first_name': 'default' goes with 'map'"),
        ({"key": "K", "attributes": {"first_name": {"column": "A", "ignore_case": True}}},
         "attribute 'first_name': 'ignore_case' goes with 'map'"),
        ({"key": "K", "attributes": {"first_name": {"column": "A", "map": []}}},
         "attribute 'first_name': 'map' must map source values to values, e.g. {M: male}"),
        ({"key": "K", "attributes": {"first_name": {"column": "A", "map": {True: "x"}}}},
         "attribute 'first_name': map key True is not text; quote it (YAML reads yes, no, "
         "on, off, true, false and ~ as other types)"),
        ({"key": "K", "attributes": {"first_name": {"column": "A", "map": {"M": ["x"]}}}},
         "attribute 'first_name': map value of 'M' must be text or a number, not a list"),
        ({"key": "K", "attributes": {"first_name": {"column": "A", "map": {"M": "x", "m": "y"},
                                                    "ignore_case": True}}},
         "attribute 'first_name': map key 'm' is given twice (ignore_case is on)"),
        ({"key": "K", "attributes": {"first_name": {"constant": "x", "upper": True}}},
         "attribute 'first_name': a constant takes no other keys (found: upper)"),
        ({"key": "K", "attributes": {"kind": {"constant": "persn"}}},
         "attribute 'kind': constant 'persn' is not a valid value: must be one of "
         "organization, person"),
        ({"key": "K", "attributes": {"birth_date": {"column": "D", "date_format": "%d.%m"}}},
         "attribute 'birth_date': date_format '%d.%m' must hold day, month and year "
         "(e.g. %d.%m.%Y)"),
        ({"key": "K", "attributes": {"birth_date": {"column": "D", "date_format": "dd.mm.yyyy"}}},
         "attribute 'birth_date': date_format 'dd.mm.yyyy' is not a format such as '%d.%m.%Y'"),
        ({"key": "K", "attributes": {"birth_date": {"column": "D", "date_format": []}}},
         "attribute 'birth_date': 'date_format' must be a format such as '%d.%m.%Y'"),
        ({"key": {"constant": "1"}, "attributes": {"first_name": "V"}},
         "key: 'constant' is not allowed here (allowed: column, concat, split, separator, "
         "index, maxsplit, trim, upper, lower)"),
        ({"key": {"column": "K", "map": {"a": "b"}}, "attributes": {"first_name": "V"}},
         "key: 'map' is not allowed here (allowed: column, concat, split, separator, "
         "index, maxsplit, trim, upper, lower)"),
        ({"key": {}, "attributes": {"first_name": "V"}},
         "key: needs one of column, concat, split"),
        ({"name": ["x"], "key": "K", "attributes": {"first_name": "V"}},
         "'name' must be text, not a list"),
    ],
)  # fmt: skip
def test_profile_errors_name_the_attribute_and_the_problem(profile, message):
    with pytest.raises(MappingError) as error:
        parse_mapping(profile, CUSTOMER)

    assert str(error.value) == message


# --- imports through the command -------------------------------------------------------


@pytest.fixture
def profile_file(tmp_path):
    path = tmp_path / "kunden.yaml"
    path.write_text(PROFILE, encoding="utf-8")
    return path


@pytest.fixture
def german_csv(tmp_path):
    path = tmp_path / "KUNDEN_EXPORT.csv"
    path.write_bytes(GERMAN.encode("cp1252"))
    return path


def record(key):
    return SourceRecord.objects.get(source_key=key)


def test_german_csv_with_a_yaml_profile(db, german_csv, profile_file, tmp_path):
    errors = tmp_path / "errors.csv"

    output = import_file(
        german_csv, "customer", "ERP", "--create-system", "--encoding", "cp1252",
        "--mapping", str(profile_file), "--errors-out", str(errors),
    )  # fmt: skip

    assert "4 read, 3 created, 0 updated, 0 unchanged, 0 attached" in output
    assert "1 rejected" in output and "1 with data-quality issues" in output
    assert record("1000123").canonical == {
        "kind": "person",
        "first_name": "Max",
        "last_name": "Mustermann",
        "birth_date": "1980-05-17",
        "country": "DE",
        "postal_code": "10115",
        "city": "Berlin",
        "phone": ["+49301234567"],
        "email": "max.mustermann@example.de",
    }
    assert record("1000124").canonical == {
        "kind": "person",
        "first_name": "Erika",
        "last_name": "Müller",
        "birth_date": "1975-11-03",
        "country": "AT",
        "postal_code": "8010",
        "city": "Graz",
    }
    # A date that is not in the format (31 February) is a data-quality issue of an
    # optional attribute, not a rejection.
    schmidt = record("1000125")
    assert schmidt.canonical == {
        "kind": "person",
        "first_name": "Hans",
        "last_name": "Schmidt",
        "country": "CH",
        "postal_code": "60311",
        "city": "Frankfurt am Main",
    }
    assert schmidt.quality_issues == [
        {
            "attribute": "birth_date",
            "value": "31.02.1980",
            "reason": "not a valid ISO date (YYYY-MM-DD)",
        }
    ]
    assert schmidt.raw_payload["birth_date"] == "31.02.1980"
    # The profile is kept for the system under its name.
    profile = MappingProfile.objects.get()
    assert (profile.system.code, profile.domain, profile.name) == ("ERP", "customer", "erp-kunden")
    assert profile.description == "Kundenstamm aus dem ERP"
    assert profile.spec == parse_mapping(yaml.safe_load(PROFILE), CUSTOMER).to_json()
    # The rejected row keeps its original columns in the errors file.
    with errors.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows == [
        {
            "row_number": "5",
            "error_column": "",
            "error_value": "",
            "error_reason": "no identifying attribute: the record needs at least one of "
            "first_name, last_name, organization_name",
            "Kundennr": "1000126",
            "Vorname": "",
            "Nachname": "",
            "Geb.datum": "01.01.1990",
            "Land": "Deutschland",
            "PLZ Ort": "",
            "Telefon": "",
            "E-Mail": "",
            "Notiz": "kein Name",
        }
    ]


def test_fixed_errors_file_imports_with_the_same_profile_by_name(
    db, german_csv, profile_file, tmp_path
):
    errors = tmp_path / "errors.csv"
    import_file(
        german_csv, "customer", "ERP", "--create-system", "--encoding", "cp1252",
        "--mapping", str(profile_file), "--errors-out", str(errors),
    )  # fmt: skip
    with errors.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    rows[1][rows[0].index("Nachname")] = "Neumann"
    with errors.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)

    output = import_file(
        errors, "customer", "ERP", "--mapping", "erp-kunden",
        "--errors-out", str(tmp_path / "e2.csv"),
    )  # fmt: skip

    assert "1 read, 1 created, 0 updated, 0 unchanged, 0 attached, 0 queued for review" in output
    assert "0 rejected" in output
    assert record("1000126").canonical == {
        "kind": "person",
        "last_name": "Neumann",
        "birth_date": "1990-01-01",
        "country": "DE",
    }
    assert MappingProfile.objects.count() == 1


def test_a_stored_profile_is_reused_by_name(db, german_csv, profile_file, tmp_path):
    import_file(
        german_csv, "customer", "ERP", "--create-system", "--encoding", "cp1252",
        "--mapping", str(profile_file), "--errors-out", str(tmp_path / "e1.csv"),
    )  # fmt: skip
    later = tmp_path / "kunden-2.csv"
    later.write_text(
        "Kundennr;Vorname;Nachname;Geb.datum;Land;PLZ Ort;Telefon;E-Mail\n"
        "1000123;Max;Mustermann;17.05.1980;Deutschland;10117 Berlin;030 1234567;\n"
        "2000001;Jana;Nováková;29.02.1984;schweiz;8001 Zürich;;\n",
        encoding="utf-8",
    )

    output = import_file(
        later, "customer", "ERP", "--mapping", "ERP-KUNDEN", "--errors-out", str(tmp_path / "e2")
    )

    assert "2 read, 1 created, 1 updated, 0 unchanged" in output
    assert record("1000123").canonical["postal_code"] == "10117"
    assert "email" not in record("1000123").canonical
    assert record("2000001").canonical == {
        "kind": "person",
        "first_name": "Jana",
        "last_name": "Nováková",
        "birth_date": "1984-02-29",
        "country": "CH",
        "postal_code": "8001",
        "city": "Zürich",
    }


def test_a_changed_profile_file_replaces_the_stored_profile(db, erp, profile_file, german_csv):
    resolve_mapping(str(profile_file), system=erp, domain=CUSTOMER)
    profile_file.write_text(PROFILE.replace("first_name: Vorname", "middle_name: Vorname"))

    mapping = resolve_mapping(str(profile_file), system=erp, domain=CUSTOMER)

    stored = MappingProfile.objects.get()
    assert stored.spec == mapping.to_json()
    assert stored.spec["attributes"]["middle_name"] == "Vorname"
    assert "first_name" not in stored.spec["attributes"]
    assert resolve_mapping("erp-kunden", system=erp, domain=CUSTOMER) == mapping


def test_a_profile_without_a_name_is_stored_under_the_file_name(db, erp, tmp_path):
    path = tmp_path / "crm-contacts.json"
    path.write_text(json.dumps({"key": "Id", "attributes": {"organization_name": "Firma"}}))

    mapping = resolve_mapping(str(path), system=erp, domain=CUSTOMER)

    assert mapping.name == "crm-contacts"
    assert list(MappingProfile.objects.values_list("name", "spec")) == [
        ("crm-contacts", {"key": "Id", "attributes": {"organization_name": "Firma"}})
    ]


def test_resolve_without_storing(db, erp, profile_file):
    mapping = resolve_mapping(str(profile_file), system=erp, domain=CUSTOMER, store=False)

    assert mapping.name == "erp-kunden"
    assert MappingProfile.objects.count() == 0


def test_dry_run_stores_no_profile(db, erp, german_csv, profile_file, tmp_path):
    output = import_file(
        german_csv, "customer", "ERP", "--dry-run", "--encoding", "cp1252",
        "--mapping", str(profile_file), "--errors-out", str(tmp_path / "e.csv"),
    )  # fmt: skip

    assert output.startswith("Dry run (nothing written): 4 read, 3 created")
    assert MappingProfile.objects.count() == 0
    assert SourceRecord.objects.count() == 0


def test_missing_source_column_fails_the_file_in_one_line(db, profile_file, tmp_path):
    path = tmp_path / "kunden.csv"
    path.write_text("Kundennr;Vorname;Name;Land\n1;Max;Muster;DE\n")

    message = _file_error(path, "--mapping", str(profile_file))

    assert message == (
        f"{path}: missing column(s) 'Nachname', 'Geb.datum', 'E-Mail', 'Telefon', 'PLZ Ort' "
        "read by mapping profile 'erp-kunden' (header: 'Kundennr', 'Vorname', 'Name', 'Land')"
    )
    assert MappingProfile.objects.count() == 0


def test_header_columns_differing_only_in_case_are_found(db, erp, tmp_path):
    path = tmp_path / "kunden.csv"
    path.write_text("KUNDENNR,firma\nK1,Acme GmbH\n")
    profile = tmp_path / "p.yaml"
    profile.write_text("key: Kundennr\nattributes:\n  organization_name: Firma\n")

    output = import_file(path, "customer", "ERP", "--mapping", str(profile))

    assert "1 read, 1 created" in output
    assert record("K1").canonical == {"kind": "organization", "organization_name": "Acme GmbH"}


def test_profile_errors_are_one_line_and_change_nothing(db, german_csv, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("key: Kundennr\nattributes:\n  geburtstag: Geb.datum\n")
    before = state()

    with pytest.raises(CommandError) as error:
        import_file(german_csv, "customer", "NEWSYS", "--create-system", "--mapping", str(bad))

    assert str(error.value) == (
        f"{bad}: attribute 'geburtstag': not a customer attribute (known: {CUSTOMER_ATTRIBUTES})"
    )
    assert state() == before
    assert not SourceSystem.objects.filter(code="NEWSYS").exists()
    assert MappingProfile.objects.count() == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "key: [Kundennr\n",
            "not valid YAML (line 2, column 1: expected ',' or ']', but got '<stream end>')",
        ),
        ("", "the profile is empty"),
        ("- key\n", "a mapping profile is a mapping with 'key' and 'attributes', not a list"),
        (
            "key: K\nattributes:\n  city: Ort\n  city: Stadt\n",
            "not valid YAML (line 4, column 3: key 'city' is given twice)",
        ),
        (
            '{"key": "K", "attributes": {"city": "Ort", "city": "Stadt"}}',
            "not valid JSON (key 'city' is given twice)",
        ),
    ],
)
def test_unreadable_profile_files(db, erp, tmp_path, text, message):
    path = tmp_path / "p.yml"
    path.write_text(text)

    with pytest.raises(MappingError) as error:
        resolve_mapping(str(path), system=erp, domain=CUSTOMER)

    assert str(error.value) == f"{path}: {message}"


def test_invalid_json_profile(db, erp, tmp_path):
    path = tmp_path / "p.json"
    path.write_text('{"key": "K", attributes: {}}')

    with pytest.raises(MappingError) as error:
        resolve_mapping(str(path), system=erp, domain=CUSTOMER)

    assert str(error.value) == (
        f"{path}: not valid JSON (line 1, column 14: Expecting property name enclosed in "
        "double quotes)"
    )


def test_unknown_profile_name_lists_the_systems_profiles(db, erp, crm, german_csv):
    MappingProfile.objects.create(system=erp, domain="customer", name="erp-kunden", spec={})
    MappingProfile.objects.create(system=erp, domain="customer", name="erp-alt", spec={})
    MappingProfile.objects.create(system=erp, domain="supplier", name="lieferanten", spec={})
    MappingProfile.objects.create(system=crm, domain="customer", name="crm", spec={})

    message = _file_error(german_csv, "--mapping", "kunden")

    assert message == (
        "no mapping profile 'kunden' for ERP customer (profiles: erp-alt, erp-kunden); "
        "pass a .yaml, .yml or .json file to store one"
    )
    with pytest.raises(MappingError) as error:
        resolve_mapping("missing.yaml", system=crm, domain=get_domain("supplier"))
    assert str(error.value) == (
        "missing.yaml: no such mapping file, and no stored profile of that name for "
        "CRM supplier (it has none)"
    )


def test_excel_sheet_with_a_profile(db, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["Kundenstamm Export 2026"])
    sheet.append([])
    sheet.append(["Kundennr", "Firma", "Rechtsform", "Land", "Gründung", "Ust-IdNr"])
    sheet.append([1000123, "Acme", "GmbH", "Deutschland", dt.datetime(1999, 4, 1), "de129274202"])
    sheet.append([1000124, "Bolt", "Ltd", "GB", "01.02.2003", None])
    path = tmp_path / "firmen.xlsx"
    book.save(path)
    profile = tmp_path / "firmen.yaml"
    profile.write_text(
        "name: erp-firmen\n"
        "key: Kundennr\n"
        "attributes:\n"
        "  kind: {constant: organization}\n"
        "  organization_name: {concat: [Firma, Rechtsform]}\n"
        "  country: {column: Land, map: {Deutschland: DE}}\n"
        "  tax_id: {column: Ust-IdNr, upper: true}\n",
        encoding="utf-8",
    )

    output = import_file(
        path, "customer", "ERP", "--create-system", "--mapping", str(profile),
        "--errors-out", str(tmp_path / "e.xlsx"),
    )  # fmt: skip

    assert "2 read, 2 created" in output and "0 rejected" in output
    assert record("1000123").canonical == {
        "kind": "organization",
        "organization_name": "Acme GmbH",
        "country": "DE",
        "tax_id": "DE129274202",
    }
    assert record("1000124").canonical == {
        "kind": "organization",
        "organization_name": "Bolt Ltd",
        "country": "GB",
    }


def test_fixed_excel_errors_file_imports_with_the_profile(db, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["Nr", "Vorname", "Nachname", "Geburt", "Bemerkung"])
    sheet.append(["A1", "Max", "Muster", dt.datetime(1980, 5, 17), "=1+1"])
    sheet.append(["A2", None, None, "02.03.1970", None])
    path = tmp_path / "personen.xlsx"
    book.save(path)
    profile = tmp_path / "personen.yaml"
    profile.write_text(
        "key: Nr\nattributes:\n  first_name: Vorname\n  last_name: Nachname\n"
        "  birth_date: {column: Geburt, date_format: '%d.%m.%Y'}\n"
    )
    errors = tmp_path / "errors.xlsx"

    output = import_file(
        path, "customer", "ERP", "--create-system", "--mapping", str(profile),
        "--errors-out", str(errors),
    )  # fmt: skip

    # A formula without a saved value in a column the profile does not read is ignored.
    assert "2 read, 1 created" in output and "1 rejected" in output
    assert record("A1").canonical["birth_date"] == "1980-05-17"
    fixed = load_workbook(errors)
    rows = fixed.active
    header = [cell.value for cell in rows[1]]
    assert header == [
        "row_number", "error_column", "error_value", "error_reason",
        "Nr", "Vorname", "Nachname", "Geburt", "Bemerkung",
    ]  # fmt: skip
    rows.cell(row=2, column=header.index("Vorname") + 1, value="Erika")
    fixed.save(errors)

    output = import_file(
        errors, "customer", "ERP", "--mapping", "personen", "--errors-out", str(tmp_path / "e2")
    )

    assert "1 read, 1 created" in output and "0 rejected" in output
    assert record("A2").canonical == {
        "kind": "person",
        "first_name": "Erika",
        "birth_date": "1970-03-02",
    }


def test_json_lines_with_a_profile(db, tmp_path):
    path = tmp_path / "kunden.jsonl"
    lines = [
        {"Kundennr": 7, "Vorname": "Max", "Nachname": "Muster", "Land": "deutschland"},
        {"kundennr": "8", "Vorname": "Erika", "Land": "Österreich", "Extra": {"a": 1}},
        {"Kundennr": ["9"], "Vorname": "Nina"},
        {"Vorname": "Ohne Nummer"},
    ]
    path.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n")
    profile = tmp_path / "kunden.yaml"
    profile.write_text(
        "key: Kundennr\nattributes:\n  first_name: Vorname\n  last_name: Nachname\n"
        "  country: {column: Land, map: {Deutschland: DE, Österreich: AT}, ignore_case: true}\n",
        encoding="utf-8",
    )
    errors = tmp_path / "errors.jsonl"

    output = import_file(
        path, "customer", "ERP", "--create-system", "--mapping", str(profile),
        "--errors-out", str(errors),
    )  # fmt: skip

    assert "4 read, 2 created" in output and "2 rejected" in output
    assert record("7").canonical == {
        "kind": "person",
        "first_name": "Max",
        "last_name": "Muster",
        "country": "DE",
    }
    assert record("8").canonical == {"kind": "person", "first_name": "Erika", "country": "AT"}
    rejected = [json.loads(line) for line in errors.read_text().splitlines()]
    assert rejected == [
        {
            "row_number": 3,
            "error_column": "Kundennr",
            "error_value": '["9"]',
            "error_reason": "source key: expected text or a number, got a list",
            "Kundennr": ["9"],
            "Vorname": "Nina",
        },
        {
            "row_number": 4,
            "error_column": "Kundennr",
            "error_value": "",
            "error_reason": "missing source key",
            "Vorname": "Ohne Nummer",
        },
    ]


def test_a_profile_in_the_validation_helper_process(
    db, erp, german_csv, profile_file, tmp_path, settings
):
    settings.MDM_IMPORT_VALIDATION_WORKERS = 1
    settings.MDM_IMPORT_PARALLEL_MIN_BYTES = 0

    output = import_file(
        german_csv, "customer", "ERP", "--encoding", "cp1252", "--batch-size", "2",
        "--mapping", str(profile_file), "--errors-out", str(tmp_path / "e.csv"),
    )  # fmt: skip

    assert "4 read, 3 created" in output and "1 rejected" in output
    assert record("1000124").canonical["country"] == "AT"
    assert record("1000125").quality_issues[0]["value"] == "31.02.1980"


# --- admin ---------------------------------------------------------------------------


def form_data(system, text, **extra):
    return (
        {"system": system.pk, "domain": "customer", "name": "erp-kunden"}
        | extra
        | {"spec_text": text}
    )


def test_admin_form_validates_the_profile_on_the_field(db, erp):
    form = MappingProfileForm(
        data=form_data(erp, "key: Kundennr\nattributes:\n  first_name: {colum: Vorname}\n")
    )

    assert not form.is_valid()
    assert form.errors == {
        "spec_text": [
            "attribute 'first_name': unknown key 'colum'; did you mean 'column'? "
            f"(known: {KNOWN_RULE_KEYS})"
        ]
    }


def test_admin_form_stores_yaml_or_json_as_the_compiled_spec(db, erp):
    form = MappingProfileForm(data=form_data(erp, PROFILE))
    assert form.is_valid(), form.errors
    profile = form.save()
    assert profile.spec == parse_mapping(yaml.safe_load(PROFILE), CUSTOMER).to_json()

    edited = json.dumps({"key": "Nr", "attributes": {"last_name": "Name"}})
    form = MappingProfileForm(data=form_data(erp, edited, description="neu"), instance=profile)
    assert form.is_valid(), form.errors
    form.save()

    profile.refresh_from_db()
    assert profile.spec == {"key": "Nr", "attributes": {"last_name": "Name"}}
    assert profile.description == "neu"
    assert MappingProfileForm(instance=profile)["spec_text"].initial == (
        "key: Nr\nattributes:\n  last_name: Name\n"
    )


def test_admin_form_refuses_a_profile_of_another_domain(db, erp):
    form = MappingProfileForm(
        data=form_data(erp, "domain: supplier\nkey: Nr\nattributes:\n  legal_name: Firma\n")
    )

    assert not form.is_valid()
    assert form.errors == {"spec_text": ["the profile is for domain 'supplier', not 'customer'"]}


@pytest.fixture
def steward_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("steward", "s@x.example", "pw-steward-1")
    client.force_login(user)
    return client


def test_admin_pages(steward_client, erp):
    add = reverse("admin:golden_mappingprofile_add")
    response = steward_client.post(add, form_data(erp, "key: Nr\nattributes:\n  city: Stadt\n"))
    assert response.status_code == 302
    profile = MappingProfile.objects.get()
    assert profile.spec == {"key": "Nr", "attributes": {"city": "Stadt"}}

    response = steward_client.post(add, form_data(erp, "key: Nr\nattributes:\n  town: Stadt\n"))
    assert response.status_code == 200
    assert "attribute &#x27;town&#x27;: not a customer attribute" in response.content.decode()

    changelist = reverse("admin:golden_mappingprofile_changelist")
    page = steward_client.get(changelist, {"q": "ERP"}).content.decode()
    assert "erp-kunden" in page
    page = steward_client.get(changelist, {"q": "nothing-like-it"}).content.decode()
    assert "erp-kunden" not in page
    change = reverse("admin:golden_mappingprofile_change", args=[profile.pk])
    page = steward_client.get(change).content.decode()
    assert "city: Stadt" in page
