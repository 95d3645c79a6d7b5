"""Comparisons: how alike two records are on one aspect, as an ordered level.

Each comparison turns a record's canonical values into a *feature* once
(:meth:`Comparison.prepare`, normalised and ready to compare), and compares two
features into a level index (:meth:`Comparison.level`). Level 0 is always "null"
(a value is missing on either side: no evidence either way); the last level is
"else" (they differ). The levels in between run from the strongest agreement to the
weakest, each with plain words for explanations. Scoring (``scoring``) gives each
level a weight; this module only says which level a pair is on.

Comparisons that rely on string similarity also score many pairs at once
(:meth:`Comparison.levels`), with ``rapidfuzz.process.cpdist`` where it helps.
"""

from __future__ import annotations

import datetime
import math
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jellyfish
import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA, JaroWinkler, Levenshtein

from . import normalize as n

SCORERS: dict[str, Callable[..., float]] = {
    # All normalised to 0..1.
    "jaro_winkler": JaroWinkler.normalized_similarity,
    "levenshtein": Levenshtein.normalized_similarity,
    "token_set": lambda a, b, **kw: fuzz.token_set_ratio(a, b, **kw) / 100,
    "token_sort": lambda a, b, **kw: fuzz.token_sort_ratio(a, b, **kw) / 100,
    "partial": lambda a, b, **kw: fuzz.partial_ratio(a, b, **kw) / 100,
}
_CDIST_SCORERS: dict[str, Any] = {
    "jaro_winkler": JaroWinkler.normalized_similarity,
    "levenshtein": Levenshtein.normalized_similarity,
    "token_set": fuzz.token_set_ratio,
    "token_sort": fuzz.token_sort_ratio,
    "partial": fuzz.partial_ratio,
}
_PERCENT = {"token_set", "token_sort", "partial"}


@dataclass(frozen=True)
class Level:
    name: str
    description: str  # plain words for explanations: "same e-mail address"


NULL = Level("null", "missing on one side: no evidence")


class Comparison(ABC):
    """Base class. Subclasses set ``levels`` and implement ``prepare`` and
    ``compare`` (two present features → level index ≥ 1)."""

    name: str
    attributes: tuple[str, ...]
    levels: tuple[Level, ...]

    @abstractmethod
    def prepare(self, values: Mapping[str, Any]) -> Any:
        """The feature of a record (None when the values needed are missing)."""

    @abstractmethod
    def compare(self, a: Any, b: Any) -> int:
        """The level of two present features."""

    def level(self, a: Any, b: Any) -> int:
        if a is None or b is None:
            return 0
        return self.compare(a, b)

    def levels_of(self, pairs_a: Sequence[Any], pairs_b: Sequence[Any]) -> np.ndarray:
        """Level of each pair (``pairs_a[i]``, ``pairs_b[i]``)."""
        compare = self.compare  # ``level`` inlined: this runs for every candidate pair
        return np.fromiter(
            (
                0 if a is None or b is None else compare(a, b)
                for a, b in zip(pairs_a, pairs_b, strict=True)
            ),
            dtype=np.int8,
            count=len(pairs_a),
        )

    @property
    def else_level(self) -> int:
        return len(self.levels) - 1

    def describe(self, level: int) -> str:
        return self.levels[level].description

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


def _first(values: Mapping[str, Any], attribute: str) -> str:
    value = values.get(attribute)
    if isinstance(value, list):
        value = value[0] if value else None
    if value in (None, ""):
        return ""
    return str(value)


class Exact(Comparison):
    """Same normalised value, or not (identifiers, e-mail, phone)."""

    def __init__(self, attribute: str, *, key: Callable[[str], str] = n.fold, label: str = ""):
        self.name = attribute
        self.attributes = (attribute,)
        self.key = key
        label = label or attribute.replace("_", " ")
        self.levels = (NULL, Level("exact", f"same {label}"), Level("else", f"different {label}"))

    def prepare(self, values):
        values_of = values.get(self.name)
        items = values_of if isinstance(values_of, list) else [values_of]
        keys = frozenset(k for k in (self.key(str(v)) for v in items if v not in (None, "")) if k)
        return keys or None

    def compare(self, a, b):
        return 1 if a & b else 2


class Text(Comparison):
    """Graded string similarity: exact → ≥ each threshold (descending) → else, with
    an optional phonetic level (same Metaphone code) before "else"."""

    def __init__(
        self,
        attribute: str,
        *,
        key: Callable[[str], str] = n.ascii_key,
        scorer: str = "jaro_winkler",
        thresholds: Sequence[float] = (0.95, 0.88),
        phonetic: bool = False,
        label: str = "",
    ):
        self.name = attribute
        self.attributes = (attribute,)
        self.key = key
        self.scorer = scorer
        self.thresholds = tuple(thresholds)
        self.phonetic = phonetic
        label = label or attribute.replace("_", " ")
        levels = [NULL, Level("exact", f"same {label}")]
        for threshold in self.thresholds:
            levels.append(
                Level(f"{scorer}>={threshold}", f"{label} {_similar_words(threshold)} ({scorer})")
            )
        if phonetic:
            levels.append(Level("phonetic", f"{label} sounds the same"))
        levels.append(Level("else", f"different {label}"))
        self.levels = tuple(levels)

    def prepare(self, values):
        key = self.key(_first(values, self.name))
        if not key:
            return None
        return (key, _metaphone(key) if self.phonetic else "")

    def compare(self, a, b):
        if a[0] == b[0]:
            return 1
        return self._graded(SCORERS[self.scorer](a[0], b[0]), a, b)

    def _graded(self, similarity: float, a, b) -> int:
        for offset, threshold in enumerate(self.thresholds):
            if similarity >= threshold:
                return 2 + offset
        if self.phonetic and a[1] and a[1] == b[1]:
            return 2 + len(self.thresholds)
        return self.else_level

    def levels_of(self, pairs_a, pairs_b):
        result = np.zeros(len(pairs_a), dtype=np.int8)
        present = [i for i, (a, b) in enumerate(zip(pairs_a, pairs_b, strict=True)) if a and b]
        if not present:
            return result
        left = [pairs_a[i][0] for i in present]
        right = [pairs_b[i][0] for i in present]
        # float64, as the one-pair scorers return: float32 would put 0.9 below 0.9.
        similarity = process.cpdist(
            left, right, scorer=_CDIST_SCORERS[self.scorer], dtype=np.float64
        )
        if self.scorer in _PERCENT:
            similarity = similarity / 100
        for position, i in enumerate(present):
            a, b = pairs_a[i], pairs_b[i]
            result[i] = 1 if a[0] == b[0] else self._graded(float(similarity[position]), a, b)
        return result


