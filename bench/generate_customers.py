#!/usr/bin/env python3
"""Generate a synthetic customer file for import benchmarks of the MDM service.

Data model: the file is a stream of rows; each row is a new *entity* or, with probability
--duplicate-rate, a *duplicate* of an earlier entity as another source system would send it.

* Entities: about 70 % persons (first/last name, sometimes a middle name, ISO birth date,
  national ID) and 30 % organizations (name with legal form, tax ID) from DE, FR, NL, ES, IT,
  GB, US and CN, with a country-typical address, a phone number that phonenumbers accepts for
  the country and an e-mail address that is unique per entity.
* Identifiers pass python-stdnum validation and are unique per entity: each is derived from a
  per-country serial number through a seeded bijection, so no set of used values is kept.
  national_id: DE IdNr, FR NIR, NL BSN, ES DNI, IT codice fiscale, US SSN, CN RIC (GB: none);
  tax_id: VAT number with country prefix (DE FR NL ES IT GB), US EIN, CN USCC. Entities carry
  identifiers in compact form.
* A duplicate gets a new source_key and shares one exact key with its entity (national_id for
  persons, tax_id for organizations, or the e-mail) in another surface format: separators
  inside the identifier (those the stdnum module strips) or other letter case. Its country is
  mostly an alpha-3 code or English name; other fields may be missing or slightly different.
  Duplicates come from a bounded reservoir sample of earlier entities: memory stays flat.

Options: --rows N (default 1000), --seed S (default 42; same seed and options give
byte-identical output), --duplicate-rate P (default 0.2), --format csv|jsonl (CSV with header
and empty missing values, or JSON lines without missing keys), --output FILE (default stdout),
--labels FILE (CSV "source_key,entity_id" with the true entity of every row).

    python bench/generate_customers.py --rows 100000 --seed 42 --output customers.csv

Only data goes to stdout; a one-line summary goes to stderr.
"""

import argparse
import contextlib
import csv
import datetime
import json
import math
import os
import random
import sys
import time
import unicodedata
from itertools import accumulate, pairwise
from types import SimpleNamespace

from stdnum import luhn
from stdnum.cn import ric, uscc
from stdnum.es import cif, dni
from stdnum.fr import nir
from stdnum.iso7064 import mod_11_10
from stdnum.it import codicefiscale

COLUMNS = (
    "source_key", "kind", "first_name", "middle_name", "last_name", "organization_name",
    "birth_date", "national_id", "tax_id", "email", "phone", "address_line1", "address_line2",
    "city", "region", "postal_code", "country",
)  # fmt: skip

