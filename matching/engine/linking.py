"""Placing records one after another among clusters, some already on file.

:class:`Linker` is the one placement loop behind every path: an upsert of one record
(the clusters on file are its candidates' golden records), a batch of an import
(the clusters on file plus those started earlier in the batch) and the in-memory
batch linker of :mod:`.batch` (no clusters on file). Candidate pairs are scored all
at once, vectorised; records are then placed in order with
:func:`.clustering.decide`, so the result never depends on how the records were
grouped into calls, except through the blocking caps.

**Systems that hold each entity once.** When records come with groups (their
source system, where that system is declared to hold each real-world entity at
most once in the domain), two more rules apply. A record never joins a cluster
automatically that already holds a record of its own group (it may still be
offered for review). And when a cluster is the record's clear best match both ways
(every other candidate cluster of the record, and every other record of its group
that competes for the cluster's members, is at least ``margin`` bits weaker), that
exclusivity is evidence of its own: ``weight`` bits are added, shown in the
explanation like any comparison. One-to-one structure is the strongest hint two
duplicate-free catalogues give, and the one a pairwise score cannot see. With
``review`` set, a cluster that is the record's best candidate among those holding
another once-only system's record, or whose such member finds the record the best
of its group, is offered for review from that lower probability: between two
duplicate-free catalogues, a record's best counterpart deserves a look even when
the pair alone looks unlikely.

Records are numbered ``0..n-1``. Records already on file come with their cluster;
the others are placed by :meth:`Linker.place`, in increasing order. A pair links a
record to another one placed before it; members of a candidate cluster that no pair
links to the record are scored on demand, so the whole-cluster rule always sees
every member.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from .clustering import Decision, decide
from .scoring import Contribution, Model, Score, probability_of


@dataclass(frozen=True)
class Exclusivity:
    """Evidence from one-to-one structure between systems that hold each entity
    once (see the module documentation)."""

    #: How much weaker (in bits) every competitor must be.
    margin: float = 3.0
    #: Bits added to a clear best match.
    weight: float = 4.0
    #: When set, the probability from which a best counterpart (see the module
    #: documentation) is offered for review, below the review threshold.
    review: float | None = None

    def contribution(self) -> Contribution:
        return Contribution(
            "exclusive",
            "clear_best",
            "each system holds an entity once, and this is the clear best match both "
            f"ways (every competitor at least {2**self.margin:.0f}x less likely)",
            self.weight,
        )


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
        groups: Sequence[Hashable | None] | None = None,
        exclusivity: Exclusivity | None = None,
    ):
        """``features``: every record's prepared features; ``pairs``: candidate
        pairs (i, j) as an (n, 2) array; ``clusters``: record → cluster of the
        records already on file; ``member_ids``: the name of each record in
        decisions and vetoes (default: its number); ``order``: cluster → rank for
        ties (smaller = older); ``groups``: per record, its system when that system
        holds each entity once (else None); ``exclusivity``: the evidence that
        gives (default :class:`Exclusivity`)."""
        self.model = model
        self.groups = list(groups) if groups is not None else None
        self.exclusivity = exclusivity or Exclusivity()
        # record → the cluster its clear-best-match evidence went to.
        self._exclusive: dict[int, Hashable] = {}
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
                weights[member] = self._weight(record, member)
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
        vetoed = set(vetoed)
        found = {
            cluster: weights
            for cluster, weights in self.candidates(record).items()
            if allowed is None or allowed(cluster)
        }
        review_only: set[Hashable] = set()
        lowered: dict[Hashable, float] = {}
        own_only: set[Hashable] = set()
        group = self.groups[record] if self.groups is not None else None
        self._exclusive.pop(record, None)
        if group is not None:
            review_only = {
                cluster
                for cluster in found
                if any(self.groups[m] == group for m in self.members[cluster] if m != record)
            }
            # Clusters of the record's own once-only system alone: a duplicate there
            # contradicts the declaration, so they come after every other candidate.
            own_only = {
                cluster
                for cluster in review_only
                if all(self.groups[m] == group for m in self.members[cluster] if m != record)
            }
            strength = self._open_strength(found, review_only, vetoed)
            if self.exclusivity.review is not None:
                lowered = dict.fromkeys(
                    self._counterparts(record, group, found, strength), self.exclusivity.review
                )
            best = self._clear_best(record, group, found, strength)
            if best is not None:
                self._exclusive[record] = best
                bonus = self.exclusivity.weight
                found[best] = {member: w + bonus for member, w in found[best].items()}
        candidates = {
            cluster: {names[member]: probability_of(weight) for member, weight in weights.items()}
            for cluster, weights in found.items()
        }
        return decide(
            candidates,
            self.model.thresholds,
            vetoed=vetoed,
            order=self.order,
            review_only=review_only,
            lowered=lowered,
            review_last=own_only,
        )

    def _open_strength(
        self, found: dict[Hashable, dict[int, float]], taken: set[Hashable], vetoed: set[Hashable]
    ) -> dict[Hashable, float]:
        """The strongest link to each open candidate cluster: one that holds no
        record of the record's system (``taken``) and no vetoed member."""
        names = self.member_ids
        return {
            cluster: max(weights.values())
            for cluster, weights in found.items()
            if cluster not in taken and not any(names[m] in vetoed for m in weights)
        }

    def _anchors(self, members: Iterable[int], group: Hashable) -> list[int]:
        """The members of another once-only system than ``group``."""
        return [m for m in members if self.groups[m] is not None and self.groups[m] != group]

    def _counterparts(
        self,
        record: int,
        group: Hashable,
        found: dict[Hashable, dict[int, float]],
        strength: dict[Hashable, float],
    ) -> set[Hashable]:
        """Open candidate clusters holding a record of another once-only system that
        are ``record``'s best such cluster (all of them, when tied), or whose such
        member has no stronger link to another record of ``group`` (among the pairs
        scored so far)."""
        held = {cluster: self._anchors(found[cluster], group) for cluster in strength}
        held = {cluster: anchors for cluster, anchors in held.items() if anchors}
        if not held:
            return set()
        top = max(strength[cluster] for cluster in held)
        chosen = {cluster for cluster in held if strength[cluster] == top}
        for cluster, anchors in held.items():
            weights = found[cluster]
            if any(
                not any(
                    weight > weights[anchor] and other != record and self.groups[other] == group
                    for other, weight in self._links[anchor].items()
                )
                for anchor in anchors
            ):
                chosen.add(cluster)
        return chosen

    def _clear_best(
        self,
        record: int,
        group: Hashable,
        found: dict[Hashable, dict[int, float]],
        strength: dict[Hashable, float],
    ) -> Hashable | None:
        """The cluster that is ``record``'s clear best match both ways, if any: it
        holds a record of another once-only system, every other open candidate
        cluster is ``margin`` bits weaker, and so is every other record of
        ``group`` among the candidates against each of its once-only members."""
        if not strength:
            return None
        best = max(strength, key=lambda cluster: strength[cluster])
        margin = self.exclusivity.margin
        if any(strength[other] > strength[best] - margin for other in strength if other != best):
            return None
        anchors = self._anchors(self.members[best], group)
        if not anchors:
            return None
        rivals = [
            m
            for cluster in found
            if cluster != best
            for m in self.members[cluster]
            if m != record and self.groups[m] == group
        ]
        for anchor in anchors:
            mine = found[best][anchor]
            for rival in rivals:
                if self._weight(anchor, rival) > mine - margin:
                    return None
        return best

    def _weight(self, a: int, b: int) -> float:
        """The pair's match weight: from its candidate pair, else scored now (and kept)."""
        links = self._links[a]
        if b not in links:
            weight = self.model.weight_of(self.model.levels(self.features[a], self.features[b]))
            links[b] = weight
            self._links[b][a] = weight
            self.extra_scores += 1
        return links[b]

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
        """The pair's score, with the clear-best-match evidence when ``record`` was
        placed with it against ``other``'s cluster."""
        score = self.model.score(self.features[record], self.features[other])
        cluster = self._exclusive.get(record)
        if cluster is None or self.cluster_of.get(other) != cluster:
            return score
        evidence = self.exclusivity.contribution()
        weight = score.weight + evidence.weight
        return replace(
            score,
            probability=probability_of(weight),
            weight=weight,
            contributions=(*score.contributions, evidence),
        )


def pairs_from_keys(
    keys: Sequence[Iterable[Hashable]],
    *,
    first_new: int = 0,
    max_block: int = 200,
    window: int = 20,
) -> np.ndarray:
    """Candidate pairs of records sharing a blocking key, where at least one of the
    two is numbered ``first_new`` or above (records below are on file and already
    placed: pairs among them say nothing new). Blocks larger than ``max_block`` are
    compared only within a sliding window of ``window`` records."""
    blocks: dict[Hashable, list[int]] = defaultdict(list)
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
