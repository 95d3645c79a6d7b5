"""Retire a source record: the source system no longer has it."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from matching import services as matching

from ..models import GoldenRecord, SourceRecord
from ._clusters import apply_survivorship, live_members, lock_golden_records, overrides_of
from ._journal import Change
from .errors import RetireError


def retire_source_record(
    *, source_record: SourceRecord, acting_user=None, actor_label: str = "", reason: str = ""
) -> GoldenRecord:
    """Take ``source_record`` out of its golden record, which is recomputed, or retired
    when nothing is left in it. Returns the golden record it belonged to."""
    with transaction.atomic():
        record = (
            SourceRecord.objects.select_for_update(of=("self",))
            .select_related("system")
            .get(pk=source_record.pk)
        )
        if record.retired:
            raise RetireError(f"{record} is already retired")
        golden = lock_golden_records([record.golden_record_id])[record.golden_record_id]
        change = Change(
            action="retire", acting_user=acting_user, actor_label=actor_label, reason=reason
        )
        change.remember(golden, live_members([golden.pk]).get(golden.pk, []))

        record.retired = True
        record.retired_at = timezone.now()
        record.save(update_fields=["retired", "retired_at", "updated_at"])
        matching.drop_keys([record.pk])

        remaining = live_members([golden.pk]).get(golden.pk, [])
        if not remaining:
            golden.status = GoldenRecord.Status.RETIRED
        apply_survivorship(golden, remaining, overrides_of([golden.pk]).get(golden.pk))
        change.finish({golden.pk: (golden, remaining)})
    source_record.refresh_from_db()
    return golden
