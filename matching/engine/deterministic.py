"""Deterministic matching: equal canonical identifiers mean the same entity.

Framework-free. The persisted index hands this module the identity keys already on
file; :class:`DeterministicResolver` then places records one after another, exactly
as if they had arrived one at a time, so a batch and a sequence of single upserts end
in the same clusters.

Rules:
- a record joins the cluster with which it shares the most identity keys (strong
  identifiers first); ties go to the oldest cluster;
- a cluster is never joined when both carry a *strong* identifier of the same kind
  with different values (two companies may share an e-mail, never a tax ID).
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class IdentitySpec:
    attribute: str
    strong: bool = True
    scope_by_country: bool = False


@dataclass(frozen=True)
class Placement:
    """Where one record goes: an existing cluster or a new one, and on what evidence."""

    cluster: Hashable
    is_new: bool
    matched_on: tuple[str, ...] = ()


def identity_keys(specs: Sequence[IdentitySpec], values: Mapping[str, Any]) -> dict[str, str]:
    """The identity keys of a record, one per identifier it carries."""
    keys: dict[str, str] = {}
    country = values.get("country") or ""
    for spec in specs:
        raw = values.get(spec.attribute)
        if raw in (None, "", []):
            continue
        value = str(raw)
        self_describing = value[:2].isalpha()
        scope = country if spec.scope_by_country and not self_describing else ""
        key = f"{spec.attribute}:{scope}:{value}"
        if len(key) > MAX_KEY_LENGTH:
            digest = hashlib.sha256(key.encode()).hexdigest()
            key = f"{spec.attribute}:#{digest}"
        keys[spec.attribute] = key
    return keys


def attribute_of(key: str) -> str:
    return key.split(":", 1)[0]


@dataclass
class DeterministicResolver:
    """Places records into clusters by identity keys.

    ``known`` lists the (key, cluster) pairs already on file for the clusters that
    may be candidates; ``order`` gives each known cluster's age (smaller = older).
    """

    specs: Sequence[IdentitySpec]
    known: Iterable[tuple[str, Hashable]] = ()
    order: Mapping[Hashable, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._strong = {spec.attribute for spec in self.specs if spec.strong}
        self._clusters_by_key: dict[str, set[Hashable]] = {}
        self._keys_by_cluster: dict[Hashable, set[str]] = {}
        self._age: dict[Hashable, tuple[int, Any]] = {
            cluster: (0, age) for cluster, age in self.order.items()
        }
        self._new_clusters = 0
        for key, cluster in self.known:
            self._add(key, cluster)

    def place(self, keys: Mapping[str, str]) -> Placement:
        """:meth:`find`, then :meth:`register` the record where it went."""
        placement = self.find(keys)
        if placement is None:
            placement = Placement(cluster=self.new_cluster(), is_new=True)
        self.register(keys, placement.cluster)
        return placement

    def find(self, keys: Mapping[str, str]) -> Placement | None:
        """The cluster a record with identity ``keys`` joins, or None (nothing
        registered: the caller decides and calls :meth:`register`)."""
        candidates: dict[Hashable, list[str]] = {}
        for attribute, key in keys.items():
            for cluster in self._clusters_by_key.get(key, ()):
                candidates.setdefault(cluster, []).append(attribute)
        eligible = [
            (cluster, matched)
            for cluster, matched in candidates.items()
            if not self._vetoed(cluster, keys)
        ]
        if not eligible:
            return None
        cluster, matched = max(eligible, key=lambda item: self._rank(*item))
        return Placement(cluster=cluster, is_new=False, matched_on=tuple(sorted(matched)))

    def conflicts(self, cluster: Hashable, keys: Mapping[str, str]) -> bool:
        """Whether ``cluster`` carries a strong identifier of the same kind as one of
        ``keys`` with another value (then the record may never join it)."""
        return self._vetoed(cluster, keys)

    def new_cluster(self) -> tuple:
        self._new_clusters += 1
        cluster = ("new", self._new_clusters)
        self._age[cluster] = (1, self._new_clusters)
        return cluster

    def register(self, keys: Mapping[str, str], cluster: Hashable) -> None:
        """Record that a record with identity ``keys`` now belongs to ``cluster``."""
        self._age.setdefault(cluster, (1, cluster))
        for key in keys.values():
            self._add(key, cluster)

    def _add(self, key: str, cluster: Hashable) -> None:
        self._clusters_by_key.setdefault(key, set()).add(cluster)
        self._keys_by_cluster.setdefault(cluster, set()).add(key)
        self._age.setdefault(cluster, (0, cluster))

    def _vetoed(self, cluster: Hashable, keys: Mapping[str, str]) -> bool:
        cluster_keys = self._keys_by_cluster.get(cluster, set())
        for attribute, key in keys.items():
            if attribute not in self._strong or key in cluster_keys:
                continue
            if any(attribute_of(other) == attribute for other in cluster_keys):
                return True
        return False

    def _rank(self, cluster: Hashable, matched: list[str]) -> tuple:
        strong = sum(1 for attribute in matched if attribute in self._strong)
        kind, age = self._age[cluster]
        # More strong evidence first, then more evidence, then the oldest cluster.
        return (strong, len(matched), -kind, _negate(age))


def _negate(age: Any) -> Any:
    return -age if isinstance(age, int | float) else 0
