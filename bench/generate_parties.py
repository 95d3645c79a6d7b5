#!/usr/bin/env python3
"""Generate labelled, realistically noisy customer or supplier files for evaluating matching.

Unlike bench/generate_customers.py (duplicates that share an exact key), the duplicates made
here must mostly be found by fuzzy evidence: they come from several source systems, each with
its own key format and habits, and usually lack the identifiers of the clean record.

Output (one run, one domain):

* DIR/{domain}-{SYSTEM}.csv for each --systems entry: header source_key + the domain's
  attributes, missing values empty; the import reads it as it is
  (python manage.py import_records FILE --domain DOMAIN --system SYSTEM --create-system).
* DIR/{domain}-labels.csv: system,source_key,entity_id for every row of every system file.

Entities: customers are about 65 % persons and 35 % organizations, suppliers organizations,
from DE FR NL ES IT GB US CN (country data, identifiers and phone numbers come from
generate_customers.py). Identifiers pass python-stdnum and are unique per entity (national
ID, VAT/tax ID; suppliers also D-U-N-S in 85 % and, outside US and CN, an IBAN in 90 %).

Records: with probability --duplicate-rate an entity has 2, 3 or 4 records (60/30/10 %),
else one. The first record is clean and goes to a random system; each further record goes to
a system without a record of the entity yet, or (8 %, or when all are used) to one that has
one: a duplicate inside a system under another key. Keys follow the style of the system:
ERP "C0012345" / "S0012345" (sequence), CRM "crm-3f9a0c41d2e7" (hex), LEGACY "4821307"
(numbers with gaps); other system names take these styles in turn.

Noise of a further record (probabilities per record; several usually apply):

* keys: with 40 % (ERP), 25 % (CRM) or 20 % (LEGACY) the record carries keys: each of the
  entity's strong identifiers (national_id, tax_id, duns, bank_iban) and its e-mail is kept
  with 70 % (at least one), half of the kept identifiers in another surface format (groups
  with spaces, dashes or dots, lower case) and e-mail in other letter case (30 %). Otherwise
  all identifiers are missing and the e-mail is missing (55 %) or another address (45 %).
  About a quarter of duplicate pairs end up sharing an exact key.
* person names: nickname or variant of the given name 15 % (Bill/William, Hans/Johannes,
  Kate/Katherine, ...), typo in the given name 10 % and in the last name 12 % (substitution by
  a keyboard neighbour, deletion, insertion, transposition; 2 % OCR confusions such as 0/O,
  1/l, rn/m; homophone characters in Chinese), middle name dropped 35 % or an initial 25 %,
  second Spanish surname dropped 30 %, first and last name swapped 3 % (CN 20 %), a Chinese
  full name in last_name 5 %, pinyin names in Latin-script systems (CN, 10 %).
* birth date: missing 25 %, day and month swapped 6 % (both <= 12), one digit wrong 4 %.
* organization names: legal form written differently or dropped 50 % (GmbH, G.m.b.H., none;
  Inc., Inc, Incorporated; Ltd, Limited; S.A., SA; 有限公司 dropped; 股份有限公司 as 有限公司),
  typo in the brand 12 %; Chinese names without the city prefix 8 % (only when the legal form
  is kept), with "市" 8 %, as "华瑞科技（北京）有限公司" 4 %.
* address: moved to another street in the same city 5 %, street type abbreviated 35 %
  (Straße→Str., Street→St, Avenue→Ave, Boulevard→Blvd, Road→Rd, Calle→C/ ...), typo 8 %,
  OCR confusion 2 %, full-width digits in Chinese addresses 30 %, address_line2 missing 40 %,
  region missing 30 %, postal code missing 10 % or without its space 30 %, Chinese city and
  region in pinyin in Latin-script systems (LEGACY 60 %, CRM 30 %, ERP 5 %), city typo 4 %.
* contact: phone missing 25 %, else in another format 60 % (national, +CC compact, 00CC,
  "030/..." or "(212) ..."); suppliers: website missing 30 % or written differently 50 %,
  trade name missing 40 %, account holder missing 35 % or differently, payment terms missing
  20 %, spelled "Net 30" 15 % or changed 5 %.
* style of the system: country as alpha-2, alpha-3, English or local name (weights per
  system), kind as person/organization, individual/company or P/O, UPPER CASE (LEGACY 60 %,
  ERP 5 %, CRM 2 %), lower case (CRM 4 %), diacritics folded (LEGACY 60 %, CRM 5 %:
  Müller→Mueller, García→Garcia), extra white space 5 %.
* invalid optional values 1.2 % (malformed e-mail, "n/a" phone, dotted birth date): the
  import keeps the record and reports a data-quality issue. Identifiers stay valid.

Hard non-matches: 7 % of entities are look-alikes of an earlier one (bounded reservoir):
family members at the same address (other given name and birth date, sometimes the same
phone; 15 % a parent or child with the same given name), namesakes in the same or another
city, sister companies in the same city (same brand with another trade word or legal form,
or the brand alone as the parent; half at the same address), same-named companies in other
countries, Chinese companies with the same name in another city. They get their own entity
IDs and identifiers.

Memory stays flat: entities are generated and written one at a time. The same seed and
options give byte-identical files.

    python bench/generate_parties.py --domain customer --entities 100000 --seed 42 \\
        --systems ERP,CRM,LEGACY --output-dir bench/out/parties

A one-line summary goes to stderr.
"""

import argparse
import contextlib
import csv
import datetime
import importlib.util
import re
import sys
import time
import unicodedata
from itertools import combinations
from pathlib import Path
from types import SimpleNamespace

from stdnum import iban
from stdnum.es import ccc


