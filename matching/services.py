"""Feeds the matching engine from the database and keeps the key index current.

``match_new_records`` is the one entry point the golden-record services call; the
fuzzy matching engine will plug in behind it with the same inputs and outputs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from golden.bulk import insert_values
from golden.domains import Domain
from golden.models import SourceRecord

from .engine.deterministic import DeterministicResolver, IdentitySpec, identity_keys
from .models import MatchKey

SQL_IN_CHUNK = 500
# Advisory locks on identity keys: (class, slot) pairs, separate from other locks.
IDENTITY_LOCK_CLASS = 7_306_002
IDENTITY_LOCK_SLOTS = 2048
KEY_FIELDS = ["domain", "key", "source_record"]


@dataclass(frozen=True)
class MatchDecision:
    """Outcome for one record: attach to ``golden_record_id`` or start cluster ``new``."""

    golden_record_id: int | None
    new_cluster: Hashable | None
    probability: float
    explanation: list[dict[str, Any]] = field(default_factory=list)

    @property
    def attaches(self) -> bool:
        return self.golden_record_id is not None


def identity_specs(domain: Domain) -> list[IdentitySpec]:
    return [
        IdentitySpec(rule.attribute, strong=rule.strong, scope_by_country=rule.scope_by_country)
        for rule in domain.identity_rules
    ]


def record_keys(domain: Domain, canonical: Mapping[str, Any]) -> dict[str, str]:
    return identity_keys(identity_specs(domain), canonical)


def match_new_records(
    domain: Domain,
    records: Sequence[Mapping[str, Any]],
    *,
    exclude_golden: Iterable[int] = (),
    keys_per_record: Sequence[Mapping[str, str]] | None = None,
) -> list[MatchDecision]:
    """Decide, in order, where each canonical record belongs.

    Records are placed one after another, so a record may join a cluster started by
    an earlier record of the same batch: the result equals that of single upserts.
    """
    specs = identity_specs(domain)
    if keys_per_record is None:
        keys_per_record = [identity_keys(specs, canonical) for canonical in records]
    wanted = {key for keys in keys_per_record for key in keys.values()}
    lock_identity_keys(domain, wanted)
    excluded = set(exclude_golden)
    candidate_keys = _keys_on_file(domain, wanted)
    candidates = {golden for _, golden in candidate_keys} - excluded
    # Everything the candidate clusters carry, for the strong-identifier veto.
    known = [(key, golden) for key, golden in _cluster_keys(candidates)]
    resolver = DeterministicResolver(
        specs=specs, known=known, order={golden: golden for golden in candidates}
    )
    decisions = []
    for keys in keys_per_record:
        placement = resolver.place(keys)
        explanation = [
            {"attribute": attribute, "rule": "same canonical value", "weight": None}
            for attribute in placement.matched_on
        ]
        if placement.is_new:
            decisions.append(MatchDecision(None, placement.cluster, 0.0, explanation))
        elif isinstance(placement.cluster, tuple):
            decisions.append(MatchDecision(None, placement.cluster, 1.0, explanation))
        else:
            decisions.append(MatchDecision(placement.cluster, None, 1.0, explanation))
    return decisions


def lock_identity_keys(domain: Domain, keys: Iterable[str]) -> None:
    """Serialise writers that could match the same identifiers (PostgreSQL).

    Two transactions upserting records that share a tax ID must not both see "no
    candidate" and both create a golden record. Each takes a transaction-scoped
    advisory lock per identity key, in one sorted order (no deadlocks), before it
    looks for candidates; the second then sees the first one's committed record.
    Keys are hashed into a bounded number of lock slots to cap the locks a large
    batch holds. SQLite needs nothing: its writers are serialised already.
    """
    if connection.vendor != "postgresql":
        return
    slots = sorted({_lock_slot(domain.name, key) for key in keys})
    if not slots:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_advisory_xact_lock(%s, slot)) FROM unnest(%s::integer[]) AS slot",
            [IDENTITY_LOCK_CLASS, slots],
        )


def _lock_slot(domain: str, key: str) -> int:
    digest = hashlib.blake2b(f"{domain}|{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % IDENTITY_LOCK_SLOTS


def replace_keys(
    domain: Domain,
    source_records: Sequence[SourceRecord],
    keys_per_record: Sequence[Mapping[str, str]],
) -> None:
    """Rewrite the index rows of ``source_records`` from their identity keys (retired
    records get none)."""
    drop_keys(record.pk for record in source_records)
    live = [
        (record, keys)
        for record, keys in zip(source_records, keys_per_record, strict=True)
        if not record.retired
    ]
    index_new_records(domain, [record for record, _ in live], [keys for _, keys in live])


def index_new_records(
    domain: Domain,
    source_records: Sequence[SourceRecord],
    keys_per_record: Sequence[Mapping[str, str]] | None = None,
) -> None:
    """Add the index rows of records that have none yet (``keys_per_record``: their
    identity keys when already known)."""
    if keys_per_record is None:
        specs = identity_specs(domain)
        keys_per_record = [identity_keys(specs, record.canonical) for record in source_records]
    insert_values(
        MatchKey,
        KEY_FIELDS,
        [
            (domain.name, key, record.pk)
            for record, keys in zip(source_records, keys_per_record, strict=True)
            for key in sorted(set(keys.values()))
        ],
    )


def drop_keys(source_record_ids: Iterable[int]) -> None:
    for chunk in _chunks(list(source_record_ids)):
        MatchKey.objects.filter(source_record_id__in=chunk).delete()


def _keys_on_file(domain: Domain, keys: set[str]) -> list[tuple[str, int]]:
    """(key, golden record id) of the live source records that carry one of ``keys``."""
    return _key_query(
        "mk.domain = %s AND mk.key {match} AND sr.golden_record_id IS NOT NULL",
        [domain.name],
        sorted(keys),
    )


def _cluster_keys(golden_ids: set[int]) -> list[tuple[str, int]]:
    """(key, golden record id) of every live source record of ``golden_ids``."""
    return _key_query("sr.golden_record_id {match}", [], sorted(golden_ids))


def _key_query(condition: str, params: list, values: list) -> list[tuple[str, int]]:
    """One query with an array parameter on PostgreSQL (cheap to plan whatever the
    number of values); chunks of an IN list elsewhere."""
    if not values:
        return []
    key_table = MatchKey._meta.db_table
    record_table = SourceRecord._meta.db_table
    sql = (
        f"SELECT mk.key, sr.golden_record_id FROM {key_table} mk "
        f"JOIN {record_table} sr ON sr.id = mk.source_record_id "
        f"WHERE NOT sr.retired AND {condition}"
    )
    found: list[tuple[str, int]] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(sql.format(match="= ANY(%s)"), [*params, values])
            found.extend(cursor.fetchall())
        else:
            for chunk in _chunks(values):
                match = "IN (" + ", ".join(["%s"] * len(chunk)) + ")"
                cursor.execute(sql.format(match=match), [*params, *chunk])
                found.extend(cursor.fetchall())
    return [(key, golden_id) for key, golden_id in found]


def _chunks(items: list, size: int = SQL_IN_CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]
