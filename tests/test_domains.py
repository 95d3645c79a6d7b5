import pytest

from golden.domains import DOMAINS, RecordRejected, canonical, get_domain
from golden.domains.base import Attribute, Domain, IdentityRule

CUSTOMER = get_domain("customer")
SUPPLIER = get_domain("supplier")
MATERIAL = get_domain("material")


def test_domains_declare_the_required_attribute_names():
    assert set(DOMAINS) == {"customer", "material", "supplier"}
    assert {
        "kind",
        "first_name",
        "middle_name",
        "last_name",
        "organization_name",
        "birth_date",
        "national_id",
        "tax_id",
        "email",
        "phone",
        "address_line1",
        "address_line2",
        "city",
        "region",
        "postal_code",
        "country",
    } <= set(CUSTOMER.attribute_names)
    assert {
        "name",
        "description",
        "manufacturer",
        "manufacturer_part_number",
        "gtin",
        "unit_of_measure",
        "category",
        "net_weight",
        "weight_unit",
    } <= set(MATERIAL.attribute_names)
    assert {
        "legal_name",
        "trade_name",
        "tax_id",
        "duns",
        "email",
        "phone",
        "website",
        "address_line1",
        "address_line2",
        "city",
        "region",
        "postal_code",
        "country",
        "bank_iban",
        "bank_account_holder",
        "payment_terms",
    } <= set(SUPPLIER.attribute_names)


def test_restricted_attributes_are_declared_restricted():
    assert SUPPLIER.attribute("bank_iban").sensitivity == "restricted"
    assert SUPPLIER.attribute("bank_account_holder").sensitivity == "restricted"
    assert CUSTOMER.attribute("national_id").sensitivity == "restricted"
    assert CUSTOMER.attribute("birth_date").sensitivity == "restricted"


def test_valid_values_are_canonicalised_with_the_country_as_context():
    result = SUPPLIER.validate(
        {
            "legal_name": "  Müller   Maschinenbau GmbH ",
            "country": "Germany",
            "tax_id": "de 129 274 202",
            "phone": "030 1234567; +49 30 1234568",
            "bank_iban": "de89 3704 0044 0532 0130 00",
            "duns": "15-048-3782",
            "website": "WWW.Mueller.example/",
            "email": "Info@Mueller.Example",
            "payment_terms": "net30",
        }
    )

    assert result.issues == []
    assert result.canonical == {
        "bank_iban": "DE89370400440532013000",
        "country": "DE",
        "duns": "150483782",
        "email": "info@mueller.example",
        "legal_name": "Müller Maschinenbau GmbH",
        "payment_terms": "NET30",
        "phone": ["+49301234567", "+49301234568"],
        "tax_id": "DE129274202",
        "website": "https://www.mueller.example",
    }


def test_chinese_unified_social_credit_code_is_checked():
    from stdnum.cn import uscc

    body = "91110108MA01C8TK2"
    valid = body + uscc.calc_check_digit(body)

    ok = SUPPLIER.validate({"legal_name": "北京华信科技有限公司", "country": "CN", "tax_id": valid})
    bad = SUPPLIER.validate(
        {
            "legal_name": "北京华信科技有限公司",
            "country": "CN",
            "tax_id": body + "0" if valid[-1] != "0" else body + "1",
        }
    )

    assert ok.canonical["tax_id"] == valid
    assert "tax_id" not in bad.canonical
    assert bad.issues[0]["attribute"] == "tax_id"


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("19.99", "19.99"),
        ("19.90", "19.9"),
        ("69.71 gbp", "69.71 GBP"),
        ("£69.71", "69.71 GBP"),
        ("EUR 12,50", "12.5 EUR"),
        ("1.099,00 €", "1099 EUR"),
        ("$1,099.00", "1099"),  # "$" names several currencies
        ("1 234,5 CHF", "1234.5 CHF"),
        ("0.0", "0"),
    ],
)
def test_a_list_price_is_an_amount_with_an_optional_currency(raw, stored):
    assert MATERIAL.validate({"name": "X", "list_price": raw}).canonical["list_price"] == stored


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("12 XYZ", "unknown currency 'XYZ'"),
        ("USD 5 EUR", "two currencies"),
        ("10.5.3", "grouped wrongly"),
        ("-5", "not an amount"),
        ("cheap", "not an amount"),
    ],
)
def test_a_list_price_that_is_no_amount_names_the_problem(raw, reason):
    issues = MATERIAL.validate({"name": "X", "list_price": raw}).issues
    assert reason in issues[0]["reason"]


def test_gtin_forms_compare_equal():
    upc = MATERIAL.validate({"name": "Turntable", "gtin": "012345678905"})
    ean13 = MATERIAL.validate({"name": "Turntable", "gtin": "0012345678905"})

    assert upc.canonical["gtin"] == ean13.canonical["gtin"] == "00012345678905"