def _load_base():
    path = Path(__file__).resolve().with_name("generate_customers.py")
    spec = importlib.util.spec_from_file_location("generate_customers", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


base = _load_base()
COUNTRY, CODES, CUM_WEIGHTS = base.COUNTRY, base.CODES, base.CUM_WEIGHTS

ATTRIBUTES = {
    "customer": (
        "kind", "first_name", "middle_name", "last_name", "organization_name", "birth_date",
        "national_id", "tax_id", "email", "phone", "address_line1", "address_line2", "city",
        "region", "postal_code", "country",
    ),
    "supplier": (
        "legal_name", "trade_name", "tax_id", "duns", "email", "phone", "website",
        "address_line1", "address_line2", "city", "region", "postal_code", "country",
        "bank_iban", "bank_account_holder", "payment_terms",
    ),
}  # fmt: skip
STRONG = {"customer": ("national_id", "tax_id"), "supplier": ("tax_id", "duns", "bank_iban")}
TEXT_FIELDS = {
    "customer": ("first_name", "middle_name", "last_name", "organization_name"),
    "supplier": ("legal_name", "trade_name", "bank_account_holder"),
}
ADDRESS_FIELDS = ("address_line1", "address_line2", "city", "region")

PERSON_SHARE = 0.65
LOOKALIKE_RATE = 0.07
RECORD_COUNTS, RECORD_WEIGHTS = (2, 3, 4), (60, 30, 10)
SAME_SYSTEM = 0.08
KEEP_KEY = 0.7
INVALID = 0.012
RESERVOIR = 2000

# System styles: key format, share of records carrying keys, case habits, diacritics folded,
# Chinese places in pinyin, how kind is written, weights of country formats (alpha-2,
# alpha-3, English name, local name).
PROFILES = {
    "erp": SimpleNamespace(
        name="erp", keys=0.4, upper=0.05, lower=0.0, fold=0.0, pinyin=0.05,
        kinds=("person", "organization"), countries=(70, 10, 15, 5),
    ),
    "crm": SimpleNamespace(
        name="crm", keys=0.25, upper=0.02, lower=0.04, fold=0.05, pinyin=0.3,
        kinds=("individual", "company"), countries=(20, 5, 65, 10),
    ),
    "legacy": SimpleNamespace(
        name="legacy", keys=0.2, upper=0.6, lower=0.0, fold=0.6, pinyin=0.6,
        kinds=("P", "O"), countries=(15, 70, 10, 5),
    ),
}  # fmt: skip
LOCAL_COUNTRY = {
    "DE": "Deutschland", "FR": "France", "NL": "Nederland", "ES": "España", "IT": "Italia",
    "GB": "UK", "US": "USA", "CN": "中国",
}  # fmt: skip

# Given names added to those of generate_customers.py, so that nicknames occur.
EXTRA_GIVEN = {
    "DE": ("Johannes Alexander Christian Wolfgang Matthias Andreas",
           "Katharina Elisabeth Margarete Susanne Christina"),
    "FR": ("Guillaume Alexandre Christophe", "Catherine Élisabeth Marguerite"),
    "NL": ("Johannes Hendrik Cornelis Jacobus", "Elisabeth Johanna Catharina Margaretha"),
    "ES": ("Ignacio Jesús Enrique", "Dolores Concepción Pilar Guadalupe"),
    "IT": ("Salvatore Vincenzo Roberto", "Elisabetta Margherita Caterina"),
    "GB": ("Edward Alexander Robert Richard Henry Charles Anthony",
           "Katherine Elizabeth Margaret Victoria Rebecca Jennifer"),
    "US": ("Thomas Daniel Anthony Charles Edward Steven", "Katherine Margaret Deborah Rebecca"),
}  # fmt: skip
EXTRA_STREETS = {
    "DE": ("Berliner Straße", "Kölner Straße"), "US": ("Sunset Boulevard", "Ocean Boulevard"),
    "GB": ("Mill Road", "London Road"), "FR": ("boulevard Haussmann",),
    "ES": ("Paseo de la Castellana",), "IT": ("Viale Europa",),
}  # fmt: skip
NICKNAMES = """
William: Bill Will Billy Liam; Robert: Bob Rob Bobby Robbie; John: Jon Johnny Jack
James: Jim Jimmy Jamie; Michael: Mike Mick Micha; Richard: Rick Dick Richie; Joseph: Joe Joey
Christopher: Chris Kit; Matthew: Matt; David: Dave Davy; Daniel: Dan Danny; Thomas: Tom Tommy
Samuel: Sam Sammy; Oliver: Ollie Olly; Harry: Henry Hal; Henry: Harry Hank; Jack: John Jackie
Edward: Ed Eddie Ted Ned; Charles: Charlie Chuck; Anthony: Tony; Steven: Steve Stephen
Alexander: Alex Sascha Sandro; Katherine: Kate Kathy Katie Catherine; Catherine: Cathy Kate
Elizabeth: Liz Beth Lizzy Betty Eliza; Margaret: Maggie Peggy Meg; Patricia: Pat Patty Trish
Jennifer: Jen Jenny; Susan: Sue Susie; Jessica: Jess Jessie; Barbara: Barb Babs
Deborah: Debbie Deb; Rebecca: Becky Becca; Victoria: Vicky Tori; Charlotte: Lottie Charlie
Eleanor: Ellie Nora; Amelia: Millie Amy; Emily: Em Emmy; Sarah: Sara; Mary: Marie Molly
Johannes: Hans Jan Johann; Katharina: Katja Kathi Katrin; Elisabeth: Lisa Elli Liesel
Margarete: Grete Margit; Maximilian: Max Maxi; Tobias: Tobi; Stefan: Stephan Steffen
Matthias: Mathias Matze; Andreas: Andi; Christian: Chris; Wolfgang: Wolf; Lukas: Lucas Luke
Ursula: Uschi Ulla; Susanne: Susi Sanne; Christina: Tina Christine; Jürgen: Jörg
Sophie: Sophia; Nicolas: Nico Nicholas; Alexandre: Alex; Christophe: Chris
Mathieu: Matthieu; Isabelle: Isa Isabel; Nathalie: Natalie; Élisabeth: Élise Lisa
Hendrik: Henk; Cornelis: Kees; Jacobus: Jaap Koos; Willem: Wim; Pieter: Piet Peter
Johanna: Anneke Jo; Catharina: Tineke Karin; Margaretha: Greet Margriet; Antonio: Toni Toño
José: Pepe; Manuel: Manolo; Francisco: Paco Fran Curro; Javier: Javi; Alejandro: Álex Alejo
Ignacio: Nacho; Jesús: Chus Chuy; Enrique: Quique Kike; Dolores: Lola; Concepción: Concha
Pilar: Pili; Guadalupe: Lupe; María: Mari Maria; Cristina: Cris; Isabel: Isa Chabela
Giuseppe: Beppe Peppe Pino; Francesco: Franco Checco; Alessandro: Sandro Alex
Giovanni: Gianni; Salvatore: Totò Salvo; Vincenzo: Enzo; Roberto: Robi; Francesca: Franca
Elisabetta: Betta Elisa; Margherita: Rita; Caterina: Rina
"""
LEGAL_VARIANTS = {
    "GmbH": ("G.m.b.H.", "Gmbh", ""), "AG": ("A.G.", "Aktiengesellschaft", ""),
    "KG": ("K.G.", ""), "GmbH & Co. KG": ("GmbH & Co KG", "GmbH u. Co. KG", ""),
    "UG (haftungsbeschränkt)": ("UG", "UG (haftungsbeschraenkt)", ""), "e.K.": ("eK", "e. K.", ""),
    "SARL": ("S.A.R.L.", "Sarl", ""), "SAS": ("S.A.S.", ""), "SA": ("S.A.", ""),
    "EURL": ("E.U.R.L.", ""), "B.V.": ("BV", "B.V", ""), "N.V.": ("NV", ""),
    "V.O.F.": ("VOF", ""), "S.L.": ("SL", "S.L", "Sociedad Limitada", ""),
    "S.A.": ("SA", "Sociedad Anónima", ""), "S.r.l.": ("Srl", "SRL", "s.r.l.", ""),
    "S.p.A.": ("SpA", "S.P.A.", ""), "S.n.c.": ("Snc", ""), "Ltd": ("Ltd.", "Limited", ""),
    "PLC": ("plc", "Public Limited Company", ""), "LLP": ("L.L.P.", ""),
    "Inc.": ("Inc", "Incorporated", ""), "LLC": ("L.L.C.", ""),
    "Corp.": ("Corp", "Corporation", ""),
    "有限公司": ("", "有限责任公司"), "股份有限公司": ("有限公司", "股份公司"),
}  # fmt: skip
# Street types and their abbreviations (first match in a street is replaced).
STREET_ABBREVIATIONS = (
    ("straße", ("str.", "strasse", "str")), ("Straße", ("Str.", "Strasse")), ("straat", ("str.",)),
    ("Street", ("St", "St.")), ("Road", ("Rd", "Rd.")), ("Avenue", ("Ave", "Ave.")),
    ("Boulevard", ("Blvd", "Blvd.")), ("Lane", ("Ln",)), ("Drive", ("Dr", "Dr.")),
    ("avenue", ("av.", "ave")), ("boulevard", ("bd", "bld")), ("Calle de ", ("C/ ", "C. ")),
    ("Calle ", ("C/ ", "C. ")), ("Avenida", ("Avda.", "Av.")), ("Paseo", ("Pº", "P.º")),
    ("Plaza", ("Pza.", "Pl.")), ("Piazza", ("P.za", "P.zza")), ("Corso", ("C.so",)),
    ("Viale", ("V.le",)),
)  # fmt: skip
# Characters a Chinese input method easily confuses (same pinyin).
HOMOPHONES = dict(
    zip(
        "伟明静丽军杰涛芳娜敏勇洋艳娟霞强磊华瑞达盛通成宏恒星河天鼎王李张刘陈杨黄赵吴周徐兰英建国科技贸易物流设电子医药",
        "玮铭晶莉君洁韬方纳民永阳燕鹃侠墙垒化锐大胜同诚洪衡兴和田顶汪黎章柳程阳皇照伍州许蓝莺健果可记茂益务留社店紫依要",
        strict=True,
    )
)
CN_PINYIN = {
    "北京市": "Beijing", "上海市": "Shanghai", "广州市": "Guangzhou", "天津市": "Tianjin",
    "南京市": "Nanjing", "成都市": "Chengdu", "广东省": "Guangdong", "江苏省": "Jiangsu",
    "四川省": "Sichuan",
}  # fmt: skip
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
GERMAN_FOLD = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"}
)
KEYBOARD = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
OCR = (("O", "0"), ("0", "O"), ("o", "0"), ("l", "1"), ("1", "l"), ("I", "1"), ("rn", "m"),
       ("m", "rn"), ("S", "5"), ("B", "8"), ("e", "c"))  # fmt: skip
