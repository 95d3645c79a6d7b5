"""One place that writes the journal and the outbox for a change (service internals).

A service records the state of every golden record it is about to touch, changes
them, and hands the final states to :meth:`Change.finish`, which bumps versions,
saves the golden records, appends one journal entry per changed record, and derives
the outbox events from the before/after difference, all in the caller's transaction.
"""

from __future__ import annotations

import os
import time
import uuid

from django.db import connection

from ..bulk import bulk_update_rows, insert_values
from ..models import ChangeEvent, GoldenRecord, JournalEntry, SourceRecord
from ._clusters import snapshot

# Any constant will do; it only has to be the same for every writer of the outbox.
OUTBOX_LOCK_ID = 7_306_001

JOURNAL_FIELDS = [
    "operation",
    "action",
    "golden_record",
    "global_id",
    "before",
    "after",
    "actor",
    "actor_label",
    "reason",
]
EVENT_FIELDS = ["event_type", "domain", "global_id", "payload", "operation"]
GOLDEN_FIELDS = [
    "values",
    "lineage",
    "display_name",
    "status",
    "merged_into",
    "merged_members",
    "version",
    "updated_at",
]


class Change:
    def __init__(self, *, action: str, acting_user=None, actor_label: str = "", reason: str = ""):
        self.action = action
        self.acting_user = acting_user if getattr(acting_user, "pk", None) else None
        self.actor_label = actor_label or (
            acting_user.get_username() if self.acting_user is not None else ""
        )
        self.reason = reason
        self.operation = time_ordered_uuid()
        self._before: dict[int, dict | None] = {}

    def remember(self, golden: GoldenRecord, records: list[SourceRecord]) -> None:
        """Keep the state of ``golden`` before this change (first call wins)."""
        if golden.pk not in self._before:
            self._before[golden.pk] = snapshot(golden, records) | {"version": golden.version}

    def created(self, golden: GoldenRecord) -> None:
        self._before[golden.pk] = None

    def finish(
        self,
        states: dict[int, tuple[GoldenRecord, list[SourceRecord]]],
        *,
        inserted: set[int] | frozenset[int] = frozenset(),
    ) -> list[GoldenRecord]:
        """Persist the final ``states`` (pk → record and live members); returns the
        golden records that changed. Records in ``inserted`` were just inserted with
        their final values and are not written again."""
        changed: list[GoldenRecord] = []
        entries: list[tuple] = []
        afters: dict[int, dict] = {}
        for pk in sorted(states):
            golden, records = states[pk]
            before = self._before.get(pk)
            after = snapshot(golden, records)
            if before is not None:
                if after == {k: v for k, v in before.items() if k != "version"}:
                    continue
                golden.version += 1
            after["version"] = golden.version
            afters[pk] = after
            changed.append(golden)
            entries.append(
                (
                    self.operation,
                    self.action,
                    pk,
                    golden.global_id,
                    before,
                    after,
                    self.acting_user.pk if self.acting_user is not None else None,
                    self.actor_label,
                    self.reason,
                )
            )
        if not changed:
            return []
        bulk_update_rows([golden for golden in changed if golden.pk not in inserted], GOLDEN_FIELDS)
        insert_values(JournalEntry, JOURNAL_FIELDS, entries)
        events = self._events(changed, afters)
        if events:
            _lock_outbox()
            insert_values(ChangeEvent, EVENT_FIELDS, events)
        return changed

    def _events(self, changed: list[GoldenRecord], afters: dict[int, dict]) -> list[tuple]:
        domain_of = {golden.pk: golden.domain for golden in changed}
        before_owner: dict[tuple, str] = {}
        after_owner: dict[tuple, str] = {}
        for pk, after in afters.items():
            before = self._before.get(pk)
            for xref in (before or {}).get("xrefs", []):
                before_owner[tuple(xref)] = before["global_id"]
            for xref in after["xrefs"]:
                after_owner[tuple(xref)] = after["global_id"]

        opening: list[tuple] = []
        xrefs: list[tuple] = []
        updates: list[tuple] = []
        closing: list[tuple] = []
        for pk in sorted(afters):
            after, before = afters[pk], self._before.get(pk)
            domain, global_id = domain_of[pk], after["global_id"]
            base = {"global_id": global_id, "version": after["version"]}
            active_now = after["status"] == GoldenRecord.Status.ACTIVE
            if before is None:
                opening.append((ChangeEvent.Type.GOLDEN_CREATED, domain, global_id, base))
            elif before["status"] != after["status"] and active_now:
                opening.append((ChangeEvent.Type.GOLDEN_REACTIVATED, domain, global_id, base))
            elif before["status"] != after["status"]:
                if after["merged_into"]:
                    payload = base | {"survivor": after["merged_into"]}
                    closing.append((ChangeEvent.Type.GOLDEN_MERGED, domain, global_id, payload))
                else:
                    closing.append((ChangeEvent.Type.GOLDEN_RETIRED, domain, global_id, base))
            if before is not None and active_now and before["values"] != after["values"]:
                changed_attributes = sorted(
                    name
                    for name in set(before["values"]) | set(after["values"])
                    if before["values"].get(name) != after["values"].get(name)
                )
                payload = base | {"changed": changed_attributes}
                updates.append((ChangeEvent.Type.GOLDEN_UPDATED, domain, global_id, payload))
            for xref in after["xrefs"]:
                key = tuple(xref)
                previous = before_owner.get(key)
                if previous == global_id:
                    continue
                payload = {"system": key[0], "source_key": key[1], "global_id": global_id}
                if previous is None:
                    xrefs.append((ChangeEvent.Type.XREF_ADDED, domain, global_id, payload))
                else:
                    payload["from_global_id"] = previous
                    xrefs.append((ChangeEvent.Type.XREF_MOVED, domain, global_id, payload))
            for xref in (before or {}).get("xrefs", []):
                key = tuple(xref)
                if key not in after_owner:
                    payload = {"system": key[0], "source_key": key[1], "global_id": global_id}
                    xrefs.append((ChangeEvent.Type.XREF_REMOVED, domain, global_id, payload))
        return [
            (event_type.value, domain, global_id, payload, self.operation)
            for event_type, domain, global_id, payload in opening + xrefs + updates + closing
        ]


def time_ordered_uuid() -> uuid.UUID:
    """A random UUID whose first 48 bits are the time in milliseconds (the layout of
    UUID version 7): operations sort by time and index inserts stay sequential."""
    millis = time.time_ns() // 1_000_000
    random_bits = int.from_bytes(os.urandom(10), "big")
    value = (millis << 80) | (0x7 << 76) | (random_bits & ((1 << 76) - 1))
    value = (value & ~(0xC << 60)) | (0x8 << 60)  # RFC 4122 variant
    return uuid.UUID(int=value)


def _lock_outbox() -> None:
    """Serialise outbox writers until commit so that ids follow commit order."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [OUTBOX_LOCK_ID])
