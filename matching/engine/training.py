"""Estimating m and u without labels (and with steward decisions when there are some).

* u (how often each level occurs among non-matches) comes from random pairs: almost
  every random pair of records is a non-match, so level frequencies over random
  pairs estimate u directly.
* m (how often each level occurs among matches) and the prior come from
  expectation-maximisation over the candidate pairs that blocking produced, with u
  held at its random-pair estimate. Each step computes every pair's match
  probability from the current m and prior, then re-estimates m as the
  probability-weighted level frequencies.
* Steward decisions (pairs known to match or not) enter EM as fixed probabilities
  (1 or 0), so labelled pairs pull the estimates towards what stewards saw.

Every estimate is smoothed (a small pseudo-count per level) so that no level weighs
an infinite amount, and m is kept at least as large as u at the exact level, so
agreement never counts as evidence against a match.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .scoring import Model, Parameters

SMOOTHING = 0.5
MIN_PRIOR = 1e-5
MAX_PRIOR = 0.5


@dataclass
class TrainingReport:
    pairs: int
    random_pairs: int
    iterations: int
    prior: float
    labelled: int = 0

    def line(self) -> str:
        return (
            f"EM over {self.pairs:,} candidate pairs ({self.labelled:,} decided by stewards), "
            f"u from {self.random_pairs:,} random pairs, {self.iterations} iterations, "
            f"prior {self.prior:.5f}"
        )


def level_frequencies(levels: np.ndarray, sizes: Sequence[int], weights=None) -> list[np.ndarray]:
    """Per comparison, the (weighted) share of each non-null level, smoothed."""
    result = []
    for column, size in enumerate(sizes):
        counts = np.bincount(levels[:, column], weights=weights, minlength=size).astype(float)
        counts[0] = 0.0  # null carries no evidence and is not estimated
        counts[1:] += SMOOTHING
        result.append(counts / counts[1:].sum())
    return result


def estimate_u(model: Model, random_levels: np.ndarray) -> dict[str, list[float]]:
    sizes = [len(c.levels) for c in model.comparisons]
    shares = level_frequencies(random_levels, sizes)
    return {c.name: list(map(float, s)) for c, s in zip(model.comparisons, shares, strict=True)}


def expectation_maximisation(
    model: Model,
    levels: np.ndarray,
    *,
    u: Mapping[str, Sequence[float]],
    known: Mapping[int, bool] | None = None,
    iterations: int = 25,
    tolerance: float = 1e-5,
    random_pairs: int = 0,
    candidate_u: bool = False,
    max_prior: float = MAX_PRIOR,
    monotone: bool = False,
) -> tuple[Parameters, TrainingReport]:
    """Estimate m and the prior from candidate-pair ``levels`` (rows = pairs).

    With ``candidate_u`` False (the default), u stays at ``u`` (from random pairs).
    With ``candidate_u`` True, u is re-estimated among the candidate pairs as well,
    starting from ``u``: blocking gathers look-alikes, so non-matches among
    candidates agree far more often than random pairs, and holding u at the
    random-pair rates makes EM take look-alikes for matches (the prior then grows
    far beyond the share of true matches). The parameters returned then describe
    candidate pairs, which is what the matcher scores.

    ``max_prior`` caps the share of matches among the candidates. ``monotone``
    keeps every comparison's weights from rising from a stronger level to a weaker
    one (adjacent levels that would are pooled), so a weaker agreement never counts
    more than a stronger one. ``known`` maps row indexes to steward decisions
    (True = match)."""
    sizes = [len(c.levels) for c in model.comparisons]
    names = [c.name for c in model.comparisons]
    m = [np.array(model.parameters.m[name], dtype=float) for name in names]
    u_arrays = [np.maximum(np.array(u[name], dtype=float), 1e-9) for name in names]
    prior = min(float(model.parameters.prior), max_prior)
    if candidate_u:
        # The defaults' prior refers to random pairs; candidates match far more often.
        prior = max(prior, min(0.01, max_prior))
    fixed_rows = np.array(sorted(known or {}), dtype=np.int64)
    fixed_values = np.array([1.0 if known[row] else 0.0 for row in fixed_rows]) if known else None
    done = 0
    for step in range(1, iterations + 1):
        done = step
        log_m = np.zeros(len(levels))
        log_u = np.zeros(len(levels))
        for column in range(len(sizes)):
            present = levels[:, column] > 0
            values = levels[present, column]
            log_m[present] += np.log(np.maximum(m[column][values], 1e-12))
            log_u[present] += np.log(np.maximum(u_arrays[column][values], 1e-12))
        odds = np.exp(np.clip(np.log(prior / (1 - prior)) + log_m - log_u, -700, 700))
        probability = odds / (1 + odds)
        if len(fixed_rows):
            probability[fixed_rows] = fixed_values
        new_prior = float(np.clip(probability.mean(), MIN_PRIOR, max_prior))
        new_m = level_frequencies(levels, sizes, weights=probability)
        change = max(float(np.abs(a - b).max()) for a, b in zip(new_m, m, strict=True))
        if candidate_u:
            new_u = level_frequencies(levels, sizes, weights=1.0 - probability)
            change = max(
                change,
                max(float(np.abs(a - b).max()) for a, b in zip(new_u, u_arrays, strict=True)),
            )
            u_arrays = new_u
        m, prior = new_m, new_prior
        if change < tolerance:
            break
    for column in range(len(sizes)):
        if monotone:
            m[column] = _monotone(m[column], u_arrays[column])
        # Agreement must never count against a match.
        if m[column][1] < u_arrays[column][1]:
            m[column][1] = u_arrays[column][1]
            m[column][1:] /= m[column][1:].sum()
    u_out = (
        {name: [float(x) for x in values] for name, values in zip(names, u_arrays, strict=True)}
        if candidate_u
        else {name: [float(x) for x in u[name]] for name in names}
    )
    parameters = Parameters(
        m={name: [float(x) for x in values] for name, values in zip(names, m, strict=True)},
        u=u_out,
        prior=prior,
        source="em+decisions" if known else "em",
    )
    report = TrainingReport(
        pairs=len(levels),
        random_pairs=random_pairs,
        iterations=done,
        prior=prior,
        labelled=len(fixed_rows),
    )
    return parameters, report


def _monotone(m: np.ndarray, u: np.ndarray) -> np.ndarray:
    """m adjusted so that m/u never rises from one non-null level to the next:
    adjacent levels that break the order are pooled into one ratio (pool adjacent
    violators), keeping the total of m."""
    blocks: list[list[float]] = []  # [m total, u total, first level, last level]
    for level in range(1, len(m)):
        blocks.append([float(m[level]), float(u[level]), level, level])
        while len(blocks) > 1 and (
            blocks[-1][0] / max(blocks[-1][1], 1e-12) > blocks[-2][0] / max(blocks[-2][1], 1e-12)
        ):
            last = blocks.pop()
            blocks[-1][0] += last[0]
            blocks[-1][1] += last[1]
            blocks[-1][3] = last[3]
    result = m.copy()
    for m_total, u_total, first, last in blocks:
        for level in range(first, last + 1):
            result[level] = m_total * u[level] / u_total if u_total > 0 else m[level]
    return result


def random_pairs(count: int, size: int, seed: int = 0) -> np.ndarray:
    """``count`` random pairs of distinct indexes below ``size``."""
    if size < 2:
        return np.zeros((0, 2), dtype=np.int64)
    generator = np.random.default_rng(seed)
    left = generator.integers(0, size, count)
    right = generator.integers(0, size - 1, count)
    right = np.where(right >= left, right + 1, right)
    return np.stack([left, right], axis=1)
