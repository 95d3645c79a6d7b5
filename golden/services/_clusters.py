"""Loading clusters, applying survivorship and taking snapshots (service internals)."""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable

from django.db import connection
from django.db.models import Field, ForeignObject, Lookup, QuerySet

from .. import survivorship
from ..bulk import array_param, chunks
from ..domains import get_domain
from ..models import AttributeOverride, GoldenRecord, SourceRecord, SourceSystem


class AnyOf(Lookup):
    """``column = ANY(%s)`` with one array parameter (PostgreSQL only): one query
    however many values, and cheap to plan, unlike an IN list of thousands."""

    lookup_name = "any_of"
    prepare_rhs = False

    def get_db_prep_lookup(self, value, connection):
        return "%s", [array_param(value)]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs})", [*lhs_params, *rhs_params]


Field.register_lookup(AnyOf)
ForeignObject.register_lookup(AnyOf)


def in_batches(field: str, values: list):
    """Filter arguments that together select ``field`` in ``values``: one array on
    PostgreSQL, chunks of an IN list elsewhere."""
    if not values:
        return
    if connection.vendor == "postgresql":
        yield {f"{field}__any_of": values}
        return
    for chunk in chunks(values):
        yield {f"{field}__in": chunk}


def lock_golden_records(ids: Iterable[int]) -> dict[int, GoldenRecord]:
    """Lock golden records in primary-key order (no deadlocks) and return them by id."""
    locked: dict[int, GoldenRecord] = {}
    for batch in in_batches("pk", sorted(set(ids))):
        for golden in (
            GoldenRecord.objects.select_for_update()
            .filter(**batch)
            .defer("lineage")  # recomputed by every caller
            .order_by("pk")
        ):
            locked[golden.pk] = golden
    return locked


def live_members(golden_ids: Iterable[int]) -> dict[int, list[SourceRecord]]:
    members: dict[int, list[SourceRecord]] = defaultdict(list)
    systems: dict[int, SourceSystem] = {}
    for batch in in_batches("golden_record_id", sorted(set(golden_ids))):
        queryset: QuerySet[SourceRecord] = (
            SourceRecord.objects.filter(**batch, retired=False)
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
    for batch in in_batches("golden_record_id", sorted(set(golden_ids))):
        for override in AttributeOverride.objects.filter(**batch).select_related("created_by"):
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
