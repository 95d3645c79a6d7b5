"""Fellegi–Sunter scoring: every score is a sum of per-comparison weights.

For each comparison level, ``m`` is the probability of that level among true
matches and ``u`` among non-matches; the level's weight is ``log2(m / u)`` (a Bayes
factor in bits). A pair's match weight is the prior's log-odds plus the weights of
its levels; its probability is ``2^W / (1 + 2^W)``. A "null" level (a value missing
on either side) weighs nothing. So every probability decomposes into contributions
anyone can read: "+9.1 same tax ID, -4.2 different birth date, ...".
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .comparisons import Comparison

MIN_PROBABILITY = 1e-6


@dataclass(frozen=True)
class Thresholds:
    auto: float = 0.99  # at or above: merge or attach without a steward
    review: float = 0.6  # at or above (and below auto): a steward decides

    def __post_init__(self) -> None:
        if not 0 < self.review <= self.auto <= 1:
            raise ValueError("thresholds need 0 < review <= auto <= 1")

    def decision(self, probability: float) -> str:
        if probability >= self.auto:
            return "auto"
        if probability >= self.review:
            return "review"
        return "none"


@dataclass
class Parameters:
    """m and u per comparison level (level 0, null, is ignored) and the prior
    probability that a candidate pair is a match."""

    m: dict[str, list[float]]
    u: dict[str, list[float]]
    prior: float = 0.01
    source: str = "defaults"  # "defaults", "em", "em+decisions", ...

    def weights(self) -> dict[str, list[float]]:
        result = {}
        for name, m_levels in self.m.items():
            u_levels = self.u[name]
            result[name] = [0.0] + [
                math.log2(max(m, MIN_PROBABILITY) / max(u, MIN_PROBABILITY))
                for m, u in zip(m_levels[1:], u_levels[1:], strict=True)
            ]
        return result

    def to_json(self) -> dict[str, Any]:
        return {"m": self.m, "u": self.u, "prior": self.prior, "source": self.source}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Parameters:
        return cls(
            m={k: list(v) for k, v in data["m"].items()},
            u={k: list(v) for k, v in data["u"].items()},
            prior=float(data["prior"]),
            source=str(data.get("source", "stored")),
        )


@dataclass(frozen=True)
class Contribution:
    comparison: str
    level: str
    description: str
    weight: float

    def to_json(self) -> dict[str, Any]:
        return {
            "comparison": self.comparison,
            "level": self.level,
            "description": self.description,
            "weight": round(self.weight, 2),
        }


@dataclass(frozen=True)
class Score:
    probability: float
    weight: float
    prior_weight: float
    contributions: tuple[Contribution, ...] = field(default=())

    def explain(self, descriptions: Sequence[str] | None = None) -> str:
        """The score in plain words, strongest evidence first; ``descriptions``
        replace those of the contributions, in their order (values a reader may not
        see left out)."""
        if descriptions is None:
            descriptions = [item.description for item in self.contributions]
        lines = [f"match probability {self.probability:.4f} (weight {self.weight:+.2f} bits)"]
        lines.append(f"  {self.prior_weight:+6.2f}  prior: how often two candidates match")
        described = sorted(
            zip(self.contributions, descriptions, strict=True),
            key=lambda pair: -abs(pair[0].weight),
        )
        for item, description in described:
            lines.append(f"  {item.weight:+6.2f}  {item.comparison}: {description}")
        return "\n".join(lines)


def probability_of(weight: float) -> float:
    if weight > 60:
        return 1.0
    if weight < -60:
        return 0.0
    odds = 2.0**weight
    return odds / (1 + odds)


class Model:
    """A domain's comparisons, their parameters and thresholds."""

    def __init__(
        self,
        comparisons: Sequence[Comparison],
        parameters: Parameters,
        thresholds: Thresholds | None = None,
    ):
        self.comparisons = tuple(comparisons)
        self.parameters = parameters
        self.thresholds = thresholds or Thresholds()
        names = [c.name for c in self.comparisons]
        if len(set(names)) != len(names):
            raise ValueError(f"comparison names repeat: {names}")
        for comparison in self.comparisons:
            for table in (parameters.m, parameters.u):
                if len(table.get(comparison.name, ())) != len(comparison.levels):
                    raise ValueError(
                        f"parameters of {comparison.name!r} need {len(comparison.levels)} levels"
                    )
        self._weights = parameters.weights()
        self._weight_table = [np.array(self._weights[c.name]) for c in self.comparisons]
        self.prior_weight = math.log2(parameters.prior / (1 - parameters.prior))

    @property
    def attributes(self) -> frozenset[str]:
        """Every attribute some comparison reads."""
        return frozenset(a for c in self.comparisons for a in c.attributes)

    def with_parameters(self, parameters: Parameters) -> Model:
        return Model(self.comparisons, parameters, self.thresholds)

    def prepare(self, values: Mapping[str, Any]) -> tuple:
        """The record's features, one per comparison (compute once per record)."""
        return tuple(c.prepare(values) for c in self.comparisons)

    def prepare_many(self, records: Sequence[Mapping[str, Any]]) -> list[tuple]:
        """:meth:`prepare` of each record, one comparison at a time over all of them."""
        if not self.comparisons:
            return [() for _ in records]
        columns = [[c.prepare(values) for values in records] for c in self.comparisons]
        return list(zip(*columns, strict=True))

    def levels(self, a: tuple, b: tuple) -> tuple[int, ...]:
        return tuple(c.level(x, y) for c, x, y in zip(self.comparisons, a, b, strict=True))

    def weight_of(self, levels: Sequence[int]) -> float:
        return self.prior_weight + sum(
            self._weights[c.name][level] for c, level in zip(self.comparisons, levels, strict=True)
        )

    def score(self, a: tuple, b: tuple) -> Score:
        levels = self.levels(a, b)
        contributions = tuple(
            Contribution(
                c.name, c.levels[level].name, c.describe(level), self._weights[c.name][level]
            )
            for c, level in zip(self.comparisons, levels, strict=True)
            if level != 0
        )
        weight = self.prior_weight + sum(item.weight for item in contributions)
        return Score(probability_of(weight), weight, self.prior_weight, contributions)

    def level_matrix(self, features: Sequence[tuple], pairs: np.ndarray) -> np.ndarray:
        """Levels of many pairs at once: ``pairs`` is an (n, 2) array of indexes into
        ``features``; the result is (n, number of comparisons)."""
        result = np.zeros((len(pairs), len(self.comparisons)), dtype=np.int8)
        if not len(pairs):
            return result
        rows_a = [features[i] for i in pairs[:, 0].tolist()]
        rows_b = [features[j] for j in pairs[:, 1].tolist()]
        for column, comparison in enumerate(self.comparisons):
            left = [row[column] for row in rows_a]
            right = [row[column] for row in rows_b]
            result[:, column] = comparison.levels_of(left, right)
        return result

    def weights_of_matrix(self, levels: np.ndarray) -> np.ndarray:
        total = np.full(len(levels), self.prior_weight)
        for column, table in enumerate(self._weight_table):
            total += table[levels[:, column]]
        return total


def default_parameters(
    comparisons: Sequence[Comparison],
    m: Mapping[str, Sequence[float]],
    u: Mapping[str, Sequence[float]],
    prior: float,
) -> Parameters:
    """Parameters from per-level m and u for the non-null levels (null is added)."""
    return Parameters(
        m={c.name: [0.0, *m[c.name]] for c in comparisons},
        u={c.name: [0.0, *u[c.name]] for c in comparisons},
        prior=prior,
        source="defaults",
    )
