"""Text normalisers of the matching engine, without a database."""

import subprocess
import sys
from pathlib import Path

import pytest

from matching.engine import normalize as nz
from matching.engine.normalize import (
    CompanyName,
    ascii_key,
    company_name,
    convert,
    email_key,
    fold,
    given_name_key,
    model_codes,
    part_number,
    person_name_key,
    person_tokens,
    phone_digits,
    quantities,
    quantity,
    spelled_codes,
    street,
    tokens,
)

REPO_ROOT = Path(__file__).resolve().parent.parent

# --------------------------------------------------------------------------------------
# Empty input
# --------------------------------------------------------------------------------------

STRING_FUNCTIONS = [
    fold,
    ascii_key,
    given_name_key,
    person_name_key,
    street,
    phone_digits,
    email_key,
    part_number,
]
TUPLE_FUNCTIONS = [tokens, person_tokens, model_codes, quantities]


@pytest.mark.parametrize("func", STRING_FUNCTIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("value", [None, "", "   "])
def test_string_normalisers_accept_empty_input(func, value):
    assert func(value) == ""


@pytest.mark.parametrize("func", TUPLE_FUNCTIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("value", [None, "", "   "])
def test_tuple_normalisers_accept_empty_input(func, value):
    assert func(value) == ()


@pytest.mark.parametrize("value", [None, "", "   "])
def test_company_name_accepts_empty_input(value):
    assert company_name(value) == CompanyName("", "")


@pytest.mark.parametrize("value", [None, "", "   ", "no unit here"])
def test_quantity_without_a_quantity_is_none(value):
    assert quantity(value) is None


@pytest.mark.parametrize(
    ("value", "unit"), [(None, "kg"), (1.0, None), (1.0, ""), (1.0, "parsec"), (1.0, "  ")]
)
def test_convert_rejects_missing_or_unknown_input(value, unit):
    assert convert(value, unit) is None


# --------------------------------------------------------------------------------------
# fold / ascii_key / tokens
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ＡＢＣ　１２３", "abc 123"),
        ("ＡＢＣ１２３", "abc123"),
        ("  Hello,   World! ", "hello world"),
        ("O'Brien", "obrien"),
        ("O’Brien", "obrien"),
        ("O`Brien", "obrien"),
        ("O´Brien", "obrien"),
        ("McDonald's", "mcdonalds"),
        ("'quoted'", "quoted"),
        ("Müller", "müller"),
        ("STRASSE", "strasse"),
        ("Straße", "strasse"),
        ("北京华信科技有限公司", "北京华信科技有限公司"),
        ("华为技术（集团）有限公司", "华为技术 集团 有限公司"),
        ("A&B-C/D_E", "a b c d e"),
        ("price: 5€ + 3$", "price 5 3"),
        ("tab\tnew\nline", "tab new line"),
        ("soft\u00adhyphen", "softhyphen"),
        ("zero\u200bwidth", "zero width"),
        ("ﬁne", "fine"),
        ("Ⅻ", "xii"),
        ("Москва", "москва"),
        ("lone \udc80 surrogate", "lone surrogate"),
    ],
)
def test_fold(text, expected):
    assert fold(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Müller", "muller"),
        ("Straße", "strasse"),
        ("北京", "bei jing"),
        ("北京华信科技", "bei jing hua xin ke ji"),
        ("ＡＢＣ　１２３", "abc 123"),
        ("Crème Brûlée", "creme brulee"),
        ("Łódź", "lodz"),
        ("Москва", "moskva"),
        ("Объект", "obekt"),
        ("O'Brien-Smith", "obrien smith"),
        ("İstanbul", "istanbul"),
    ],
)
def test_ascii_key(text, expected):
    assert ascii_key(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Müller & Söhne", ("muller", "sohne")),
        ("北京 华信", ("bei", "jing", "hua", "xin")),
        ("  one  ", ("one",)),
    ],
)
def test_tokens(text, expected):
    assert tokens(text) == expected