# Banks per country: (bank codes, IBAN builder).
BANKS = {
    "DE": ("37040044", "10010010", "50010517", "70150000", "20050550", "60050101"),
    "FR": ("30004", "30003", "20041", "10278", "30002", "11315"),
    "NL": ("ABNA", "INGB", "RABO", "SNSB", "TRIO", "ASNB"),
    "ES": ("0049", "0075", "0182", "2100", "0081", "2038"),
    "IT": ("03069", "02008", "05034", "03032", "01030", "08327"),
    "GB": ("NWBK", "BARC", "LOYD", "HBUK", "MIDL", "NAIA"),
}  # fmt: skip
PAYMENT_TERMS = (("NET30", 50), ("NET60", 15), ("NET45", 10), ("NET14", 10), ("NET10", 5),
                 ("2/10NET30", 5), ("EOM", 3), ("COD", 2))  # fmt: skip
PAYMENT_SPELLINGS = {"NET30": ("Net 30", "N30", "30 days net"), "NET60": ("Net 60", "N60"),
                     "NET45": ("Net 45",), "NET14": ("Net 14", "14 Tage netto"),
                     "NET10": ("Net 10",), "2/10NET30": ("2/10 Net 30",), "EOM": ("E.O.M.",),
                     "COD": ("C.O.D.", "cash on delivery")}  # fmt: skip
