"""Text normalisers of the fuzzy matching engine.

Every function here turns a raw attribute value into a *comparison key*: a string (or a
small tuple) on which two records can be compared for equality or similarity. The keys
are computed on the fly by the matcher and in the blocking index; they never replace the
stored value, which is kept exactly as the source system sent it.

Framework-free: only the standard library and ``unidecode`` are used, so the module can
run in worker processes without Django. Every function is pure; ``None`` or an empty
input gives an empty result (``""``, ``()`` or ``None`` for :func:`quantity`) and never
raises. Lookup tables and regular expressions are built once at import time; the
functions whose inputs repeat heavily across records (transliteration, company names,
given names, street lines) are memoised with a bounded ``functools.lru_cache``.

Normalisers
-----------
:func:`fold`
    The base of every other key. Unicode NFKC (full-width ``"ＡＢＣ１２３"`` becomes
    ``"ABC123"``, the ideographic space becomes a space), case folding, every punctuation
    or symbol character (Unicode categories ``P*`` and ``S*``) and control character
    replaced by a space, format characters (soft hyphen, zero-width joiner, byte-order
    mark) removed, whitespace collapsed. Apostrophes between two letters are dropped
    (``"O'Brien"`` gives ``"obrien"``). Accents and non-Latin scripts are kept
    (``"Müller"`` gives ``"müller"``, ``"北京"`` stays ``"北京"``).
:func:`ascii_key`
    :func:`fold`, then transliterated to ASCII with ``unidecode``; punctuation that the
    transliteration introduces (for instance the soft sign) is treated as in :func:`fold`.
    ``"Straße"`` gives ``"strasse"``, ``"北京"`` gives ``"bei jing"`` (one token per
    syllable).
:func:`tokens`
    The words of :func:`ascii_key`.
:func:`company_name`
    Splits a company name into its distinctive ``core`` (folded, accents kept) and a
    canonical ``legal_form`` code, so that ``"ACME GmbH"`` and ``"Acme"`` share a core.
:func:`given_name_key`, :func:`person_name_key`, :func:`person_tokens`
    Person names with nicknames and foreign variants mapped to one canonical given name
    (``"Bill"``, ``"Wilhelm"`` and ``"Guillermo"`` all give ``"william"``).
    :func:`person_tokens` is sorted and de-duplicated, for comparisons that must not
    depend on the order of first and last name.
:func:`street`
    A street line with street-type words and abbreviations mapped to one canonical word
    (``"Hauptstr. 5"`` and ``"Hauptstraße 5"`` both give ``"hauptstrasse 5"``). Lines
    containing CJK characters are only folded (``"建国路８８号"`` gives ``"建国路88号"``).
:func:`phone_digits`
    A phone number reduced to an optional leading ``+`` and its digits.
:func:`email_key`
    An e-mail address in the form the mailbox provider delivers to.
:func:`part_number`, :func:`model_codes`
    Manufacturer part numbers without separators or leading zeros, alone or found in a
    free-text product title.
:func:`quantity`, :func:`quantities`, :func:`convert`
    Numbers with units, converted to one base unit per dimension.

Legal-form codes returned by :func:`company_name`
-------------------------------------------------
Codes name the form, not the country: one spelling may be used in several countries
(``SA`` in France, Spain, Belgium and Switzerland; ``AS`` for the Norwegian ``AS``, the
Danish ``A/S`` and the Czech ``a.s.``), and dotted, undotted and spaced spellings are
equivalent (``"S.A."``, ``"SA"`` and ``"s. a."`` all give ``"sa"``).

Chinese (matched on the folded text, simplified and traditional characters):

- ``cn_ltd``: 有限公司, 有限责任公司 (有限責任公司), 集团有限公司 (集團有限公司);
- ``cn_co_ltd``: 股份有限公司, 股份公司, 集团股份有限公司 (集團股份有限公司) — company
  limited by shares;
- ``cn_group``: 集团 (集團), 集团公司, also written in parentheses, (集团) or （集团）;
- ``cn_holding``: 控股; ``cn_branch``: 分公司; ``cn_co``: 公司 alone;
- ``cn_lp``: 有限合伙 (有限合夥);
- Japanese ``jp_kk``: 株式会社 and ``jp_yk``: 有限会社, at the end or at the start.

厂 (factory) is part of the name, not a legal form.

English: ``inc`` (Inc, Incorporated), ``corp`` (Corp, Corporation), ``co`` (Co, Company,
& Co), ``ltd`` (Ltd, Limited), ``co_ltd`` (Co., Ltd., Company Limited), ``llc`` (LLC,
L.L.C.), ``llp``, ``lp``, ``plc``, ``pty`` and ``pty_ltd`` (Pty Ltd, Proprietary
Limited), ``jsc``, ``ojsc``, ``cjsc``, ``pjsc``, ``tbk`` (Indonesian listed company).

German-speaking: ``gmbh`` (GmbH, GesmbH), ``gmbh_co_kg`` (GmbH & Co. KG), ``ag_co_kg``,
``kg``, ``kgaa``, ``ohg``, ``ag``, ``se``, ``ek`` (e.K., e.Kfm., e.Kfr.), ``ug`` (UG,
UG (haftungsbeschränkt)), ``gbr``, ``ev``.

French, Italian, Iberian and Latin American: ``sa``, ``sas``, ``sasu``, ``sarl`` (SARL,
S.à r.l.), ``eurl``, ``snc``, ``spa`` (S.p.A.), ``srl``, ``srls``, ``sprl``, ``sl``,
``slu``, ``sau``, ``lda``, ``ltda``, ``eireli``, ``sa_de_cv``, ``sab_de_cv``,
``s_de_rl``, ``s_de_rl_de_cv``.

Benelux, Nordic, Central and Eastern Europe: ``bv``, ``nv``, ``vof``, ``bvba``, ``ab``
(AB, AB (publ)), ``as`` (AS, A/S, a.s.), ``asa``, ``aps``, ``oy``, ``oyj``, ``sp_zoo``
(sp. z o.o.), ``sro`` (s.r.o., spol. s r.o.), ``kft``, ``zrt``, ``nyrt``, ``doo``,
``dd``.

Written first (only as a whole first word): ``ooo``, ``ao``, ``zao``, ``oao``, ``pao``
(Latin or Cyrillic letters), ``tov`` (ТОВ), ``pt``, ``cv`` (Indonesian), and ``jsc``,
``ojsc``, ``cjsc``, ``pjsc``.

Several trailing forms are removed one after the other (``"Foo Corp Inc"`` gives core
``"foo"``); the code returned is that of the last one in the name, except that
``cn_group``, ``cn_holding`` and ``cn_branch`` give way to a proper legal form found
before them. A form is never removed when nothing would be left (``"AG"`` alone stays
``"ag"`` with no legal form). A leading English ``"the"`` is dropped as well.

Units of :func:`convert`
------------------------
Base units: ``kg`` (mg, g, kg, t, lb, oz), ``m`` (mm, cm, dm, m, km, in, ", ft, yd),
``l`` (ml, cl, dl, l, gal = US gallon), ``gb`` (kb, mb, gb, tb, pb; decimal prefixes,
1 GB = 1000 MB, as storage vendors label capacities), ``w`` (w, kw), ``v`` (mv, v, kv)
and ``hz`` (hz, khz, mhz, ghz). Unit names are case-insensitive.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from unidecode import unidecode

__all__ = [
    "CompanyName",
    "ascii_key",
    "company_name",
    "convert",
    "email_key",
    "fold",
    "given_name_key",
    "model_codes",
    "name_key",
    "part_number",
    "person_name_key",
    "person_tokens",
    "phone_digits",
    "place_key",
    "quantities",
    "quantity",
    "street",
    "street_core",
    "tokens",
    "web_domain",
]

# --------------------------------------------------------------------------------------
# fold / ascii_key
# --------------------------------------------------------------------------------------

# Characters that stand for an apostrophe. U+00B4 (acute accent) is mapped to "'" before
# NFKC, which would otherwise turn it into a space and a combining accent.
_APOSTROPHES = "'\u2019\u2018\u02bc\u0060\u00b4\u2032"
_TO_APOSTROPHE = {ord(c): "'" for c in _APOSTROPHES if c != "'"}
_INNER_APOSTROPHE = re.compile(r"(?<=\w)'+(?=\w)")

# Zero-width space separates words in some scripts: treat it as a space.
_SPACE_FORMAT_CHARS = {0x200B}


def _build_fold_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {}
    # Planes 0 and 1 hold every punctuation, symbol, control, surrogate and format
    # character; the higher planes are CJK extensions, tags and private use.
    for cp in range(0x20000):
        category = unicodedata.category(chr(cp))
        if category[0] in "PS" or category in ("Cc", "Cs"):
            table[cp] = " "
        elif category == "Cf":
            table[cp] = " " if cp in _SPACE_FORMAT_CHARS else None
    # The Unicode tag characters (plane 14) are format characters too.
    for cp in range(0xE0000, 0xE0080):
        table[cp] = None
    # Apostrophes are handled before the table; any left over separates words.
    table[ord("'")] = " "
    # U+02BC (modifier letter apostrophe) is a letter by category: treat it like "'".
    table[0x02BC] = " "
    return table


_FOLD_TABLE = _build_fold_table()
# ASCII-only subset, applied after transliteration (unidecode may output punctuation).
_ASCII_FOLD_TABLE = {cp: repl for cp, repl in _FOLD_TABLE.items() if cp < 128}


def _fold(text: str) -> str:
    if text.isascii():
        # NFKC leaves ASCII unchanged and casefold() equals lower() on ASCII.
        folded = text.lower()
        if "`" in folded:
            folded = folded.replace("`", "'")
    else:
        folded = unicodedata.normalize("NFKC", text.translate(_TO_APOSTROPHE)).casefold()
    if "'" in folded or "\u02bc" in folded:
        folded = _INNER_APOSTROPHE.sub("", folded.replace("\u02bc", "'"))
    return " ".join(folded.translate(_FOLD_TABLE).split())


def fold(text: str | None) -> str:
    """NFKC, case-folded, punctuation and symbols as spaces, whitespace collapsed.

    Accents and non-Latin letters are kept; apostrophes inside words are removed.
    """
    if not text:
        return ""
    if not isinstance(text, str):
        text = str(text)
    return _fold(text)


@lru_cache(maxsize=1 << 16)
def _ascii_key(text: str) -> str:
    folded = _fold(text)
    if folded.isascii():
        return folded
    translit = unidecode(folded).lower()
    if "'" in translit:
        translit = _INNER_APOSTROPHE.sub("", translit)
    return " ".join(translit.translate(_ASCII_FOLD_TABLE).split())


def ascii_key(text: str | None) -> str:
    """:func:`fold`, then transliterated to lower-case ASCII words."""
    if not text:
        return ""
    if not isinstance(text, str):
        text = str(text)
    return _ascii_key(text)


def tokens(text: str | None) -> tuple[str, ...]:
    """The words of :func:`ascii_key`."""
    return tuple(ascii_key(text).split())


def _is_cjk_char(char: str) -> bool:
    cp = ord(char)
    return (
        0x4E00 <= cp <= 0x9FFF  # CJK unified ideographs
        or 0x3400 <= cp <= 0x4DBF  # extension A
        or 0x3040 <= cp <= 0x30FF  # hiragana, katakana
        or 0xAC00 <= cp <= 0xD7AF  # hangul syllables
        or 0xF900 <= cp <= 0xFAFF  # compatibility ideographs
        or 0x20000 <= cp <= 0x3134F  # extensions B and later
    )


_CJK_RE = re.compile(
    "[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003134f]"
)

# --------------------------------------------------------------------------------------
# company_name
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CompanyName:
    """A company name without its legal form, and the form's canonical code."""

    core: str
    legal_form: str = ""