class Maker(Text):
    """The maker of a product, also when only one record names it in a field of its
    own and the other puts it in its title ("Strategy First Inc. Great Invasions"
    against "Great Invasions", made by Strategy First): a level of its own, between
    a similar maker and a different one. Without a maker on either side there is
    nothing to compare."""

    def __init__(self, attribute: str = "manufacturer", title: str = "name", *, label: str = ""):
        super().__init__(attribute, key=_maker_key, label=label)
        self.title = title
        self.attributes = (attribute, title)
        label = label or attribute.replace("_", " ")
        *graded, different = self.levels
        self.levels = (
            *graded,
            Level("in_title", f"one record names no {label}, the other's appears in its title"),
            different,
        )

    def prepare(self, values):
        key = _maker_key(_first(values, self.name))
        words = frozenset(n.title_words(_first(values, self.title)[:600]))
        if not key and not words:
            return None
        # The maker's first word is its name ("Aspyr" of "Aspyr Media").
        first = key.split()[0] if key else ""
        return (key, "", frozenset((first,)) if len(first) >= 3 else frozenset(), words)

    def compare(self, a, b):
        if a[0] and b[0]:
            return super().compare(a, b)
        # One maker at most: is it named in the other record's title?
        named, title = (a[2], b[3]) if a[0] else (b[2], a[3])
        if named and named <= title:
            return self.else_level - 1
        return 0

    def levels_of(self, pairs_a, pairs_b):
        # One pair at a time: most pairs have one maker at most, not two to score.
        return Comparison.levels_of(self, pairs_a, pairs_b)


def _maker_key(text: str) -> str:
    return " ".join(n.title_words(n.company_name(text).core))


class PersonName(Comparison):
    """Given and family name together, so that swapped names, nicknames ("Bill" for
    "William") and typos are each recognised for what they are."""

    def __init__(self, given: str = "first_name", family: str = "last_name"):
        self.name = "name"
        self.given, self.family = given, family
        self.attributes = (given, family)
        self.levels = (
            NULL,
            Level("exact", "same given and family name"),
            Level("nickname_or_swap", "same names as a nickname or in swapped order"),
            Level("typo", "names differ by a typo or two"),
            Level("family_same", "same family name, given name only similar or an initial"),
            Level("phonetic", "names sound alike"),
            Level("else", "different names"),
        )

    def prepare(self, values):
        given = n.ascii_key(_first(values, self.given))
        family = n.ascii_key(_first(values, self.family))
        if not given and not family:
            return None
        canonical = " ".join(n.given_name_key(word) for word in given.split())
        return (given, family, canonical, _metaphone(f"{given} {family}"))

    def compare(self, a, b):
        given_a, family_a, canonical_a, sound_a = a
        given_b, family_b, canonical_b, sound_b = b
        if given_a == given_b and family_a == family_b:
            return 1
        if (canonical_a == canonical_b and family_a == family_b) or (
            given_a == family_b and family_a == given_b and given_a
        ):
            return 2
        full_a, full_b = f"{canonical_a} {family_a}", f"{canonical_b} {family_b}"
        similarity = JaroWinkler.normalized_similarity(full_a, full_b)
        if similarity >= 0.93 and Levenshtein.distance(full_a, full_b) <= 2:
            return 3
        if (
            family_a
            and family_a == family_b
            and given_a
            and given_b
            and (
                (given_a[0] == given_b[0] and min(len(given_a), len(given_b)) == 1)
                or JaroWinkler.normalized_similarity(canonical_a, canonical_b) >= 0.85
            )
        ):
            return 4
        if sound_a and sound_a == sound_b:
            return 5
        return 6


class CompanyName(Comparison):
    """Organisation names with legal forms removed ("Acme GmbH" = "ACME"), in the
    original script (Chinese compared as written) and transliterated."""

    def __init__(self, attribute: str, *, label: str = "company name"):
        self.name = attribute
        self.attributes = (attribute,)
        self.levels = (
            NULL,
            Level("exact", f"same {label} apart from the legal form"),
            Level("token_set>=0.95", f"same words in the {label}, order or spacing aside"),
            Level("fuzzy>=0.90", f"{label} differs by a typo"),
            Level("contained", f"one {label} contains the other"),
            Level("fuzzy>=0.80", f"{label} similar"),
            Level("else", f"different {label}"),
        )

    def prepare(self, values):
        parsed = n.company_name(_first(values, self.name))
        if not parsed.core:
            return None
        compact = parsed.core.replace(" ", "")
        return (compact, n.ascii_key(parsed.core), parsed.legal_form)

    def compare(self, a, b):
        if a[0] == b[0]:
            return 1
        ascii_a, ascii_b = a[1], b[1]
        if fuzz.token_set_ratio(ascii_a, ascii_b) >= 95 and _same_tokens(ascii_a, ascii_b):
            return 2
        similarity = JaroWinkler.normalized_similarity(a[0], b[0])
        if similarity >= 0.9 and Levenshtein.distance(a[0], b[0]) <= 2:
            return 3
        shorter, longer = sorted((a[0], b[0]), key=len)
        if len(shorter) >= 4 and shorter in longer:
            return 4
        if similarity >= 0.8 and fuzz.token_sort_ratio(ascii_a, ascii_b) >= 80:
            return 5
        return 6


def _same_tokens(a: str, b: str) -> bool:
    return set(a.split()) == set(b.split())


