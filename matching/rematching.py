"""Re-run matching over a whole domain with the current parameters and thresholds.

:func:`plan` clusters every live source record again, in id order (the order they
arrived), with the same placement as upserts and imports, honouring not-a-match
decisions and steward merges from the review queue, and compares the result with
the golden records on file: which golden records would merge, which would split,
and which pairs would enter the review queue. :func:`apply` carries a plan out
through the golden-record services. Steward decisions win: a golden record that a
steward merged is never split, and golden records a steward split apart are never
merged again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from golden.domains import Domain
from golden.models import GoldenRecord, JournalEntry, SourceRecord
from golden.services.merge import merge_golden_records
from golden.services.split import split_source_records

from . import reviews, services
from .engine.deterministic import DeterministicResolver
from .engine.linking import Linker, pairs_from_keys
from .engine.scoring import Model
from .models import ReviewItem


@dataclass
class Plan:
    domain: Domain
    records: int = 0
    # Golden records that would become one (the oldest survives), and the source
    # records of the cluster that brings them together.
    merges: list[tuple[list[int], list[int]]] = field(default_factory=list)
    # A golden record whose members would part: the groups of source record ids;
    # the first group keeps the golden record.
    splits: list[tuple[int, list[list[int]]]] = field(default_factory=list)
    kept_merged: list[int] = field(default_factory=list)  # would split; a steward merged it
    kept_apart: list[tuple[int, list[int]]] = field(default_factory=list)  # steward split
    reviews: list[tuple[int, int, float, list[dict[str, Any]]]] = field(default_factory=list)

    @property
    def changes(self) -> int:
        return len(self.merges) + len(self.splits) + len(self.reviews)


def plan(domain: Domain, model: Model) -> Plan:
    rows = list(
        SourceRecord.objects.filter(domain=domain.name, retired=False)
        .order_by("pk")
        .values_list("pk", "golden_record_id", "canonical", "system_id")
    )
    result = Plan(domain=domain, records=len(rows))
    if not rows:
        return result
    ids = [pk for pk, *_ in rows]
    golden_of = {pk: golden for pk, golden, *_ in rows}
    keys = services.record_keys_many(domain, [canonical for _, _, canonical, _ in rows])
    linker = Linker(
        model,
        [k.features for k in keys],
        pairs_from_keys(
            [k.blocking for k in keys],
            first_new=0,
            max_block=domain.matching.max_block,
            window=domain.matching.window,
        ),
        member_ids=ids,
        **services.once_only_groups(domain, [system for *_, system in rows]),
    )
    resolver = DeterministicResolver(specs=services.identity_specs(domain))
    vetoed = reviews.all_vetoes(domain, model)
    forced = reviews.forced_links(domain)
    decisions = services.place_in_order(
        resolver,
        linker,
        0,
        keys,
        vetoed=[vetoed.get(pk, ()) for pk in ids],
        forced=[forced.get(pk, ()) for pk in ids],
    )
    cluster_of = {ids[index]: cluster for index, cluster in linker.cluster_of.items()}

    goldens_of_cluster: dict[Hashable, set[int]] = defaultdict(set)
    clusters_of_golden: dict[int, dict[Hashable, list[int]]] = defaultdict(dict)
    for pk in ids:
        cluster = cluster_of[pk]
        goldens_of_cluster[cluster].add(golden_of[pk])
        clusters_of_golden[golden_of[pk]].setdefault(cluster, []).append(pk)

    steward_merged, steward_split = _steward_actions({golden for golden in golden_of.values()})
    for golden, parts in sorted(clusters_of_golden.items()):
        if len(parts) < 2:
            continue
        if golden in steward_merged:
            result.kept_merged.append(golden)
            continue
        groups = sorted(parts.values(), key=lambda members: (-len(members), members[0]))
        result.splits.append((golden, groups))
    members_of_cluster: dict[Hashable, list[int]] = defaultdict(list)
    for pk in ids:
        members_of_cluster[cluster_of[pk]].append(pk)
    for cluster, goldens in goldens_of_cluster.items():
        if len(goldens) < 2:
            continue
        ordered = sorted(goldens)
        if any(golden in steward_split for golden in ordered):
            result.kept_apart.append((ordered[0], ordered[1:]))
            continue
        result.merges.append((ordered, members_of_cluster[cluster]))

    # Pairs already waiting for a steward or merged by one; binding not-a-match
    # pairs never come up (they veto), changed ones are offered again.
    pending = set(
        ReviewItem.objects.filter(domain=domain.name)
        .exclude(status=ReviewItem.Status.NOT_A_MATCH)
        .values_list("record_a_id", "record_b_id")
    )
    seen = set()
    for index, decision in enumerate(decisions):
        record = ids[index]
        for member, probability, explanation in decision.review:
            pair = (min(record, member), max(record, member))
            if pair in pending or pair in seen or cluster_of[record] == cluster_of[member]:
                continue
            seen.add(pair)
            result.reviews.append((record, member, probability, explanation))
    return result


def apply(result: Plan, model: Model, *, acting_user=None, actor_label: str = "rematch") -> None:
    """Carry out ``result``: splits, then merges, then review items, each in its own
    transaction (a failure leaves every earlier step done and consistent)."""
    reason = "rematch with the current parameters"
    for golden_id, groups in result.splits:
        golden = GoldenRecord.objects.get(pk=golden_id)
        for group in groups[1:]:
            split_source_records(
                golden=golden,
                source_records=SourceRecord.objects.filter(pk__in=group),
                acting_user=acting_user,
                actor_label=actor_label,
                reason=reason,
            )
    for _, records in result.merges:
        # The golden records that hold the cluster's records now (after the splits).
        goldens = sorted(
            set(SourceRecord.objects.filter(pk__in=records).values_list("golden_record", flat=True))
        )
        survivor = GoldenRecord.objects.get(pk=goldens[0])
        for other_id in goldens[1:]:
            merge_golden_records(
                survivor=survivor,
                merged=GoldenRecord.objects.get(pk=other_id),
                acting_user=acting_user,
                actor_label=actor_label,
                reason=reason,
            )
    with transaction.atomic():
        reviews.queue(result.domain, model, result.reviews)


def _steward_actions(goldens: set[int]) -> tuple[set[int], set[int]]:
    """Golden records a person merged into or split, from the journal."""
    merged, split = set(), set()
    entries = JournalEntry.objects.filter(
        action__in=[JournalEntry.Action.MERGE, JournalEntry.Action.SPLIT]
    ).exclude(actor_label="rematch")
    for golden_id, action in entries.values_list("golden_record_id", "action"):
        if golden_id in goldens:
            (merged if action == JournalEntry.Action.MERGE else split).add(golden_id)
    return merged, split
