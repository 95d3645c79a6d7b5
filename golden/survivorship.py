"""Survivorship: which source value becomes the golden value, and why (pure Python).

Each attribute has an ordered rule chain from its domain declaration. Starting from
every source record that holds a value, each rule keeps only the best candidates;
the first rule after which a single distinct value remains decides, and lineage
records that rule and the winning source record. Ties that no rule breaks go to the
oldest source record (lowest id), so the outcome never depends on load order.

Rules:
- ``source_priority``: the most trusted systems (highest priority for the domain).
- ``most_recent``: the records whose values changed last.
- ``most_complete``: the records with the most filled attributes.
- ``most_frequent``: the value held by the most records.
- ``aggregate``: the distinct union of all values (multi-valued attributes only).

A steward override beats every rule until it is removed.

Lineage names the winning source record by id (``source_record``; for aggregates
``source_records``, one per value) and the rule that decided.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Member:
    """One live source record of a cluster, as survivorship sees it."""

    source_record_id: int
    system: str
    source_key: str
    priority: int
    changed_at: datetime.datetime
    values: Mapping[str, Any]


@dataclass(frozen=True)
class RuleChain:
    attribute: str
    rules: tuple[str, ...]


@dataclass(frozen=True)
class Override:
    value: Any
    reason: str
    by: str


@dataclass(frozen=True)
class Survived:
    values: dict[str, Any]
    lineage: dict[str, Any]


def survive(
    chains: Sequence[RuleChain],
    members: Iterable[Member],
    overrides: Mapping[str, Override] | None = None,
) -> Survived:
    members = sorted(members, key=_trust_order)
    overrides = overrides or {}
    if len(members) == 1 and not overrides:
        return _single(chains, members[0])
    values: dict[str, Any] = {}
    lineage: dict[str, Any] = {}
    for chain in chains:
        name = chain.attribute
        if name in overrides:
            override = overrides[name]
            values[name] = override.value
            lineage[name] = {"rule": "override", "reason": override.reason, "by": override.by}
            continue
        holders = [member for member in members if member.values.get(name) not in (None, "", [])]
        if not holders:
            continue
        if chain.rules == ("aggregate",):
            values[name], lineage[name] = _aggregate(name, holders)
        else:
            winner, rule = _decide(name, chain.rules, holders)
            values[name] = winner.values[name]
            lineage[name] = _source(winner) | {"rule": rule}
    return Survived(values=values, lineage=lineage)


def _single(chains: Sequence[RuleChain], member: Member) -> Survived:
    """One source and no override: every value is that source's (the common case)."""
    values: dict[str, Any] = {}
    lineage: dict[str, Any] = {}
    source = _source(member)
    for chain in chains:
        value = member.values.get(chain.attribute)
        if value in (None, "", []):
            continue
        values[chain.attribute] = value
        if chain.rules == ("aggregate",):
            count = len(value) if isinstance(value, list) else 1
            lineage[chain.attribute] = {
                "rule": "aggregate",
                "source_records": [member.source_record_id] * count,
            }
        else:
            lineage[chain.attribute] = source | {"rule": "only_source"}
    return Survived(values=values, lineage=lineage)


def _trust_order(member: Member) -> tuple:
    return (-member.priority, member.source_record_id)


def _source(member: Member) -> dict[str, Any]:
    return {"source_record": member.source_record_id}


def _distinct(name: str, candidates: list[Member]) -> int:
    return len({_hashable(candidate.values[name]) for candidate in candidates})


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _decide(name: str, rules: tuple[str, ...], holders: list[Member]) -> tuple[Member, str]:
    candidates = holders
    if _distinct(name, candidates) == 1:
        return candidates[0], ("only_source" if len(candidates) == 1 else "unanimous")
    for rule in rules:
        candidates = _apply(rule, name, candidates)
        if _distinct(name, candidates) == 1:
            return candidates[0], rule
    return min(candidates, key=lambda member: member.source_record_id), "tie_break_oldest"


def _apply(rule: str, name: str, candidates: list[Member]) -> list[Member]:
    if rule == "source_priority":
        return _best(candidates, lambda member: member.priority)
    if rule == "most_recent":
        return _best(candidates, lambda member: member.changed_at)
    if rule == "most_complete":
        return _best(candidates, lambda member: sum(1 for v in member.values.values() if v))
    if rule == "most_frequent":
        counts = Counter(_hashable(candidate.values[name]) for candidate in candidates)
        return _best(candidates, lambda member: counts[_hashable(member.values[name])])
    raise ValueError(f"unknown survivorship rule '{rule}'")


def _best(candidates: list[Member], score) -> list[Member]:
    top = max(score(candidate) for candidate in candidates)
    return [candidate for candidate in candidates if score(candidate) == top]


def _aggregate(name: str, holders: list[Member]) -> tuple[list[Any], dict[str, Any]]:
    union: list[Any] = []
    sources: list[int] = []
    for member in holders:
        member_values = member.values[name]
        for value in member_values if isinstance(member_values, list) else [member_values]:
            if value not in union:
                union.append(value)
                sources.append(member.source_record_id)
    return union, {"rule": "aggregate", "source_records": sources}