class Date(Comparison):
    """ISO dates, tolerant of day/month swaps and single-digit typos."""

    def __init__(self, attribute: str, *, label: str = ""):
        self.name = attribute
        self.attributes = (attribute,)
        label = label or attribute.replace("_", " ")
        self.levels = (
            NULL,
            Level("exact", f"same {label}"),
            Level("swapped", f"{label} with day and month swapped"),
            Level("typo", f"{label} differs in one digit"),
            Level("year", f"{label} in the same year only"),
            Level("else", f"different {label}"),
        )

    def prepare(self, values):
        text = _first(values, self.name)[:10]
        try:
            datetime.date.fromisoformat(text)
        except ValueError:
            return None
        return text

    def compare(self, a, b):
        if a == b:
            return 1
        year_a, month_a, day_a = a.split("-")
        year_b, month_b, day_b = b.split("-")
        if year_a == year_b and month_a == day_b and day_a == month_b:
            return 2
        if Levenshtein.distance(a, b) <= 1 or _transposed(a, b):
            return 3
        if year_a == year_b:
            return 4
        return 5


def _transposed(a: str, b: str) -> bool:
    """One swap of two neighbouring characters."""
    if len(a) != len(b):
        return False
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]


class Numeric(Comparison):
    """Numbers close in relative terms (weights, prices)."""

    def __init__(self, attribute: str, *, tolerances: Sequence[float] = (0.01, 0.1), label=""):
        self.name = attribute
        self.attributes = (attribute,)
        self.tolerances = tuple(tolerances)
        label = label or attribute.replace("_", " ")
        levels = [NULL, Level("exact", f"same {label}")]
        for tolerance in self.tolerances:
            levels.append(Level(f"within{tolerance:g}", f"{label} within {tolerance:.0%}"))
        levels.append(Level("else", f"different {label}"))
        self.levels = tuple(levels)

    def prepare(self, values):
        try:
            number = float(str(values.get(self.name, "")).replace(",", "."))
        except ValueError:
            return None
        return number if math.isfinite(number) else None

    def compare(self, a, b):
        if a == b:
            return 1
        scale = max(abs(a), abs(b))
        for offset, tolerance in enumerate(self.tolerances):
            if abs(a - b) <= tolerance * scale:
                return 2 + offset
        return self.else_level


class Price(Numeric):
    """Prices close in relative terms, in one currency: an amount with an optional
    ISO 4217 code ("69.71 GBP", as ``canonical.money`` writes it). Amounts in two
    different currencies are not compared (no exchange rate is assumed); an amount
    without a currency is compared with any. A price of zero or less is no price
    (listings write 0 for "not known")."""

    def prepare(self, values):
        amount, _, currency = _first(values, self.name).partition(" ")
        try:
            number = float(amount.replace(",", "."))
        except ValueError:
            return None
        if not math.isfinite(number) or number <= 0:
            return None
        return (number, currency.upper())

    def compare(self, a, b):
        if a[1] and b[1] and a[1] != b[1]:
            return 0
        return super().compare(a[0], b[0])


class Address(Comparison):
    """Street, house number, postal code and city as one piece of evidence (they are
    not independent of each other)."""

    def __init__(
        self,
        street: str = "address_line1",
        postal_code: str = "postal_code",
        city: str = "city",
        country: str = "country",
    ):
        self.name = "address"
        self.fields = (street, postal_code, city, country)
        self.attributes = self.fields
        self.levels = (
            NULL,
            Level("exact", "same street address and postal code"),
            Level("street_typo", "street address differs by a typo, same postal code or city"),
            Level("locality", "same postal code or city, another street"),
            Level("else", "different places"),
        )

    def prepare(self, values):
        street_field, postal_field, city_field, country_field = self.fields
        street = n.street(_first(values, street_field))
        postal = n.part_number(_first(values, postal_field))
        city = n.ascii_key(_first(values, city_field))
        if not street and not postal and not city:
            return None
        return (street, postal, city, _first(values, country_field).upper())

    def compare(self, a, b):
        street_a, postal_a, city_a, country_a = a
        street_b, postal_b, city_b, country_b = b
        if country_a and country_b and country_a != country_b:
            return 4
        same_postal = bool(postal_a) and postal_a == postal_b
        same_city = bool(city_a) and (
            city_a == city_b or JaroWinkler.normalized_similarity(city_a, city_b) >= 0.93
        )
        if street_a and street_a == street_b and (same_postal or same_city or not postal_a):
            return 1
        if (
            street_a
            and street_b
            and (same_postal or same_city)
            and fuzz.token_sort_ratio(street_a, street_b) >= 88
            and _same_numbers(street_a, street_b)
        ):
            return 2
        if same_postal or (same_city and not (postal_a and postal_b)):
            return 3
        return 4


def _same_numbers(a: str, b: str) -> bool:
    def numbers(text):
        return [token for token in text.split() if any(c.isdigit() for c in token)]

    return numbers(a) == numbers(b)


class ModelCodes(Comparison):
    """Model and part numbers found in any of ``attributes`` (titles, descriptions,
    part-number fields): sharing one is strong evidence, having different ones is
    strong evidence against."""

    def __init__(self, attributes: Sequence[str], *, label: str = "model number"):
        self.name = "model_codes"
        self.attributes = tuple(attributes)
        self.levels = (
            NULL,
            Level("shared_long", f"same {label} (6+ characters)"),
            Level("shared", f"same {label}"),
            Level("near", f"{label}s differ in one character"),
            Level("else", f"different {label}s"),
        )

    def prepare(self, values):
        codes: dict[str, None] = {}
        for attribute in self.attributes:
            text = _first(values, attribute)
            if not text:
                continue
            if attribute.endswith(("part_number", "model", "sku", "mpn")):
                code = n.part_number(text)
                if len(code) >= 3:
                    codes[code] = None
            for code in n.model_codes(text):
                codes[code] = None
        return frozenset(codes) or None

    def compare(self, a, b):
        shared = a & b
        if shared:
            return 1 if max(len(code) for code in shared) >= 6 else 2
        for code_a in a:
            for code_b in b:
                if len(code_a) >= 5 and Levenshtein.distance(code_a, code_b) <= 1:
                    return 3
                if len(code_a) >= 5 and len(code_b) >= 5 and (code_a in code_b or code_b in code_a):
                    return 3
        return 4


