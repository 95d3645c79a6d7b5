"""Split source records out of a golden record; unmerge is a split that restores."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from .. import global_ids
from ..domains import get_domain
from ..models import GoldenRecord, SourceRecord
from ._clusters import apply_survivorship, live_members, lock_golden_records, overrides_of
from ._journal import Change
from .errors import SplitError


def split_source_records(
    *,
    golden: GoldenRecord,
    source_records: Iterable[SourceRecord],
    acting_user=None,
    actor_label: str = "",
    reason: str = "",
) -> GoldenRecord:
    """Move ``source_records`` out of ``golden`` into a golden record of their own.

    When exactly these records were once merged into ``golden`` (directly or through
    a chain of merges) the golden record they came from is reactivated with its
    original global ID; otherwise a new global ID is allocated. Returns the golden
    record that now holds them.
    """
    wanted = sorted({record.pk for record in source_records})
    if not wanted:
        raise SplitError("choose at least one source record to split out")
    with transaction.atomic():
        golden = lock_golden_records([golden.pk])[golden.pk]
        if not golden.is_active:
            raise SplitError(f"{golden.global_id} is retired")
        members = live_members([golden.pk]).get(golden.pk, [])
        member_ids = {record.pk for record in members}
        outside = [pk for pk in wanted if pk not in member_ids]
        if outside:
            raise SplitError(
                f"source record(s) {outside} are not live members of {golden.global_id}"
            )
        if len(wanted) == len(member_ids):
            raise SplitError(
                f"splitting out every source record would leave {golden.global_id} empty"
            )

        restored = _restorable(golden, set(wanted), member_ids)
        change = Change(
            action="split", acting_user=acting_user, actor_label=actor_label, reason=reason
        )
        change.remember(golden, members)
        if restored is not None:
            restored = lock_golden_records([restored.pk])[restored.pk]
            change.remember(restored, [])
            restored.status = GoldenRecord.Status.ACTIVE
            restored.merged_into = None
            restored.merged_members = []
            target = restored
        else:
            domain = get_domain(golden.domain)
            (serial,) = global_ids.allocate_serials(domain.name, 1)
            target = GoldenRecord.objects.create(
                global_id=global_ids.format_global_id(domain.id_prefix, serial),
                domain=domain.name,
            )
            change.created(target)

        SourceRecord.objects.filter(pk__in=wanted).update(golden_record=target)
        moved = [record for record in members if record.pk in set(wanted)]
        staying = [record for record in members if record.pk not in set(wanted)]
        overrides = overrides_of([golden.pk, target.pk])
        apply_survivorship(golden, staying, overrides.get(golden.pk))
        apply_survivorship(target, moved, overrides.get(target.pk))
        change.finish({golden.pk: (golden, staying), target.pk: (target, moved)})
    return target


def unmerge_golden_record(
    *, merged: GoldenRecord, acting_user=None, actor_label: str = "", reason: str = ""
) -> GoldenRecord:
    """Undo the merge of ``merged``: its source records that are still live members of
    its survivor go back to it, under its original global ID."""
    merged.refresh_from_db()
    if merged.is_active or merged.merged_into_id is None:
        raise SplitError(f"{merged.global_id} was not merged into another record")
    survivor = merged
    seen = {merged.pk}
    while survivor.merged_into_id is not None:
        survivor = survivor.merged_into
        if survivor.pk in seen:
            raise SplitError(f"the merge chain of {merged.global_id} loops")
        seen.add(survivor.pk)
    members = {record.pk for record in live_members([survivor.pk]).get(survivor.pk, [])}
    returning = [pk for pk in merged.merged_members if pk in members]
    if not returning:
        raise SplitError(
            f"none of the source records of {merged.global_id} are still in {survivor.global_id}"
        )
    return split_source_records(
        golden=survivor,
        source_records=SourceRecord.objects.filter(pk__in=returning),
        acting_user=acting_user,
        actor_label=actor_label,
        reason=reason,
    )


def _restorable(
    golden: GoldenRecord, wanted: set[int], member_ids: set[int]
) -> GoldenRecord | None:
    """The retired record, merged (transitively) into ``golden``, whose members that are
    still here are exactly ``wanted``."""
    frontier = [golden.pk]
    seen = set(frontier)
    while frontier:
        children = list(GoldenRecord.objects.filter(merged_into_id__in=frontier).order_by("-pk"))
        frontier = []
        for child in children:
            if child.pk in seen:
                continue
            seen.add(child.pk)
            frontier.append(child.pk)
            if {pk for pk in child.merged_members if pk in member_ids} == wanted:
                return child
    return None
