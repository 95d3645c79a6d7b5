import pytest

from golden.lookup import resolve_global_id
from golden.models import ChangeEvent, GoldenRecord, JournalEntry, SourceRecord
from golden.services import (
    MergeError,
    Outcome,
    OverrideError,
    SourceInput,
    SplitError,
    merge_golden_records,
    recompute_golden_record,
    remove_attribute_override,
    retire_source_record,
    set_attribute_override,
    split_source_records,
    unmerge_golden_record,
    upsert_source_record,
    upsert_source_records,
)

from .invariants import assert_invariants, partition

ACME = {"organization_name": "Acme GmbH", "country": "DE", "tax_id": "DE129274202"}


def golden(result):
    return GoldenRecord.objects.get(global_id=result.global_id)


def events():
    return list(ChangeEvent.objects.order_by("id").values_list("event_type", "global_id"))


def test_upsert_creates_golden_record_with_xref_journal_and_events(erp):
    result = upsert_source_record(system=erp, domain="customer", source_key="1000", payload=ACME)

    record = golden(result)
    assert result.outcome == Outcome.CREATED
    assert record.global_id.startswith("CUS")
    assert record.values == {
        "country": "DE",
        "kind": "organization",
        "organization_name": "Acme GmbH",
        "tax_id": "DE129274202",
    }
    assert record.display_name == "Acme GmbH"
    assert record.version == 1
    assert events() == [("golden.created", record.global_id), ("xref.added", record.global_id)]
    entry = JournalEntry.objects.get()
    assert entry.before is None
    assert entry.after["xrefs"] == [["ERP", "1000"]]
    assert_invariants()


def test_same_payload_again_changes_nothing_and_publishes_nothing(erp):
    first = upsert_source_record(system=erp, domain="customer", source_key="1000", payload=ACME)
    counts = (ChangeEvent.objects.count(), JournalEntry.objects.count())

    again = upsert_source_record(
        system=erp,
        domain="customer",
        source_key="1000",
        payload=ACME | {"organization_name": "  Acme   GmbH "},  # same once canonical
    )

    assert again.outcome == Outcome.UNCHANGED
    assert again.global_id == first.global_id
    assert (ChangeEvent.objects.count(), JournalEntry.objects.count()) == counts
    assert golden(first).version == 1


def test_two_rows_sharing_a_tax_id_end_as_one_golden_record_with_two_xrefs(erp, crm):
    first = upsert_source_record(system=erp, domain="customer", source_key="1000", payload=ACME)
    second = upsert_source_record(
        system=crm,
        domain="customer",
        source_key="C-7",
        payload={"organization_name": "ACME", "tax_id": "DE 129 274 202", "country": "DEU"},
    )

    assert second.outcome == Outcome.ATTACHED
    assert second.matched_on == ["tax_id"]
    assert second.global_id == first.global_id
    assert partition() == {first.global_id: [("CRM", "C-7"), ("ERP", "1000")]}
    record = golden(first)
    assert record.values["organization_name"] == "Acme GmbH"  # ERP is more trusted
    erp_record = SourceRecord.objects.get(system__code="ERP", source_key="1000")
    assert record.lineage["organization_name"] == {
        "source_record": erp_record.pk,
        "rule": "source_priority",
    }
    assert record.version == 2
    assert_invariants()


def test_a_batch_matches_within_itself_like_single_upserts(erp):
    results = upsert_source_records(
        system=erp,
        domain="supplier",
        records=[
            SourceInput("V1", {"legal_name": "Alpha Ltd", "duns": "150483782"}),
            SourceInput("V2", {"legal_name": "Alpha Limited", "duns": "150-483-782"}),
            SourceInput("V3", {"legal_name": "Beta"}),
        ],
    )

    assert [r.outcome for r in results] == [Outcome.CREATED, Outcome.ATTACHED, Outcome.CREATED]
    assert results[0].global_id == results[1].global_id != results[2].global_id
    assert_invariants()


def test_different_tax_ids_are_never_linked_by_a_shared_email(erp):
    a = upsert_source_record(
        system=erp,
        domain="supplier",
        source_key="A",
        payload={"legal_name": "A GmbH", "tax_id": "DE129274202", "email": "info@shared.example"},
    )
    b = upsert_source_record(
        system=erp,
        domain="supplier",
        source_key="B",
        payload={"legal_name": "B GmbH", "tax_id": "DE136695976", "email": "info@shared.example"},
    )

    assert a.global_id != b.global_id