_EMPTY_COMPANY = CompanyName("", "")

# Spellings written at the end of a Latin-script name, by code. Each spelling is
# folded and its spaces removed, so "S.A.", "SA" and "s. a." give the same key.
_LATIN_SUFFIX_FORMS: dict[str, tuple[str, ...]] = {
    # English
    "inc": ("Inc", "Inc.", "Incorporated"),
    "corp": ("Corp", "Corp.", "Corporation"),
    "co": ("Co", "Co.", "Company", "and Co", "and Company"),
    "ltd": ("Ltd", "Ltd.", "Limited"),
    "co_ltd": ("Co. Ltd.", "Co., Ltd.", "Co Limited", "Company Limited", "Company Ltd"),
    "llc": ("LLC", "L.L.C.", "Limited Liability Company"),
    "llp": ("LLP", "L.L.P.", "Limited Liability Partnership"),
    "lp": ("LP", "L.P.", "Limited Partnership"),
    "plc": ("PLC", "P.L.C.", "Public Limited Company"),
    "pty": ("Pty", "Pty."),
    "pty_ltd": ("Pty Ltd", "Pty. Ltd.", "Pty Limited", "Proprietary Limited"),
    "jsc": ("JSC", "J.S.C."),
    "ojsc": ("OJSC",),
    "cjsc": ("CJSC",),
    "pjsc": ("PJSC",),
    "tbk": ("Tbk", "Tbk."),
    # German-speaking countries
    "gmbh": ("GmbH", "GesmbH", "Ges.m.b.H.", "Gesellschaft mit beschränkter Haftung"),
    "gmbh_co_kg": (
        "GmbH & Co. KG",
        "GmbH & Co KG",
        "GmbH und Co. KG",
        "GmbH u. Co. KG",
        "GmbH + Co. KG",
    ),
    "ag_co_kg": ("AG & Co. KG", "AG und Co. KG"),
    "kg": ("KG", "Kommanditgesellschaft"),
    "kgaa": ("KGaA",),
    "ohg": ("OHG", "oHG"),
    "ag": ("AG", "Aktiengesellschaft"),
    "se": ("SE",),
    "ek": ("e.K.", "e.Kfm.", "e.Kfr."),
    "ug": ("UG", "UG (haftungsbeschränkt)", "UG (haftungsbeschraenkt)"),
    "gbr": ("GbR",),
    "ev": ("e.V.",),
    # French, Italian, Spanish, Portuguese, Latin American
    "sa": ("S.A.", "SA", "Société Anonyme", "Sociedad Anónima"),
    "sas": ("S.A.S.", "SAS"),
    "sasu": ("SASU", "S.A.S.U."),
    "sarl": ("SARL", "S.à r.l.", "S.à.r.l.", "Sàrl"),
    "eurl": ("EURL",),
    "snc": ("SNC", "S.N.C."),
    "spa": ("S.p.A.", "SpA"),
    "srl": ("S.r.l.", "Srl"),
    "srls": ("S.r.l.s.", "Srls"),
    "sprl": ("SPRL", "S.P.R.L."),
    "sl": ("S.L.", "SL", "Sociedad Limitada"),
    "slu": ("S.L.U.", "SLU"),
    "sau": ("S.A.U.", "SAU"),
    "lda": ("Lda", "Lda."),
    "ltda": ("Ltda", "Ltda."),
    "eireli": ("EIRELI",),
    "sa_de_cv": ("S.A. de C.V.", "SA de CV"),
    "sab_de_cv": ("S.A.B. de C.V.", "SAB de CV"),
    "s_de_rl": ("S. de R.L.", "S de RL"),
    "s_de_rl_de_cv": ("S. de R.L. de C.V.", "S de RL de CV"),
    # Benelux, Nordic, Central and Eastern Europe
    "bv": ("B.V.", "BV"),
    "nv": ("N.V.", "NV"),
    "vof": ("V.O.F.", "VOF"),
    "bvba": ("BVBA", "B.V.B.A."),
    "ab": ("AB", "AB (publ)"),
    "as": ("AS", "A/S", "a.s."),
    "asa": ("ASA",),
    "aps": ("ApS",),
    "oy": ("Oy",),
    "oyj": ("Oyj",),
    "sp_zoo": ("sp. z o.o.", "sp. z oo", "spółka z o.o."),
    "sro": ("s.r.o.", "spol. s r.o."),
    "kft": ("Kft.", "Kft"),
    "zrt": ("Zrt.", "Zrt"),
    "nyrt": ("Nyrt.", "Nyrt"),
    "doo": ("d.o.o.", "doo"),
    "dd": ("d.d.",),
}

