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
``source_records``, one per value), the rule that decided and, for attributes that
survive as a group, the group's name.
"""

from __future__ import annotations

import datetime
import operator
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
    #: Attributes that survive together from one source record (e.g. an address),
    #: so that a golden address never mixes the street of one source with the city
    #: of another. Empty: the attribute survives on its own.
    group: tuple[str, ...] = ()
    group_name: str = ""


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
    group_winners: dict[tuple[str, ...], tuple[Member, str] | None] = {}
    for chain in chains:
        name = chain.attribute
        if name in overrides:
            override = overrides[name]
            values[name] = override.value
            lineage[name] = {"rule": "override", "reason": override.reason, "by": override.by}
            continue
        if chain.group:
            if chain.group not in group_winners:
                group_winners[chain.group] = _decide_group(chain, members)
            decided = group_winners[chain.group]
            if decided is not None and _has(decided[0], name):
                winner, rule = decided
                values[name] = winner.values[name]
                lineage[name] = {
                    "source_record": winner.source_record_id,
                    "rule": rule,
                    "group": chain.group_name,
                }
            continue
        holders = [member for member in members if _has(member, name)]
        if not holders:
            continue
        if chain.rules == ("aggregate",):
            values[name], lineage[name] = _aggregate(name, holders)
        else:
            winner, rule = _decide(operator.itemgetter(name), chain.rules, holders, values=True)
            values[name] = winner.values[name]
            lineage[name] = _source(winner) | {"rule": rule}
    return Survived(values=values, lineage=lineage)


def _has(member: Member, name: str) -> bool:
    return member.values.get(name) not in (None, "", [])


def _decide_group(chain: RuleChain, members: list[Member]) -> tuple[Member, str] | None:
    holders = [member for member in members if any(_has(member, name) for name in chain.group)]
    if not holders:
        return None
    return _decide(
        lambda member: tuple(_hashable(member.values.get(name)) for name in chain.group),
        chain.rules,
        holders,
    )


def _single(chains: Sequence[RuleChain], member: Member) -> Survived:
    """One source and no override: every value is that source's (the common case)."""
    values: dict[str, Any] = {}
    lineage: dict[str, Any] = {}
    member_values = member.values
    pk = member.source_record_id
    for chain in chains:
        name = chain.attribute
        value = member_values.get(name)
        if value is None or value == "" or value == []:
            continue
        values[name] = value
        if chain.group:
            lineage[name] = {"source_record": pk, "rule": "only_source", "group": chain.group_name}
        elif chain.rules == ("aggregate",):
            count = len(value) if isinstance(value, list) else 1
            lineage[name] = {"rule": "aggregate", "source_records": [pk] * count}
        else:
            lineage[name] = {"source_record": pk, "rule": "only_source"}
    return Survived(values=values, lineage=lineage)


def _trust_order(member: Member) -> tuple:
    return (-member.priority, member.source_record_id)


def _source(member: Member) -> dict[str, Any]:
    return {"source_record": member.source_record_id}


def _distinct(value_of, candidates: list[Member]) -> int:
    return len({_hashable(value_of(candidate)) for candidate in candidates})


def _of_values(getter):
    """Adapt a getter of a member's values mapping to a getter of the member."""
    return lambda member: getter(member.values)


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _decide(
    value_of, rules: tuple[str, ...], holders: list[Member], *, values: bool = False
) -> tuple[Member, str]:
    if values:
        value_of = _of_values(value_of)
    candidates = holders
    if _distinct(value_of, candidates) == 1:
        return candidates[0], ("only_source" if len(candidates) == 1 else "unanimous")
    for rule in rules:
        candidates = _apply(rule, value_of, candidates)
        if _distinct(value_of, candidates) == 1:
            return candidates[0], rule
    return min(candidates, key=lambda member: member.source_record_id), "tie_break_oldest"


def _apply(rule: str, value_of, candidates: list[Member]) -> list[Member]:
    if rule == "source_priority":
        return _best(candidates, lambda member: member.priority)
    if rule == "most_recent":
        return _best(candidates, lambda member: member.changed_at)
    if rule == "most_complete":
        return _best(candidates, lambda member: sum(1 for v in member.values.values() if v))
    if rule == "most_frequent":
        counts = Counter(_hashable(value_of(candidate)) for candidate in candidates)
        return _best(candidates, lambda member: counts[_hashable(value_of(member))])
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