ROLES = ("info", "contact", "office", "sales", "billing", "orders", "accounts")


def _nicknames():
    result = {}
    for line in NICKNAMES.strip().splitlines():
        for entry in line.split("; "):
            name, variants = entry.split(": ")
            result[name] = tuple(variants.split())
    return result


def _neighbours():
    position = {ch: (r, i) for r, row in enumerate(KEYBOARD) for i, ch in enumerate(row)}
    result = {}
    for ch, (r, i) in position.items():
        near = ((r, i - 1), (r, i + 1), (r - 1, i), (r - 1, i + 1), (r + 1, i - 1), (r + 1, i))
        result[ch] = "".join(
            KEYBOARD[rr][ii] for rr, ii in near if 0 <= rr < 3 and 0 <= ii < len(KEYBOARD[rr])
        )
    return result


NICKNAME = _nicknames()
NEIGHBOURS = _neighbours()


def fold(text, german):
    """Text as a system without diacritics stores it (Müller -> Mueller, García -> Garcia)."""
    if german:
        text = text.translate(GERMAN_FOLD)
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped)


def is_cjk(text):
    return any("\u3400" <= ch <= "\u9fff" for ch in text)


def typo(rng, text):
    """One typing error: a keyboard neighbour, a lost, doubled or extra letter, two letters
    swapped; in Chinese a character with the same pinyin."""
    if is_cjk(text):
        spots = [i for i, ch in enumerate(text) if ch in HOMOPHONES]
        if not spots:
            return text
        i = rng.choice(spots)
        return text[:i] + HOMOPHONES[text[i]] + text[i + 1 :]
    letters = [i for i, ch in enumerate(text) if ch.isalpha()]
    if len(letters) < 2:
        return text
    i = rng.choice(letters[1:]) if rng.random() < 0.95 else letters[0]
    ch, op = text[i], rng.random()
    if op < 0.2 and len(letters) > 3:  # deletion
        return text[:i] + text[i + 1 :]
    if op < 0.4 and i + 1 < len(text) and text[i + 1].isalpha() and text[i + 1] != ch:
        return text[:i] + text[i + 1] + ch + text[i + 2 :]  # transposition
    near = NEIGHBOURS.get(ch.lower(), "")
    if op < 0.6:  # insertion: the same letter again or a neighbour
        extra = rng.choice(near) if near and rng.random() < 0.5 else ch.lower()
        return text[: i + 1] + extra + text[i + 1 :]
    new = rng.choice(near) if near and rng.random() < 0.8 else rng.choice("abcdefghiklmnoprstu")
    new = new.upper() if ch.isupper() else new
    return text[:i] + new + text[i + 1 :]


def ocr(rng, text):
    """One confusion a scanner makes: 0/O, 1/l, rn/m, ..."""
    options = [(old, new) for old, new in OCR if old in text]
    if not options:
        return text
    old, new = rng.choice(options)
    spots = [m.start() for m in re.finditer(re.escape(old), text)]
    i = rng.choice(spots)
    return text[:i] + new + text[i + len(old) :]


def abbreviate(rng, street):
    for long, shorts in STREET_ABBREVIATIONS:
        if long in street:
            return street.replace(long, rng.choice(shorts), 1)
    return street


def key_values(row, fields):
    """(field, value) pairs of exact keys as a matcher compares them."""
    return {
        (
            field,
            row[field].lower() if field == "email" else re.sub(r"[\s./-]", "", row[field]).upper(),
        )
        for field in fields
        if row[field]
    }


class Keys:
    """Source keys in the style of one system, unique within it: an ERP number sequence, CRM
    hex IDs (a scrambled counter: a bijection on 48 bits), legacy numbers with gaps."""

    def __init__(self, rng, style, domain):
        self.rng, self.style, self.count = rng, style, 0
        self.prefix = "C" if domain == "customer" else "S"
        self.next = (
            rng.randrange(10_000, 500_000) if style == "erp" else rng.randrange(10**6, 10**7)
        )
        self.factors = (rng.getrandbits(48) | 1, rng.getrandbits(48) | 1)

    def __call__(self):
        self.count += 1
        if self.style == "erp":
            self.next += 1
            return f"{self.prefix}{self.next:07d}"
        if self.style == "crm":
            value = self.count
            for factor in self.factors:  # odd factors and xor-shifts are invertible mod 2**48
                value = value * factor % 2**48
                value ^= value >> 23
            return f"crm-{value:012x}"
        self.next += self.rng.randint(1, 4)  # deleted records leave gaps
        return str(self.next)