# --------------------------------------------------------------------------------------
# company_name
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "core", "legal_form"),
    [
        ("北京华信科技有限公司", "北京华信科技", "cn_ltd"),
        ("北京华信科技", "北京华信科技", ""),
        ("北京华信科技有限责任公司", "北京华信科技", "cn_ltd"),
        ("北京華信科技有限責任公司", "北京華信科技", "cn_ltd"),
        ("北京华信科技股份有限公司", "北京华信科技", "cn_co_ltd"),
        ("北京华信科技股份公司", "北京华信科技", "cn_co_ltd"),
        ("北京华信集团有限公司", "北京华信", "cn_ltd"),
        ("北京华信集團有限公司", "北京华信", "cn_ltd"),
        ("北京华信集团股份有限公司", "北京华信", "cn_co_ltd"),
        ("北京华信(集团)", "北京华信", "cn_group"),
        ("北京华信集团", "北京华信", "cn_group"),
        ("北京华信集團", "北京华信", "cn_group"),
        ("北京华信公司", "北京华信", "cn_co"),
        ("北京华信分公司", "北京华信", "cn_branch"),
        ("北京华信控股", "北京华信", "cn_holding"),
        ("北京华信控股集团有限公司", "北京华信", "cn_ltd"),
        ("华为技术（集团）有限公司", "华为技术", "cn_ltd"),
        ("华为技术(集团)有限公司", "华为技术", "cn_ltd"),
        ("北京第一机床厂", "北京第一机床厂", ""),
        ("深圳创新投资有限合伙", "深圳创新投资", "cn_lp"),
        ("株式会社日立製作所", "日立製作所", "jp_kk"),
        ("トヨタ自動車株式会社", "トヨタ自動車", "jp_kk"),
        # A name that is nothing but a legal form keeps it.
        ("有限公司", "有限公司", ""),
        ("集团有限公司", "集团有限公司", ""),
    ],
)
def test_company_name_chinese(text, core, legal_form):
    assert company_name(text) == CompanyName(core, legal_form)


@pytest.mark.parametrize(
    ("text", "core", "legal_form"),
    [
        ("Acme Inc", "acme", "inc"),
        ("Acme, Inc.", "acme", "inc"),
        ("Acme Incorporated", "acme", "inc"),
        ("Acme Corp", "acme", "corp"),
        ("Acme Corp.", "acme", "corp"),
        ("Acme Corporation", "acme", "corp"),
        ("Acme Co", "acme", "co"),
        ("Acme Co.", "acme", "co"),
        ("Acme Company", "acme", "co"),
        ("Smith & Co.", "smith", "co"),
        ("Acme Ltd", "acme", "ltd"),
        ("Acme Ltd.", "acme", "ltd"),
        ("Acme Limited", "acme", "ltd"),
        ("Acme LLC", "acme", "llc"),
        ("Acme L.L.C.", "acme", "llc"),
        ("Acme LLP", "acme", "llp"),
        ("Acme LP", "acme", "lp"),
        ("Acme L.P.", "acme", "lp"),
        ("Acme PLC", "acme", "plc"),
        ("Acme plc", "acme", "plc"),
        ("Acme Pty Ltd", "acme", "pty_ltd"),
        ("Acme Pty. Ltd.", "acme", "pty_ltd"),
        ("Acme Co., Ltd.", "acme", "co_ltd"),
        ("Acme Co. Ltd", "acme", "co_ltd"),
        ("Acme Company Limited", "acme", "co_ltd"),
        ("The Boeing Company", "boeing", "co"),
        ("The Acme", "acme", ""),
        ("Acme Corp Inc", "acme", "inc"),
        ("General Motors Company LLC", "general motors", "llc"),
        # Forms are only removed at the end, never inside a word or a name.
        ("Incorporated Television Company", "incorporated television", "co"),
        ("Limited Brands Inc", "limited brands", "inc"),
        ("Costco Wholesale", "costco wholesale", ""),
        ("Inca Foods", "inca foods", ""),
    ],
)
def test_company_name_english(text, core, legal_form):
    assert company_name(text) == CompanyName(core, legal_form)


