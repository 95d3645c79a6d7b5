"""Blocking: which pairs are worth comparing at all.

Each rule turns a record's canonical values into zero or more blocking keys; two
records are candidates when they share a key under some rule (the union of the
rules). The same keys are persisted in an indexed table for incremental matching,
so a new record finds its candidates among millions without a scan.

Blocks larger than ``max_block`` (a very common surname in one city, say) are not
expanded into all their pairs: each record is compared with its ``window``
neighbours in a stable order inside the block instead, which keeps the cost near
linear in the number of records. :class:`BlockingReport` says how often that
happened, how many pairs were compared and, with labels, what share of the true
pairs the candidates contain (the recall ceiling of everything after blocking).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from . import normalize as n

MAX_KEY_LENGTH = 120


@dataclass(frozen=True)
class BlockingRule:
    name: str
    keys: Callable[[Mapping[str, Any]], Iterable[str]]

    def keys_of(self, values: Mapping[str, Any]) -> set[str]:
        found = set()
        for key in self.keys(values):
            if not key:
                continue
            key = f"{self.name}:{key}"
            if len(key) > MAX_KEY_LENGTH:
                key = f"{self.name}:#{hashlib.sha1(key.encode()).hexdigest()}"
            found.add(key)
        return found


def blocking_keys(rules: Sequence[BlockingRule], values: Mapping[str, Any]) -> set[str]:
    return blocking_keys_many(rules, [values])[0]


def blocking_keys_many(
    rules: Sequence[BlockingRule], records: Sequence[Mapping[str, Any]]
) -> list[set[str]]:
    """:func:`blocking_keys` of each record, one rule at a time over all of them."""
    found: list[set[str]] = [set() for _ in records]
    for rule in rules:
        keys_of = rule.keys_of
        for keys, values in zip(found, records, strict=True):
            keys |= keys_of(values)
    return found


@dataclass
class BlockingReport:
    records: int = 0
    blocks: int = 0
    capped_blocks: int = 0
    largest_block: int = 0
    pairs: int = 0
    true_pairs: int | None = None
    true_pairs_found: int | None = None

    @property
    def recall(self) -> float | None:
        if not self.true_pairs:
            return None
        return (self.true_pairs_found or 0) / self.true_pairs

    def lines(self) -> list[str]:
        lines = [
            f"records {self.records:,}, blocks {self.blocks:,} (largest {self.largest_block:,}, "
            f"{self.capped_blocks:,} capped), candidate pairs {self.pairs:,}"
        ]
        if self.recall is not None:
            lines.append(
                f"blocking recall {self.recall:.4f} "
                f"({self.true_pairs_found:,} of {self.true_pairs:,} true pairs are candidates)"
            )
        return lines


@dataclass
class Blocker:
    rules: Sequence[BlockingRule]
    max_block: int = 200
    window: int = 20
    report: BlockingReport = field(default_factory=BlockingReport)

    def candidate_pairs(
        self,
        records: Sequence[Mapping[str, Any]],
        *,
        allowed: Callable[[int, int], bool] | None = None,
        keys: Sequence[Iterable[str]] | None = None,
    ) -> np.ndarray:
        """Candidate pairs (i < j) of ``records`` as an (n, 2) array; ``allowed`` may
        exclude pairs (e.g. two records of one source file when linking files)."""
        blocks: dict[str, list[int]] = defaultdict(list)
        if keys is None:
            keys = blocking_keys_many(self.rules, records)
        for index, record_keys in enumerate(keys):
            for key in record_keys:
                blocks[key].append(index)
        pairs: set[tuple[int, int]] = set()
        report = self.report
        report.records = len(records)
        report.blocks = 0
        report.capped_blocks = 0
        report.largest_block = 0
        for members in blocks.values():
            if len(members) < 2:
                continue
            report.blocks += 1
            report.largest_block = max(report.largest_block, len(members))
            if len(members) <= self.max_block:
                for position, i in enumerate(members):
                    for j in members[position + 1 :]:
                        pairs.add((i, j) if i < j else (j, i))
            else:
                report.capped_blocks += 1
                for position, i in enumerate(members):
                    for j in members[position + 1 : position + 1 + self.window]:
                        pairs.add((i, j) if i < j else (j, i))
        if allowed is not None:
            pairs = {pair for pair in pairs if allowed(*pair)}
        report.pairs = len(pairs)
        if not pairs:
            return np.zeros((0, 2), dtype=np.int64)
        return np.array(sorted(pairs), dtype=np.int64)

    def measure_recall(self, pairs: np.ndarray, true_pairs: Iterable[tuple[int, int]]) -> None:
        candidates = {(int(i), int(j)) for i, j in pairs}
        truth = {(min(i, j), max(i, j)) for i, j in true_pairs}
        self.report.true_pairs = len(truth)
        self.report.true_pairs_found = len(truth & candidates)


# Key functions used by the domain declarations -------------------------------------


def first_value(values: Mapping[str, Any], attribute: str) -> str:
    value = values.get(attribute)
    if isinstance(value, list):
        value = value[0] if value else None
    return "" if value in (None, "") else str(value)


def exact(attribute: str, key: Callable[[str], str] = n.fold) -> Callable:
    def keys(values):
        text = first_value(values, attribute)
        return [key(text)] if text else []

    keys.__name__ = f"exact_{attribute}"
    return keys


def combined(*parts: Callable[[Mapping[str, Any]], Iterable[str]]) -> Callable:
    """The cross product of several key functions' keys ("surname + postal code")."""

    def keys(values):
        result = [""]
        for part in parts:
            found = list(part(values))
            if not found:
                return []
            result = [f"{prefix}|{key}" if prefix else key for prefix in result for key in found]
        return result

    return keys