# Forms written before the name in some countries. Matched only as one whole first word:
# "A. O. Smith" is a name, not the Russian "AO".
_PREFIX_FORMS: dict[str, tuple[str, ...]] = {
    "ooo": ("OOO", "ООО"),
    "ao": ("AO", "АО"),
    "zao": ("ZAO", "ЗАО"),
    "oao": ("OAO", "ОАО"),
    "pao": ("PAO", "ПАО"),
    "tov": ("TOV", "ТОВ"),
    "pt": ("PT",),
    "cv": ("CV",),
    "jsc": ("JSC",),
    "ojsc": ("OJSC",),
    "cjsc": ("CJSC",),
    "pjsc": ("PJSC",),
}

# Chinese (and Japanese) forms: no spaces, matched at the end of the last word. Longest
# first, so that 股份有限公司 wins over 有限公司 and 公司.
_CJK_SUFFIX_FORMS: tuple[tuple[str, str], ...] = tuple(
    sorted(
        (
            ("集团股份有限公司", "cn_co_ltd"),
            ("集團股份有限公司", "cn_co_ltd"),
            ("集团有限公司", "cn_ltd"),
            ("集團有限公司", "cn_ltd"),
            ("股份有限公司", "cn_co_ltd"),
            ("有限责任公司", "cn_ltd"),
            ("有限責任公司", "cn_ltd"),
            ("有限公司", "cn_ltd"),
            ("股份公司", "cn_co_ltd"),
            ("集团公司", "cn_group"),
            ("集團公司", "cn_group"),
            ("有限合伙", "cn_lp"),
            ("有限合夥", "cn_lp"),
            ("分公司", "cn_branch"),
            ("集团", "cn_group"),
            ("集團", "cn_group"),
            ("控股", "cn_holding"),
            ("公司", "cn_co"),
            ("株式会社", "jp_kk"),
            ("有限会社", "jp_yk"),
        ),
        key=lambda item: -len(item[0]),
    )
)
_CJK_PREFIX_FORMS: tuple[tuple[str, str], ...] = (("株式会社", "jp_kk"), ("有限会社", "jp_yk"))

# Designations that say something about the group, not the legal form proper.
_WEAK_FORMS = frozenset({"cn_group", "cn_holding", "cn_branch"})


def _compact(spelling: str) -> str:
    return _fold(spelling).replace(" ", "")


def _build_form_table(forms: dict[str, tuple[str, ...]]) -> dict[str, str]:
    table: dict[str, str] = {}
    for code, spellings in forms.items():
        for spelling in spellings:
            for key in {_compact(spelling), unidecode(_compact(spelling)).lower()}:
                previous = table.setdefault(key, code)
                if previous != code:
                    raise ValueError(f"legal form {key!r} given two codes")
    return table


_SUFFIX_TABLE = _build_form_table(_LATIN_SUFFIX_FORMS)
_SUFFIX_MAX_LEN = max(map(len, _SUFFIX_TABLE))
_PREFIX_TABLE = _build_form_table(_PREFIX_FORMS)


def _strip_cjk_suffix(words: list[str]) -> str | None:
    """Remove one Chinese form from the end of ``words``; return its code."""
    last = words[-1]
    for form, code in _CJK_SUFFIX_FORMS:
        if last.endswith(form):
            rest = last[: -len(form)]
            if rest:
                words[-1] = rest
            elif len(words) > 1:
                words.pop()
            else:
                return None
            return code
    return None


def _strip_latin_suffix(words: list[str]) -> str | None:
    """Remove the longest trailing legal form from ``words``; return its code."""
    n = len(words)
    # Keep at least one word, and more than a lone leading "the".
    keep = 2 if words[0] == "the" else 1
    best_len = 0
    best_code = None
    joined = ""
    for k in range(1, n - keep + 1):
        joined = words[n - k] + joined
        if len(joined) > _SUFFIX_MAX_LEN:
            break
        code = _SUFFIX_TABLE.get(joined)
        if code is not None:
            best_len, best_code = k, code
    if best_len:
        del words[n - best_len :]
    return best_code


@lru_cache(maxsize=1 << 16)
def _company_name(text: str) -> CompanyName:
    words = _fold(text).split()
    if not words:
        return _EMPTY_COMPANY
    found: list[str] = []
    while words:
        if _is_cjk_char(words[-1][-1]):
            code = _strip_cjk_suffix(words)
        else:
            code = _strip_latin_suffix(words)
        if code is None:
            break
        found.append(code)
    if len(words) > 1 and words[0] in _PREFIX_TABLE:
        found.append(_PREFIX_TABLE[words.pop(0)])
    elif _is_cjk_char(words[0][0]):
        first = words[0]
        for form, code in _CJK_PREFIX_FORMS:
            if first.startswith(form) and (len(first) > len(form) or len(words) > 1):
                words[0] = first[len(form) :]
                if not words[0]:
                    words.pop(0)
                found.append(code)
                break
    if len(words) > 1 and words[0] == "the":
        words.pop(0)
    legal_form = ""
    for code in found:
        if code not in _WEAK_FORMS:
            legal_form = code
            break
    if not legal_form and found:
        legal_form = found[0]
    return CompanyName(" ".join(words), legal_form)


def company_name(text: str | None) -> CompanyName:
    """The folded name without its legal form(s), and the canonical legal-form code."""
    if not text:
        return _EMPTY_COMPANY
    if not isinstance(text, str):
        text = str(text)
    return _company_name(text)


# --------------------------------------------------------------------------------------
# Person names
# --------------------------------------------------------------------------------------