@pytest.mark.parametrize(
    ("text", "core", "legal_form"),
    [
        ("Müller GmbH", "müller", "gmbh"),
        ("Foo Holding GmbH & Co. KG", "foo holding", "gmbh_co_kg"),
        ("Foo Holding GmbH & Co KG", "foo holding", "gmbh_co_kg"),
        ("Foo GmbH u. Co. KG", "foo", "gmbh_co_kg"),
        ("Foo KG", "foo", "kg"),
        ("Foo OHG", "foo", "ohg"),
        ("Siemens AG", "siemens", "ag"),
        ("Allianz SE", "allianz", "se"),
        ("Foo e.K.", "foo", "ek"),
        ("Foo e. K.", "foo", "ek"),
        ("Foo UG (haftungsbeschränkt)", "foo", "ug"),
        ("Foo UG", "foo", "ug"),
        ("Foo S.A.", "foo", "sa"),
        ("Foo SA", "foo", "sa"),
        ("Foo s. a.", "foo", "sa"),
        ("Foo S.A.S.", "foo", "sas"),
        ("Foo SAS", "foo", "sas"),
        ("Foo SARL", "foo", "sarl"),
        ("Foo S.à r.l.", "foo", "sarl"),
        ("Foo S.a r.l.", "foo", "sarl"),
        ("Foo EURL", "foo", "eurl"),
        ("Foo SNC", "foo", "snc"),
        ("Foo S.p.A.", "foo", "spa"),
        ("Foo SpA", "foo", "spa"),
        ("Foo S.r.l.", "foo", "srl"),
        ("Foo Srl", "foo", "srl"),
        ("Foo S.L.", "foo", "sl"),
        ("Foo SL", "foo", "sl"),
        ("Foo S.L.U.", "foo", "slu"),
        ("Foo B.V.", "foo", "bv"),
        ("Foo BV", "foo", "bv"),
        ("Foo N.V.", "foo", "nv"),
        ("Foo NV", "foo", "nv"),
        ("Foo V.O.F.", "foo", "vof"),
        ("Volvo AB", "volvo", "ab"),
        ("Volvo AB (publ)", "volvo", "ab"),
        ("Maersk A/S", "maersk", "as"),
        ("Foo ApS", "foo", "aps"),
        ("Equinor AS", "equinor", "as"),
        ("Skoda Auto a.s.", "skoda auto", "as"),
        ("Nokia Oy", "nokia", "oy"),
        ("Nokia Oyj", "nokia", "oyj"),
        ("Foo sp. z o.o.", "foo", "sp_zoo"),
        ("Foo Sp. z o. o.", "foo", "sp_zoo"),
        ("Foo s.r.o.", "foo", "sro"),
        ("Foo Kft.", "foo", "kft"),
        ("Foo Zrt.", "foo", "zrt"),
        ("Foo d.o.o.", "foo", "doo"),
        ("Foo Lda", "foo", "lda"),
        ("Foo Ltda.", "foo", "ltda"),
        ("Grupo Foo S.A. de C.V.", "grupo foo", "sa_de_cv"),
        ("Grupo Foo SA de CV", "grupo foo", "sa_de_cv"),
        ("Grupo Bimbo S.A.B. de C.V.", "grupo bimbo", "sab_de_cv"),
        # Written first in some countries.
        ("OOO Romashka", "romashka", "ooo"),
        ("ООО «Ромашка»", "ромашка", "ooo"),
        ("AO Foo", "foo", "ao"),
        ("PT Foo", "foo", "pt"),
        ("PT Bank Central Asia Tbk", "bank central asia", "tbk"),
        # Initials are not a leading form.
        ("A. O. Smith Corp", "a o smith", "corp"),
        # A name that is only a legal form word stays.
        ("AG", "ag", ""),
        ("SA", "sa", ""),
        ("GmbH", "gmbh", ""),
        ("OOO", "ooo", ""),
    ],
)
def test_company_name_european_and_others(text, core, legal_form):
    assert company_name(text) == CompanyName(core, legal_form)