class Words(Text):
    """Free text (product titles, descriptions) by shared words: token-set
    similarity on transliterated, normalised text (long texts cut to ``max_length``)."""

    def __init__(
        self,
        attribute: str,
        *,
        thresholds: Sequence[float] = (0.9, 0.75, 0.6),
        label: str = "",
        max_length: int = 300,
    ):
        def key(text: str) -> str:
            return n.ascii_key(text[: max_length * 2])[:max_length]

        super().__init__(attribute, key=key, scorer="token_set", thresholds=thresholds, label=label)


def _similar_words(threshold: float) -> str:
    if threshold >= 0.95:
        return "nearly identical"
    if threshold >= 0.85:
        return "very similar"
    if threshold >= 0.7:
        return "similar"
    return "somewhat similar"


def _metaphone(text: str) -> str:
    words = [word for word in text.split() if word.isascii() and word.isalpha()]
    return " ".join(jellyfish.metaphone(word) for word in words)


# Platforms a listing names or leaves out at will ("win 98 me 2000 xp", the "rom" of "cd-rom",
# "jewel case"): they hardly tell products apart (``Variant`` compares platforms on
# their own). "DVD", "CD" and "case" stay full words: in electronics they name the
# product ("DVD player", "laptop case").
_PLATFORM_WORDS = frozenset(
    {"win", "windows", "xp", "vista", "mac", "macintosh", "osx", "os", "pc", "nt", "me"}
    | {"95", "98", "2000", "linux", "rom", "cdrom", "dvdrom", "jewel"}
)


_LEGAL_FORM_WORDS = frozenset({"inc", "corp", "corporation", "ltd", "limited", "llc", "co", "gmbh"})


def _title_word_weight(word: str) -> float:
    """How telling a title word is, without corpus statistics: words with digits
    (model numbers, versions) count double, long words half again, one- and
    two-letter words half."""
    if word in _PLATFORM_WORDS:
        return 0.25
    weight = 1.0
    if any(c.isdigit() for c in word):
        weight += 1.0
    if len(word) >= 6:
        weight += 0.5
    elif len(word) <= 2:
        weight -= 0.5
    return weight


class TitleWords(Comparison):
    """Product titles by their shared words, each word weighted by how telling it is
    (words with digits and long words weigh more, see ``_title_word_weight``).
    Two measures: the weighted Dice overlap (shared weight against both titles'
    weight) and the containment (shared weight against the shorter title's weight),
    which forgives one title listing more details than the other.

    With ``brand`` (the maker's attribute), words of one title that only name the
    other record's maker ("Phantom EFX Reel Deal Slots" against "Reel Deal Slots"
    made by Phantom EFX) are left out of that pair's comparison: one listing puts
    the brand in its title, the other in a field of its own."""

    def __init__(self, attribute: str = "name", *, label: str = "title", brand: str = ""):
        self.name = attribute
        self.brand = brand
        self.attributes = (attribute, brand) if brand else (attribute,)
        self.levels = (
            NULL,
            Level("exact", f"same words in the {label}"),
            Level("dice>=0.8", f"{label}s share nearly all their words"),
            Level(
                "dice>=0.6,contained>=0.8", f"{label}s share most words, one nearly in the other"
            ),
            Level("contained>=0.8", f"one {label}'s words nearly all appear in the other"),
            Level("dice>=0.5", f"{label}s share about half their words"),
            Level("contained>=0.5", f"half of one {label}'s words appear in the other"),
            Level("else", f"{label}s share few words"),
        )

    def prepare(self, values):
        words = n.title_words(_first(values, self.name)[:600])
        if not words:
            return None
        weights = {word: _title_word_weight(word) for word in words}
        brand = frozenset()
        if self.brand:
            brand = frozenset(n.title_words(n.company_name(_first(values, self.brand)).core))
            if brand:
                # A title naming the maker often adds its legal form ("Encore Inc").
                brand |= _LEGAL_FORM_WORDS
        return (frozenset(words), weights, sum(weights.values()), brand)

    def compare(self, a, b):
        words_a, weights_a, total_a, brand_a = a
        words_b, weights_b, total_b, brand_b = b
        if words_a == words_b:
            return 1
        if brand_a or brand_b:
            # Words naming the other record's maker, absent from the other title.
            total_a -= sum(weights_a[word] for word in (words_a - words_b) & brand_b)
            total_b -= sum(weights_b[word] for word in (words_b - words_a) & brand_a)
            if total_a <= 0 or total_b <= 0:
                return 7
        shared = sum(weights_a[word] for word in words_a & words_b)
        dice = 2 * shared / (total_a + total_b)
        contained = shared / min(total_a, total_b)
        if dice >= 0.8:
            return 2
        if dice >= 0.6 and contained >= 0.8:
            return 3
        if contained >= 0.8:
            return 4
        if dice >= 0.5:
            return 5
        if contained >= 0.5:
            return 6
        return 7


def _digit_runs(code: str) -> set[str]:
    runs, current = set(), ""
    for char in code + " ":
        if char.isdigit():
            current += char
        else:
            if len(current) >= 4:
                runs.add(current)
            current = ""
    return runs


# A count glued to a word ("24-Port", "2-Line", "400-Watt", "3-Inch"): a feature, not
# a model. The letters must read as a word (a vowel, no four consonants in a row),
# so "9410-TUNBMBLB" stays a code.
_COUNTED_WORD = re.compile(r"\d{1,4}(?=[A-Z]*[AEIOUY])(?![A-Z]*[B-DF-HJ-NP-TV-XZ]{4})[A-Z]{3,}")


# Lens apertures ("f/4-5.6", "F3.5", "f22"): optics, not model numbers. Not the end
# of a code ("MRP-F300").
_APERTURE = re.compile(
    r"(?<![\w-])f/?\d{1,2}(?:\.\d+)?(?:-\d{1,2}(?:\.\d+)?)?(?![\w.])", re.IGNORECASE
)