def test_invalid_optional_value_is_stored_raw_and_left_out(erp):
    result = upsert_source_record(
        system=erp,
        domain="supplier",
        source_key="V9",
        payload={"legal_name": "Gamma", "bank_iban": "DE00 1234"},
    )

    record = SourceRecord.objects.get(source_key="V9")
    assert record.raw_payload["bank_iban"] == "DE00 1234"
    assert "bank_iban" not in record.canonical
    assert record.quality_issues[0]["attribute"] == "bank_iban"
    assert "bank_iban" not in golden(result).values


def test_rejected_record_writes_nothing(erp):
    result = upsert_source_record(
        system=erp, domain="customer", source_key="X", payload={"email": "a@b.example"}
    )

    assert result.outcome == Outcome.REJECTED
    assert "no identifying attribute" in result.reason
    assert not SourceRecord.objects.exists() and not ChangeEvent.objects.exists()


def test_update_recomputes_and_publishes_changed_attributes(erp):
    first = upsert_source_record(system=erp, domain="customer", source_key="1", payload=ACME)

    second = upsert_source_record(
        system=erp, domain="customer", source_key="1", payload=ACME | {"city": "Köln"}
    )

    assert second.outcome == Outcome.UPDATED
    assert golden(first).values["city"] == "Köln"
    update = ChangeEvent.objects.filter(event_type="golden.updated").get()
    assert update.payload == {"global_id": first.global_id, "version": 2, "changed": ["city"]}


def test_retire_recomputes_then_retires_an_emptied_golden_record(erp, crm):
    first = upsert_source_record(system=erp, domain="customer", source_key="1", payload=ACME)
    upsert_source_record(
        system=crm, domain="customer", source_key="2", payload=ACME | {"city": "Bonn"}
    )
    record = golden(first)

    retire_source_record(source_record=SourceRecord.objects.get(source_key="2"))
    assert "city" not in golden(first).values
    retire_source_record(source_record=SourceRecord.objects.get(source_key="1"))

    record.refresh_from_db()
    assert record.status == "retired" and record.merged_into is None
    assert events()[-2:] == [
        ("xref.removed", record.global_id),
        ("golden.retired", record.global_id),
    ]
    assert_invariants()

    # The source system sends it again: it comes back under the same global ID.
    again = upsert_source_record(system=erp, domain="customer", source_key="1", payload=ACME)
    assert again.global_id == record.global_id
    assert golden(again).status == "active"
    assert_invariants()


def _two_customers(erp, crm):
    a = upsert_source_record(system=erp, domain="customer", source_key="1", payload=ACME)
    b = upsert_source_record(
        system=crm,
        domain="customer",
        source_key="9",
        payload={"organization_name": "ACME Gesellschaft", "city": "Berlin"},
    )
    return golden(a), golden(b)


def test_merge_moves_xrefs_and_the_old_id_redirects(erp, crm):
    survivor, merged = _two_customers(erp, crm)

    merge_golden_records(survivor=survivor, merged=merged, reason="same company")

    merged.refresh_from_db()
    assert merged.status == "retired" and merged.merged_into_id == survivor.pk
    resolution = resolve_global_id(merged.global_id.lower())
    assert resolution.golden == survivor
    assert resolution.chain == [merged.global_id, survivor.global_id]
    assert partition() == {survivor.global_id: [("CRM", "9"), ("ERP", "1")]}
    merge_events = ChangeEvent.objects.filter(
        operation=ChangeEvent.objects.latest("id").operation
    ).order_by("id")
    assert [(e.event_type, e.payload) for e in merge_events] == [
        (
            "xref.moved",
            {
                "system": "CRM",
                "source_key": "9",
                "global_id": survivor.global_id,
                "from_global_id": merged.global_id,
            },
        ),
        (
            "golden.merged",
            {"global_id": merged.global_id, "version": 2, "survivor": survivor.global_id},
        ),
    ]
    assert_invariants()


def test_unmerge_restores_partition_values_and_ids_exactly(erp, crm):
    survivor, merged = _two_customers(erp, crm)
    before = (partition(), golden_values())

    merge_golden_records(survivor=survivor, merged=merged)
    restored = unmerge_golden_record(merged=merged)

    assert restored.global_id == merged.global_id
    assert (partition(), golden_values()) == before
    assert_invariants()


def test_unmerge_after_a_chain_of_merges(erp, crm, legacy):
    a, b = _two_customers(erp, crm)
    c = golden(
        upsert_source_record(
            system=legacy, domain="customer", source_key="L1", payload={"last_name": "Smith"}
        )
    )
    before = partition()

    merge_golden_records(survivor=b, merged=a)
    merge_golden_records(survivor=c, merged=b)
    assert resolve_global_id(a.global_id).chain == [a.global_id, b.global_id, c.global_id]
    unmerge_golden_record(merged=a)
    unmerge_golden_record(merged=b)

    assert partition() == before
    assert_invariants()