# Country data, one "CC key: values" per line. Lists are "|"-separated if an item contains a
# space, else space-separated; "display:latin" spells a Chinese item in latin letters.
# meta: alpha-3|English name|weight|calling code|trunk prefix|national number length|mobile
#   subscriber length|first subscriber digits|mobile prefixes
# address: street format|address line 2 formats;  org: legal forms / trade words
# city: name|region|postal codes (low-high; GB: outward codes)|area code[|CN division code]
DATA = """
DE meta: DEU|Germany|22|49|0|10|8|2345678|151 152 157 160 162 170 171 172 175 176 177 178 179
DE male: Lukas Jonas Felix Paul Maximilian Leon Tobias Stefan Michael Thomas Jürgen
DE female: Anna Lena Sophie Marie Laura Julia Katrin Sabine Petra Ursula Jana
DE last: Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch
DE street: Hauptstraße Bahnhofstraße Gartenstraße Schillerstraße Goethestraße Lindenweg Bergstraße
DE address: {s} {no}|{n}. OG|Hinterhaus|Whg. {n}|Aufgang {L}
DE org: GmbH|AG|KG|GmbH & Co. KG|UG (haftungsbeschränkt)|e.K. / Logistik Bautechnik Software
DE city: Berlin|Berlin|10115-14199|30; Hamburg|Hamburg|20095-22769|40
DE city: München|Bayern|80331-81929|89; Köln|Nordrhein-Westfalen|50667-51149|221
DE city: Leipzig|Sachsen|04103-04357|341; Stuttgart|Baden-Württemberg|70173-70629|711
FR meta: FRA|France|14|33|0|9|7|2345678|61 62 64 65 66 67 68 73 74 75 76 77 78
FR male: Jean Pierre Louis Lucas Hugo Nicolas Julien Thomas Antoine Mathieu François
FR female: Marie Camille Léa Chloé Manon Julie Sophie Isabelle Nathalie Céline Amélie
FR last: Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Lefèvre
FR street: rue de la Paix|avenue Victor Hugo|boulevard Voltaire|rue du Moulin|rue Pasteur
FR address: {no} {s}|Bâtiment {L}|Appartement {n}|Escalier {L}
FR org: SARL SAS SA EURL / Logistique Bâtiment Conseil Informatique Distribution Transports
FR city: Paris|Île-de-France|75001-75020|1; Lyon|Auvergne-Rhône-Alpes|69001-69009|47
FR city: Marseille|Provence-Alpes-Côte d'Azur|13001-13016|49; Toulouse|Occitanie|31000-31500|56
FR city: Nantes|Pays de la Loire|44000-44300|24; Lille|Hauts-de-France|59000-59800|32
NL meta: NLD|Netherlands|10|31|0|9|7|2345678|61 62 63 64 65 68
NL male: Daan Sem Lucas Bram Thijs Jeroen Pieter Willem Joost Ruben
NL female: Emma Julia Sanne Fleur Lotte Anouk Femke Eva Iris Noor
NL last: de Jong|Jansen|de Vries|van den Berg|van Dijk|Bakker|Visser|Smit|Meijer|de Boer
NL street: Kerkstraat Dorpsstraat Molenweg Schoolstraat Stationsweg Prinsengracht Beatrixlaan
NL address: {s} {no}|{n}e verdieping|Unit {n}|Bus {n}
NL org: B.V.|N.V.|V.O.F. / Logistiek Bouw Handel Techniek Advies Installatie
NL city: Amsterdam|Noord-Holland|1011-1109|20; Rotterdam|Zuid-Holland|3011-3089|10
NL city: Den Haag|Zuid-Holland|2491-2597|70; Utrecht|Utrecht|3511-3585|30
NL city: Eindhoven|Noord-Brabant|5611-5658|40; Groningen|Groningen|9711-9747|50
ES meta: ESP|Spain|10|34||9|7|2345678|60 61 62 63 64 65 66 67 68 69
ES male: Antonio José Manuel Francisco David Javier Daniel Carlos Miguel Alejandro
ES female: María Carmen Ana Laura Lucía Marta Elena Isabel Paula Cristina
ES last: García Fernández González Rodríguez López Martínez Sánchez Pérez Gómez Jiménez Ruiz
ES street: Calle Mayor|Calle de Alcalá|Avenida de América|Paseo de Gracia|Plaza de España
ES address: {s}, {no}|Piso {n}|{n}º {L}|Planta {n}, Puerta {L}
ES org: S.L. S.A. / Logística Construcciones Consultoría Tecnología Distribuciones
ES city: Madrid|Madrid|28001-28055|91; Barcelona|Barcelona|08001-08042|93
ES city: Valencia|Valencia|46001-46026|96; Sevilla|Sevilla|41001-41020|95
ES city: Zaragoza|Zaragoza|50001-50021|976; Bilbao|Vizcaya|48001-48015|94
IT meta: ITA|Italy|10|39||10|7|2345678|320 328 329 333 338 339 340 345 347 348 349 366 380 392
IT male: Marco Alessandro Giuseppe Francesco Luca Matteo Andrea Lorenzo Davide Giovanni
IT female: Giulia Francesca Chiara Sara Martina Valentina Elena Alessia Federica Silvia
IT last: Rossi|Russo|Ferrari|Esposito|Bianchi|Romano|Colombo|Ricci|Marino|Greco|De Luca
IT street: Via Roma|Via Garibaldi|Corso Italia|Via Mazzini|Piazza Dante|Viale dei Mille
IT address: {s}, {no}|Scala {L}|Interno {n}|Piano {n}
IT org: S.r.l. S.p.A. S.n.c. / Logistica Costruzioni Consulting Tecnologie Distribuzione
IT city: Roma|RM|00118-00199|06; Milano|MI|20121-20162|02; Napoli|NA|80121-80147|081
IT city: Torino|TO|10121-10156|011; Firenze|FI|50121-50145|055; Bologna|BO|40121-40141|051
GB meta: GBR|United Kingdom|10|44|0|10|8|34|74 75 77 78 79
GB male: Oliver George Harry Jack James William Thomas Daniel Samuel Joseph
GB female: Olivia Amelia Isla Emily Charlotte Sophie Grace Lucy Hannah Eleanor
GB last: Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright Evans Walker
GB street: High Street|Station Road|Church Lane|Victoria Road|Park Avenue|King Street
GB address: {no} {s}|Flat {n}|Unit {n}|Floor {n}
GB org: Ltd PLC LLP / Logistics Construction Consulting Software Trading Engineering
GB city: London|Greater London|SW1A EC1A W1D N1 E1 SE1|20; Leeds|West Yorkshire|LS1 LS2 LS6|113
GB city: Manchester|Greater Manchester|M1 M2 M3 M4|161; Glasgow|Scotland|G1 G2 G3|141
GB city: Birmingham|West Midlands|B1 B2 B3 B4|121; Bristol|Bristol|BS1 BS2 BS8|117
US meta: USA|United States|14|1||10|0|2346789|
US male: James John Robert Michael William David Richard Joseph Christopher Matthew
US female: Mary Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen
US last: Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Anderson
US street: Main Street|Oak Avenue|Maple Drive|Washington Street|Lake Road|Cedar Lane
US address: {no} {s}|Apt {n}|Suite {n}00|Unit {L}
US org: Inc.|LLC|Corp. / Logistics Construction Consulting Software Trading Foods
US city: New York|NY|10001-10292|212; Los Angeles|CA|90001-90089|213
US city: Chicago|IL|60601-60661|312; Houston|TX|77001-77099|713; Boston|MA|02108-02137|617
US city: San Francisco|CA|94102-94134|415; Seattle|WA|98101-98199|206
CN meta: CHN|China|10|86|0|10|8|234567|130 131 132 135 136 137 138 139 150 151 158 159 186 188
CN male: 伟:wei 强:qiang 磊:lei 军:jun 洋:yang 勇:yong 杰:jie 涛:tao 明:ming 建国:jianguo
CN female: 芳:fang 娜:na 秀英:xiuying 敏:min 静:jing 丽:li 艳:yan 娟:juan 霞:xia 秀兰:xiulan
CN last: 王:wang 李:li 张:zhang 刘:liu 陈:chen 杨:yang 黄:huang 赵:zhao 吴:wu 周:zhou 徐:xu
CN street: 人民路 解放路 中山路 建设路 和平路 新华路 长江路 南京路
CN address: {s}{no}号 {n}栋{n}0{n}室 {n}号楼{n}单元
CN org: 有限公司 股份有限公司 / 科技:keji 贸易:maoyi 物流:wuliu 建设:jianshe 电子:dianzi 医药:yiyao
CN brand: 星河:xinghe 华瑞:huarui 鼎盛:dingsheng 天成:tiancheng 恒通:hengtong 宏达:hongda
CN city: 北京市|北京市|100000-102600|10|110105; 上海市|上海市|200000-202100|21|310115
CN city: 广州市|广东省|510000-511400|20|440106; 天津市|天津市|300000-301900|22|120101
CN city: 南京市|江苏省|210000-211300|25|320106; 成都市|四川省|610000-611900|28|510107
"""
# Abbreviations a duplicate may use in address line 1.
ABBREVIATIONS = (
    ("straße", "str."), ("straat", "str."), ("avenue", "av."), ("boulevard", "bd"),
    ("Calle ", "C/ "), ("Avenida", "Avda."), ("Piazza", "P.za"), ("Corso", "C.so"),
    ("Street", "St"), ("Road", "Rd"), ("Avenue", "Ave"), ("Lane", "Ln"), ("Drive", "Dr"),
)  # fmt: skip