@pytest.mark.parametrize(
    ("domain", "payload", "attribute"),
    [
        (SUPPLIER, {"legal_name": "X", "bank_iban": "DE89370400440532013001"}, "bank_iban"),
        (SUPPLIER, {"legal_name": "X", "country": "DE", "phone": "12"}, "phone"),
        (CUSTOMER, {"last_name": "Smith", "email": "not-an-address"}, "email"),
        (CUSTOMER, {"last_name": "Smith", "birth_date": "1985-02-30"}, "birth_date"),
        (CUSTOMER, {"last_name": "Smith", "country": "Atlantis"}, "country"),
        (MATERIAL, {"name": "X", "gtin": "0012345678906"}, "gtin"),
        (MATERIAL, {"name": "X", "net_weight": "heavy"}, "net_weight"),
        (MATERIAL, {"name": "X", "list_price": "12 XYZ"}, "list_price"),
        (MATERIAL, {"name": "X", "list_price": "10.5.3"}, "list_price"),
        (SUPPLIER, {"legal_name": "X", "duns": "12345"}, "duns"),
        (CUSTOMER, {"last_name": "X", "country": "NL", "national_id": "123456789"}, "national_id"),
    ],
)
def test_invalid_optional_value_becomes_a_quality_issue_not_a_rejection(domain, payload, attribute):
    result = domain.validate(payload)

    assert attribute not in result.canonical
    assert [issue["attribute"] for issue in result.issues] == [attribute]
    assert result.issues[0]["value"] == payload[attribute]
    assert result.issues[0]["reason"]


def test_record_without_any_name_is_rejected_with_a_reason():
    with pytest.raises(RecordRejected, match="no identifying attribute"):
        CUSTOMER.validate({"email": "a@b.example", "city": "Berlin"})


def test_unknown_attribute_is_rejected():
    with pytest.raises(RecordRejected, match="unknown attribute.*colour"):
        MATERIAL.validate({"name": "Bolt", "colour": "red"})


def test_invalid_required_value_rejects_the_record():
    with pytest.raises(RecordRejected, match="required attribute 'kind' is invalid"):
        CUSTOMER.validate({"kind": "alien", "last_name": "Smith"})


def test_kind_is_inferred_when_missing():
    assert CUSTOMER.validate({"organization_name": "Acme"}).canonical["kind"] == "organization"
    assert CUSTOMER.validate({"last_name": "Smith"}).canonical["kind"] == "person"


def test_a_fourth_domain_is_one_declaration():
    location = Domain(
        name="location",
        label="Location",
        id_prefix="LOC",
        attributes=(
            Attribute("name", canonical.text),
            Attribute("country", canonical.country),
            Attribute("gln", canonical.gtin),
        ),
        name_attributes=("name",),
        identity_rules=(IdentityRule("gln"),),
    )

    result = location.validate({"name": "Plant 1", "country": "nld", "gln": "8712345678906"})

    assert result.canonical == {"country": "NL", "gln": "08712345678906", "name": "Plant 1"}


def test_declaration_mistakes_fail_loudly():
    with pytest.raises(ValueError, match="aggregate"):
        Attribute("phone", canonical.text, survivorship=("aggregate",))
    with pytest.raises(ValueError, match="not an attribute"):
        Domain("x", "X", "ABC", (Attribute("a", canonical.text),), name_attributes=("b",))


def test_a_nul_character_rejects_the_record_naming_the_attribute():
    from golden.domains import get_domain
    from golden.domains.base import RecordRejected

    with pytest.raises(RecordRejected, match="'city' contains a NUL character") as error:
        get_domain("customer").validate({"organization_name": "Acme", "city": "Kö\x00ln"})
    assert error.value.attribute == "city"


@pytest.mark.parametrize(
    ("value", "expected", "reason"),
    [
        ("  Berlin\t Mitte  ", "Berlin Mitte", None),  # whitespace collapsed
        ("\u3000", None, None),  # blank in any script: missing, not an issue
        ("", None, None),
        (None, None, None),
        ("ＢＥＲＬＩＮ", "BERLIN", None),  # full-width: NFKC
        (12345, "12345", None),  # numbers from spreadsheets
        (3.0, "3", None),
        (True, "true", None),
        (["Berlin"], None, "expected a single value, got a list"),
        ("x" * 1001, None, "longer than 1000 characters"),
    ],
)
def test_single_values_are_read_as_text_whatever_their_type(value, expected, reason):
    result = CUSTOMER.validate({"organization_name": "Acme", "city": value})

    assert result.canonical.get("city") == expected
    assert [issue["reason"] for issue in result.issues] == ([reason] if reason else [])


def test_multi_valued_parts_are_canonicalised_one_by_one_without_repeats():
    result = CUSTOMER.validate(
        {"last_name": "Smith", "country": "DE", "phone": "030 1234567; +49 30 1234567;; nonsense"}
    )

    assert result.canonical["phone"] == ["+49301234567"]
    assert [(issue["value"], issue["attribute"]) for issue in result.issues] == [
        (" nonsense", "phone")
    ]


def test_a_nul_character_in_a_value_of_any_type_rejects_the_record():
    with pytest.raises(RecordRejected, match="'postal_code' contains a NUL character"):
        CUSTOMER.validate({"organization_name": "Acme", "postal_code": b"10\x00115".decode()})