def prefix(attribute: str, length: int, key: Callable[[str], str] = n.ascii_key) -> Callable:
    def keys(values):
        text = key(first_value(values, attribute)).replace(" ", "")
        return [text[:length]] if len(text) >= min(length, 3) else []

    return keys


def phonetic(attribute: str) -> Callable:
    import jellyfish

    def keys(values):
        words = n.ascii_key(first_value(values, attribute)).split()
        return [jellyfish.metaphone(word) for word in words[:1] if word.isalpha()]

    return keys


def model_codes(*attributes: str) -> Callable:
    def keys(values):
        codes: set[str] = set()
        for attribute in attributes:
            text = first_value(values, attribute)
            codes.update(n.model_codes(text))
            if attribute == attributes[0]:
                # A code the title spells out in words ("MDR EX32LP/WHI") meets the
                # same code written in one piece in another title.
                codes.update(n.spelled_codes(text))
            if attribute.endswith("part_number"):
                code = n.part_number(text)
                if len(code) >= 3:
                    codes.add(code)
        return sorted(code for code in codes if len(code) >= 4)

    return keys


def code_stems(*attributes: str) -> Callable:
    """Model codes without the letters after their last digit ("FS100S" and "FS100",
    "3505B001AA" and "3505B001"): listings often add or drop a colour or kit suffix."""

    def keys(values):
        stems: set[str] = set()
        for attribute in attributes:
            for code in n.model_codes(first_value(values, attribute)):
                stem = code.rstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
                if len(stem) >= 4 and not stem.isdigit():
                    stems.add(stem)
        return sorted(stems)

    return keys


def rare_tokens(attribute: str, *, min_length: int = 4, limit: int = 6) -> Callable:
    """The longest distinctive words of free text (titles): records sharing an
    unusual word are candidates. Digits-bearing words first, then the longest."""

    def keys(values):
        words = {
            w for w in n.ascii_key(first_value(values, attribute)).split() if len(w) >= min_length
        }
        ordered = sorted(words, key=lambda w: (not any(c.isdigit() for c in w), -len(w), w))
        return ordered[:limit]

    return keys


def company_core(attribute: str, words: int = 2) -> Callable:
    def keys(values):
        core = n.company_name(first_value(values, attribute)).core
        if not core:
            return []
        compact = core.replace(" ", "")
        if any(_is_cjk(c) for c in compact):
            # Chinese names: the first four characters (city prefix and first word).
            return [compact[:4]]
        return [" ".join(n.ascii_key(core).split()[:words])]

    return keys


