"""Customer and supplier matching without a database: the party comparisons level by
level, their normalisers, blocking keys, and small end-to-end scenarios through the
domains' match specifications (look-alikes must not merge automatically)."""

import numpy as np
import pytest

from golden.domains import get_domain
from matching.engine import blocking as b
from matching.engine import comparisons as c
from matching.engine import normalize as n
from matching.engine.batch import link_in_order


def level_name(comparison, a, b):
    return comparison.levels[comparison.level(comparison.prepare(a), comparison.prepare(b))].name


def person(first, last):
    return {"first_name": first, "last_name": last}


@pytest.mark.parametrize(
    ("a", "b", "level"),
    [
        (person("John", "Smith"), person("JOHN", "SMITH"), "exact"),
        (person("Jürgen", "Müller"), person("JUERGEN", "MUELLER"), "exact"),
        (person("Bill", "Smith"), person("William", "Smith"), "variant"),
        (person("Hans", "Weber"), person("Johannes", "Weber"), "variant"),
        (person("Smith", "John"), person("John", "Smith"), "variant"),
        (person("", "刘静"), person("静", "刘"), "variant"),
        (person("Jing", "LIU"), person("静", "刘"), "exact"),  # pinyin of the same characters
        (person("Elena", "Pérez"), person("Elena", "Pérez Sánchez"), "variant"),
        (person("Pérez Sánchez", "Elena"), person("ELENA", "PEREZ"), "variant"),
        (person("Jon", "Smyth"), person("John", "Smith"), "typo"),
        (person("Katrni", "Meyer"), person("Katrin", "Meyer"), "typo"),
        (person("Anna", "Bekcer"), person("Anna", "Becker"), "typo"),
        (person("J", "Smith"), person("John", "Smith"), "initial"),
        (person("", "Smith"), person("John", "Smith"), "initial"),
        (person("Jana", "Meyer"), person("Anna", "Meyer"), "other_given"),
        (person("Leon", "Becker"), person("Anna", "Becker"), "other_given"),
        (person("Rina", "Ferrari"), person("Caterina", "Ferrari"), "short_form"),
        (person("Matze", "Hoffmann"), person("Matthias", "Hoffmann"), "short_form"),
        (person("Mary", "Jones"), person("John", "Smith"), "else"),
        (person("", ""), person("John", "Smith"), "null"),
    ],
)
def test_full_person_name_levels(a, b, level):
    assert level_name(c.FullPersonName(), a, b) == level


@pytest.mark.parametrize(
    ("a", "b", "level"),
    [
        ("北京华信科技有限公司", "北京华信科技", "exact"),
        ("Acme GmbH", "ACME G.m.b.H.", "exact"),
        ("Gómez Tecnología S.L.", "Gomez Tecnologia Sociedad Limitada", "exact"),
        (
            "广州星河科技股份有限公司",
            "广州星河科技有限公司",
            "exact",
        ),  # one company, form shortened
        ("华信科技有限公司", "北京华信科技有限公司", "variant"),  # without the city
        ("北京市华信科技有限公司", "北京华信科技有限公司", "exact"),  # 市 (city) dropped
        ("华信科技（北京）有限公司", "北京华信科技有限公司", "exact"),  # city in brackets
        ("Logistik Acme GmbH", "Acme Logistik GmbH", "variant"),
        ("上海宏达贸易有限公司", "上海宏大贸易有限公司", "typo"),  # a character that sounds alike
        ("Riadexsa Costruzioni S.r.l.", "Riadexa Costruzioni Srl", "typo"),
        ("Mimi Bautechnik GmbH", "Mimi Bautechnik KG", "other_legal_form"),
        ("Mimi", "Mimi Bautechnik GmbH", "contained"),
        ("Mimi Bautechnik GmbH", "Mimi Logistik GmbH", "else"),
        ("北京华信科技有限公司", "上海华信科技有限公司", "else"),
        ("", "Umbrella Corp", "null"),
    ],
)
def test_organization_name_levels(a, b, level):
    comparison = c.OrganizationName("organization_name")
    assert level_name(comparison, {"organization_name": a}, {"organization_name": b}) == level


def address(line, postal="", city="", country=""):
    return {"address_line1": line, "postal_code": postal, "city": city, "country": country}


@pytest.mark.parametrize(
    ("a", "b", "level"),
    [
        (address("12 Main St.", "10115", "Berlin"), address("12 Main Street", "10115"), "exact"),
        (address("C/ Alcalá, 12", "28001"), address("Calle de Alcalá, 12", "28001"), "exact"),
        (
            address("V.le dei Mille, 140", "", "Roma"),
            address("Viale dei Mille, 140", "", "ROMA"),
            "exact",
        ),
        (
            address("新华路６７号", "", "北京市", "CN"),
            address("新华路67号", "", "Beijing", "CN"),
            "exact",
        ),
        (
            address("Kölenr Str. 43", "", "Stuttgart"),
            address("Kölner Straße 43", "70594", "Stuttgart"),
            "street_typo",
        ),
        (address("172 Maple Drivve", "98161"), address("172 Maple Drive", "98161"), "street_typo"),
        (
            address("Hauptstr. 5", "10115", "Berlin"),
            address("Hauptstr. 7", "10115", "Berlin"),
            "postal_code",
        ),
        (
            address("Hauptstr. 5", "10115", "Berlin"),
            address("Lindenweg 9", "12621", "Berlin"),
            "city",
        ),
        (
            address("Hauptstr. 5", "10115", "Berlin", "DE"),
            address("Hauptstr. 5", "10115", "Berlin", "AT"),
            "else",
        ),
        (address("Hauptstr. 5", "", "Berlin"), address("Hauptstr. 5", "", "Hamburg"), "else"),
        ({}, address("Hauptstr. 5"), "null"),
    ],
)
def test_street_address_levels(a, b, level):
    assert level_name(c.StreetAddress(), a, b) == level


