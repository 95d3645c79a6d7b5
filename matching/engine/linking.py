"""Placing records one after another among clusters, some already on file.

:class:`Linker` is the one placement loop behind every path: an upsert of one record
(the clusters on file are its candidates' golden records), a batch of an import
(the clusters on file plus those started earlier in the batch) and the in-memory
batch linker of :mod:`.batch` (no clusters on file). Candidate pairs are scored all
at once, vectorised; records are then placed in order with
:func:`.clustering.decide`, so the result never depends on how the records were
grouped into calls, except through the blocking caps.

Records are numbered ``0..n-1``. Records already on file come with their cluster;
the others are placed by :meth:`Linker.place`, in increasing order. A pair links a
record to another one placed before it; members of a candidate cluster that no pair
links to the record are scored on demand, so the whole-cluster rule always sees
every member.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence

import numpy as np

from .clustering import Decision, decide
from .scoring import Model, Score, probability_of


class Linker:
    def __init__(
        self,
        model: Model,
        features: Sequence[tuple],
        pairs: np.ndarray,
        *,
        clusters: Mapping[int, Hashable] | None = None,
        member_ids: Sequence[Hashable] | None = None,
        order: Mapping[Hashable, object] | None = None,
    ):
        """``features``: every record's prepared features; ``pairs``: candidate
        pairs (i, j) as an (n, 2) array; ``clusters``: record → cluster of the
        records already on file; ``member_ids``: the name of each record in
        decisions and vetoes (default: its number); ``order``: cluster → rank for
        ties (smaller = older)."""
        self.model = model
        self.features = features
        self.member_ids = list(member_ids) if member_ids is not None else list(range(len(features)))
        self.order = dict(order or {})
        self._next_rank = 1 + max(
            (rank for rank in self.order.values() if isinstance(rank, int | float)), default=0
        )
        self.pairs = pairs
        self.weights = model.weights_of_matrix(model.level_matrix(features, pairs))
        self._links: dict[int, dict[int, float]] = defaultdict(dict)
        for (i, j), weight in zip(pairs.tolist(), self.weights.tolist(), strict=True):
            self._links[i][j] = weight
            self._links[j][i] = weight
        self.cluster_of: dict[int, Hashable] = {}
        self.members: dict[Hashable, list[int]] = defaultdict(list)
        for record, cluster in (clusters or {}).items():
            self.assign(record, cluster)
        self.extra_scores = 0
        self._index_of: dict[Hashable, int] | None = None

    def assign(self, record: int, cluster: Hashable) -> None:
        """Put ``record`` into ``cluster`` (on file, decided elsewhere, or new)."""
        self.cluster_of[record] = cluster
        self.members[cluster].append(record)
        if cluster not in self.order:
            # Clusters started during linking rank after those on file, in order.
            self.order[cluster] = self._next_rank
            self._next_rank += 1

    def candidates(self, record: int) -> dict[Hashable, dict[int, float]]:
        """cluster → {member → match weight with ``record``} for every cluster that a
        candidate pair links to it, covering all of each cluster's members."""
        links = self._links.get(record, {})
        found: dict[Hashable, dict[int, float]] = {}
        for other in list(links):
            cluster = self.cluster_of.get(other)
            if cluster is None or cluster in found:
                continue
            weights = {}
            for member in self.members[cluster]:
                if member == record:
                    continue
                if member not in links:
                    links[member] = self.model.weight_of(
                        self.model.levels(self.features[record], self.features[member])
                    )
                    self.extra_scores += 1
                weights[member] = links[member]
            if weights:
                found[cluster] = weights
        return found

    def decide(
        self,
        record: int,
        *,
        vetoed: Iterable[Hashable] = (),
        allowed: Callable[[Hashable], bool] | None = None,
    ) -> Decision:
        """Where ``record`` belongs among the clusters placed so far (nothing is
        assigned: call :meth:`assign` with the outcome). Members in decisions are
        named by ``member_ids``; ``allowed`` may rule clusters out (e.g. one with a
        different tax ID)."""
        names = self.member_ids
        candidates = {
            cluster: {names[member]: probability_of(weight) for member, weight in weights.items()}
            for cluster, weights in self.candidates(record).items()
            if allowed is None or allowed(cluster)
        }
        return decide(candidates, self.model.thresholds, vetoed=set(vetoed), order=self.order)

    def place(self, record: int, *, vetoed: Iterable[Hashable] = ()) -> Decision:
        """:meth:`decide`, then assign: an existing cluster, or a new one named by
        the record's ``member_ids`` entry."""
        decision = self.decide(record, vetoed=vetoed)
        self.assign(record, decision.cluster if decision.attaches else self.member_ids[record])
        return decision

    def index_of(self, member_id: Hashable) -> int:
        index = self.find(member_id)
        if index is None:
            raise KeyError(member_id)
        return index

    def find(self, member_id: Hashable) -> int | None:
        """The number of the record named ``member_id``, or None."""
        if self._index_of is None:
            self._index_of = {name: index for index, name in enumerate(self.member_ids)}
        return self._index_of.get(member_id)

    def score(self, record: int, other: int) -> Score:
        return self.model.score(self.features[record], self.features[other])


def pairs_from_keys(
    keys: Sequence[Iterable[str]],
    *,
    first_new: int = 0,
    max_block: int = 200,
    window: int = 20,
) -> np.ndarray:
    """Candidate pairs of records sharing a blocking key, where at least one of the
    two is numbered ``first_new`` or above (records below are on file and already
    placed: pairs among them say nothing new). Blocks larger than ``max_block`` are
    compared only within a sliding window of ``window`` records."""
    blocks: dict[str, list[int]] = defaultdict(list)
    for record, record_keys in enumerate(keys):
        for key in record_keys:
            blocks[key].append(record)
    pairs: set[tuple[int, int]] = set()
    for members in blocks.values():
        if len(members) < 2 or members[-1] < first_new:
            continue
        reach = len(members) if len(members) <= max_block else window
        for position, i in enumerate(members):
            for j in members[position + 1 : position + 1 + reach]:
                if j >= first_new:
                    pairs.add((i, j))
    if not pairs:
        return np.zeros((0, 2), dtype=np.int64)
    return np.array(sorted(pairs), dtype=np.int64)