# Canonical given name: nicknames, short forms and foreign equivalents.
_GIVEN_NAME_VARIANTS: dict[str, str] = {
    "john": "jon johnny jonny jack johann johannes johan jean juan giovanni joão hans "
    "jan jens ivan sean shaun shawn ian",
    "william": "bill billy will willy willie liam wilhelm willem wim guillaume guillermo "
    "guglielmo vilhelm",
    "robert": "bob bobby rob robbie robby bert roberto",
    "richard": "dick rick ricky rich richie ricardo riccardo",
    "james": "jim jimmy jimmie jamie jacques giacomo jaime",
    "michael": "mike mick mikey micky mickey michel miguel michał mikhail mikael mikkel",
    "katherine": "kate katie kathy cathy kat catherine kathryn katharine katharina katrin "
    "katarina caterina catalina kitty katja kathi",
    "elizabeth": "liz lizzie lizzy beth betty bette betsy libby lisa eliza elisabeth elisa "
    "liesel elli elise",
    "margaret": "peggy maggie meg marge margie greta gretchen margarete margarita "
    "margherita marguerite margit margot rita",
    "anthony": "tony antonio anton antoine antony toni",
    "david": "dave davey davy davide",
    "daniel": "dan danny daniele",
    "christopher": "chris christoph christophe cristóbal cristoforo kristof topher",
    "matthew": "matt matty matthias mathias matteo mateo mathieu matthieu",
    "nicholas": "nick nicky nico nicolas nikolaus niklas klaus claus nikolai",
    "alexander": "alex sandy alec alejandro alessandro alexandre xander sandro sascha",
    "samuel": "sam sammy samuele",
    "thomas": "tom tommy thom tomás tommaso",
    "stephen": "steve steven stevie stefan stephan stefano esteban étienne stéphane",
    "edward": "ted ed eddie eddy ned eduardo edoardo édouard eduard",
    "henry": "harry hank hal henri heinrich heinz enrique enrico henrik",
    "susan": "sue susie suzy susanne susanna suzanne susana",
    "jennifer": "jenny jen jenn jennie",
    "patrick": "pat paddy",
    "patricia": "patty tricia trish patsy",
    "charles": "charlie chuck chas carlos carlo karl carl",
    "frederick": "fred freddy freddie fritz friedrich frédéric federico fredrik frederik",
    "gregory": "greg gregor gregorio grégoire",
    "joseph": "joe joey jose josé giuseppe josef józef pepe beppe peppe pino",
    "lawrence": "larry laurence lorenzo laurent lorenz",
    "benjamin": "ben benny benji",
    "andrew": "andy drew andreas andré andrés andrzej andrei andi",
    "joshua": "josh",
    "nathan": "nate",
    "sophia": "sophie sofia sofie",
    "peter": "pete pedro pierre pietro piotr petr pieter peder petrus",
    "paul": "paolo pablo paulo pavel paweł",
    "george": "georg georges jorge giorgio jürgen jörg",
    "francis": "francesco francisco françois franz frans paco pancho",
    "mary": "maria marie molly polly",
    "anne": "ann anna annie nancy",
    "abigail": "abby abbie",
    "deborah": "debbie deb debra",
    "rebecca": "becky becca",
    "victoria": "vicky vicki tori",
    "theresa": "teresa tess tessa thérèse",
    "jessica": "jess jessie",
    "dorothy": "dottie dolly",
    "barbara": "barb babs barbie",
    "christine": "christina kristina kristine tina",
    "helen": "helena hélène elena nell nellie",
    "ronald": "ron ronnie ronny",
    "donald": "don donnie donny",
    "kenneth": "ken kenny",
    "timothy": "tim timmy",
    "raymond": "ray",
    "gerald": "gerry",
    "leonard": "len lenny",
    "vincent": "vince vinnie vincenzo vicente",
    "walter": "walt wally",
    "philip": "phil phillip felipe filippo philipp philippe",
    "douglas": "doug",
    "eugene": "gene",
    "arthur": "art artie arturo",
    "albert": "alberto",
    "jeffrey": "jeff jeffery geoffrey geoff",
    "bradley": "brad",
    "zachary": "zach zack zak",
    "jacob": "jake jakob",
    "louis": "lou louie luis luigi ludwig lewis",
    "martin": "marty",
    "ernest": "ernie ernst ernesto",
    "cynthia": "cindy",
    "pamela": "pam",
    "judith": "judy",
    "amanda": "mandy",
    "charlotte": "lottie carlotta",
    "eleanor": "ellie eleonora",
    "amelia": "millie",
    "emily": "emmy emilie emilia",
    "sarah": "sara",
    "oliver": "ollie olly olivier",
    "maximilian": "max maxi",
    "tobias": "tobi",
    "ursula": "uschi ulla",
    "isabel": "isa isabelle isabella chabela",
    "natalie": "nathalie natalia",
    "lucas": "lukas luke",
    "manuel": "manolo",
    "javier": "javi",
    "ignacio": "nacho",
    "jesus": "chus chuy",
    "dolores": "lola",
    "concepcion": "concha",
    "pilar": "pili",
    "guadalupe": "lupe",
    "salvatore": "toto salvo",
    "hendrik": "henk",
    "cornelis": "kees",
    "jacobus": "jaap koos",
}


def _build_given_names() -> dict[str, str]:
    table: dict[str, str] = {}
    for canonical, variants in _GIVEN_NAME_VARIANTS.items():
        for variant in variants.split():
            key = _ascii_key(variant)
            previous = table.setdefault(key, canonical)
            if previous != canonical:
                raise ValueError(f"given name {key!r} has two canonical forms")
    canonicals = set(_GIVEN_NAME_VARIANTS)
    clash = canonicals & table.keys()
    if clash:
        raise ValueError(f"canonical given names used as variants: {sorted(clash)}")
    return table


_GIVEN_NAMES = _build_given_names()


@lru_cache(maxsize=1 << 14)
def _given_name_key(name: str) -> str:
    key = _ascii_key(name)
    canonical = _GIVEN_NAMES.get(key)
    if canonical is not None:
        return canonical
    if " " in key:
        return " ".join([_GIVEN_NAMES.get(word, word) for word in key.split()])
    return key


def given_name_key(name: str | None) -> str:
    """A given name's canonical form ("Bill" -> "william"); unknown names as ascii_key."""
    if not name:
        return ""
    if not isinstance(name, str):
        name = str(name)
    return _given_name_key(name)


def _person_words(full_name: str | None) -> list[str]:
    get = _GIVEN_NAMES.get
    return [get(word, word) for word in ascii_key(full_name).split()]


def person_name_key(full_name: str | None) -> str:
    """ascii_key of a full name with every word mapped to its canonical given name."""
    return " ".join(_person_words(full_name))


def person_tokens(full_name: str | None) -> tuple[str, ...]:
    """The canonical words of a full name, sorted and de-duplicated (order-insensitive)."""
    return tuple(sorted(set(_person_words(full_name))))


# --------------------------------------------------------------------------------------
# street
# --------------------------------------------------------------------------------------

_STREET_WORDS: dict[str, str] = {}
for _canonical, _variants in {
    "street": "st street",
    "strasse": "str strasse strase",
    "avenue": "ave av avenue aven avn",
    "avenida": "avda avd avenida",
    "road": "rd road",
    "boulevard": "blvd boulevard bd bvd boul",
    "lane": "ln lane",
    "drive": "dr drv drive",
    "court": "ct crt court",
    "place": "pl place",
    "square": "sq sqr square",
    "highway": "hwy highway",
    "parkway": "pkwy pky parkway",
    "terrace": "ter terr terrace",
    "circle": "cir circle",
    "crescent": "cres crescent",
    "expressway": "expy expressway",
    "freeway": "fwy freeway",
    "heights": "hts heights",
    "center": "ctr cntr center centre",
    "junction": "jct junction",
    "trail": "trl trail",
    "alley": "aly alley",
    "plaza": "plz plaza",
    "way": "wy way",
    "route": "rte route",
    "impasse": "imp impasse",
    "faubourg": "fbg faubourg",
    "calle": "cl calle",
    "piazza": "pza pzza piazza",
    "n": "n north",
    "s": "s south",
    "e": "e east",
    "w": "w west",
    "ne": "ne northeast",
    "nw": "nw northwest",
    "se": "se southeast",
    "sw": "sw southwest",
}.items():
    for _variant in _variants.split():
        _STREET_WORDS[_variant] = _canonical

# Abbreviations read differently at the head of the line (first word, or right after
# the house number) when a name follows: "St. Kilda Rd", "12 r. de la Paix".
_LEADING_WORDS = {"st": "saint", "dr": "doctor", "r": "rue", "v": "via"}
_LEADING_ONLY = frozenset({"r", "v"})

# "C/ Mayor" is a Spanish street; "c/o" (care of) is not.
_CALLE_ABBREV = re.compile(r"(?<!\w)c\s*/(?!o(?!\w))\s*", re.IGNORECASE)
_PIAZZA_ABBREV = re.compile(r"(?<!\w)p\.\s*z?za(?!\w)", re.IGNORECASE)