# CN places of birth that python-stdnum accepts for every birth year from 1940 on.
CN_BIRTH_AREAS = ("110101", "110102", "110105", "110108", "120101", "310101", "310104", "320100")
FR_DEPARTMENTS = [f"{d:02d}" for d in range(1, 96) if d != 20]
# Nine-digit numbers never collide: BSNs start with 0-6, SSNs with 7 or 8 (areas 700-899, none
# blacklisted) and EINs with 9 (valid IRS campus prefixes).
US_SSN_AREAS = range(700, 900)
US_EIN_PREFIXES = ("91", "92", "93", "94", "95", "98", "99")
SYLLABLES = ("ka", "lo", "ver", "tra", "mi", "son", "dex", "ria", "no", "vel", "ber", "lin", "sa")
MAIL_DOMAINS = ("example-mail.test", "post-box.test", "mailhub.test", "inbox-demo.test")
ORG_ROLES = ("info", "contact", "office", "sales", "billing")
FIRST_DAY = datetime.date(1940, 1, 1).toordinal()
BIRTH_DAYS = datetime.date(2006, 1, 1).toordinal() - FIRST_DAY
FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", " ": "", "'": ""})
FACTORIAL = [math.factorial(k) for k in range(10)]
# Identifier spaces: serial numbers are spread over each through a seeded Bijection.
ID_SPACES = {
    "bsn": 7 * 10**6, "idnr": 9 * FACTORIAL[9], "nir": 94 * 990 * 999, "dni": 10**8,
    "cf": BIRTH_DAYS * 12 * 999, "ssn": len(US_SSN_AREAS) * 99 * 9999, "siren": 10**8,
    "ric": BIRTH_DAYS * len(CN_BIRTH_AREAS) * 499, "de_vat": 9 * 10**7, "es_cif": 10**7,
    "it_iva": 10**7 - 1, "gb_vat": 9 * 10**6, "ein": 10**7, "uscc": 10**8,
}  # fmt: skip
# Duplicate surface formats: group sizes of (national_id, tax_id) and separators to join them.
ID_GROUPS = {
    "DE": ((2, 3, 3, 3), (2, 3, 3, 3), " -/"), "FR": ((1, 2, 2, 2, 3, 3, 2), (2, 2, 3, 3, 3), " ."),
    "NL": ((4, 2, 3), (2, 4, 2, 3, 3), " .-"), "ES": ((8, 1), (2, 1, 7, 1), " -"),
    "IT": ((3, 3, 5, 5), (2, 7, 3, 1), " -"), "GB": ((), (2, 3, 4, 2), " -."),
    "US": ((3, 2, 4), (2, 7), "-"), "CN": ((18,), (2, 6, 9, 1), " -"),
}  # fmt: skip


