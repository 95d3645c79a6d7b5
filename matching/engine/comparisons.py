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
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jellyfish
import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import JaroWinkler, Levenshtein

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
        return np.fromiter(
            (self.level(a, b) for a, b in zip(pairs_a, pairs_b, strict=True)),
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
