"""Merge two golden records of one domain: the survivor keeps its global ID."""

from __future__ import annotations

from django.db import transaction

from ..models import GoldenRecord, SourceRecord
from ._clusters import apply_survivorship, live_members, lock_golden_records, overrides_of
from ._journal import Change
from .errors import MergeError


def merge_golden_records(
    *,
    survivor: GoldenRecord,
    merged: GoldenRecord,
    acting_user=None,
    actor_label: str = "",
    reason: str = "",
) -> GoldenRecord:
    """Move every live source record of ``merged`` into ``survivor`` and retire
    ``merged``, which from then on resolves to ``survivor``.

    ``merged`` remembers its members so that :func:`unmerge_golden_record` can restore
    it with its own global ID. Its steward overrides stay with it (and come back with
    it); the survivor's overrides go on winning.
    """
    if survivor.pk == merged.pk:
        raise MergeError(f"cannot merge {survivor.global_id} into itself")
    with transaction.atomic():
        locked = lock_golden_records([survivor.pk, merged.pk])
        survivor, merged = locked[survivor.pk], locked[merged.pk]
        if survivor.domain != merged.domain:
            raise MergeError(
                f"cannot merge a {merged.domain} ({merged.global_id}) into a "
                f"{survivor.domain} ({survivor.global_id})"
            )
        for golden in (survivor, merged):
            if not golden.is_active:
                raise MergeError(f"{golden.global_id} is retired; only active records merge")
        members = live_members([survivor.pk, merged.pk])
        change = Change(
            action="merge", acting_user=acting_user, actor_label=actor_label, reason=reason
        )
        change.remember(survivor, members.get(survivor.pk, []))
        change.remember(merged, members.get(merged.pk, []))

        moving = members.get(merged.pk, [])
        SourceRecord.objects.filter(pk__in=[record.pk for record in moving]).update(
            golden_record=survivor
        )
        merged.status = GoldenRecord.Status.RETIRED
        merged.merged_into = survivor
        merged.merged_members = [record.pk for record in moving]
        merged.values, merged.lineage = {}, {}

        survivor_members = sorted(members.get(survivor.pk, []) + moving, key=lambda r: r.pk)
        for record in moving:
            record.golden_record = survivor
        apply_survivorship(survivor, survivor_members, overrides_of([survivor.pk]).get(survivor.pk))
        change.finish({survivor.pk: (survivor, survivor_members), merged.pk: (merged, [])})
    return survivor
