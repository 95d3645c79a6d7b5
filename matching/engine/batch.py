"""Set-at-a-time matching: blocking over the whole batch, vectorised scoring of all
candidate pairs, then the same placement as single upserts, record by record in
input order (so a batch and a sequence of single upserts end in the same clusters).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .clustering import Decision, decide
from .scoring import Model, probability_of


@dataclass
class BatchResult:
    cluster_of: list[int]  # cluster number per record (the index of its first record)
    decisions: list[Decision]
    pairs: np.ndarray  # candidate pairs scored
    weights: np.ndarray  # their match weights
    extra_scores: int = 0  # pairs scored outside blocking (whole-cluster checks)
    stats: dict[str, Any] = field(default_factory=dict)


def link_in_order(
    model: Model,
    features: Sequence[tuple],
    pairs: np.ndarray,
    *,
    vetoed: Mapping[int, set[int]] | None = None,
) -> BatchResult:
    """Cluster records ``0..n-1`` placing each against the clusters of the records
    before it. ``pairs`` are candidate pairs (i < j) from blocking."""
    levels = model.level_matrix(features, pairs)
    weights = model.weights_of_matrix(levels)
    earlier: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for (i, j), weight in zip(pairs.tolist(), weights.tolist(), strict=True):
        earlier[j].append((i, weight))
    cluster_of: list[int] = []
    members: dict[int, list[int]] = {}
    decisions: list[Decision] = []
    extra = 0
    for record in range(len(features)):
        known = dict(earlier.get(record, ()))
        candidates: dict[int, dict[int, float]] = {}
        for other in list(known):
            cluster = cluster_of[other]
            if cluster in candidates:
                continue
            scores = {}
            for member in members[cluster]:
                if member not in known:
                    known[member] = model.weight_of(
                        model.levels(features[record], features[member])
                    )
                    extra += 1
                scores[member] = probability_of(known[member])
            candidates[cluster] = scores
        decision = decide(
            candidates,
            model.thresholds,
            vetoed=(vetoed or {}).get(record, set()),
        )
        decisions.append(decision)
        if decision.attaches:
            cluster_of.append(decision.cluster)
            members[decision.cluster].append(record)
        else:
            cluster_of.append(record)
            members[record] = [record]
    return BatchResult(cluster_of, decisions, pairs, weights, extra)