def _load_countries():
    def items(text):
        return tuple(text.split("|") if "|" in text else text.split())

    raw = {}
    for line in DATA.strip().splitlines():
        code, rest = line.split(" ", 1)
        key, value = rest.split(": ", 1)
        entry = raw.setdefault(code, {"code": code, "brand": (), "cities": []})
        if key == "city":
            entry["cities"] += [city.split("|") for city in value.split("; ")]
        elif key == "org":
            entry["legal"], entry["trade"] = (items(part) for part in value.split(" / "))
        else:
            entry[key] = items(value)
    countries = {}
    for code, entry in raw.items():
        for key in ("male", "female", "last", "trade", "brand"):  # (display, latin) pairs
            entry[key] = tuple((item.split(":")[0], item.split(":")[-1]) for item in entry[key])
        alpha3, name, weight, cc, trunk, nsn, mobile_len, digits, mobile = entry.pop("meta")
        countries[code] = SimpleNamespace(
            **entry, alpha3=alpha3, name=name, weight=int(weight), cc=cc, trunk=trunk,
            nsn=int(nsn), mobile_len=int(mobile_len), first_digits=digits, mobile=mobile.split(),
        )  # fmt: skip
    return countries


COUNTRY = _load_countries()
CODES = tuple(COUNTRY)
CUM_WEIGHTS = tuple(sum(COUNTRY[c].weight for c in CODES[: i + 1]) for i in range(len(CODES)))


