"""Placing a record into clusters without chaining.

A record joins a cluster only when it matches the cluster *as a whole*: its best
link to a member reaches the automatic threshold, and every other member is at
least a plausible match (at or above the review threshold). One strong link to one
member cannot pull in a record that contradicts the rest (A~B and B~C with A≁C
never puts A and C together). A steward's "not a match" between the record and any
member vetoes the cluster outright, so no transitivity can override it.

The same function places records during an import (records in file order, against
the clusters built so far) and one at a time in an upsert, so both paths agree.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field

from .scoring import Thresholds

MAX_REVIEW_CANDIDATES = 3


@dataclass(frozen=True)
class ReviewCandidate:
    cluster: Hashable
    member: Hashable  # the member with the strongest link
    probability: float
    #: Offered only because its cluster had a lowered threshold (``lowered`` in
    #: :func:`decide`): below the usual review threshold.
    lowered: bool = False


@dataclass(frozen=True)
class Decision:
    action: str  # "attach" | "new"
    cluster: Hashable | None = None  # the cluster joined ("attach")
    member: Hashable | None = None  # its member with the strongest link
    probability: float = 0.0  # of that link
    review: tuple[ReviewCandidate, ...] = field(default=())  # doubtful pairs for stewards

    @property
    def attaches(self) -> bool:
        return self.action == "attach"


def decide(
    candidates: Mapping[Hashable, Mapping[Hashable, float]],
    thresholds: Thresholds,
    *,
    vetoed: frozenset[Hashable] | set[Hashable] = frozenset(),
    order: Mapping[Hashable, object] | None = None,
    review_only: frozenset[Hashable] | set[Hashable] = frozenset(),
    lowered: Mapping[Hashable, float] | None = None,
    review_last: frozenset[Hashable] | set[Hashable] = frozenset(),
) -> Decision:
    """Where a record goes, given ``candidates``: cluster → {member → probability
    that the record and the member are one entity}, covering every live member of
    each candidate cluster. ``vetoed`` are members a steward declared not to be
    the record's match; ``order`` ranks clusters for ties (smaller = older);
    ``review_only`` clusters may be offered to stewards but never joined
    automatically; ``lowered`` gives clusters a review threshold below the usual one
    (they are offered for review from it); ``review_last`` clusters are offered only
    in the places for review left after the others (whatever their probability)."""
    qualified: list[tuple[float, object, Hashable, Hashable, float]] = []
    doubtful: list[ReviewCandidate] = []
    for cluster, members in candidates.items():
        if not members:
            continue
        best_member, best = max(members.items(), key=lambda item: (item[1], _neg(item[0])))
        if any(member in vetoed for member in members):
            continue
        weakest = min(members.values())
        if best >= thresholds.auto and weakest >= thresholds.review and cluster not in review_only:
            average = sum(members.values()) / len(members)
            rank = order.get(cluster, cluster) if order is not None else cluster
            qualified.append((average, rank, cluster, best_member, best))
        elif best >= thresholds.review or (
            lowered and cluster in lowered and best >= lowered[cluster]
        ):
            doubtful.append(
                ReviewCandidate(cluster, best_member, best, lowered=best < thresholds.review)
            )
    review = sorted(doubtful, key=lambda item: (item.cluster in review_last, -item.probability))
    if qualified:
        qualified.sort(key=lambda item: (-item[0], _sortable(item[1])))
        _, _, cluster, member, probability = qualified[0]
        # Other clusters the record matched as well hint at duplicates between them.
        review += [ReviewCandidate(q[2], q[3], q[4]) for q in qualified[1:]]
        return Decision(
            "attach",
            cluster=cluster,
            member=member,
            probability=probability,
            review=_offered(review, lowered),
        )
    top = review[0].probability if review else 0.0
    return Decision("new", probability=top, review=_offered(review, lowered))


def _offered(review: list[ReviewCandidate], lowered) -> tuple[ReviewCandidate, ...]:
    """The first :data:`MAX_REVIEW_CANDIDATES`, and every cluster with a lowered
    threshold beyond them (a best counterpart is always offered)."""
    kept = review[:MAX_REVIEW_CANDIDATES]
    if lowered:
        kept += [item for item in review[MAX_REVIEW_CANDIDATES:] if item.cluster in lowered]
    return tuple(kept)


def _neg(value):
    return -value if isinstance(value, int | float) else 0


def _sortable(rank):
    return (0, rank) if isinstance(rank, int | float) else (1, str(rank))