@lru_cache(maxsize=1 << 14)
def _street_word(word: str) -> str:
    canonical = _STREET_WORDS.get(word)
    if canonical is not None:
        return canonical
    # German compounds: "hauptstr" -> "hauptstrasse".
    if len(word) > 3 and word.endswith("str") and word[-4].isalpha():
        return word + "asse"
    return word


@lru_cache(maxsize=1 << 16)
def _street(text: str) -> str:
    if "/" in text:
        text = _CALLE_ABBREV.sub(" calle ", text)
    if "." in text:
        text = _PIAZZA_ABBREV.sub(" piazza ", text)
    folded = _fold(text)
    if _CJK_RE.search(folded):
        return folded
    words = _ascii_key(folded).split()
    n = len(words)
    out = []
    for i, word in enumerate(words):
        leading = word in _LEADING_WORDS and (i == 0 or (i == 1 and words[0][0].isdigit()))
        if leading and i + 1 < n and not words[i + 1][0].isdigit():
            out.append(_LEADING_WORDS[word])
        elif word in _LEADING_ONLY:
            out.append(word)
        else:
            out.append(_street_word(word))
    return " ".join(out)


def street(text: str | None) -> str:
    """ascii_key of a street line with street types and abbreviations made canonical.

    English abbreviations give the full word ("st" street, "ave"/"av" avenue, "rd" road,
    "blvd"/"bd" boulevard, "ln" lane, "dr" drive, "ct" court, "pl" place, "sq" square,
    "hwy" highway, "pkwy" parkway, "ter" terrace...); compass words give their letter
    ("north" gives "n", "n" stays). German "str", "str." and "straße" give "strasse",
    also glued to the name ("Hauptstr." gives "hauptstrasse"). French "r." gives "rue";
    Spanish "c/" and "cl" give "calle", "avda" gives "avenida"; Italian "v." gives "via"
    and "p.za"/"pza" give "piazza". House numbers are kept.

    At the head of the line (first word, or right after the house number) and followed
    by a name, "st" reads "saint" and "dr" reads "doctor" ("St. Kilda Rd" gives "saint
    kilda road"); the one-letter "r" and "v" are only expanded there. A line containing
    CJK characters is only folded (no transliteration).
    """
    if not text:
        return ""
    if not isinstance(text, str):
        text = str(text)
    return _street(text)


# --------------------------------------------------------------------------------------
# Party comparison keys: name_key, place_key, street_core, web_domain
# --------------------------------------------------------------------------------------

# German spellings without umlauts ("Mueller") against the transliterated umlaut
# ("Müller" gives "muller"): both sides drop the "e".
_UMLAUT_SPELLING = re.compile(r"(?<=[aou])e")
# Simplified characters that unidecode reads wrongly, as a character it reads right:
# 广 (guang, read "yan"), 娜 (na, read "nuo").
_READING_FIXES = str.maketrans({"广": "廣", "娜": "那"})


@lru_cache(maxsize=1 << 16)
def _name_key(text: str) -> str:
    if not text.isascii():
        text = text.translate(_READING_FIXES)
    key = _ascii_key(text)
    if "e" in key:
        key = _UMLAUT_SPELLING.sub("", key)
    return key


def name_key(text: str | None) -> str:
    """ascii_key with "ae", "oe" and "ue" read as "a", "o" and "u", so that "Müller",
    "MUELLER" and "Muller" agree. Lossy ("Samuel" gives "samul"): only for comparing."""
    if not text:
        return ""
    if not isinstance(text, str):
        text = str(text)
    return _name_key(text)


# Chinese administrative suffixes of a place name: city, province, district, county.
_CJK_PLACE_SUFFIX = re.compile("[市省区縣县]$")


@lru_cache(maxsize=1 << 14)
def _place_key(text: str) -> str:
    folded = _fold(text)
    if _CJK_RE.search(folded):
        folded = _CJK_PLACE_SUFFIX.sub("", folded.replace(" ", "")) or folded
    return _name_key(folded).replace(" ", "")


def place_key(text: str | None) -> str:
    """A city or region name for comparison: :func:`name_key` without spaces; Chinese
    names without their administrative suffix, so that "北京市" and "Beijing" (and
    "BEI JING") agree."""
    if not text:
        return ""
    if not isinstance(text, str):
        text = str(text)
    return _place_key(text)


# Street-type words (after :func:`street`) and particles that carry no identity of a
# street; what remains is its name and numbers ("Calle de Alcalá, 12" and "C/ Alcalá 12"
# give "alcala 12", "Viale dei Mille 140" and "V.le dei Mille 140" give "mille 140").
_STREET_TYPES = frozenset(_STREET_WORDS.values()) - {"n", "s", "e", "w", "ne", "nw", "se", "sw"}
_STREET_FILLER_TEXT = """
    calle paseo corso viale via rue weg laan straat gracht plein platz allee gasse ring
    ufer damm chemin route lu jie dao hao hutong nong
    de del la las los el di dei della delle degli do da das dos du des le les
    van der den het ter ten of the am an im
    """
_STREET_FILLER = frozenset(_STREET_FILLER_TEXT.split())


@lru_cache(maxsize=1 << 16)
def _street_core(text: str) -> str:
    words = _street(text)
    if not words.isascii():
        words = _ascii_key(words.translate(_READING_FIXES))
    words = words.split()
    kept = [
        word
        for word in words
        if any(c.isdigit() for c in word)
        or (len(word) > 2 and word not in _STREET_TYPES and word not in _STREET_FILLER)
    ]
    return _name_key(" ".join(kept or words))


def street_core(text: str | None) -> str:
    """The distinctive words and the numbers of a street line: :func:`street`,
    transliterated (Chinese lines too), without street types, particles and one- or
    two-letter abbreviations. For comparison only."""
    if not text:
        return ""
    if not isinstance(text, str):
        text = str(text)
    return _street_core(text)


_WEB_PREFIX = re.compile(r"^(?:[a-z][a-z0-9+.-]*://)?(?:www\d?\.)?")


def web_domain(text: str | None) -> str:
    """The host of a web address or the domain of an e-mail address, lower case and
    without "www." ("https://www.Acme.com/about" and "sales@acme.com" give "acme.com")."""
    if not text:
        return ""
    if not isinstance(text, str):
        text = str(text)
    text = text.strip().lower()
    if "@" in text and "/" not in text.split("@", 1)[0]:
        text = text.rpartition("@")[2]
    text = _WEB_PREFIX.sub("", text)
    host = re.split(r"[/?#:]", text, maxsplit=1)[0].strip(".")
    return host if "." in host else ""


# --------------------------------------------------------------------------------------
# phone_digits / email_key
# --------------------------------------------------------------------------------------

_PHONE_EXTENSION = re.compile(r"\s*(?:ext\.?|extension|x|#)\s*\d{1,6}\s*$", re.IGNORECASE)
_TRUNK_ZERO = re.compile(r"\(\s*0\s*\)")
_NON_DIGIT = re.compile(r"\D+")
_FIRST_PLUS_OR_DIGIT = re.compile(r"[+\d]")


def phone_digits(text: str | None) -> str:
    """A leading "+" (also for a "00" prefix) and the digits; "(0)" after a country code
    and a trailing extension are dropped."""
    if not text:
        return ""
    if not isinstance(text, str):
        text = str(text)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    text = _PHONE_EXTENSION.sub("", text)
    first = _FIRST_PLUS_OR_DIGIT.search(text)
    if first is None:
        return ""
    plus = first.group() == "+"
    if "(" in text and (plus or text[first.start() : first.start() + 2] == "00"):
        text = _TRUNK_ZERO.sub("", text)
    digits = _NON_DIGIT.sub("", text)
    if not digits.isascii():
        digits = "".join(str(unicodedata.decimal(c)) for c in digits)
    if not plus and digits.startswith("00"):
        plus = True
        digits = digits[2:]
    if not digits:
        return ""
    return "+" + digits if plus else digits


_GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})
_ANGLE_ADDRESS = re.compile(r"<([^<>@\s]+@[^<>@\s]+)>")


def email_key(text: str | None) -> str:
    """Lower-cased address without "+tag"; Gmail dots dropped, googlemail.com -> gmail.com.

    Input without a usable "@" gives its :func:`fold` form.
    """
    if not text:
        return ""
    if not isinstance(text, str):
        text = str(text)
    address = text.strip()
    if not address.isascii():
        address = unicodedata.normalize("NFKC", address)
    address = address.lower()
    if "<" in address:
        inner = _ANGLE_ADDRESS.search(address)
        if inner:
            address = inner.group(1)
    if address.startswith("mailto:"):
        address = address[7:].strip()
    local, at, domain = address.rpartition("@")
    domain = domain.strip().rstrip(".")
    local = local.strip()
    if not at or not local or not domain:
        return fold(text)
    local = local.split("+", 1)[0] or local
    if domain in _GMAIL_DOMAINS:
        local = local.replace(".", "") or local
        domain = "gmail.com"
    return f"{local}@{domain}"


# --------------------------------------------------------------------------------------
# part_number / model_codes
# --------------------------------------------------------------------------------------

_PART_SEPARATORS = {ord(c): None for c in " -_./\\\t\n\r\f\v"}


def _part_number(text: str) -> str:
    if not text.isascii():
        text = unidecode(unicodedata.normalize("NFKC", text))
    code = text.upper().translate(_PART_SEPARATORS)
    if code.startswith("0"):
        code = code.lstrip("0") or "0"
    return code


def part_number(text: str | None) -> str:
    """Upper-case ASCII without separators (space - _ . / \\) or leading zeros."""
    if not text:
        return ""
    if not isinstance(text, str):
        text = str(text)
    return _part_number(text)


# Unit suffixes that make a token a quantity rather than a model code.
_CODE_UNITS_TEXT = (
    "gb mb tb kb gbps mbps ghz mhz khz hz p i mm cm m km in inch inches v w kw wh kwh "
    "mah ah lbs lb kg g mg oz ml cl l x k bit bits fps rpm db dbi ft mp nm ms"
)
_CODE_UNITS = _CODE_UNITS_TEXT.split()
_CODE_UNIT_RE = "|".join(sorted(_CODE_UNITS, key=len, reverse=True))
_NUMBER_RE = r"\d+(?:[.,]\d+)?"
_QUANTITY_TOKEN = re.compile(rf"{_NUMBER_RE}(?:[-/]{_NUMBER_RE})?(?:{_CODE_UNIT_RE})")
_DIMENSIONS_TOKEN = re.compile(rf"{_NUMBER_RE}(?:[x×*]{_NUMBER_RE})+(?:{_CODE_UNIT_RE})?")
_HAS_DIGIT = re.compile(r"\d").search
_HAS_LETTER = re.compile(r"[A-Z]").search

_HARD_SEPARATORS = re.compile(r"[,;()\[\]{}<>\"|]+")
_TOKEN_EDGES = ".,:;!?*'\"-–—_/\\#~+&@%^=`´’‘“”«»™®©"
_HYPHENS = frozenset({"-", "–", "—", "--"})
_HYPHEN = object()
_HARD = object()

# Upper-case words that are not a model prefix even when a code follows them.
_NOT_PREFIXES_TEXT = """
    TV HD HDTV UHD FHD LCD LED OLED QLED USB DVD CD BD PC MAC GPS SSD HDD RAM ROM DDR CPU
    GPU AC DC AV HDMI VGA DVI NFC LTE WIFI NEW FOR AND THE WITH NO PRO MAX MINI PLUS ONE
    KIT SET PACK BT MP MK II III IV VI VII VIII IX XL XXL IN OF BY TO OR ON GB TB MB RGB
    EAN UPC GTIN ISBN SKU MPN PN REF ART NR ID
    """
_NOT_PREFIXES = frozenset(_NOT_PREFIXES_TEXT.split())


def spelled_codes(text: str | None) -> tuple[str, ...]:
    """Codes a title spells out in words: two or three neighbouring words joined
    ("Stylus 1050 SW" gives "STYLUS1050SW", "COOLPIX S710" gives "COOLPIXS710"), where
    the join has at least 6 characters, a letter and a digit, and a word has a digit.
    Not codes by themselves (titles are full of such neighbours), only forms to find
    another title's code in."""
    items = _code_items(text)
    found: dict[str, None] = {}
    for i in range(len(items)):
        words: list[str] = []
        for item in items[i : i + 3]:
            if not isinstance(item, str):
                break
            words.append(item)
            if len(words) < 2 or not any(_HAS_DIGIT(word) for word in words):
                continue
            code = _part_number("".join(words))
            if len(code) >= 6 and _HAS_LETTER(code) and _HAS_DIGIT(code):
                found.setdefault(code, None)
    return tuple(found)


def _code_items(text: str | None) -> list[object]:
    """:func:`_model_items` of any value, NFKC-normalised first."""
    if not text:
        return []
    if not isinstance(text, str):
        text = str(text)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return _model_items(text)


def _model_items(text: str) -> list[object]:
    """Candidate words, with _HYPHEN for a free-standing dash and _HARD for a comma,
    parenthesis or other separator that no code spans."""
    items: list[object] = []
    for piece in text.split():
        if piece in _HYPHENS:
            items.append(_HYPHEN)
            continue
        parts = _HARD_SEPARATORS.split(piece)
        for j, part in enumerate(parts):
            if j:
                items.append(_HARD)
            word = part.strip(_TOKEN_EDGES)
            if word:
                items.append(word)
            elif part:
                items.append(_HARD)
    return items


def _is_model_code(raw: str, code: str) -> bool:
    if len(code) < 4:
        return False
    if code.isdigit():
        return len(code) >= 6
    if not (_HAS_DIGIT(code) and _HAS_LETTER(code)):
        return False
    lowered = raw.lower()
    return not (_QUANTITY_TOKEN.fullmatch(lowered) or _DIMENSIONS_TOKEN.fullmatch(lowered))


def _is_prefix_word(word: str) -> bool:
    return 2 <= len(word) <= 4 and word.isalpha() and word.isupper() and word.isascii()


def _joinable(raw: str) -> bool:
    """Whether ``raw`` may follow a short upper-case prefix ("PS LX350H")."""
    if any(c in raw for c in "-./"):
        return False
    lowered = raw.lower()
    if _QUANTITY_TOKEN.fullmatch(lowered) or _DIMENSIONS_TOKEN.fullmatch(lowered):
        return False
    code = _part_number(raw)
    if code.isdigit():
        return len(code) >= 3
    return bool(_HAS_DIGIT(code) and _HAS_LETTER(code))


