"""Loading clusters, applying survivorship and taking snapshots (service internals)."""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable

from django.db.models import QuerySet

from .. import survivorship
from ..domains import get_domain
from ..models import AttributeOverride, GoldenRecord, SourceRecord, SourceSystem

SQL_IN_CHUNK = 500


def chunks(items: list, size: int = SQL_IN_CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def lock_golden_records(ids: Iterable[int]) -> dict[int, GoldenRecord]:
    """Lock golden records in primary-key order (no deadlocks) and return them by id."""
    locked: dict[int, GoldenRecord] = {}
    for chunk in chunks(sorted(set(ids))):
        for golden in (
            GoldenRecord.objects.select_for_update()
            .filter(pk__in=chunk)
            .defer("lineage")  # recomputed by every caller
            .order_by("pk")
        ):
            locked[golden.pk] = golden
    return locked


def live_members(golden_ids: Iterable[int]) -> dict[int, list[SourceRecord]]:
    members: dict[int, list[SourceRecord]] = defaultdict(list)
    systems: dict[int, SourceSystem] = {}
    for chunk in chunks(sorted(set(golden_ids))):
        queryset: QuerySet[SourceRecord] = (
            SourceRecord.objects.filter(golden_record_id__in=chunk, retired=False)
            .defer("raw_payload", "quality_issues")
            .order_by("pk")
        )
        for record in queryset:
            if record.system_id not in systems:
                systems[record.system_id] = SourceSystem.objects.get(pk=record.system_id)
            record.system = systems[record.system_id]
            members[record.golden_record_id].append(record)
    return members


def overrides_of(golden_ids: Iterable[int]) -> dict[int, dict[str, survivorship.Override]]:
    found: dict[int, dict[str, survivorship.Override]] = defaultdict(dict)
    for chunk in chunks(sorted(set(golden_ids))):
        for override in AttributeOverride.objects.filter(golden_record_id__in=chunk).select_related(
            "created_by"
        ):
            by = override.created_by.get_username() if override.created_by else ""
            found[override.golden_record_id][override.attribute] = survivorship.Override(
                value=override.value, reason=override.reason, by=by
            )
    return found


def apply_survivorship(
    golden: GoldenRecord,
    records: list[SourceRecord],
    overrides: dict[str, survivorship.Override] | None = None,
) -> None:
    """Recompute the golden values and lineage of ``golden`` from its live records."""
    domain = get_domain(golden.domain)
    chains = _rule_chains(domain.name)
    members = [
        survivorship.Member(
            source_record_id=record.pk,
            system=record.system.code,
            source_key=record.source_key,
            priority=record.system.priority_for(domain.name),
            changed_at=record.content_changed_at or record.created_at,
            values=record.canonical,
        )
        for record in records
        if not record.retired
    ]
    result = survivorship.survive(chains, members, overrides)
    golden.values = result.values
    golden.lineage = result.lineage
    golden.display_name = domain.display_name(result.values)[:300]


@functools.cache
def _rule_chains(domain_name: str) -> tuple[survivorship.RuleChain, ...]:
    domain = get_domain(domain_name)
    chains = []
    for attribute in domain.attributes:
        group_name, group = domain.survivorship_group(attribute.name)
        chains.append(
            survivorship.RuleChain(attribute.name, attribute.survivorship, group, group_name)
        )
    return tuple(chains)


def snapshot(golden: GoldenRecord, records: list[SourceRecord]) -> dict:
    """What the journal keeps of a golden record (its version is added by the caller)."""
    merged_into = None
    if golden.merged_into_id:
        merged_into = golden.merged_into.global_id
    return {
        "global_id": golden.global_id,
        "status": golden.status,
        "merged_into": merged_into,
        "values": golden.values,
        "xrefs": sorted([record.system.code, record.source_key] for record in records),
    }