# Release numbers ("r11.5") and terms ("w/1yr", "3-year"): versions and
# durations, not model numbers.
_RELEASE_OR_TERM = re.compile(
    r"\br\d+(?:\.\d+)+\b|\b(?:w/)?\d+[- ]?(?:yrs?|years?)\b", re.IGNORECASE
)

# Codes that are words of another kind: ordinal ranges ("4th-6th",
# "preschool-1st"), dimensions ("2D/3D"), platforms and interfaces ("Win32",
# "x64", "Win2000", "NT/2000/XP", "AS/400", "USB2.0", "MP3"), counts of discs ("2-DVD
# set").
_NOT_A_CODE = re.compile(
    r"(?:[A-Z]*\d{1,2}(?:ST|ND|RD|TH))+|(?:\dD)+|(?:WIN|X|IA)(?:32|64)"
    r"|(?:WIN|NT|XP|ME|VISTA|2000|2003|2K|95|98)+|AS400|USB\d+|MP\d|\d{1,2}(?:DVD|CD)S?"
)


def _product_codes(text: str) -> set[str]:
    codes = set()
    for code in n.model_codes(_RELEASE_OR_TERM.sub(" ", _APERTURE.sub(" ", text))):
        code = code.rstrip(":")
        if len(code) >= 4 and not _COUNTED_WORD.fullmatch(code) and not _NOT_A_CODE.fullmatch(code):
            codes.add(code)
    return codes


def _maximal(codes: set[str]) -> frozenset[str]:
    """Codes that no other code of the same title extends: "DSC-W150 ... DSCW150/B"
    names the variant DSCW150B, not merely DSCW150."""
    return frozenset(
        code for code in codes if not any(o != code and o.startswith(code) for o in codes)
    )


class ProductCodes(Comparison):
    """Model and part numbers, telling those in the titles (which name the product)
    from those only in descriptions (which also name compatible products,
    accessories and standards). A title's codes are compared in their fullest form
    (a code that another code of the same title extends is left out), so that
    "DVPFX820" against "DVPFX820/W" reads as a variant, not as the same code.
    Suffix variants and near-identical codes are levels of their own; codes whose
    digits differ name different models."""

    def __init__(
        self,
        title: str = "name",
        others: Sequence[str] = ("manufacturer_part_number", "description"),
        *,
        label: str = "model number",
    ):
        self.name = "product_codes"
        self.title = title
        self.others = tuple(others)
        self.attributes = (title, *self.others)
        self.levels = (
            NULL,
            Level("title_long", f"same {label} in both titles (6+ characters)"),
            Level("title", f"same {label} in both titles, or one title's {label} in the other's"),
            Level("suffix", f"{label}s in the titles agree, one with a suffix (colour, kit)"),
            Level("near", f"{label}s differ in one letter, or share a 4+ digit number"),
            Level("partly", f"one {label} shared, another {label} differs"),
            Level("text", f"a {label} shared only in the descriptions"),
            Level("one_sided", f"only one title has a {label}; none shared"),
            Level("else", f"different {label}s in the titles"),
        )

    def prepare(self, values):
        title_codes = _product_codes(_first(values, self.title))
        other_codes: set[str] = set()
        for attribute in self.others:
            text = _first(values, attribute)
            if not text:
                continue
            if attribute.endswith(("part_number", "model", "sku", "mpn")):
                code = n.part_number(text)
                if len(code) >= 4:
                    other_codes.add(code)
            other_codes |= _product_codes(text)
        if not title_codes and not other_codes:
            return None
        maximal = _maximal(title_codes)
        runs = set().union(*(_digit_runs(code) for code in maximal)) if maximal else set()
        # Everything the record names, but not the shortened forms of its title codes.
        named = maximal | (other_codes - title_codes)
        spelled = (
            frozenset(
                code
                for code in n.spelled_codes(_first(values, self.title))
                if not _NOT_A_CODE.fullmatch(code)
            )
            - title_codes
        )
        return (maximal, frozenset(title_codes), frozenset(named), runs, spelled)

    def compare(self, a, b):
        title_a, every_title_a, all_a, runs_a, spelled_a = a
        title_b, every_title_b, all_b, runs_b, spelled_b = b
        shared = title_a & title_b
        # One title's code spelled out in words in the other ("SD990IS", "SD990 IS").
        spelled = (title_a & spelled_b) or (title_b & spelled_a)
        if shared or spelled or (title_a & all_b) or (title_b & all_a):
            if _unexplained(title_a, all_b | spelled_b) and _unexplained(
                title_b, all_a | spelled_a
            ):
                return 5
            if shared and max(len(code) for code in shared) >= 6:
                return 1
            return 2
        if (
            _extends(title_a, title_b)
            or (every_title_a & every_title_b)
            or _extends(title_a, spelled_b)
            or _extends(spelled_a, title_b)
        ):
            return 3
        if runs_a & runs_b or _near_codes(title_a, title_b):
            return 4
        if all_a & all_b:
            return 6
        if not title_a or not title_b:
            return 7
        return 8


def _unexplained(title: frozenset[str], other: frozenset[str]) -> bool:
    """Whether the title has a model number of 6+ characters that the other record
    neither names nor extends (its own part number, say)."""
    return any(
        len(code) >= 6 and code not in other and not any(o.startswith(code) for o in other)
        for code in title
    )


def _extends(a: frozenset[str], b: frozenset[str]) -> bool:
    """One code is another plus a letter suffix ("FE360" and "FE360PNK")."""
    for code_a in a:
        for code_b in b:
            shorter, longer = (code_a, code_b) if len(code_a) < len(code_b) else (code_b, code_a)
            if (
                len(shorter) >= 4
                and longer.startswith(shorter)
                and longer[len(shorter) :].isalpha()
                and any(c.isdigit() for c in shorter)
            ):
                return True
    return False


