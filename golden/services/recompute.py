"""Recompute survivorship, e.g. after a source system's priority changed."""

from __future__ import annotations

from django.db import transaction

from ..models import GoldenRecord
from ._clusters import apply_survivorship, live_members, lock_golden_records, overrides_of
from ._journal import Change


def recompute_golden_record(
    *, golden: GoldenRecord, acting_user=None, actor_label: str = "", reason: str = ""
) -> bool:
    """Recompute ``golden`` from its live source records; True when anything changed
    (only then are a journal entry and events written)."""
    with transaction.atomic():
        golden = lock_golden_records([golden.pk])[golden.pk]
        if not golden.is_active:
            return False
        members = live_members([golden.pk]).get(golden.pk, [])
        change = Change(
            action="recompute", acting_user=acting_user, actor_label=actor_label, reason=reason
        )
        change.remember(golden, members)
        apply_survivorship(golden, members, overrides_of([golden.pk]).get(golden.pk))
        return bool(change.finish({golden.pk: (golden, members)}))