def model_codes(text: str | None) -> tuple[str, ...]:
    """Model and part numbers in a free text, as :func:`part_number` forms, in order.

    Words are split on whitespace and on commas, semicolons, parentheses, brackets and
    quotes; hyphens, dots and slashes inside a word are kept ("PS-LX350H" is one word),
    except that a slash between codes separates alternatives ("TMRBT10/TMRBT10A").
    A word is a code when its :func:`part_number` form has at least 4 characters with
    both a letter and a digit, or is all digits with at least 6 (so no year). Numbers
    with a unit ("500GB", "1080p", "2.4GHz", "21.1MP") and dimensions ("1920x1080") are
    not codes: :func:`quantities` reads them.

    A 2-4 letter upper-case word followed, after a space or a free-standing dash, by a
    word with digits is also joined to it ("PS LX350H" gives "PSLX350H" and "LX350H"),
    unless the first word is a common abbreviation (TV, LCD, USB, EAN...), or the second
    already carries its own separators ("SONY PS-LX350H" gives only "PSLX350H"), is a
    quantity, or is a number of fewer than 3 digits ("USB 3.0").
    """
    items = _code_items(text)
    found: dict[str, None] = {}
    n = len(items)
    for i, item in enumerate(items):
        if not isinstance(item, str):
            continue
        if _is_prefix_word(item) and item not in _NOT_PREFIXES and i + 1 < n:
            follower = items[i + 1]
            if follower is _HYPHEN and i + 2 < n:
                follower = items[i + 2]
            if isinstance(follower, str) and _joinable(follower):
                found.setdefault(_part_number(item + follower), None)
        parts = item.split("/")
        if len(parts) > 1 and all(_is_model_code(part, _part_number(part)) for part in parts):
            # Alternatives ("TMRBT10/TMRBT10A"), not a code with a suffix ("DVPFX820/W").
            for part in parts:
                found.setdefault(_part_number(part), None)
            continue
        code = _part_number(item)
        if _is_model_code(item, code):
            found.setdefault(code, None)
    return tuple(found)


# --------------------------------------------------------------------------------------
# Quantities
# --------------------------------------------------------------------------------------

# unit -> (multiplier, divisor, base unit); the value in base unit is value * mul / div.
_UNITS: dict[str, tuple[float, float, str]] = {}
for _base, _entries in {
    "kg": (
        ("mg", 1, 1_000_000),
        ("g", 1, 1000),
        ("gr", 1, 1000),
        ("gram", 1, 1000),
        ("grams", 1, 1000),
        ("kg", 1, 1),
        ("kgs", 1, 1),
        ("kilo", 1, 1),
        ("kilos", 1, 1),
        ("kilogram", 1, 1),
        ("kilograms", 1, 1),
        ("t", 1000, 1),
        ("tonne", 1000, 1),
        ("tonnes", 1000, 1),
        ("lb", 0.45359237, 1),
        ("lbs", 0.45359237, 1),
        ("pound", 0.45359237, 1),
        ("pounds", 0.45359237, 1),
        ("oz", 0.028349523125, 1),
        ("ounce", 0.028349523125, 1),
        ("ounces", 0.028349523125, 1),
    ),
    "m": (
        ("mm", 1, 1000),
        ("cm", 1, 100),
        ("dm", 1, 10),
        ("m", 1, 1),
        ("km", 1000, 1),
        ("in", 0.0254, 1),
        ("inch", 0.0254, 1),
        ("inches", 0.0254, 1),
        ('"', 0.0254, 1),
        ("ft", 0.3048, 1),
        ("feet", 0.3048, 1),
        ("foot", 0.3048, 1),
        ("yd", 0.9144, 1),
    ),
    "l": (
        ("ml", 1, 1000),
        ("cl", 1, 100),
        ("dl", 1, 10),
        ("l", 1, 1),
        ("ltr", 1, 1),
        ("litre", 1, 1),
        ("litres", 1, 1),
        ("liter", 1, 1),
        ("liters", 1, 1),
        ("gal", 3.785411784, 1),
    ),
    "gb": (
        ("kb", 1, 1_000_000),
        ("mb", 1, 1000),
        ("gb", 1, 1),
        ("tb", 1000, 1),
        ("pb", 1_000_000, 1),
    ),
    "w": (("w", 1, 1), ("watt", 1, 1), ("watts", 1, 1), ("kw", 1000, 1)),
    "v": (("mv", 1, 1000), ("v", 1, 1), ("volt", 1, 1), ("volts", 1, 1), ("kv", 1000, 1)),
    "hz": (("hz", 1, 1), ("khz", 1000, 1), ("mhz", 1_000_000, 1), ("ghz", 1_000_000_000, 1)),
}.items():
    for _unit, _mul, _div in _entries:
        _UNITS[_unit] = (float(_mul), float(_div), _base)

_UNIT_ALTERNATION = "|".join(re.escape(u) for u in sorted(_UNITS, key=len, reverse=True))
# A number not glued to a preceding digit group ("1 500 g" is not read as 500 g), then
# optional spaces and a unit that ends the word.
_QUANTITY_RE = re.compile(
    rf"(?<![\d.,])(?<!\d )(\d+(?:[.,]\d+)?)\s*({_UNIT_ALTERNATION})(?![^\W_])",
    re.IGNORECASE,
)


_GLUED_ONLY_UNITS = frozenset({"in"})


def _clean_float(value: float) -> float:
    return float(f"{value:.12g}")


def convert(value: float | None, unit: str | None) -> tuple[float, str] | None:
    """``value`` in ``unit`` as (value in the base unit, base unit); None if unknown."""
    if value is None or not unit:
        return None
    entry = _UNITS.get(unit.strip().lower())
    if entry is None:
        return None
    mul, div, base = entry
    return _clean_float(float(value) * mul / div), base


def _iter_quantities(text: str | None):
    if not text:
        return
    if not isinstance(text, str):
        text = str(text)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    for match in _QUANTITY_RE.finditer(text):
        number, unit = match.group(1, 2)
        unit = unit.lower()
        # "in" only when glued to the number: "40in", not "2 in 1".
        if unit in _GLUED_ONLY_UNITS and match.end(1) != match.start(2):
            continue
        mul, div, base = _UNITS[unit]
        yield _clean_float(float(number.replace(",", ".")) * mul / div), base


def quantities(text: str | None) -> tuple[tuple[float, str], ...]:
    """Every number with a known unit in ``text``, converted, in order of appearance."""
    return tuple(_iter_quantities(text))


def quantity(text: str | None) -> tuple[float, str] | None:
    """The first number with a known unit in ``text``, converted; None when there is none."""
    return next(_iter_quantities(text), None)


del _base, _entries, _unit, _mul, _div, _canonical, _variants, _variant


# --------------------------------------------------------------------------------------
# product titles: title_words / product_variant
# --------------------------------------------------------------------------------------

# Words that say nothing about which product a title names.
_TITLE_STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "or",
        "the",
        "for",
        "with",
        "w",
        "of",
        "in",
        "on",
        "to",
        "by",
        "from",
        "at",
        "as",
        "is",
        "new",
        "r",
        "tm",
    ]
)


def title_words(text: str | None) -> tuple[str, ...]:
    """The distinct words of a product title (:func:`ascii_key`) in order, without
    filler words ("the", "for", "with", the "r" of "(R)", ...)."""
    if not text:
        return ()
    words: dict[str, None] = {}
    for word in ascii_key(text).split():
        if word not in _TITLE_STOP_WORDS:
            words.setdefault(word, None)
    return tuple(words)


class ProductVariant(NamedTuple):
    """What tells versions and editions of one product apart, read from a title.

    ``versions``: version numbers and years ("6.0" → "6", "v9" → "9", "2007", "cs3");
    ``editions``: edition tiers ("pro" → "professional", "std" → "standard");
    ``licences``: licence kinds ("upgrade", "academic", "oem");
    ``platforms``: "mac" or "windows" (empty when the title names both or none);
    ``colours``: colour and finish words ("grey" → "gray", "stainless" → "steel");
    ``languages``: languages a product is in or teaches ("French", "Español").
    """

    versions: frozenset[str]
    editions: frozenset[str]
    licences: frozenset[str]
    platforms: frozenset[str]
    colours: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(
            self.versions
            or self.editions
            or self.licences
            or self.platforms
            or self.colours
            or self.languages
        )


