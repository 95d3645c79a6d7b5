"""Set-at-a-time matching: blocking over the whole batch, vectorised scoring of all
candidate pairs, then the same placement as single upserts, record by record in
input order (so a batch and a sequence of single upserts end in the same clusters).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .clustering import Decision
from .linking import Exclusivity, Linker
from .scoring import Model


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
    groups: Sequence[Hashable | None] | None = None,
    exclusivity: Exclusivity | None = None,
) -> BatchResult:
    """Cluster records ``0..n-1`` placing each against the clusters of the records
    before it. ``pairs`` are candidate pairs (i < j) from blocking; ``groups`` and
    ``exclusivity`` as for :class:`.linking.Linker`."""
    linker = Linker(model, features, pairs, groups=groups, exclusivity=exclusivity)
    decisions = [
        linker.place(record, vetoed=(vetoed or {}).get(record, ()))
        for record in range(len(features))
    ]
    cluster_of = [linker.cluster_of[record] for record in range(len(features))]
    return BatchResult(cluster_of, decisions, pairs, linker.weights, linker.extra_scores)