def _near_codes(a: frozenset[str], b: frozenset[str]) -> bool:
    """Two codes of 5+ characters one edit apart with the same digits: a typo or a
    letter left out ("KXTG9332T" and "KXTG9332S"), whereas another digit
    ("KXTG4321B" and "KXTG4323B") is another model."""
    for code_a in a:
        for code_b in b:
            if (
                min(len(code_a), len(code_b)) >= 5
                and _digits(code_a) == _digits(code_b)
                and Levenshtein.distance(code_a, code_b) <= 1
            ):
                return True
    return False


def _digits(code: str) -> str:
    return "".join(c for c in code if c.isdigit())


def _versions_agree(a: frozenset[str], b: frozenset[str]) -> bool:
    """Whether two titles' versions name one release: a version in common, a series
    and its number ("cs3" and "3"), or a major version and a release of it ("5" and
    "5.1"; "2.5" and "2.6" do not agree)."""
    if a & b:
        return True
    numbers_a, numbers_b = _version_numbers(a), _version_numbers(b)
    if numbers_a & numbers_b:
        return True
    return bool(
        {n for n in numbers_a if "." not in n} & {n.split(".", 1)[0] for n in numbers_b}
        or {n for n in numbers_b if "." not in n} & {n.split(".", 1)[0] for n in numbers_a}
    )


def _version_numbers(versions: frozenset[str]) -> set[str]:
    """The numbers of ``versions``: series ("cs3", "ps3") give their digits."""
    return {version.lstrip("abcdefghijklmnopqrstuvwxyz") for version in versions}


class Variant(Comparison):
    """Versions and editions named in product titles (see
    :func:`normalize.product_variant`): look-alike products of one line differ
    exactly there ("2007" against "2008", "Standard" against "Professional",
    "Upgrade", "Mac" against "Windows")."""

    def __init__(self, attribute: str = "name", *, label: str = "title"):
        self.name = "variant"
        self.attributes = (attribute,)
        self.title = attribute
        self.levels = (
            NULL,
            Level("same_version", "same version number, nothing conflicting"),
            Level("consistent", "versions and editions do not conflict"),
            Level("licence_one_sided", "upgrade, academic or OEM licence named on one side only"),
            Level("colour_conflict", "different colours named"),
            Level(
                "edition_conflict",
                "different edition (e.g. standard and professional), platform or language",
            ),
            Level("version_conflict", "different version numbers or years"),
        )

    def prepare(self, values):
        title = _first(values, self.title)
        if not title:
            return None
        return n.product_variant(title[:600])

    def compare(self, a, b):
        if a.versions and b.versions and not _versions_agree(a.versions, b.versions):
            return 6
        if (
            # A title may name two tiers ("Pro Platinum", "upsell std-pro"): editions
            # conflict when neither title's are among the other's.
            (
                a.editions
                and b.editions
                and not (a.editions <= b.editions or b.editions <= a.editions)
            )
            or (a.platforms and b.platforms and a.platforms != b.platforms)
            or (a.languages and b.languages and not (a.languages & b.languages))
        ):
            return 5
        if a.colours and b.colours and not (a.colours & b.colours):
            return 4
        if a.licences != b.licences:
            return 3
        if a.versions and a.versions == b.versions:
            return 1
        return 2


# --------------------------------------------------------------------------------------
# Parties (customers, suppliers): persons, organizations, postal addresses, web domains
# --------------------------------------------------------------------------------------


def _is_cjk_text(text: str) -> bool:
    return any("\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff" for char in text)


def _canonical_given(word: str) -> str:
    canonical = n.given_name_key(word)
    if canonical == word:
        # "Juergen" is "Jürgen" written without the umlaut.
        canonical = n.given_name_key(n.name_key(word))
    return n.name_key(canonical)


def _close(a: str, b: str) -> bool:
    """One typing error apart (two in long words): a substitution, a lost or extra
    letter, or two neighbouring letters swapped."""
    if not a or not b:
        return False
    limit = 2 if min(len(a), len(b)) >= 8 else 1
    return OSA.distance(a, b, score_cutoff=limit) <= limit


class FullPersonName(Comparison):
    """A person's given and family names as one piece of evidence, robust to how
    source systems split and spell them: nicknames and foreign forms ("Bill" for
    "William", "Hans" for "Johannes"), umlauts written out ("Mueller"), names swapped or
    all in one field ("刘静" against given "静", family "刘", or pinyin "Jing LIU"), a
    dropped second surname ("García López" against "García") and single typos.

    Same family name with a clearly different given name has its own level: it is
    how relatives living together look (twins share the birth date too), and weighs
    against a match. A given name that may be a short form of the other ("Sandro" in
    "Alessandro", "Matze" and "Matthias") is kept apart from it.
    """

    def __init__(self, given: str = "first_name", family: str = "last_name"):
        self.name = "name"
        self.given, self.family = given, family
        self.attributes = (given, family)
        self.levels = (
            NULL,
            Level("exact", "same given and family name"),
            Level("variant", "same names as a nickname, swapped or split differently"),
            Level("typo", "names differ by a typo"),
            Level("initial", "same family name, given name an initial or missing"),
            Level("short_form", "same family name, one given name may be a short form"),
            Level("other_given", "same family name, another given name"),
            Level("else", "different names"),
        )

    def prepare(self, values):
        given_text, family_text = _first(values, self.given), _first(values, self.family)
        given, family = n.name_key(given_text), n.name_key(family_text)
        if not given and not family:
            return None
        canonical = " ".join(_canonical_given(word) for word in n.ascii_key(given_text).split())
        joined_canonical = canonical.replace(" ", "")
        joined_family = family.replace(" ", "")
        forms = frozenset(
            {joined_canonical + joined_family, joined_family + joined_canonical}
            | {
                "".join(sorted(f"{canonical} {family}".split())),
            }
        )
        return (given, family, canonical, forms)

    def compare(self, a, b):
        given_a, family_a, canonical_a, forms_a = a
        given_b, family_b, canonical_b, forms_b = b
        if given_a == given_b and family_a == family_b:
            return 1
        family = _family_relation(family_a, family_b)
        if (family == 2 and canonical_a == canonical_b) or forms_a & forms_b:
            return 2
        # Given and family name in each other's field ("García López, Elena").
        swapped = _family_relation(given_a, family_b) if family_a and given_b else 0
        if swapped == 2 and family_a == given_b:
            return 2
        given_close = _given_close(given_a, given_b, canonical_a, canonical_b)
        if family and given_close:
            return 3
        if swapped and (family_a == given_b or _close(family_a, given_b)):
            return 3
        if any(_close(x, y) for x in forms_a for y in forms_b):
            return 3
        if family:
            if not given_a or not given_b:
                return 4
            shorter, longer = sorted((given_a, given_b), key=len)
            if len(shorter) == 1 and longer.startswith(shorter):
                return 4
            if len(shorter) >= 3 and (shorter in longer or longer.startswith(shorter[:3])):
                return 5
            return 6
        return 7


