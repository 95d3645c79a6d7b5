"""The review queue: doubtful pairs for stewards, and the memory of their decisions.

Matching queues a pair when its probability falls in the review band (or when a
record matched several clusters). A steward then merges the pair or declares it
not a match. A not-a-match is binding while the compared attributes of both
records stay as they were when it was decided (their fingerprints): matching never
puts the two records together, by any path. Once either record changes in a
compared attribute, the pair is scored again and, if still doubtful, offered again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from golden.bulk import SQL_IN_CHUNK
from golden.domains import Domain, get_domain
from golden.models import SourceRecord
from golden.services.errors import ServiceError
from golden.services.merge import merge_golden_records
from golden.services.split import split_source_records

from . import services
from .engine.scoring import Model
from .models import ReviewItem

OFFERED_AGAIN = "offered again: a compared attribute changed since the decision"


class ReviewError(ServiceError):
    pass


def queue(
    domain: Domain,
    model: Model,
    pairs: Iterable[tuple[int, int, float, list[dict[str, Any]]]],
) -> list[ReviewItem]:
    """Add or refresh pending items for (source record, source record, probability,
    explanation). A pending pair gets the new score; a merged pair stays decided; a
    not-a-match pair stays decided unless a compared attribute changed since."""
    wanted: dict[tuple[int, int], tuple[float, list]] = {}
    for a, b, probability, explanation in pairs:
        if a == b:
            continue
        pair = (min(a, b), max(a, b))
        if pair not in wanted or wanted[pair][0] < probability:
            wanted[pair] = (probability, explanation)
    if not wanted:
        return []
    ids = {pk for pair in wanted for pk in pair}
    prints = _fingerprints(model, ids)
    existing = {
        (item.record_a_id, item.record_b_id): item
        for item in _items_of(ids)
        if (item.record_a_id, item.record_b_id) in wanted
    }
    created, changed = [], []
    for (a, b), (probability, explanation) in wanted.items():
        item = existing.get((a, b))
        now = (prints.get(a, ""), prints.get(b, ""))
        if item is None:
            created.append(
                ReviewItem(
                    domain=domain.name,
                    record_a_id=a,
                    record_b_id=b,
                    probability=probability,
                    explanation=explanation,
                    fingerprint_a=now[0],
                    fingerprint_b=now[1],
                )
            )
            continue
        if item.status == ReviewItem.Status.MERGED:
            continue
        if item.status == ReviewItem.Status.NOT_A_MATCH:
            if (item.fingerprint_a, item.fingerprint_b) == now:
                continue
            item.status = ReviewItem.Status.PENDING
            item.note = OFFERED_AGAIN
        item.probability = probability
        item.explanation = explanation
        item.fingerprint_a, item.fingerprint_b = now
        item.updated_at = timezone.now()
        changed.append(item)
    ReviewItem.objects.bulk_create(created)
    ReviewItem.objects.bulk_update(
        changed,
        ["status", "note", "probability", "explanation", "fingerprint_a", "fingerprint_b"]
        + ["updated_at"],
    )
    return created + changed


def vetoes(model: Model, record_ids: Iterable[int]) -> dict[int, set[int]]:
    """record → the records a binding not-a-match keeps it apart from."""
    ids = set(record_ids)
    items = [item for item in _items_of(ids) if item.status == ReviewItem.Status.NOT_A_MATCH]
    return _binding(model, items)


def all_vetoes(domain: Domain, model: Model) -> dict[int, set[int]]:
    items = ReviewItem.objects.filter(domain=domain.name, status=ReviewItem.Status.NOT_A_MATCH)
    return _binding(model, list(items))


def forced_links(domain: Domain) -> dict[int, set[int]]:
    """record → records a steward merged it with through the review queue."""
    links: dict[int, set[int]] = defaultdict(set)
    for a, b in ReviewItem.objects.filter(
        domain=domain.name, status=ReviewItem.Status.MERGED
    ).values_list("record_a_id", "record_b_id"):
        links[a].add(b)
        links[b].add(a)
    return links


def decisions_of(
    model: Model, record_ids: Iterable[int]
) -> tuple[dict[int, set[int]], dict[int, set[int]]]:
    """(:func:`vetoes`, merges) of ``record_ids`` from one read of their review items:
    record → the records a binding not-a-match keeps it apart from, and record → the
    records a steward merged it with (as :func:`forced_links`)."""
    ids = set(record_ids)
    items = _items_of(ids)
    binding = _binding(
        model, [item for item in items if item.status == ReviewItem.Status.NOT_A_MATCH]
    )
    merged: dict[int, set[int]] = defaultdict(set)
    for item in items:
        if item.status == ReviewItem.Status.MERGED:
            merged[item.record_a_id].add(item.record_b_id)
            merged[item.record_b_id].add(item.record_a_id)
    return binding, {pk: merged[pk] for pk in ids if pk in merged}


def offer_changed(domain: Domain, model: Model, records: Sequence[SourceRecord]) -> int:
    """Score again the not-a-match pairs of ``records`` whose compared attributes
    changed; offer the doubtful ones again. Returns how many were offered."""
    ids = {record.pk for record in records}
    items = [item for item in _items_of(ids) if item.status == ReviewItem.Status.NOT_A_MATCH]
    binding = {item.pk for item in _binding_items(model, items)}
    stale = [item for item in items if item.pk not in binding]
    if not stale:
        return 0
    canonical = _canonical({pk for item in stale for pk in (item.record_a_id, item.record_b_id)})
    pairs = []
    for item in stale:
        a, b = canonical.get(item.record_a_id), canonical.get(item.record_b_id)
        if a is None or b is None:
            continue
        score = model.score(model.prepare(a), model.prepare(b))
        if score.probability >= model.thresholds.review:
            explanation = [part.to_json() for part in score.contributions]
            pairs.append((item.record_a_id, item.record_b_id, score.probability, explanation))
    return len(queue(domain, model, pairs))


def decide(
    item: ReviewItem, *, merge: bool, user=None, note: str = "", actor_label: str = ""
) -> ReviewItem:
    """A steward's decision: merge the two records' golden records, or declare the
    pair not a match (then, if matching had put them together meanwhile, the second
    record is split out into a golden record of its own)."""
    with transaction.atomic():
        item = ReviewItem.objects.select_for_update().get(pk=item.pk)
        if item.status != ReviewItem.Status.PENDING:
            raise ReviewError(f"review item {item.pk} is already decided ({item.status})")
        a, b = (
            SourceRecord.objects.select_related("golden_record").get(pk=pk)
            for pk in (item.record_a_id, item.record_b_id)
        )
        for record in (a, b):
            if record.retired:
                raise ReviewError(f"{record} is retired; the pair cannot be decided")
        reason = f"review item {item.pk}" + (f": {note}" if note else "")
        label = actor_label or (f"user:{user}" if user else "")
        if merge:
            if a.golden_record_id != b.golden_record_id:
                survivor, merged = sorted((a.golden_record, b.golden_record), key=lambda g: g.pk)
                merge_golden_records(
                    survivor=survivor,
                    merged=merged,
                    acting_user=user,
                    actor_label=label,
                    reason=reason,
                )
            item.status = ReviewItem.Status.MERGED
        else:
            if a.golden_record_id == b.golden_record_id:
                split_source_records(
                    golden=b.golden_record,
                    source_records=[b],
                    acting_user=user,
                    actor_label=label,
                    reason=reason,
                )
            item.status = ReviewItem.Status.NOT_A_MATCH
        model = services.current_model(get_domain(item.domain))
        prints = _fingerprints(model, {a.pk, b.pk})
        item.fingerprint_a, item.fingerprint_b = prints[a.pk], prints[b.pk]
        item.decided_by = user
        item.decided_at = timezone.now()
        item.note = note
        item.save()
    return item


def _items_of(ids: set[int]) -> list[ReviewItem]:
    found: dict[int, ReviewItem] = {}
    values = sorted(ids)
    for start in range(0, len(values), SQL_IN_CHUNK):
        chunk = values[start : start + SQL_IN_CHUNK]
        for item in ReviewItem.objects.filter(Q(record_a__in=chunk) | Q(record_b__in=chunk)):
            found[item.pk] = item
    return list(found.values())


def _binding_items(model: Model, items: Sequence[ReviewItem]) -> list[ReviewItem]:
    ids = {pk for item in items for pk in (item.record_a_id, item.record_b_id)}
    prints = _fingerprints(model, ids)
    return [
        item
        for item in items
        if (item.fingerprint_a, item.fingerprint_b)
        == (prints.get(item.record_a_id), prints.get(item.record_b_id))
    ]


def _binding(model: Model, items: Sequence[ReviewItem]) -> dict[int, set[int]]:
    result: dict[int, set[int]] = defaultdict(set)
    for item in _binding_items(model, items):
        result[item.record_a_id].add(item.record_b_id)
        result[item.record_b_id].add(item.record_a_id)
    return result


def _canonical(ids: set[int]) -> dict[int, Mapping[str, Any]]:
    found = {}
    values = sorted(ids)
    for start in range(0, len(values), SQL_IN_CHUNK):
        chunk = values[start : start + SQL_IN_CHUNK]
        found.update(SourceRecord.objects.filter(pk__in=chunk).values_list("pk", "canonical"))
    return found


def _fingerprints(model: Model | None, ids: set[int]) -> dict[int, str]:
    return {pk: services.fingerprint(model, values) for pk, values in _canonical(ids).items()}