def _is_cjk(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff"


def group_pairs(labels: Mapping[Hashable, Hashable], index_of: Mapping[Hashable, int]):
    """True pairs (i, j) from labels ``record id → entity id``."""
    members: dict[Hashable, list[int]] = defaultdict(list)
    for record, entity in labels.items():
        if record in index_of:
            members[entity].append(index_of[record])
    for group in members.values():
        group.sort()
        for position, i in enumerate(group):
            for j in group[position + 1 :]:
                yield (i, j)


# Key functions of parties (customers, suppliers) --------------------------------------


def each(attribute: str, key: Callable[[str], str] = n.fold) -> Callable:
    """One key per value of a multi-valued attribute (phone numbers)."""

    def keys(values):
        value = values.get(attribute)
        items = value if isinstance(value, list) else [value]
        return [key(str(item)) for item in items if item not in (None, "")]

    keys.__name__ = f"each_{attribute}"
    return keys


def place(attribute: str) -> Callable:
    """A city in any script ("北京市" and "Beijing" give one key)."""

    def keys(values):
        text = n.place_key(first_value(values, attribute))
        return [text] if text else []

    return keys


def _name_sounds(values: Mapping[str, Any], attributes: Sequence[str]) -> tuple[str, ...]:
    return _sounds_of(tuple(first_value(values, attribute) for attribute in attributes))


@lru_cache(maxsize=1 << 16)
def _sounds_of(names: tuple[str, ...]) -> tuple[str, ...]:
    """Metaphone codes of the words of ``names``, in order (names repeat: memoised)."""
    import jellyfish

    sounds = []
    for name in names:
        for word in n.ascii_key(name).split():
            word = n.name_key(n.given_name_key(word))
            if word.isalpha():
                sounds.append(jellyfish.metaphone(word) or word)
    return tuple(sounds)


def name_sounds(*attributes: str) -> Callable:
    """Each name word's Metaphone code (given names made canonical first): one key per
    word, so a typo or a swap in one word leaves the others."""

    def keys(values):
        return sorted(set(_name_sounds(values, attributes)))

    return keys


def full_name_sound(*attributes: str) -> Callable:
    """All name words' Metaphone codes, sorted, as one key: indifferent to the order of
    the names and to which field holds them."""

    def keys(values):
        sounds = _name_sounds(values, attributes)
        return [" ".join(sorted(sounds))] if sounds else []

    return keys


def house(attribute: str) -> Callable:
    """The first house number and the first three letters of the street's name."""

    def keys(values):
        return list(_house_keys(first_value(values, attribute)))

    return keys


@lru_cache(maxsize=1 << 16)
def _house_keys(line: str) -> tuple[str, ...]:
    words = n.street_core(line).split()
    numbers = [w for w in words if any(c.isdigit() for c in w)]
    names = [w for w in words if not any(c.isdigit() for c in w)]
    if not numbers:
        return ()
    return (f"{numbers[0]} {names[0][:3]}" if names else numbers[0],)


def initials(*attributes: str, organization: str | None = None) -> Callable:
    """The first letter of each name: of the person name ``attributes`` (given and
    family name) and of the ``organization`` name without its legal form; one key per
    letter. Combined with an address, it splits the people and companies of one
    house by name, and a given and family name swapped still share a key."""

    def keys(values):
        letters = set()
        for attribute in attributes:
            letters.update(_initial(n.ascii_key(first_value(values, attribute))))
        if organization is not None:
            core = n.company_name(first_value(values, organization)).core
            letters.update(_initial(n.name_key(core)))
        return sorted(letters)

    return keys


def _initial(text: str) -> tuple[str, ...]:
    words = text.split()
    return (words[0][0],) if words and words[0][0].isalpha() else ()


def organization_name(attribute: str, words: int = 2) -> Callable:
    """The first ``words`` words of the name without its legal form; for Chinese names
    the first and the last four characters, so that a name with and without its city
    share a key ("北京华信科技" and "华信科技")."""

    def keys(values):
        core = n.company_name(first_value(values, attribute)).core
        if not core:
            return []
        compact = core.replace(" ", "")
        if any(_is_cjk(c) for c in compact):
            return sorted({compact[:4], compact[-4:]})
        return [" ".join(n.name_key(core).split()[:words])]

    return keys


def organization_sound(attribute: str) -> Callable:
    """Metaphone of the first word of the name without its legal form (Latin script)."""
    import jellyfish

    def keys(values):
        core = n.name_key(n.company_name(first_value(values, attribute)).core).split()
        if not core or not core[0].isalpha():
            return []
        return [jellyfish.metaphone(core[0]) or core[0]]

    return keys


def web_domain(*attributes: str) -> Callable:
    def keys(values):
        return sorted({n.web_domain(first_value(values, a)) for a in attributes} - {""})

    return keys