class PartyGenerator:
    def __init__(self, domain, seed, systems, duplicate_rate):
        self.helper = base.Generator(seed, 0.0)  # identifiers, phones and postal codes
        self.rng = rng = self.helper.rng
        self.domain, self.rate = domain, duplicate_rate
        self.attributes, self.strong = ATTRIBUTES[domain], STRONG[domain]
        self.key_fields = (*STRONG[domain], "email")
        self.systems = []
        for index, name in enumerate(systems):
            upper = name.upper()
            style = next((s for s in PROFILES if s.upper() in upper), tuple(PROFILES)[index % 3])
            profile = PROFILES[style]
            self.systems.append(
                SimpleNamespace(name=name, profile=profile, key=Keys(rng, style, domain))
            )
        self.given = {}
        for code, c in COUNTRY.items():
            male, female = EXTRA_GIVEN.get(code, ("", ""))
            self.given[code] = {
                True: c.male + tuple((n, n) for n in male.split()),
                False: c.female + tuple((n, n) for n in female.split()),
            }
        self.streets = {code: c.street + EXTRA_STREETS.get(code, ()) for code, c in COUNTRY.items()}
        self.duns = base.Bijection(rng, 10**9)
        self.accounts = {code: base.Bijection(rng, 10**8) for code in BANKS}
        self.serials = dict.fromkeys(CODES, 0)
        self.reservoir, self.seen = [], 0
        self.stats = dict.fromkeys(
            ("entities", "records", "multi", "in_system", "lookalikes", "pairs", "shared"), 0
        )
        self.per_system = {system.name: 0 for system in self.systems}

    # Entities -------------------------------------------------------------------------------

    def entities(self, count):
        """Yield (entity, [(system, row), ...]) for count entities."""
        width = max(7, len(str(count)))
        rng = self.rng
        for n in range(1, count + 1):
            if self.reservoir and rng.random() < LOOKALIKE_RATE:
                entity = self.lookalike(n, rng.choice(self.reservoir))
                self.stats["lookalikes"] += 1
            else:
                entity = self.new_entity(n)
            entity.id = f"E{n:0{width}d}"
            entity.clean = self.clean_row(entity)
            self.remember(entity)
            records = self.records(entity)
            self.count(records)
            yield entity, records

    def remember(self, entity):
        self.seen += 1
        if len(self.reservoir) < RESERVOIR:
            self.reservoir.append(entity)
        else:  # reservoir sampling: every earlier entity stays equally likely
            slot = self.rng.randrange(self.seen)
            if slot < RESERVOIR:
                self.reservoir[slot] = entity

    def shell(self, n, c=None, kind=None, city=None):
        rng = self.rng
        c = c or COUNTRY[rng.choices(CODES, cum_weights=CUM_WEIGHTS)[0]]
        if kind is None:
            person = self.domain == "customer" and rng.random() < PERSON_SHARE
            kind = "person" if person else "organization"
        city = city or rng.choice(c.cities)
        entity = SimpleNamespace(n=n, kind=kind, c=c, city=city)
        entity.phone = self.helper.phone(c, city[3])
        entity.address = self.new_address(c, city)
        return entity

    def new_entity(self, n):
        entity = self.shell(n)
        if entity.kind == "person":
            self.person(entity)
        else:
            self.organization(entity)
        return entity

    def serial(self, c):
        self.serials[c.code] += 1
        return self.serials[c.code] - 1

    def new_address(self, c, city):
        rng = self.rng
        line2 = ""
        if rng.random() < 0.25:
            line2 = rng.choice(c.address[1:]).format(n=rng.randint(1, 9), L=rng.choice("ABCDEF"))
        street = rng.choice(self.streets[c.code])
        return street, rng.randint(1, 180), line2, self.helper.postal(c, city[2])

    def person(self, e, first=None, last=None, male=None, middle=None, day=None):
        rng, c = self.rng, e.c
        e.male = rng.random() < 0.5 if male is None else male
        names = self.given[c.code][e.male]
        e.first = first or rng.choice(names)
        if last is None:
            last = rng.choice(c.last)
            if c.code == "ES":  # two surnames
                second = rng.choice(c.last)
                last = (f"{last[0]} {second[0]}", f"{last[1]} {second[1]}")
        e.last = last
        if middle is None:
            middle = ""
            if c.code != "CN" and rng.random() < 0.2:
                middle = rng.choice([name for name, _ in names if name != e.first[0]])
        e.middle = middle
        day = rng.randrange(base.BIRTH_DAYS) if day is None else day
        e.national_id, e.birth = self.helper.national_id(
            c.code, self.serial(c), e.male, day, e.first[1], e.last[1]
        )
        local = f"{base.latin(e.first[1])}.{base.latin(e.last[1])}"
        e.email = f"{local}.{e.n}@{rng.choice(base.MAIL_DOMAINS)}"
        e.other_email = (
            f"{base.latin(e.first[1])[:1]}{base.latin(e.last[1])}{e.n}@"
            f"{rng.choice(base.MAIL_DOMAINS)}"
        )

    def organization(self, e, brand=None, trade_index=None, legal=None):
        """trade_index -1: the brand alone, as the parent company of a group calls itself."""
        rng, c = self.rng, e.c
        e.legal = legal or rng.choice(c.legal)
        index = rng.randrange(len(c.trade)) if trade_index is None else trade_index
        e.trade_index = -1 if index < 0 else index % len(c.trade)
        e.trade = ("", "") if index < 0 else c.trade[e.trade_index]
        if brand is None:
            if c.code == "CN":
                brand = rng.choice(c.brand)
            elif rng.random() < 0.4:
                brand = rng.choice(c.last)
            else:
                word = "".join(rng.choices(base.SYLLABLES, k=rng.randint(2, 3))).capitalize()
                brand = (word, word)
        e.brand = brand
        slug = "-".join(part for part in (brand[1], e.trade[1]) if part)
        slug = slug if c.code == "CN" else base.latin(slug)
        e.tax_id = self.helper.tax_id(c.code, self.serial(c), e.legal, e.city)
        role, other = rng.sample(ROLES, 2)
        e.email, e.other_email = f"{role}.{e.n}@{slug}.test", f"{other}{e.n}@{slug}.test"
        if self.domain != "supplier":
            return
        e.website = f"https://www.{slug}.test" if rng.random() < 0.8 else ""
        e.duns = f"{self.duns(e.n):09d}" if rng.random() < 0.85 else ""
        e.iban = self.iban(c.code) if c.code in BANKS and rng.random() < 0.9 else ""
        e.terms = rng.choices([t for t, _ in PAYMENT_TERMS], [w for _, w in PAYMENT_TERMS])[0]
        e.trade_name = ""
        if rng.random() < 0.6:
            cn = c.code == "CN"
            e.trade_name = (
                brand[0] + e.trade[0] if cn else rng.choice((brand[0], self.base_name(e)))
            )

    def iban(self, code):
        """A valid IBAN whose account number is unique per country."""
        rng = self.rng
        account, bank = self.accounts[code](self.serials[code]), rng.choice(BANKS[code])
        if code == "DE":
            bban = f"{bank}{account:010d}"
        elif code == "FR":
            branch, number = f"{rng.randrange(1, 10**5):05d}", f"{account:011d}"
            key = 97 - (89 * int(bank) + 15 * int(branch) + 3 * int(number)) % 97
            bban = f"{bank}{branch}{number}{key:02d}"
        elif code == "NL":  # the old eleven-test of Dutch account numbers holds
            for extra in "0123456789":
                body = f"{account:08d}{extra}"
                check = -sum((10 - i) * int(d) for i, d in enumerate(body)) % 11
                if check < 10:
                    break
            bban = f"{bank}{body}{check}"
        elif code == "ES":
            body = f"{bank}{rng.randrange(1, 10**4):04d}00{account:010d}"
            bban = body[:8] + ccc.calc_check_digits(body) + body[10:]
        elif code == "IT":
            cin = rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
            bban = f"{cin}{bank}{rng.randrange(1, 10**5):05d}{account:012d}"
        else:
            bban = f"{bank}{rng.randrange(10**5, 10**6):06d}{account:08d}"
        return code + iban.calc_check_digits(f"{code}00{bban}") + bban

    def lookalike(self, n, model):
        """A distinct entity that resembles model: a relative, a namesake, a sister company."""
        rng, c = self.rng, model.c
        if model.kind == "person":
            if rng.random() < 0.55:  # family member at the same address
                e = self.shell(n, c, "person", model.city)
                e.address = model.address
                if rng.random() < 0.3:
                    e.phone = model.phone
                if rng.random() < 0.15:  # parent or child with the same given name
                    first, male, generation = model.first, model.male, True
                else:
                    male, generation = rng.random() < 0.5, rng.random() < 0.4
                    names = [name for name in self.given[c.code][male] if name != model.first]
                    first = rng.choice(names)
                day = self.related_day(model.birth, generation)
                self.person(e, first, model.last, male, None, day)
            else:  # namesake in the same or another city
                others = [city for city in c.cities if city != model.city]
                city = model.city if rng.random() < 0.35 else rng.choice(others)
                e = self.shell(n, c, "person", city)
                middle = model.middle if rng.random() < 0.5 else None
                self.person(e, model.first, model.last, model.male, middle)
            return e
        r = rng.random()
        if c.code == "CN" and r < 0.4:  # same name, another city
            city = rng.choice([city for city in c.cities if city != model.city])
            e = self.shell(n, c, "organization", city)
            self.organization(e, model.brand, model.trade_index, model.legal)
        elif c.code != "CN" and r < 0.3:  # same name in another country
            other = COUNTRY[rng.choice([code for code in CODES if code not in (c.code, "CN")])]
            e = self.shell(n, other, "organization")
            self.organization(e, model.brand, model.trade_index)
        else:  # sister company in the same city
            e = self.shell(n, c, "organization", model.city)
            if rng.random() < 0.5:
                street, house, _, postal = model.address
                e.address = (street, house, e.address[2], postal)
            roll = rng.random()
            if model.trade_index >= 0 and roll < 0.2:  # the parent: the brand alone
                self.organization(e, model.brand, -1, model.legal)
            elif model.trade_index < 0 or roll < 0.85:
                index = rng.choice([i for i in range(len(c.trade)) if i != model.trade_index])
                self.organization(e, model.brand, index, model.legal)
            else:
                legal = rng.choice([legal for legal in c.legal if legal != model.legal])
                self.organization(e, model.brand, model.trade_index, legal)
        return e

    def related_day(self, day, generation):
        rng = self.rng
        years = rng.randint(20, 40) if generation else rng.randint(0, 12)
        offset = years * 365 + rng.randint(1, 364)
        for candidate in (day + offset, day - offset, day + offset // 3, day - offset // 3):
            if 0 <= candidate < base.BIRTH_DAYS and candidate != day:
                return candidate
        return (day + 1) % base.BIRTH_DAYS

    # Records --------------------------------------------------------------------------------

    def records(self, e):
        rng = self.rng
        count = 1
        if rng.random() < self.rate:
            count = rng.choices(RECORD_COUNTS, RECORD_WEIGHTS)[0]
        first = rng.choice(self.systems)
        used, records = [first], [(first, dict(e.clean))]
        for _ in range(count - 1):
            unused = [system for system in self.systems if system not in used]
            if unused and rng.random() >= SAME_SYSTEM:
                system = rng.choice(unused)
            else:
                system = rng.choice(used)
                self.stats["in_system"] += 1
            used.append(system)
            records.append((system, self.variant(e, system.profile)))
        for system, row in records:
            row["source_key"] = system.key()
        return records

    def count(self, records):
        stats = self.stats
        stats["entities"] += 1
        stats["records"] += len(records)
        for system, _ in records:
            self.per_system[system.name] += 1
        if len(records) > 1:
            stats["multi"] += 1
            keys = [key_values(row, self.key_fields) for _, row in records]
            for a, b in combinations(keys, 2):
                stats["pairs"] += 1
                stats["shared"] += bool(a & b)

    def base_name(self, e):
        if e.c.code == "CN":
            return e.brand[0] + e.trade[0]
        return f"{e.brand[0]} {e.trade[0]}".strip()

    def org_name(self, e, legal=None, brand=None, city_form="short"):
        legal = e.legal if legal is None else legal
        brand = brand or e.brand[0]
        if e.c.code != "CN":
            return " ".join(part for part in (brand, e.trade[0], legal) if part)
        city = e.city[0]
        core = brand + e.trade[0]
        if city_form == "none":
            return core + legal
        if city_form == "bracket":
            return f"{core}（{city.removesuffix('市')}）{legal}"
        return (city if city_form == "full" else city.removesuffix("市")) + core + legal

    def phone_text(self, e, style):
        trunk, prefix, number = e.phone
        c = e.c
        if style == 0:
            return f"+{c.cc} {prefix} {number}"
        if style == 1:
            if c.code == "US":
                return f"({prefix}) {number[:3]}-{number[3:]}"
            if c.code == "DE":
                return f"{trunk}{prefix}/{number}"
            return f"{trunk}{prefix} {number}"
        if style == 2:
            return f"+{c.cc}{prefix}{number}"
        idd = "011" if c.code == "US" else "00"
        return f"{idd} {c.cc} {prefix} {number}"

    def clean_row(self, e):
        row = dict.fromkeys(("source_key", *self.attributes), "")
        if self.domain == "customer":
            row["kind"] = e.kind
            if e.kind == "person":
                row.update(first_name=e.first[0], middle_name=e.middle, last_name=e.last[0])
                row["birth_date"] = base.iso_date(base.FIRST_DAY + e.birth)
                row["national_id"] = e.national_id
            else:
                row.update(organization_name=self.org_name(e), tax_id=e.tax_id)
        else:
            name = self.org_name(e)
            row.update(legal_name=name, trade_name=e.trade_name, tax_id=e.tax_id, duns=e.duns)
            row.update(website=e.website, bank_iban=e.iban, payment_terms=e.terms)
            row["bank_account_holder"] = name if e.iban else ""
        street, house, line2, postal = e.address
        row["address_line1"] = e.c.address[0].format(s=street, no=house)
        row.update(address_line2=line2, city=e.city[0], region=e.city[1], postal_code=postal)
        row.update(email=e.email, phone=self.phone_text(e, 0), country=e.c.code)
        return row

    def variant(self, e, profile):
        """The entity as another system (or another clerk) recorded it."""
        row = dict(e.clean)
        self.vary_keys(e, row, profile)
        if self.domain == "supplier":
            self.vary_supplier(e, row, profile)
        elif e.kind == "person":
            self.vary_person(e, row, profile)
        else:
            row["organization_name"] = self.vary_org_name(e)
        self.vary_address(e, row, profile)
        self.vary_style(e, row, profile)
        if self.rng.random() < INVALID:
            self.invalidate(e, row)
        return row

    def vary_keys(self, e, row, profile):
        rng = self.rng
        present = [field for field in self.key_fields if row[field]]
        kept = []
        if present and rng.random() < profile.keys:
            kept = [field for field in present if rng.random() < KEEP_KEY] or [rng.choice(present)]
        for field in present:
            value = row[field]
            if field not in kept:
                missing = field != "email" or rng.random() < 0.55
                row[field] = "" if missing else e.other_email
            elif field == "email":
                if rng.random() < 0.3:
                    row[field] = rng.choice((value.upper(), value.title(), value.capitalize()))
            elif rng.random() < 0.5:
                row[field] = self.surface(e.c.code, field, value)

    def surface(self, code, field, value):
        rng = self.rng
        if field == "duns":
            sep = rng.choice("- .")
            return f"{value[:2]}{sep}{value[2:5]}{sep}{value[5:]}"
        if field == "bank_iban":
            return iban.format(value) if rng.random() < 0.7 else value.lower()
        return self.helper.surface(code, field, value)

    def vary_person(self, e, row, profile):
        rng, cn = self.rng, e.c.code == "CN"
        first, last, middle = e.first[0], e.last[0], e.middle
        if cn and profile.pinyin >= 0.3 and rng.random() < 0.1:
            first, last = e.first[1].capitalize(), e.last[1].upper()
        if first in NICKNAME and rng.random() < 0.15:
            first = rng.choice(NICKNAME[first])
        if rng.random() < 0.1:
            first = typo(rng, first)
        if rng.random() < 0.12:
            last = typo(rng, last)
        if rng.random() < 0.02:
            last = ocr(rng, last)
        if e.c.code == "ES" and rng.random() < 0.3:
            last = last.split()[0]
        if middle:
            r = rng.random()
            if r < 0.35:
                middle = ""
            elif r < 0.6:
                middle = middle[0] + rng.choice((".", ""))
        if rng.random() < (0.2 if cn else 0.03):
            first, last = last, first
        elif cn and is_cjk(last) and rng.random() < 0.05:
            first, last = "", last + first
        row.update(first_name=first, middle_name=middle, last_name=last)
        r = rng.random()
        if r < 0.25:
            row["birth_date"] = ""
        elif r < 0.31:
            date = datetime.date.fromisoformat(row["birth_date"])
            if date.day <= 12 and date.day != date.month:
                row["birth_date"] = date.replace(month=date.day, day=date.month).isoformat()
        elif r < 0.35:
            row["birth_date"] = self.date_typo(row["birth_date"])

    def date_typo(self, text):
        rng = self.rng
        for _ in range(10):
            i = rng.choice((2, 3, 5, 6, 8, 9))
            digit = str((int(text[i]) + rng.choice((1, -1, 2))) % 10)
            candidate = text[:i] + digit + text[i + 1 :]
            try:
                date = datetime.date.fromisoformat(candidate)
            except ValueError:
                continue
            if date < datetime.date(2008, 1, 1):
                return candidate
        return text

    def vary_org_name(self, e):
        rng = self.rng
        legal = e.legal
        if rng.random() < 0.5:
            legal = rng.choice(LEGAL_VARIANTS.get(legal, ("",)))
        brand = typo(rng, e.brand[0]) if rng.random() < 0.12 else None
        city_form = "short"
        if e.c.code == "CN":
            r = rng.random()
            if r < 0.08 and legal:
                city_form = "none"
            elif r < 0.16:
                city_form = "full"
            elif r < 0.2:
                city_form = "bracket"
        return self.org_name(e, legal, brand, city_form)

    def vary_supplier(self, e, row, profile):
        rng = self.rng
        row["legal_name"] = name = self.vary_org_name(e)
        if row["trade_name"] and rng.random() < 0.4:
            row["trade_name"] = ""
        if row["bank_account_holder"]:
            r = rng.random()
            if r < 0.35:
                row["bank_account_holder"] = ""
            elif r < 0.6:
                row["bank_account_holder"] = name
            elif r < 0.8:
                row["bank_account_holder"] = self.org_name(e, legal="")
        if row["website"]:
            r = rng.random()
            if r < 0.3:
                row["website"] = ""
            elif r < 0.8:
                host = row["website"].removeprefix("https://")
                row["website"] = rng.choice(
                    (host, host.removeprefix("www."), f"http://{host}/", f"https://{host}/")
                )
        r = rng.random()
        if r < 0.2:
            row["payment_terms"] = ""
        elif r < 0.35:
            row["payment_terms"] = rng.choice(PAYMENT_SPELLINGS[e.terms])
        elif r < 0.4:
            row["payment_terms"] = rng.choice([term for term, _ in PAYMENT_TERMS])

    def vary_address(self, e, row, profile):
        rng, c = self.rng, e.c
        street, house, line2, postal = e.address
        if rng.random() < 0.05:  # moved within the city
            street, house, line2, postal = self.new_address(c, e.city)
        if rng.random() < 0.35:
            street = abbreviate(rng, street)
        line1 = c.address[0].format(s=street, no=house)
        if rng.random() < 0.08:
            line1 = typo(rng, line1)
        if rng.random() < 0.02:
            line1 = ocr(rng, line1)
        if c.code == "CN" and rng.random() < 0.3:
            line1, line2 = line1.translate(FULL_WIDTH), line2.translate(FULL_WIDTH)
        if rng.random() < 0.4:
            line2 = ""
        row.update(address_line1=line1, address_line2=line2)
        if rng.random() < 0.3:
            row["region"] = ""
        r = rng.random()
        if r < 0.1:
            postal = ""
        elif r < 0.4:
            postal = postal.replace(" ", "")
        row["postal_code"] = postal
        if c.code == "CN":
            if rng.random() < profile.pinyin:
                row["city"] = CN_PINYIN[row["city"]]
                if row["region"]:
                    row["region"] = CN_PINYIN[row["region"]]
        elif rng.random() < 0.04:
            row["city"] = typo(rng, row["city"])
        r = rng.random()
        if r < 0.25:
            row["phone"] = ""
        elif r < 0.85:
            row["phone"] = self.phone_text(e, rng.randint(1, 3))

    def vary_style(self, e, row, profile):
        rng, c = self.rng, e.c
        text = (*TEXT_FIELDS[self.domain], *ADDRESS_FIELDS)
        if rng.random() < profile.fold:
            for field in text:
                row[field] = fold(row[field], c.code == "DE")
        r = rng.random()
        if r < profile.upper:
            for field in text:
                row[field] = row[field].upper()
        elif r < profile.upper + profile.lower:
            for field in TEXT_FIELDS[self.domain]:
                row[field] = row[field].lower()
        if rng.random() < 0.05:
            field = rng.choice([field for field in text if row[field]])
            value = row[field]
            if " " in value and rng.random() < 0.6:
                row[field] = value.replace(" ", "  ", 1)
            else:
                row[field] = value + " " if rng.random() < 0.5 else " " + value
        formats = (c.code, c.alpha3, c.name, LOCAL_COUNTRY[c.code])
        row["country"] = rng.choices(formats, profile.countries)[0]
        if profile.upper > 0.5 and rng.random() < profile.upper:
            row["country"] = row["country"].upper()
        if self.domain == "customer":
            row["kind"] = profile.kinds[e.kind != "person"]

    def invalidate(self, e, row):
        """A value the import reports as a data-quality issue (the record is kept)."""
        rng = self.rng
        r = rng.random()
        if r < 0.4 and row["email"]:
            local, _, domain = row["email"].partition("@")
            row["email"] = rng.choice((f"{local} at {domain}", f"{local}@{domain.split('.')[0]}"))
        elif r < 0.7 and self.domain == "customer" and row["birth_date"]:
            year, month, day = row["birth_date"].split("-")
            row["birth_date"] = f"{day}.{month}.{year}"
        else:
            row["phone"] = rng.choice(("n/a", "-", "unknown", "0"))


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--domain", choices=tuple(ATTRIBUTES), required=True)
    parser.add_argument("--entities", type=int, default=1000, help="real-world entities")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--systems", default="ERP,CRM,LEGACY", help="comma-separated codes")
    parser.add_argument("--output-dir", required=True, type=Path)
    parser.add_argument(
        "--duplicate-rate", type=float, default=0.5, help="share of entities with 2-4 records"
    )
    args = parser.parse_args(argv)
    args.systems = [name.strip() for name in args.systems.split(",") if name.strip()]
    if args.entities < 0 or not 0 <= args.duplicate_rate <= 1:
        parser.error("--entities must be >= 0 and --duplicate-rate between 0 and 1")
    if not args.systems or len({s.upper() for s in args.systems}) != len(args.systems):
        parser.error("--systems needs distinct system codes")
    if "LABELS" in {s.upper() for s in args.systems}:
        parser.error("--systems: LABELS would overwrite the labels file")
    for name in args.systems:
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", name):
            parser.error(f"--systems: {name!r} is not a system code (letters, digits, - and _)")
    return args


def main(argv=None):
    args = parse_args(argv)
    started = time.perf_counter()
    generator = PartyGenerator(args.domain, args.seed, args.systems, args.duplicate_rate)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    header = ("source_key", *ATTRIBUTES[args.domain])

    with contextlib.ExitStack() as stack:
        writers = {}
        for name in (*(system.name for system in generator.systems), "labels"):
            path = args.output_dir / f"{args.domain}-{name}.csv"
            handle = stack.enter_context(open(path, "w", encoding="utf-8", newline=""))
            writers[name] = csv.writer(handle, lineterminator="\n")
            writers[name].writerow(
                ("system", "source_key", "entity_id") if name == "labels" else header
            )
        labels = writers["labels"]
        for entity, records in generator.entities(args.entities):
            for system, row in records:
                writers[system.name].writerow(row[column] for column in header)
                labels.writerow((system.name, row["source_key"], entity.id))
    stats = generator.stats
    share = stats["shared"] / stats["pairs"] if stats["pairs"] else 0.0
    per_system = ", ".join(f"{name} {count}" for name, count in generator.per_system.items())
    print(
        f"generate_parties: {args.domain}, {stats['entities']} entities, {stats['records']} "
        f"records ({per_system}), {stats['multi']} with duplicates, {stats['in_system']} "
        f"in-system duplicates, {stats['lookalikes']} look-alikes, {share:.1%} of "
        f"{stats['pairs']} duplicate pairs share a key, {time.perf_counter() - started:.1f}s "
        f"-> {args.output_dir}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