@pytest.mark.parametrize(
    ("a", "b", "level"),
    [
        ({"website": "https://www.acme.test/"}, {"email": "sales@ACME.test"}, "exact"),
        ({"website": "acme.test"}, {"website": "http://www.acme.test"}, "exact"),
        ({"website": "acme.test"}, {"website": "globex.test"}, "else"),
        ({"website": ""}, {"website": "globex.test"}, "null"),
    ],
)
def test_web_domain_levels(a, b, level):
    assert level_name(c.WebDomain(), a, b) == level


def test_web_domain_only_when_the_condition_holds():
    comparison = c.WebDomain(("email",), when=lambda values: values.get("kind") == "organization")
    people = {"kind": "person", "email": "a@mail.test"}, {"kind": "person", "email": "b@mail.test"}
    assert level_name(comparison, *people) == "null"


@pytest.mark.parametrize(
    ("function", "text", "key"),
    [
        (n.name_key, "MUELLER", "muller"),
        (n.name_key, "Müller", "muller"),
        (n.place_key, "北京市", "beijing"),
        (n.place_key, "Beijing", "beijing"),
        (n.place_key, "广州市", "guangzhou"),
        (n.place_key, "MUENCHEN", "munchen"),
        (n.street_core, "Calle de Alcalá, 12", "alcala 12"),
        (n.street_core, "C/ Alcalá 12", "alcala 12"),
        (n.street_core, "Pº de Gracia, 5", "gracia 5"),
        (n.street_core, "Av. de América 3", "america 3"),
        (n.street_core, "Berliner Str. 176", "berliner 176"),
        (n.street_core, "新华路６７号", "xin hua 67hao"),
        (n.web_domain, "https://www.Acme.com/about", "acme.com"),
        (n.web_domain, "sales@acme.com", "acme.com"),
        (n.web_domain, "n/a", ""),
        (n.given_name_key, "Sandro", "alexander"),
        (n.given_name_key, "Rita", "margaret"),
    ],
)
def test_party_normalisers(function, text, key):
    assert function(text) == key
    assert function(None) == "" and function("") == ""


def test_company_name_knows_sociedad_limitada():
    assert n.company_name("Gómez Tecnología Sociedad Limitada") == n.CompanyName(
        "gómez tecnología", "sl"
    )


def test_party_blocking_keys():
    chinese = {"organization_name": "北京华信科技有限公司"}
    short = {"organization_name": "华信科技有限公司"}
    rule = b.organization_name("organization_name")
    assert set(rule(chinese)) & set(rule(short))
    sounds = b.full_name_sound("first_name", "last_name")
    assert sounds(person("Smith", "Jon")) == sounds(person("John", "Smith"))
    phones = {"phone": ["+491", "+492"]}
    assert b.each("phone", n.phone_digits)(phones) == ["+491", "+492"]
    assert b.place("city")({"city": "北京市"}) == b.place("city")({"city": "BEIJING"})
    assert b.house("address_line1")({"address_line1": "Kölner Straße 43"}) == ["43 kol"]


def test_name_initials_split_one_address_by_name_and_survive_a_swap():
    initials = b.initials("first_name", "last_name", organization="organization_name")
    assert initials(person("Jon", "Smith")) == ["j", "s"]
    assert initials(person("Smith", "Jon")) == initials(person("Jon", "Smith"))
    assert not set(initials(person("Jon", "Smith"))) & set(initials(person("Anna", "Berg")))
    assert initials({"organization_name": "Ätna Bau GmbH"}) == ["a"]  # legal form left out
    assert initials({"first_name": "1st"}) == []


@pytest.mark.parametrize("domain", ["customer", "supplier"])
def test_one_pair_and_vectorised_levels_agree(domain):
    spec = get_domain(domain).matching
    model = spec.model()
    records = [get_domain(domain).validate(raw).canonical for raw in PARTIES[domain]]
    features = [model.prepare(values) for values in records]
    pairs = np.array([(i, j) for i in range(len(records)) for j in range(i + 1, len(records))])
    matrix = model.level_matrix(features, pairs)
    for row, (i, j) in enumerate(pairs.tolist()):
        assert tuple(matrix[row]) == model.levels(features[i], features[j])