def _given_close(given_a: str, given_b: str, canonical_a: str, canonical_b: str) -> bool:
    if not (given_a and given_b):
        return False
    return (
        canonical_a == canonical_b or _close(canonical_a, canonical_b) or _close(given_a, given_b)
    )


def _family_relation(a: str, b: str) -> int:
    """2: the same family name (or one is the first of the other's two surnames);
    1: one typo apart; 0: different or missing."""
    if not a or not b:
        return 0
    if a == b:
        return 2
    shorter, longer = sorted((a, b), key=len)
    if longer.startswith(shorter + " "):
        return 2
    return 1 if _close(a, b) else 0


# Legal forms that records of one company mix up: the same family, not a conflict.
_LEGAL_FORM_FAMILY = {
    "cn_ltd": "cn",
    "cn_co_ltd": "cn",
    "cn_co": "cn",
    "ltd": "ltd",
    "co_ltd": "ltd",
    "pty": "pty",
    "pty_ltd": "pty",
    "ab": "ab",
    "sa": "sa",
    "sau": "sa",
    "sl": "sl",
    "slu": "sl",
}
# Designations that are not a legal form proper: compatible with any form.
_NOT_A_LEGAL_FORM = frozenset({"", "co", "cn_group", "cn_holding", "cn_branch"})


def _legal_forms_conflict(a: str, b: str) -> bool:
    if a in _NOT_A_LEGAL_FORM or b in _NOT_A_LEGAL_FORM or a == b:
        return False
    return _LEGAL_FORM_FAMILY.get(a, a) != _LEGAL_FORM_FAMILY.get(b, b)


class OrganizationName(Comparison):
    """Organization names without their legal form, compared in the original script
    and transliterated. Chinese names are compared without a leading city ("北京华信科技"
    = "华信科技"; "华信科技（北京）" and "北京市华信科技" too). Two different legal forms
    of the same name ("Acme GmbH", "Acme KG") are two companies of one group more
    often than one company, so that has its own level, as has a name contained in the
    other ("Acme" and "Acme Logistics": a parent and its subsidiary, or a short name).
    """

    def __init__(self, attribute: str, *, label: str = "name"):
        self.name = attribute
        self.attributes = (attribute,)
        self.levels = (
            NULL,
            Level("exact", f"same {label} apart from the spelling of the legal form"),
            Level("variant", f"same words in the {label}, or only a city added"),
            Level("typo", f"{label} differs by a typo"),
            Level("other_legal_form", f"same {label} with another legal form"),
            Level("contained", f"one {label} contains the other"),
            Level("similar", f"{label} similar"),
            Level("else", f"different {label}"),
        )

    def prepare(self, values):
        parsed = n.company_name(_first(values, self.name))
        if not parsed.core:
            return None
        words = parsed.core.split()
        cjk = _is_cjk_text(parsed.core)
        if cjk:
            if len(words) > 1 and len(words[-1]) <= 3:
                # "华信科技（北京）": the city in brackets after the name.
                words = [words[-1], *words[:-1]]
            compact = _CITY_MARK.sub(r"\1", "".join(words))
            spaced = " ".join(compact)
            # One syllable per character: characters that sound alike agree.
            syllables = tuple(n.name_key(compact).split())
        else:
            spaced = n.name_key(parsed.core)
            compact = spaced.replace(" ", "")
            syllables = ()
        return (compact, spaced, parsed.legal_form, cjk, syllables)

    def compare(self, a, b):
        compact_a, spaced_a, form_a, cjk_a, syllables_a = a
        compact_b, spaced_b, form_b, cjk_b, syllables_b = b
        conflict = _legal_forms_conflict(form_a, form_b)
        if compact_a == compact_b:
            return 4 if conflict else 1
        shorter, longer = sorted((compact_a, compact_b), key=len)
        if set(spaced_a.split()) == set(spaced_b.split()) or (
            cjk_a and cjk_b and _place_added(syllables_a, syllables_b)
        ):
            return 4 if conflict else 2
        if (_close(compact_a, compact_b) and len(shorter) >= 5) or (
            cjk_a and cjk_b and _one_character_apart(syllables_a, syllables_b)
        ):
            return 4 if conflict else 3
        if cjk_a and cjk_b:
            contained = len(shorter) >= 4 and shorter in longer
        else:
            words_short, words_long = sorted((spaced_a.split(), spaced_b.split()), key=len)
            contained = len(shorter) >= 4 and _contains_words(words_long, words_short)
        if contained:
            return 5
        if (
            JaroWinkler.normalized_similarity(compact_a, compact_b) >= 0.9
            and fuzz.token_sort_ratio(spaced_a, spaced_b) >= 85
        ):
            return 6
        return 7


# A city name of two or three characters with 市 (city) at the start of a Chinese name.
_CITY_MARK = re.compile(r"^(\w{2,3}?)市")