@pytest.mark.parametrize(
    "variants",
    [
        ("Foo S.A.", "FOO SA", "foo s. a.", "Foo, S.A"),
        ("Acme Co., Ltd.", "ACME CO LTD", "Acme Company Limited"),
        ("Foo GmbH & Co. KG", "FOO GMBH & CO KG", "Foo GmbH und Co. KG"),
        ("Foo S.à r.l.", "Foo SARL", "FOO S.A.R.L."),
    ],
)
def test_company_name_spellings_are_equivalent(variants):
    assert len({company_name(v) for v in variants}) == 1


def test_company_name_core_is_folded_with_accents_kept():
    assert company_name("Société Générale S.A.").core == "société générale"


# --------------------------------------------------------------------------------------
# Person names
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Jon", "john"),
        ("Johnny", "john"),
        ("Jack", "john"),
        ("Johann", "john"),
        ("Johannes", "john"),
        ("Hans", "john"),
        ("Jean", "john"),
        ("Juan", "john"),
        ("Giovanni", "john"),
        ("João", "john"),
        ("Bill", "william"),
        ("BILLY", "william"),
        ("Will", "william"),
        ("Liam", "william"),
        ("Wilhelm", "william"),
        ("Guillaume", "william"),
        ("Guillermo", "william"),
        ("Guglielmo", "william"),
        ("Bob", "robert"),
        ("Bert", "robert"),
        ("Rick", "richard"),
        ("Dick", "richard"),
        ("Jim", "james"),
        ("Jamie", "james"),
        ("Mike", "michael"),
        ("Mick", "michael"),
        ("Kate", "katherine"),
        ("Cathy", "katherine"),
        ("Catherine", "katherine"),
        ("Kathryn", "katherine"),
        ("Liz", "elizabeth"),
        ("Betty", "elizabeth"),
        ("Elisabeth", "elizabeth"),
        ("Peggy", "margaret"),
        ("Meg", "margaret"),
        ("Tony", "anthony"),
        ("Dave", "david"),
        ("Danny", "daniel"),
        ("Chris", "christopher"),
        ("Matt", "matthew"),
        ("Nick", "nicholas"),
        ("Alex", "alexander"),
        ("Sandy", "alexander"),
        ("Sam", "samuel"),
        ("Tommy", "thomas"),
        ("Steve", "stephen"),
        ("Steven", "stephen"),
        ("Ted", "edward"),
        ("Ned", "edward"),
        ("Harry", "henry"),
        ("Hank", "henry"),
        ("Susie", "susan"),
        ("Jen", "jennifer"),
        ("Pat", "patrick"),
        ("Chuck", "charles"),
        ("Freddy", "frederick"),
        ("Greg", "gregory"),
        ("Joey", "joseph"),
        ("José", "joseph"),
        ("Jose", "joseph"),
        ("Giuseppe", "joseph"),
        ("Larry", "lawrence"),
        ("Ben", "benjamin"),
        ("Drew", "andrew"),
        ("Josh", "joshua"),
        ("Nate", "nathan"),
        ("Sophie", "sophia"),
        ("Pedro", "peter"),
        ("Pierre", "peter"),
        ("Pietro", "peter"),
        ("Peter", "peter"),
        ("William", "william"),
        ("Zorro", "zorro"),
        ("Renée", "renee"),
        ("Jean-Pierre", "john peter"),
    ],
)
def test_given_name_key(name, expected):
    assert given_name_key(name) == expected