HOUSEHOLD = {
    "kind": "person",
    "address_line1": "12 Main Street",
    "city": "Boston",
    "postal_code": "02108",
    "country": "US",
    "phone": "+1 617 555 0100",
}
PARTIES = {
    "customer": [
        {**HOUSEHOLD, "first_name": "John", "last_name": "Smith", "birth_date": "1970-05-04"},
        {**HOUSEHOLD, "first_name": "Jon", "last_name": "Smyth", "address_line1": "12 Main St."},
        {**HOUSEHOLD, "first_name": "Emma", "last_name": "Smith", "birth_date": "1999-02-11"},
        {"kind": "organization", "organization_name": "北京华信科技有限公司", "country": "CN"},
    ],
    "supplier": [
        {"legal_name": "Mimi Bautechnik GmbH", "city": "Leipzig", "country": "DE"},
        {"legal_name": "Mimi Logistik GmbH", "city": "Leipzig", "country": "DE"},
    ],
}


def decision(domain, a, b):
    """Where b goes once a is known: "auto", "review" or "none"."""
    validator = get_domain(domain)
    model = validator.matching.model()
    features = [model.prepare(validator.validate(raw).canonical) for raw in (a, b)]
    result = link_in_order(model, features, np.array([(0, 1)]))
    if result.cluster_of[1] == result.cluster_of[0]:
        return "auto"
    return "review" if result.decisions[1].review else "none"


JOHN = {**HOUSEHOLD, "first_name": "John", "last_name": "Smith", "birth_date": "1970-05-04"}


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (
            {
                **HOUSEHOLD,
                "first_name": "Jon",
                "last_name": "Smyth",
                "address_line1": "12 Main St.",
                "phone": "",
            },
            {**HOUSEHOLD, "first_name": "John", "last_name": "Smith", "phone": ""},
            "auto",
        ),
        (JOHN, {**JOHN, "first_name": "Johnny", "birth_date": "1970-04-05"}, "auto"),
        (JOHN, {**JOHN, "first_name": "William", "birth_date": "1970-05-04"}, "review"),  # twin
        (JOHN, {**JOHN, "first_name": "William", "birth_date": ""}, "none"),  # a relative
        (JOHN, {**JOHN, "birth_date": "1996-08-14"}, "review"),  # father and son
        (JOHN, {**JOHN, "national_id": "536-90-4399", "birth_date": ""}, "auto"),
        (
            {**JOHN, "national_id": "536-90-4399"},
            {**JOHN, "national_id": "536-22-1234", "birth_date": ""},
            "review",
        ),  # two people: two national IDs
        (  # namesake in another city
            JOHN,
            {
                **JOHN,
                "address_line1": "5 Oak Ave",
                "city": "Seattle",
                "postal_code": "98101",
                "phone": "",
                "birth_date": "",
            },
            "none",
        ),
    ],
)
def test_customer_person_scenarios(a, b, expected):
    assert decision("customer", a, b) == expected


BEIJING = {
    "kind": "organization",
    "organization_name": "北京华信科技有限公司",
    "address_line1": "建国路88号",
    "city": "北京市",
    "country": "CN",
}


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (BEIJING, {**BEIJING, "organization_name": "北京华信科技"}, "auto"),
        (
            BEIJING,
            {
                **BEIJING,
                "organization_name": "华信科技",
                "address_line1": "建国路８８号",
                "city": "Beijing",
            },
            "auto",
        ),
        (
            BEIJING,
            {**BEIJING, "organization_name": "北京华信科技", "address_line1": "", "city": ""},
            "review",
        ),
        (BEIJING, {**BEIJING, "address_line1": "长安街1号", "city": "上海市"}, "none"),
    ],
)
def test_customer_chinese_company_scenarios(a, b, expected):
    assert decision("customer", a, b) == expected


ACME = {
    "legal_name": "Acme Bautechnik GmbH",
    "address_line1": "Hauptstraße 5",
    "postal_code": "04109",
    "city": "Leipzig",
    "country": "DE",
    "phone": "+49 341 1234567",
}


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (
            ACME,
            {**ACME, "legal_name": "ACME BAUTECHNIK G.M.B.H.", "address_line1": "Hauptstr. 5"},
            "auto",
        ),
        (ACME, {**ACME, "legal_name": "Acme Bautechnik", "tax_id": "DE136695976"}, "auto"),
        (ACME, {**ACME, "legal_name": "Acme Logistik GmbH", "phone": ""}, "none"),  # sister company
        (
            ACME,
            {**ACME, "legal_name": "Acme Bautechnik KG", "phone": ""},
            "none",
        ),  # other legal form
        (ACME, {**ACME, "legal_name": "Acme GmbH", "phone": ""}, "none"),  # the parent
        (
            {**ACME, "tax_id": "DE136695976"},
            {**ACME, "tax_id": "DE129273398"},
            "review",
        ),  # two legal entities: a steward looks
    ],
)
def test_supplier_scenarios(a, b, expected):
    assert decision("supplier", a, b) == expected


@pytest.mark.parametrize("domain", ["customer", "supplier"])
def test_domains_declare_matching(domain):
    spec = get_domain(domain).matching
    assert spec is not None
    assert spec.model().thresholds.auto > spec.model().thresholds.review
    assert len(spec.blocking) >= 5