def _place_added(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """One Chinese name is the other with up to three characters (a city) before it."""
    shorter, longer = sorted((a, b), key=len)
    extra = len(longer) - len(shorter)
    return len(shorter) >= 4 and 0 < extra <= 3 and longer[extra:] == shorter


def _one_character_apart(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    if min(len(a), len(b)) < 4:
        return False
    return a == b or Levenshtein.distance(a, b, score_cutoff=1) <= 1


def _contains_words(longer: list[str], shorter: list[str]) -> bool:
    size = len(shorter)
    return any(longer[i : i + size] == shorter for i in range(len(longer) - size + 1))


class StreetAddress(Address):
    """Street, house number, postal code and city as one piece of evidence, compared on
    what identifies a street: its name and numbers without the street type or
    particles ("C/ Alcalá 12" = "Calle de Alcalá, 12"), transliterated (Chinese lines,
    full-width digits), with cities compared across scripts ("北京市" = "Beijing")."""

    def __init__(
        self,
        street: str = "address_line1",
        postal_code: str = "postal_code",
        city: str = "city",
        country: str = "country",
    ):
        super().__init__(street, postal_code, city, country)
        self.levels = (
            NULL,
            Level("exact", "same street address"),
            Level("street_typo", "street address differs by a typo, same postal code or city"),
            Level("postal_code", "same postal code, another street"),
            Level("city", "same city, another street and postal code"),
            Level("else", "different places"),
        )

    def prepare(self, values):
        street_field, postal_field, city_field, country_field = self.fields
        street = n.street_core(_first(values, street_field))
        postal = n.part_number(_first(values, postal_field))
        city = n.place_key(_first(values, city_field))
        if not street and not postal and not city:
            return None
        numbers = tuple(word for word in street.split() if any(c.isdigit() for c in word))
        line = n.name_key(n.street(_first(values, street_field)))
        country = _first(values, country_field).upper()
        return (street, numbers, postal, city, country, line)

    def compare(self, a, b):
        street_a, numbers_a, postal_a, city_a, country_a, line_a = a
        street_b, numbers_b, postal_b, city_b, country_b, line_b = b
        if country_a and country_b and country_a != country_b:
            return 5
        same_postal = bool(postal_a) and postal_a == postal_b
        other_postal = bool(postal_a and postal_b) and not same_postal
        same_city = bool(city_a and city_b) and (
            city_a == city_b or JaroWinkler.normalized_similarity(city_a, city_b) >= 0.93
        )
        other_city = bool(city_a and city_b) and not same_city
        local = same_postal or (same_city and not other_postal)
        if street_a and street_b:
            if street_a == street_b and (local or not (other_postal or other_city)):
                return 1
            if (
                local
                and numbers_a == numbers_b
                and (
                    fuzz.token_sort_ratio(street_a, street_b) >= 80
                    or fuzz.token_sort_ratio(line_a, line_b) >= 88
                )
            ):
                return 2
        if same_postal:
            return 3
        if same_city:
            return 4
        return 5


class WebDomain(Comparison):
    """The organization's internet domain, from its website and e-mail addresses: the
    same domain is evidence of one organization (unless it is a mail provider's)."""

    def __init__(
        self,
        attributes: Sequence[str] = ("website", "email"),
        *,
        label: str = "web domain",
        when: Callable[[Mapping[str, Any]], bool] | None = None,
    ):
        self.name = "web_domain"
        self.attributes = tuple(attributes)
        #: Records the domain says something about (persons use mail providers' domains).
        self.when = when
        self.levels = (
            NULL,
            Level("exact", f"same {label}"),
            Level("else", f"different {label}"),
        )

    def prepare(self, values):
        if self.when is not None and not self.when(values):
            return None
        domains = set()
        for attribute in self.attributes:
            value = values.get(attribute)
            for item in value if isinstance(value, list) else [value]:
                domain = n.web_domain(str(item)) if item else ""
                if domain:
                    domains.add(domain)
        return frozenset(domains) or None

    def compare(self, a, b):
        return 1 if a & b else 2


class ProductTitle(Comparison):
    """Model numbers and title words as one piece of evidence. They are far from
    independent: two listings of one product often word their titles differently
    yet share the model number, while look-alikes of one product line share most
    words and differ only in the model number. Each level combines the
    :class:`ProductCodes` level with a band of :class:`TitleWords` similarity."""

    #: TitleWords level → band: 1 similar, 2 partly similar, 3 some words, 4 few words.
    _BANDS = (0, 1, 1, 1, 2, 2, 3, 4)

    def __init__(
        self,
        title: str = "name",
        others: Sequence[str] = ("manufacturer_part_number", "description"),
        *,
        label: str = "title",
        code_label: str = "model number",
        brand: str = "",
    ):
        self.name = "product_title"
        self.codes = ProductCodes(title, others, label=code_label)
        self.words = TitleWords(title, label=label, brand=brand)
        self.attributes = tuple(dict.fromkeys(self.codes.attributes + self.words.attributes))
        c, t = code_label, label
        self.levels = (
            NULL,
            Level("code+words", f"same {c} and similar {t}s"),
            Level("code", f"same {c}, {t}s partly similar"),
            Level("code_only", f"same {c}, {t}s worded differently"),
            Level("variant+words", f"{c}s agree apart from a suffix or letter, similar {t}s"),
            Level("words", f"similar {t}s, no {c} to compare"),
            Level("partly_words", f"{t}s partly similar, no {c} to compare"),
            Level("variant", f"{c}s agree apart from a suffix or letter, {t}s differ"),
            Level("some_words", f"{t}s share some words, no {c} to compare"),
            Level("other_code", f"similar {t}s but different {c}s"),
            Level("else", f"different {t}s"),
        )

    def prepare(self, values):
        words = self.words.prepare(values)
        if words is None:
            return None
        return (self.codes.prepare(values), words)

    def compare(self, a, b):
        code = self.codes.level(a[0], b[0])
        band = self._BANDS[self.words.compare(a[1], b[1])]
        if code in (1, 2):
            return 1 if band == 1 else 2 if band in (2, 3) else 3
        if code in (3, 4, 5):
            return 4 if band in (1, 2) else 7
        if code == 8:
            return 9 if band in (1, 2) else 10
        # No model number on both sides to compare (or only in the descriptions).
        return {1: 5, 2: 6, 3: 8}.get(band, 10)
