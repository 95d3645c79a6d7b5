"""Estimate a domain's model parameters from the records on file, and store them.

u comes from random pairs of live source records, m and the prior from EM over
the candidate pairs blocking produces (``engine.training``); steward decisions from
the review queue (merged = match, not a match = non-match) enter EM as known pairs.
Each run stores a new version; matching uses the latest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from golden.domains import Domain
from golden.models import SourceRecord

from . import services
from .engine import training
from .engine.scoring import Model, Parameters
from .models import MatchParameters, ReviewItem

DEFAULT_SAMPLE = 200_000
DEFAULT_RANDOM_PAIRS = 200_000


@dataclass
class Training:
    parameters: Parameters
    report: str
    stored: MatchParameters | None = None


def train(
    domain: Domain,
    *,
    sample: int = DEFAULT_SAMPLE,
    random_pairs: int = DEFAULT_RANDOM_PAIRS,
    seed: int = 0,
    store: bool = True,
    user=None,
) -> Training:
    if domain.matching is None:
        raise ValueError(f"the {domain.name} domain declares no fuzzy matching")
    base = domain.matching.model()
    ids = list(
        SourceRecord.objects.filter(domain=domain.name, retired=False)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if len(ids) < 2:
        raise ValueError(f"training needs at least two live {domain.name} records")
    if len(ids) > sample:
        # An even spread over the whole history, the same for the same data.
        step = len(ids) / sample
        ids = [ids[int(position * step)] for position in range(sample)]
    values = []
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        found = dict(SourceRecord.objects.filter(pk__in=chunk).values_list("pk", "canonical"))
        values.extend(found[pk] for pk in chunk)
    features = [base.prepare(canonical) for canonical in values]
    random = training.random_pairs(random_pairs, len(values), seed=seed)
    u = training.estimate_u(base, base.level_matrix(features, random))

    candidates = domain.matching.blocker().candidate_pairs(values)
    known, pairs = _decided_pairs(ids, candidates)
    levels = base.level_matrix(features, pairs)
    # u re-estimated among the candidates (blocking gathers look-alikes, which
    # random pairs under-represent) and weights kept monotone across levels.
    parameters, report = training.expectation_maximisation(
        base, levels, u=u, known=known, random_pairs=len(random), candidate_u=True, monotone=True
    )
    text = (f"{len(values):,} live records sampled; " + report.line() + "\n") + weights_table(
        base.with_parameters(parameters)
    )
    stored = (
        services.store_parameters(domain, parameters, report=text, user=user) if store else None
    )
    return Training(parameters, text, stored)


def _decided_pairs(ids: list[int], candidates: np.ndarray) -> tuple[dict[int, bool], np.ndarray]:
    """Steward decisions on pairs of sampled records, as rows of the pair array
    (pairs blocking missed are appended)."""
    position = {pk: index for index, pk in enumerate(ids)}
    row_of = {(int(i), int(j)): row for row, (i, j) in enumerate(candidates.tolist())}
    extra: list[tuple[int, int]] = []
    known: dict[int, bool] = {}
    decided = ReviewItem.objects.exclude(status=ReviewItem.Status.PENDING).values_list(
        "record_a_id", "record_b_id", "status"
    )
    for a, b, status in decided:
        if a not in position or b not in position:
            continue
        pair = tuple(sorted((position[a], position[b])))
        row = row_of.get(pair)
        if row is None:
            row = len(candidates) + len(extra)
            row_of[pair] = row
            extra.append(pair)
        known[row] = status == ReviewItem.Status.MERGED
    if extra:
        candidates = np.concatenate([candidates, np.array(extra, dtype=np.int64)])
    return known, candidates


def weights_table(model: Model) -> str:
    """Each comparison level's weight in bits, for reports."""
    lines = []
    weights = model.parameters.weights()
    for comparison in model.comparisons:
        parts = [
            f"{level.name} {weights[comparison.name][index]:+.1f}"
            for index, level in enumerate(comparison.levels)
            if index
        ]
        lines.append(f"  {comparison.name}: " + ", ".join(parts))
    return "\n".join(lines)