def test_nickname_table_is_large_and_canonical_names_are_fixed_points():
    assert len(nz._GIVEN_NAMES) >= 150
    for canonical in set(nz._GIVEN_NAMES.values()):
        assert given_name_key(canonical) == canonical


@pytest.mark.parametrize(
    ("name", "key", "sorted_tokens"),
    [
        ("Bill Smith", "william smith", ("smith", "william")),
        ("Smith, Bill", "smith william", ("smith", "william")),
        ("  José   García ", "joseph garcia", ("garcia", "joseph")),
        ("MÜLLER Hans", "muller john", ("john", "muller")),
        ("Kate Kate", "katherine katherine", ("katherine",)),
        ("Mary O'Neil", "mary oneil", ("mary", "oneil")),
    ],
)
def test_person_name_key_and_tokens(name, key, sorted_tokens):
    assert person_name_key(name) == key
    assert person_tokens(name) == sorted_tokens


def test_person_tokens_ignore_first_and_last_name_order():
    assert person_tokens("Smith William") == person_tokens("Bill Smith")


# --------------------------------------------------------------------------------------
# street
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # English
        ("123 Main St.", "123 main street"),
        ("123 Main Street", "123 main street"),
        ("1600 Pennsylvania Ave NW", "1600 pennsylvania avenue nw"),
        ("10 Downing Rd", "10 downing road"),
        ("5 Sunset Blvd", "5 sunset boulevard"),
        ("10 Oak Ln", "10 oak lane"),
        ("7 Ocean Dr", "7 ocean drive"),
        ("3 Kings Ct", "3 kings court"),
        ("4 Grosvenor Pl", "4 grosvenor place"),
        ("1 Union Sq", "1 union square"),
        ("100 Pacific Hwy", "100 pacific highway"),
        ("9 Garden State Pkwy", "9 garden state parkway"),
        ("2 Park Ter", "2 park terrace"),
        ("5 N Main St", "5 n main street"),
        ("5 S Main St", "5 s main street"),
        ("St. Kilda Rd 12", "saint kilda road 12"),
        ("12 St Marys Road", "12 saint marys road"),
        # German
        ("Hauptstr. 5", "hauptstrasse 5"),
        ("Hauptstraße 5", "hauptstrasse 5"),
        ("Hauptstrasse 5", "hauptstrasse 5"),
        ("Berliner Str. 1", "berliner strasse 1"),
        ("Berliner Straße 1", "berliner strasse 1"),
        ("Karl-Marx-Str. 12", "karl marx strasse 12"),
        ("Karl-Marx-Straße 12", "karl marx strasse 12"),
        # French
        ("12 Bd Haussmann", "12 boulevard haussmann"),
        ("12 Boulevard Haussmann", "12 boulevard haussmann"),
        ("12 Av. des Champs-Élysées", "12 avenue des champs elysees"),
        ("12 r. de la Paix", "12 rue de la paix"),
        ("12 Rue de la Paix", "12 rue de la paix"),
        # Spanish
        ("C/ Mayor 5", "calle mayor 5"),
        ("c/Mayor 5", "calle mayor 5"),
        ("Cl. Mayor 5", "calle mayor 5"),
        ("Calle Mayor 5", "calle mayor 5"),
        ("Avda. de América 3", "avenida de america 3"),
        ("Avenida de América 3", "avenida de america 3"),
        ("c/o John Smith", "c o john smith"),
        # Italian
        ("V. Roma 10", "via roma 10"),
        ("Via Roma 10", "via roma 10"),
        ("P.za Duomo 1", "piazza duomo 1"),
        ("Pza Duomo 1", "piazza duomo 1"),
        ("Piazza Duomo 1", "piazza duomo 1"),
        # Chinese: folded, not transliterated; full-width digits become ASCII.
        ("北京市朝阳区建国路８８号", "北京市朝阳区建国路88号"),
        ("北京市 朝阳区 建国路88号", "北京市 朝阳区 建国路88号"),
    ],
)
def test_street(text, expected):
    assert street(text) == expected


