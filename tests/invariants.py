"""Checks of the invariants in the design (shared by several tests)."""

from collections import defaultdict

from golden.global_ids import parse_global_id
from golden.lookup import resolve_global_id
from golden.models import ChangeEvent, GoldenRecord, JournalEntry, SourceRecord
from golden.services._clusters import apply_survivorship, live_members, overrides_of


def assert_invariants() -> None:
    goldens = {golden.pk: golden for golden in GoldenRecord.objects.all()}
    records = list(SourceRecord.objects.select_related("system"))

    # Every live xref belongs to exactly one active golden record of its domain.
    live_by_golden = defaultdict(list)
    for record in records:
        assert record.golden_record_id is not None, f"{record} has no golden record"
        if not record.retired:
            golden = goldens[record.golden_record_id]
            assert golden.is_active, f"{record} points at retired {golden.global_id}"
            assert golden.domain == record.domain
            live_by_golden[golden.pk].append(record)
    keys = [(record.system_id, record.domain, record.source_key) for record in records]
    assert len(keys) == len(set(keys)), "(system, domain, key) is not unique"

    # Active golden records hold at least one live xref; retired ones hold none.
    for golden in goldens.values():
        if golden.is_active:
            assert live_by_golden[golden.pk], f"active {golden.global_id} holds no xref"
            assert golden.merged_into_id is None
        else:
            assert not live_by_golden[golden.pk], f"retired {golden.global_id} holds xrefs"

    # Global IDs are well formed, unique, never reused; retired ones resolve.
    serials = defaultdict(set)
    for golden in goldens.values():
        parsed = parse_global_id(golden.global_id)
        assert parsed.serial not in serials[parsed.prefix], f"{golden.global_id} reused"
        serials[parsed.prefix].add(parsed.serial)
        resolution = resolve_global_id(golden.global_id)
        if golden.merged_into_id is not None:
            assert resolution.redirected
            assert resolution.chain[0] == golden.global_id
            assert resolution.chain[-1] == resolution.golden.global_id

    # Golden values are what survivorship makes of the live members.
    members = live_members([pk for pk, golden in goldens.items() if golden.is_active])
    overrides = overrides_of(members)
    for pk, golden_members in members.items():
        golden = goldens[pk]
        expected = GoldenRecord(domain=golden.domain)
        apply_survivorship(expected, golden_members, overrides.get(pk))
        assert golden.values == expected.values, f"{golden.global_id} values are stale"

    # Every journalled operation published events and every event has its journal.
    journal_ops = set(JournalEntry.objects.values_list("operation", flat=True))
    event_ops = list(ChangeEvent.objects.order_by("id").values_list("operation", flat=True))
    assert journal_ops == set(event_ops)
    # Events of one operation are contiguous (commit order, no interleaving).
    seen, previous = set(), None
    for operation in event_ops:
        if operation != previous:
            assert operation not in seen, "events of one operation are not contiguous"
            seen.add(operation)
            previous = operation


def partition():
    """The current clustering: global ID → sorted live (system, key) pairs."""
    result = defaultdict(list)
    for record in SourceRecord.objects.filter(retired=False).select_related(
        "system", "golden_record"
    ):
        result[record.golden_record.global_id].append((record.system.code, record.source_key))
    return {global_id: sorted(xrefs) for global_id, xrefs in result.items()}