_EDITION_WORDS = {
    "standard": "standard", "std": "standard",
    "professional": "professional", "pro": "professional",
    "premium": "premium", "premier": "premier", "deluxe": "deluxe", "dlx": "deluxe",
    "basic": "basic", "home": "home", "personal": "personal", "business": "business",
    "enterprise": "enterprise", "ultimate": "ultimate", "express": "express",
    "extended": "extended", "elite": "elite", "lite": "lite", "platinum": "platinum",
    "starter": "starter", "advanced": "advanced", "server": "server",
    "desktop": "desktop", "workstation": "workstation",
    "collector": "collector", "collectors": "collector",
}  # fmt: skip
_LANGUAGE_WORDS = {
    "english": "en", "french": "fr", "francais": "fr", "german": "de", "deutsch": "de",
    "spanish": "es", "espanol": "es", "italian": "it", "italiano": "it",
    "portuguese": "pt", "dutch": "nl", "russian": "ru", "japanese": "ja",
    "chinese": "zh", "mandarin": "zh", "korean": "ko", "arabic": "ar", "hebrew": "he",
    "greek": "el", "polish": "pl", "swedish": "sv", "latin": "la", "hindi": "hi",
}  # fmt: skip
_LICENCE_WORDS = {
    "upgrade": "upgrade", "upg": "upgrade", "upsell": "upgrade",
    "academic": "academic", "education": "academic", "educational": "academic",
    "edu": "academic", "student": "academic", "teacher": "academic",
    "oem": "oem", "trial": "trial",
}  # fmt: skip
_PLATFORM_WORDS = {
    "mac": "mac", "macintosh": "mac", "osx": "mac",
    "win": "windows", "windows": "windows", "pc": "windows",
}  # fmt: skip
_COLOUR_WORDS = {
    "black": "black", "white": "white", "silver": "silver", "red": "red", "blue": "blue",
    "pink": "pink", "green": "green", "gold": "gold", "grey": "gray", "gray": "gray",
    "brown": "brown", "purple": "purple", "violet": "purple", "orange": "orange",
    "yellow": "yellow", "beige": "beige", "ivory": "ivory", "bisque": "bisque",
    "titanium": "titanium", "graphite": "graphite", "chrome": "chrome",
    "stainless": "steel", "platinum": "platinum", "bronze": "bronze", "plum": "plum",
    "champagne": "champagne", "burgundy": "burgundy", "navy": "navy", "teal": "teal",
}  # fmt: skip
# After these, numbers belong to a platform ("win 98", "mac os 10.4"), not the product.
_PLATFORM_CONTEXT = frozenset({"win", "windows", "os", "osx", "xp", "me", "vista", "nt"})
# Numbers followed by these count things ("3 user", "5 pack") rather than versions.
_COUNT_WORDS = frozenset(
    [
        "user",
        "users",
        "u",
        "seat",
        "seats",
        "license",
        "licenses",
        "licence",
        "licences",
        "pack",
        "pk",
        "pc",
        "pcs",
        "cd",
        "cds",
        "disc",
        "discs",
        "disk",
        "disks",
        "dvd",
        "computers",
        "copies",
    ]
)
# Numbers followed by these are sizes and amounts ("24' dishwasher", "4.2 cu. ft.",
# "14.7 megapixel", "2.1 channel"), which listings of one product round, convert or
# leave out: they are not versions. (Written in one piece, "8gb" is no version either.)
_MEASURE_WORDS = frozenset(
    [
        "inch", "inches", "ft", "feet", "foot", "cu", "cf", "cubic", "sq", "mm", "cm", "meter",
        "meters", "metre", "metres", "km", "megapixel", "megapixels", "mp", "mpix", "pixel",
        "pixels", "watt", "watts", "kw", "volt", "volts", "amp", "amps", "mah", "ohm", "ohms",
        "db", "hz", "khz", "mhz", "ghz", "kb", "mb", "gb", "tb", "bit", "bits", "lb", "lbs",
        "pound", "pounds", "oz", "ounce", "ounces", "qt", "quart", "quarts", "gallon",
        "gallons", "liter", "liters", "litre", "litres", "ml", "cup", "cups", "cycle",
        "cycles", "channel", "channels", "speed", "speeds", "shelf", "shelves", "door",
        "doors", "burner", "burners", "slice", "slices", "slot", "slots", "bay", "bays",
        "port", "ports", "piece", "pieces", "hour", "hours", "hr", "hrs", "minute", "minutes",
        "sec", "seconds", "zoom", "degree", "degrees",
    ]
)  # fmt: skip
# A number written with an inch or foot mark ("24'", '15"'; typographic marks and
# primes are ASCII by then), before the split drops it.
_MEASURE_MARK = re.compile(r"(?<![a-z0-9.])\d+(?:\.\d+)?\s*['\"]")
_VERSION_TOKEN = re.compile(r"(?:v\.?)?(\d{1,4}(?:\.\d{1,3})*)")
_SERIES_TOKEN = re.compile(r"[a-z]{1,3}\d{1,2}")
_VARIANT_SPLIT = re.compile(r"[^a-z0-9.]+")


def _version_number(token: str) -> str:
    if len(token) == 2 and token[0] == "0":
        return "20" + token  # a year written short ("QuickBooks 07")
    parts = token.split(".")
    while len(parts) > 1 and parts[-1].strip("0") == "":
        parts.pop()
    return ".".join(part.lstrip("0") or "0" for part in parts)


def _measure(word: str) -> bool:
    """A unit of size or amount: "ft", "cu.ft" (the first part counts), "megapixel"."""
    return word.split(".", 1)[0] in _MEASURE_WORDS


@lru_cache(maxsize=1 << 14)
def _product_variant(text: str) -> ProductVariant:
    lowered = unidecode(text).lower() if not text.isascii() else text.lower()
    lowered = _MEASURE_MARK.sub(" ", lowered)
    words = [w.strip(".") for w in _VARIANT_SPLIT.split(lowered)]
    words = [w for w in words if w]
    versions: set[str] = set()
    editions: set[str] = set()
    licences: set[str] = set()
    platforms: set[str] = set()
    colours: set[str] = set()
    languages: set[str] = set()
    platform_context = False
    for position, word in enumerate(words):
        following = words[position + 1] if position + 1 < len(words) else ""
        if word in _EDITION_WORDS:
            editions.add(_EDITION_WORDS[word])
        if word in _LICENCE_WORDS:
            licences.add(_LICENCE_WORDS[word])
        if word in _PLATFORM_WORDS:
            platforms.add(_PLATFORM_WORDS[word])
        if word in _COLOUR_WORDS:
            colours.add(_COLOUR_WORDS[word])
        if word in _LANGUAGE_WORDS:
            languages.add(_LANGUAGE_WORDS[word])
        if word in _PLATFORM_CONTEXT or word in _PLATFORM_WORDS:
            platform_context = True
            continue
        match = _VERSION_TOKEN.fullmatch(word)
        if match:
            if platform_context or following in _COUNT_WORDS or _measure(following):
                continue
            versions.add(_version_number(match.group(1)))
            continue
        platform_context = False
        if _SERIES_TOKEN.fullmatch(word) and following not in _COUNT_WORDS:
            versions.add(word)
    if len(platforms) > 1:
        platforms.clear()
    return ProductVariant(
        frozenset(versions),
        frozenset(editions),
        frozenset(licences),
        frozenset(platforms),
        frozenset(colours),
        frozenset(languages),
    )


def product_variant(text: str | None) -> ProductVariant:
    """Version numbers, edition tiers, licence kinds and platform named in a product
    title: "Photoshop CS3 Extended Upgrade [Mac]" gives versions {"cs3"}, editions
    {"extended"}, licences {"upgrade"}, platforms {"mac"}; "Sony Cyber-shot - Black"
    gives colours {"black"}. Numbers that count things
    ("3 user", "5-pack") or follow a platform ("Win 98", "Mac OS 10.4") are not
    versions; a number with 5 or more digits is a code, not a version."""
    if not text:
        return ProductVariant(frozenset(), frozenset(), frozenset(), frozenset(), frozenset())
    if not isinstance(text, str):
        text = str(text)
    return _product_variant(text)