def test_split_without_history_gets_a_new_id(erp, crm):
    first = upsert_source_record(system=erp, domain="customer", source_key="1", payload=ACME)
    upsert_source_record(system=crm, domain="customer", source_key="2", payload=ACME)
    record = golden(first)

    moved_to = split_source_records(
        golden=record, source_records=SourceRecord.objects.filter(source_key="2"), reason="wrong"
    )

    assert moved_to.global_id not in (record.global_id,)
    assert partition() == {record.global_id: [("ERP", "1")], moved_to.global_id: [("CRM", "2")]}
    assert_invariants()


def test_split_refuses_to_empty_a_record_and_merge_refuses_nonsense(erp, crm):
    a, b = _two_customers(erp, crm)

    with pytest.raises(SplitError, match="empty"):
        split_source_records(golden=a, source_records=a.source_records.all())
    with pytest.raises(MergeError, match="itself"):
        merge_golden_records(survivor=a, merged=a)
    merge_golden_records(survivor=a, merged=b)
    with pytest.raises(MergeError, match="retired"):
        merge_golden_records(survivor=a, merged=b)


def test_override_wins_until_removed(erp, django_user_model):
    steward = django_user_model.objects.create(username="steward")
    record = golden(
        upsert_source_record(
            system=erp, domain="customer", source_key="1", payload=ACME | {"city": "Köln"}
        )
    )

    set_attribute_override(
        golden=record,
        attribute="city",
        value="Cologne",
        reason="customer asked",
        acting_user=steward,
    )
    record.refresh_from_db()
    assert record.values["city"] == "Cologne"
    assert record.lineage["city"] == {
        "rule": "override",
        "reason": "customer asked",
        "by": "steward",
    }

    upsert_source_record(
        system=erp, domain="customer", source_key="1", payload=ACME | {"city": "Bonn"}
    )
    record.refresh_from_db()
    assert record.values["city"] == "Cologne"

    remove_attribute_override(golden=record, attribute="city", acting_user=steward)
    record.refresh_from_db()
    assert record.values["city"] == "Bonn"
    assert_invariants()


def test_override_values_are_validated(erp):
    record = golden(
        upsert_source_record(
            system=erp, domain="supplier", source_key="1", payload={"legal_name": "X"}
        )
    )
    with pytest.raises(OverrideError, match="bank_iban"):
        set_attribute_override(golden=record, attribute="bank_iban", value="nope", reason="r")
    with pytest.raises(OverrideError, match="reason"):
        set_attribute_override(golden=record, attribute="trade_name", value="Y", reason=" ")
    with pytest.raises(OverrideError, match="no attribute"):
        set_attribute_override(golden=record, attribute="colour", value="red", reason="r")


def test_recompute_after_priority_change(erp, crm):
    a = upsert_source_record(
        system=erp, domain="customer", source_key="1", payload=ACME | {"city": "Köln"}
    )
    upsert_source_record(
        system=crm, domain="customer", source_key="2", payload=ACME | {"city": "Bonn"}
    )
    record = golden(a)
    assert record.values["city"] == "Köln"
    assert recompute_golden_record(golden=record) is False

    crm.priority = {"customer": 99}
    crm.save()
    assert recompute_golden_record(golden=record) is True

    record.refresh_from_db()
    assert record.values["city"] == "Bonn"
    assert record.lineage["city"]["rule"] == "source_priority"


def test_journal_and_outbox_are_append_only(erp):
    upsert_source_record(system=erp, domain="customer", source_key="1", payload=ACME)
    entry, event = JournalEntry.objects.first(), ChangeEvent.objects.first()

    for action in (
        entry.save,
        entry.delete,
        event.save,
        JournalEntry.objects.all().delete,
        lambda: ChangeEvent.objects.update(global_id="x"),
    ):
        with pytest.raises(TypeError, match="append-only"):
            action()


def golden_values():
    return {g.global_id: (g.status, g.values) for g in GoldenRecord.objects.filter(status="active")}


def test_a_source_key_with_a_nul_character_is_rejected(erp):
    from golden.services import Outcome

    result = upsert_source_record(
        system=erp, domain="customer", source_key="10\x0000", payload={"organization_name": "A"}
    )

    assert result.outcome == Outcome.REJECTED
    assert result.reason == "the source key contains a NUL character"