# --------------------------------------------------------------------------------------
# phone_digits / email_key
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+49 (0)30 1234567", "+49301234567"),
        ("+49 (0) 30 123 45 67", "+49301234567"),
        ("0049 30 1234567", "+49301234567"),
        ("0049 (0)30 1234567", "+49301234567"),
        ("+49301234567", "+49301234567"),
        ("(030) 1234567", "0301234567"),
        ("030/123-45-67", "0301234567"),
        ("+1 (555) 123-4567", "+15551234567"),
        ("+1 555.123.4567 ext. 89", "+15551234567"),
        ("+1 555 123 4567 x89", "+15551234567"),
        ("tel: +44 20 7946 0958", "+442079460958"),
        ("＋４９　３０　１２３４５６７", "+49301234567"),
        ("+86 10 8888 8888", "+861088888888"),
        ("no digits", ""),
        ("+", ""),
    ],
)
def test_phone_digits(text, expected):
    assert phone_digits(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  John.Doe@Example.COM ", "john.doe@example.com"),
        ("john.doe+newsletter@example.com", "john.doe@example.com"),
        ("John.Doe+tag@gmail.com", "johndoe@gmail.com"),
        ("j.o.h.n.doe@googlemail.com", "johndoe@gmail.com"),
        ("JohnDoe@GoogleMail.com", "johndoe@gmail.com"),
        ("John Doe <john@example.com>", "john@example.com"),
        ("mailto:john@example.com", "john@example.com"),
        ("ｊｏｈｎ＠ｅｘａｍｐｌｅ．ｃｏｍ", "john@example.com"),
        ("not an e-mail", "not an e mail"),
        ("John.Doe", "john doe"),
        ("@example.com", "example com"),
    ],
)
def test_email_key(text, expected):
    assert email_key(text) == expected


# --------------------------------------------------------------------------------------
# part_number / model_codes
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("00123-A", "123A"),
        ("000", "0"),
        ("0", "0"),
        ("0-0-1", "1"),
        ("ab-12/3", "AB123"),
        ("a_b.c\\d e", "ABCDE"),
        ("PS-LX350H", "PSLX350H"),
        ("ps lx 350 h", "PSLX350H"),
        ("ＡＢ－１２", "AB12"),
        ("Ä-100", "A100"),
        ("CE651A#ABA", "CE651A#ABA"),
    ],
)
def test_part_number(text, expected):
    assert part_number(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sony Turntable - PSLX350H", ("PSLX350H",)),
        ("SONY PS-LX350H belt-drive turntable", ("PSLX350H",)),
        ("Sony PS LX350H turntable", ("PSLX350H", "LX350H")),
        ("Sony PS - LX350H", ("PSLX350H", "LX350H")),
        ('Samsung 40" LCD TV LN40A530', ("LN40A530",)),
        ("Canon EOS 5D Mark II 21.1MP", ("EOS5D",)),
        ("Seagate 500GB 7200rpm ST3500418AS", ("ST3500418AS",)),
        ("HP LaserJet P1102w (CE651A)", ("P1102W", "CE651A")),
        ("Bosch GSR 12V-15 cordless drill, 0601868101", ("12V15", "601868101")),
        ("Cable 2m, 16GB, 1080p, 2.4GHz, 12V, 100W, 50mm, 500GB", ()),
        ("Monitor 1920x1080 60Hz", ()),
        ("USB 3.0 cable", ()),
        ("Released 2019, EAN 4006381333931", ("4006381333931",)),
        ("ST3500418AS / st3500418as", ("ST3500418AS",)),
        ("Sony Headset - TMRBT10/TMRBT10A", ("TMRBT10", "TMRBT10A")),
        ("Sony DVD Player - DVPFX820/W", ("DVPFX820W",)),
        ("Samsung HT-Z410/XAA", ("HTZ410XAA",)),
        ("Ｓｏｎｙ　ＰＳ－ＬＸ３５０Ｈ", ("PSLX350H",)),
        ("just words here", ()),
    ],
)
def test_model_codes(text, expected):
    assert model_codes(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Olympus Stylus 1050 SW Camera",
            ("OLYMPUSSTYLUS1050", "STYLUS1050", "STYLUS1050SW", "1050SW", "1050SWCAMERA"),
        ),
        # Not across a comma or a free-standing dash.
        ("Canon SD990 IS, black", ("CANONSD990", "CANONSD990IS", "SD990IS")),
        ("Nikon COOLPIX S710 - Black", ("NIKONCOOLPIXS710", "COOLPIXS710")),
        ("just words here", ()),
        ("", ()),
    ],
)  # fmt: skip
def test_spelled_codes(text, expected):
    assert spelled_codes(text) == expected