def latin(text):
    """Lower-case ASCII spelling for e-mail addresses and domains."""
    text = unicodedata.normalize("NFKD", text.lower().translate(FOLD))
    return "".join(ch for ch in text if ch.isascii() and (ch.isalnum() or ch == "-"))


def iso_date(ordinal):
    return datetime.date.fromordinal(ordinal).isoformat()


class Bijection:
    """n -> (a * n + b) mod size for n < size: unique, scattered values from serial numbers."""

    def __init__(self, rng, size):
        self.size, self.b = size, rng.randrange(size)
        self.a = rng.randrange(size // 3, size) | 1
        while math.gcd(self.a, size) != 1:
            self.a += 2

    def __call__(self, n):
        if n >= self.size:
            raise SystemExit(f"identifier space of {self.size} exhausted: use fewer --rows")
        return (self.a * n + self.b) % self.size


def bsn(m):
    """Nine-digit BSN/RSIN from m < 7 * 10**6; digit 8 is chosen so that a check digit exists."""
    for extra in "0123456789":
        body = f"{m:07d}{extra}"
        check = sum((9 - i) * int(d) for i, d in enumerate(body)) % 11
        if check < 10 and int(body):
            return body + str(check)
    raise AssertionError(m)


def idnr(m):
    """DE IdNr from m < 9 * 9!: ten distinct digits (Lehmer code), the last one replaced by
    a copy of the first, so exactly one digit occurs twice; then the ISO 7064 check digit."""
    first, rank = divmod(m, FACTORIAL[9])
    pool = [d for d in "0123456789" if d != str(first + 1)]
    digits = [str(first + 1)]
    for k in range(8, -1, -1):
        index, rank = divmod(rank, FACTORIAL[k])
        digits.append(pool.pop(index))
    body = "".join(digits[:9]) + digits[0]
    return body + mod_11_10.calc_check_digit(body)


def cf_letters(name, surname):
    """The three letters a codice fiscale takes from a surname or first name."""
    letters = [ch for ch in name.upper() if "A" <= ch <= "Z"]
    consonants = [ch for ch in letters if ch not in "AEIOU"]
    if not surname and len(consonants) > 3:
        consonants = [consonants[0], consonants[2], consonants[3]]
    return "".join(consonants + [ch for ch in letters if ch in "AEIOU"] + ["X"] * 3)[:3]


class Generator:
    def __init__(self, seed, duplicate_rate, reservoir_size=5000):
        self.rng = random.Random(seed)
        self.rate, self.reservoir_size = duplicate_rate, reservoir_size
        self.mix = {name: Bijection(self.rng, size) for name, size in ID_SPACES.items()}
        self.serial = dict.fromkeys(CODES, 0)
        self.reservoir, self.entities, self.duplicates = [], 0, 0

    def rows(self, count):
        """Yield (entity_id, row) for count rows; row values are strings, "" when missing."""
        width = max(8, len(str(count)))
        for i in range(1, count + 1):
            if self.reservoir and self.rng.random() < self.rate:
                self.duplicates += 1
                entity_id, row = self.duplicate(*self.rng.choice(self.reservoir))
            else:
                entity_id, row = self.new_entity()
            row["source_key"] = f"C{i:0{width}d}"
            yield entity_id, row

    def new_entity(self):
        rng = self.rng
        c = COUNTRY[rng.choices(CODES, cum_weights=CUM_WEIGHTS)[0]]
        serial, self.serial[c.code] = self.serial[c.code], self.serial[c.code] + 1
        self.entities += 1
        eid, row = f"E{self.entities:08d}", dict.fromkeys(COLUMNS, "")
        city = rng.choice(c.cities)
        extra = {"country": c, "phone": self.phone(c, city[3])}
        if rng.random() < 0.7:
            self.person(row, c, serial, extra)
        else:
            self.organization(row, c, serial, city, extra)
        row["email"] += f".{self.entities}@{extra.pop('domain')}"
        row["phone"] = "+{} {} {}".format(c.cc, *extra["phone"][1:])
        row["address_line1"] = c.address[0].format(s=rng.choice(c.street), no=rng.randint(1, 180))
        if rng.random() < 0.25:
            line2 = rng.choice(c.address[1:])
            row["address_line2"] = line2.format(n=rng.randint(1, 9), L=rng.choice("ABCDEF"))
        row.update(city=city[0], region=city[1], postal_code=self.postal(c, city[2]))
        row["country"] = c.code
        if len(self.reservoir) < self.reservoir_size:
            self.reservoir.append((eid, row, extra))
        else:  # reservoir sampling: every earlier entity stays equally likely to be duplicated
            slot = rng.randrange(self.entities)
            if slot < self.reservoir_size:
                self.reservoir[slot] = (eid, row, extra)
        return eid, dict(row)

    def person(self, row, c, serial, extra):
        rng = self.rng
        male = rng.random() < 0.5
        names = c.male if male else c.female
        first, last = rng.choice(names), rng.choice(c.last)
        if c.code == "ES":  # two surnames
            second = rng.choice(c.last)
            last = (f"{last[0]} {second[0]}", f"{last[1]} {second[1]}")
        if c.code != "CN" and rng.random() < 0.2:
            row["middle_name"] = rng.choice([n for n, _ in names if n != first[0]])
        day = rng.randrange(BIRTH_DAYS)
        national_id, day = self.national_id(c.code, serial, male, day, first[1], last[1])
        row.update(kind="person", first_name=first[0], last_name=last[0], national_id=national_id)
        row["birth_date"] = iso_date(FIRST_DAY + day)
        row["email"] = f"{latin(first[1])}.{latin(last[1])}"
        extra["domain"] = rng.choice(MAIL_DOMAINS)

    def national_id(self, code, serial, male, day, first, last):
        """(national ID, birth day); CN and IT choose the birth day to keep their IDs unique."""
        mix = self.mix
        if code == "NL":
            return bsn(mix["bsn"](serial)), day
        if code == "ES":
            body = f"{mix['dni'](serial):08d}"
            return body + dni.calc_check_digit(body), day
        if code == "DE":
            return idnr(mix["idnr"](serial)), day
        if code == "US":
            area, rest = divmod(mix["ssn"](serial), 99 * 9999)
            return f"{US_SSN_AREAS[area]:03d}{rest // 9999 + 1:02d}{rest % 9999 + 1:04d}", day
        if code == "FR":
            dept, rest = divmod(mix["nir"](serial), 990 * 999)
            birth = iso_date(FIRST_DAY + day)
            body = (f"{2 - male}{birth[2:4]}{birth[5:7]}{FR_DEPARTMENTS[dept]}"
                    f"{rest // 999 + 1:03d}{rest % 999 + 1:03d}")  # fmt: skip
            return body + nir.calc_check_digits(body), day
        if code == "CN":
            day, rest = divmod(mix["ric"](serial), len(CN_BIRTH_AREAS) * 499)
            birth = iso_date(FIRST_DAY + day).replace("-", "")
            body = f"{CN_BIRTH_AREAS[rest // 499]}{birth}{2 * (rest % 499) + 2 - male:03d}"
            return body + ric.calc_check_digit(body + "0"), day  # odd sequence: male
        if code == "IT":
            day, place = divmod(mix["cf"](serial), 12 * 999)
            birth = iso_date(FIRST_DAY + day)
            body = (f"{cf_letters(last, True)}{cf_letters(first, False)}{birth[2:4]}"
                    f"{'ABCDEHLMPRST'[int(birth[5:7]) - 1]}{int(birth[8:]) + 40 * (not male):02d}"
                    f"{'ABCDEFGHILMZ'[place // 999]}{place % 999 + 1:03d}")  # fmt: skip
            return body + codicefiscale.calc_check_digit(body), day
        return "", day  # GB has no national identity number

    def organization(self, row, c, serial, city, extra):
        rng = self.rng
        legal, trade = rng.choice(c.legal), rng.choice(c.trade)
        if c.code == "CN":
            brand = rng.choice(c.brand)
            base = city[0].rstrip("市") + brand[0] + trade[0]
            name, slug = base + legal, f"{brand[1]}-{trade[1]}"
        else:
            if rng.random() < 0.4:
                brand = rng.choice(c.last)[0]
            else:
                brand = "".join(rng.choices(SYLLABLES, k=rng.randint(2, 3))).capitalize()
            base = f"{brand} {trade[0]}"
            name, slug = f"{base} {legal}", latin(f"{brand}-{trade[1]}")
        row.update(kind="organization", organization_name=name, email=rng.choice(ORG_ROLES))
        row["tax_id"] = self.tax_id(c.code, serial, legal, city)
        extra.update(base=base, legal=legal, domain=f"{slug}.test")

    def tax_id(self, code, serial, legal, city):
        rng, n = self.rng, serial
        if code == "DE":
            body = str(10**7 + self.mix["de_vat"](n))
            return "DE" + body + mod_11_10.calc_check_digit(body)
        if code == "FR":
            siren = f"{self.mix['siren'](n):08d}"
            siren += luhn.calc_check_digit(siren)
            return f"FR{int(siren + '12') % 97:02d}{siren}"
        if code == "NL":  # shares the BSN space with persons, so RSINs never repeat a BSN
            return f"NL{bsn(self.mix['bsn'](n))}B{rng.randint(1, 3):02d}"
        if code == "ES":
            body = ("A" if legal == "S.A." else "B") + f"{self.mix['es_cif'](n):07d}"
            return "ES" + body + cif.calc_check_digits(body)[0]
        if code == "IT":
            body = f"{self.mix['it_iva'](n) + 1:07d}{rng.randint(1, 100):03d}"
            return "IT" + body + luhn.calc_check_digit(body)
        if code == "GB":
            body = str(10**6 + self.mix["gb_vat"](n))
            total = sum(w * int(d) for w, d in zip((8, 7, 6, 5, 4, 3, 2), body, strict=True))
            return f"GB{body}{-total % 97:02d}"
        if code == "US":
            return rng.choice(US_EIN_PREFIXES) + f"{self.mix['ein'](n):07d}"
        organization = f"{self.mix['uscc'](n):08d}"  # GB 11714 code plus its check character
        weights = (3, 7, 9, 10, 5, 8, 4, 2)
        check = 11 - sum(w * int(d) for w, d in zip(weights, organization, strict=True)) % 11
        body = f"91{city[4]}{organization}{'0123456789X0'[check]}"
        return body + uscc.calc_check_digit(body)

    def phone(self, c, area_code):
        """(trunk prefix, area code or mobile prefix, subscriber number)."""
        rng = self.rng
        if c.mobile and rng.random() < 0.5:
            prefix, length = rng.choice(c.mobile), c.mobile_len
            trunk = "" if c.code == "CN" else c.trunk  # no trunk prefix for CN mobiles
        else:
            trunk, prefix, length = c.trunk, area_code, c.nsn - len(area_code)
        rest = f"{rng.randrange(10 ** (length - 1)):0{length - 1}d}"
        return trunk, prefix, rng.choice(c.first_digits) + rest

    def postal(self, c, spec):
        rng = self.rng
        if c.code == "GB":
            inward = f"{rng.randint(1, 9)}{''.join(rng.choices('ABDEFGHJLNPQRSTUWXYZ', k=2))}"
            return f"{rng.choice(spec.split())} {inward}"
        low, high = spec.split("-")
        code = f"{rng.randint(int(low), int(high)):0{len(low)}d}"
        if c.code == "NL":
            return f"{code} {rng.choice('BCEGHJKLMNPRTVWXZ')}{rng.choice('ABCDEGHJKLNPRTVWXZ')}"
        return code

    def duplicate(self, eid, original, extra):
        """The entity as another system sends it: one exact key shared, surface formats vary."""
        rng, c, row = self.rng, extra["country"], dict(original)
        id_field = "national_id" if row["kind"] == "person" else "tax_id"
        shared = id_field if row[id_field] and rng.random() < 0.75 else "email"
        reformatted = False  # the other key is kept if the shared one looks the same
        for field in (shared, "email" if shared == id_field else id_field):
            if row[field] and field != shared and reformatted and rng.random() < 0.5:
                row[field] = ""
            elif row[field]:
                value, row[field] = row[field], self.surface(c.code, field, row[field])
                reformatted = reformatted or row[field] != value
        if row["kind"] == "person":
            if rng.random() < 0.5:
                row["middle_name"] = ""
            if rng.random() < 0.1:
                row["first_name"] = row["first_name"][0] + ("" if c.code == "CN" else ".")
            if c.code == "ES" and rng.random() < 0.3:
                row["last_name"] = row["last_name"].split()[0]
            elif rng.random() < 0.15:
                row["last_name"] = row["last_name"].upper()
            if rng.random() < 0.25:
                row["birth_date"] = ""
        else:
            base, legal = extra["base"], extra["legal"].replace(".", "")
            short = base + ("" if c.code == "CN" else " ") + legal
            name = rng.choice((row["organization_name"], base, short))
            row["organization_name"] = name.upper() if rng.random() < 0.2 else name
        trunk, prefix, number = extra["phone"]
        idd = "011" if c.code == "US" else "00"  # international call prefix
        national, compact = f"{trunk}{prefix} {number}", f"+{c.cc}{prefix}{number}"
        dialled = f"{idd} {c.cc} {prefix} {number}"
        row["phone"] = rng.choice(("", row["phone"], national, compact, dialled))
        if rng.random() < 0.5:
            row["address_line2"] = ""
        if rng.random() < 0.3:
            for long, short in ABBREVIATIONS:
                row["address_line1"] = row["address_line1"].replace(long, short)
        if rng.random() < 0.3:
            row["postal_code"] = row["postal_code"].replace(" ", "")
        if rng.random() < 0.1:
            row["city"] = row["city"].upper()
        row["country"] = rng.choice((c.code, c.alpha3, c.alpha3, c.name, c.name))
        return eid, row

    def surface(self, code, field, value):
        """Another surface format of an e-mail address or a compact identifier."""
        rng = self.rng
        if field == "email":
            return rng.choice((value.upper(), value.title(), value.capitalize()))
        national, tax, separators = ID_GROUPS[code]
        ends = accumulate(national if field == "national_id" else tax, initial=0)
        parts = [value[start:end] for start, end in pairwise(ends)]
        value = rng.choice(separators).join(parts) if len(parts) > 1 else value
        return value.lower() if len(parts) < 2 or rng.random() < 0.3 else value


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--duplicate-rate", type=float, default=0.2)
    parser.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    parser.add_argument("--output", help="output file (default: stdout)")
    parser.add_argument("--labels", help="also write source_key,entity_id CSV to this file")
    args = parser.parse_args(argv)
    if args.rows < 0 or not 0 <= args.duplicate_rate <= 1:
        parser.error("--rows must be >= 0 and --duplicate-rate between 0 and 1")

    started, generator = time.perf_counter(), Generator(args.seed, args.duplicate_rate)
    with contextlib.ExitStack() as stack:
        if args.output:
            out = stack.enter_context(open(args.output, "w", encoding="utf-8", newline=""))
        else:
            out = sys.stdout
            out.reconfigure(encoding="utf-8", newline="")
        writer, labels = csv.writer(out, lineterminator="\n"), None
        if args.labels:
            label_file = stack.enter_context(open(args.labels, "w", encoding="utf-8", newline=""))
            labels = csv.writer(label_file, lineterminator="\n")
            labels.writerow(("source_key", "entity_id"))
        if args.format == "csv":
            writer.writerow(COLUMNS)
        for entity_id, row in generator.rows(args.rows):
            if args.format == "csv":
                writer.writerow(row.values())  # keys are in COLUMNS order
            else:
                record = {key: value for key, value in row.items() if value}
                out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
            if labels:
                labels.writerow((row["source_key"], entity_id))
    print(
        f"generate_customers: {args.rows} rows, {generator.entities} entities, "
        f"{generator.duplicates} duplicates in {time.perf_counter() - started:.1f}s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # e.g. piped into head: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
