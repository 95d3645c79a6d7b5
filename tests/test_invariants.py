"""Property-based test: random sequences of upserts, retirements, merges, splits and
unmerges keep every invariant of the design, and unmerge right after a merge restores
the partition, the values and the global IDs exactly."""

from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from golden.models import GoldenRecord, SourceRecord, SourceSystem
from golden.services import (
    merge_golden_records,
    retire_source_record,
    split_source_records,
    unmerge_golden_record,
    upsert_source_record,
)

from .invariants import assert_invariants, partition

TAX_IDS = ["DE129274202", "DE136695976", "DE111111125", ""]
EMAILS = ["a@x.example", "b@x.example", ""]
NAMES = ["Acme", "Acme GmbH", "Bolt", "Nut & Co"]
KEYS = [f"K{n}" for n in range(8)]


def state():
    values = {
        g.global_id: (g.status, g.values, g.merged_into_id)
        for g in GoldenRecord.objects.order_by("pk")
    }
    return partition(), values


class MasterDataMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.systems = [
            SourceSystem.objects.create(code="ERP", name="ERP", priority={"supplier": 30}),
            SourceSystem.objects.create(code="CRM", name="CRM", priority={"supplier": 10}),
        ]

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    def active(self):
        return list(GoldenRecord.objects.filter(status="active").order_by("pk"))

    @rule(
        system=st.integers(0, 1),
        key=st.sampled_from(KEYS),
        name=st.sampled_from(NAMES),
        tax_id=st.sampled_from(TAX_IDS),
        email=st.sampled_from(EMAILS),
    )
    def upsert(self, system, key, name, tax_id, email):
        payload = {"legal_name": name, "tax_id": tax_id, "email": email, "country": "DE"}
        upsert_source_record(
            system=self.systems[system], domain="supplier", source_key=key, payload=payload
        )

    @precondition(lambda self: SourceRecord.objects.filter(retired=False).exists())
    @rule(pick=st.integers(0, 100))
    def retire(self, pick):
        live = list(SourceRecord.objects.filter(retired=False).order_by("pk"))
        retire_source_record(source_record=live[pick % len(live)])

    @precondition(lambda self: GoldenRecord.objects.filter(status="active").count() >= 2)
    @rule(a=st.integers(0, 100), b=st.integers(0, 100), undo=st.booleans())
    def merge(self, a, b, undo):
        active = self.active()
        survivor = active[a % len(active)]
        merged = active[b % len(active)]
        if survivor.pk == merged.pk:
            return
        before = state()
        merge_golden_records(survivor=survivor, merged=merged)
        assert_invariants()
        if undo:
            restored = unmerge_golden_record(merged=merged)
            assert restored.global_id == merged.global_id
            assert state() == before

    @precondition(lambda self: GoldenRecord.objects.filter(merged_into__isnull=False).exists())
    @rule(pick=st.integers(0, 100))
    def unmerge(self, pick):
        merged = list(GoldenRecord.objects.filter(merged_into__isnull=False).order_by("pk"))
        target = merged[pick % len(merged)]
        survivor = target
        while survivor.merged_into_id:
            survivor = survivor.merged_into
        live = set(survivor.source_records.filter(retired=False).values_list("pk", flat=True))
        returning = {pk for pk in target.merged_members if pk in live}
        if not returning or returning == live:
            return
        restored = unmerge_golden_record(merged=target)
        assert restored.global_id == target.global_id
        assert set(restored.source_records.values_list("pk", flat=True)) >= returning

    @rule(pick=st.integers(0, 100))
    def split(self, pick):
        candidates = [
            g for g in self.active() if g.source_records.filter(retired=False).count() >= 2
        ]
        if not candidates:
            return
        golden = candidates[pick % len(candidates)]
        first = golden.source_records.filter(retired=False).order_by("pk").first()
        split_source_records(golden=golden, source_records=[first])

    @invariant()
    def invariants_hold(self):
        assert_invariants()


MasterDataMachine.TestCase.settings = settings(
    max_examples=50,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def test_random_sequences_keep_the_invariants(db):
    from hypothesis.stateful import run_state_machine_as_test

    run_state_machine_as_test(MasterDataMachine, settings=MasterDataMachine.TestCase.settings)