# --------------------------------------------------------------------------------------
# Quantities
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,5 kg", (1.5, "kg")),
        ("1.5kg", (1.5, "kg")),
        ("500 g", (0.5, "kg")),
        ("250mg", (0.00025, "kg")),
        ("2 t", (2000.0, "kg")),
        ("2 lbs", (0.90718474, "kg")),
        ("16 oz", (0.45359237, "kg")),
        ("50mm", (0.05, "m")),
        ("30 cm", (0.3, "m")),
        ("2 km", (2000.0, "m")),
        ('40" TV', (1.016, "m")),
        ("40in", (1.016, "m")),
        ("6 ft", (1.8288, "m")),
        ("750 ml", (0.75, "l")),
        ("33cl", (0.33, "l")),
        ("1 gal", (3.785411784, "l")),
        ("512 MB", (0.512, "gb")),
        ("16GB RAM", (16.0, "gb")),
        ("2 TB", (2000.0, "gb")),
        ("100W", (100.0, "w")),
        ("2 kW", (2000.0, "w")),
        ("12V", (12.0, "v")),
        ("2.4GHz", (2_400_000_000.0, "hz")),
        ("50 Hz", (50.0, "hz")),
        ("Weight: ２ｋｇ", (2.0, "kg")),
        ("2 in 1 charger", None),
        ("1 500 g", None),
        ("LX350H", None),
    ],
)
def test_quantity(text, expected):
    assert quantity(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("16GB RAM, 1TB SSD", ((16.0, "gb"), (1000.0, "gb"))),
        ("230 V / 50 Hz, 2000 W", ((230.0, "v"), (50.0, "hz"), (2000.0, "w"))),
        ("Pack of 6 x 330 ml", ((0.33, "l"),)),
        ("no quantities", ()),
    ],
)
def test_quantities(text, expected):
    assert quantities(text) == expected


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (500, "g", (0.5, "kg")),
        (500, "G", (0.5, "kg")),
        (2, "KG", (2.0, "kg")),
        (1, "lb", (0.45359237, "kg")),
        (1, "oz", (0.028349523125, "kg")),
        (3, "cm", (0.03, "m")),
        (1, "inch", (0.0254, "m")),
        (250, "ml", (0.25, "l")),
        (1, "TB", (1000.0, "gb")),
        (1000, "MB", (1.0, "gb")),
        (1.5, "kW", (1500.0, "w")),
        (3, "GHz", (3_000_000_000.0, "hz")),
        (5, " v ", (5.0, "v")),
    ],
)
def test_convert(value, unit, expected):
    assert convert(value, unit) == expected


# --------------------------------------------------------------------------------------
# Framework independence
# --------------------------------------------------------------------------------------


def test_normalize_imports_no_django():
    code = (
        "import sys, matching.engine.normalize; "
        "assert not any(m == 'django' or m.startswith('django.') for m in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
