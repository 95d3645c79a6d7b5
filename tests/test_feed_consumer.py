"""The example consumer follows the change feed over HTTP while records are merged,
split, retired and upserted, and ends with the same key map as the service."""

import sys
import threading
from pathlib import Path

import pytest

from api.keys import create_api_key
from golden.models import GoldenRecord, SourceRecord
from golden.services import (
    merge_golden_records,
    retire_source_record,
    split_source_records,
    unmerge_golden_record,
    upsert_source_record,
)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))
from feed_consumer import Feed, KeyMap  # noqa: E402

# Transactional: the live server reads what the test commits.
pytestmark = pytest.mark.django_db(transaction=True)


def service_map() -> dict[tuple[str, str], str]:
    return {
        (record.system.code, record.source_key): record.golden_record.global_id
        for record in SourceRecord.objects.filter(retired=False).select_related(
            "system", "golden_record"
        )
    }


def test_the_consumer_keeps_its_key_map_equal_to_the_service(live_server, erp, crm, roles):
    _, plain = create_api_key(erp, role="integration")
    feed = Feed(live_server.url, plain)
    keys = KeyMap()
    stop = threading.Event()
    errors: list[BaseException] = []

    def follow():
        try:
            while not stop.is_set():
                feed.catch_up(keys)
                stop.wait(0.02)
        except BaseException as error:  # reported by the test below
            errors.append(error)

    follower = threading.Thread(target=follow, daemon=True)
    follower.start()
    try:
        goldens = []
        for number in range(12):
            system = erp if number % 2 else crm
            result = upsert_source_record(
                system=system,
                domain="customer",
                source_key=f"K{number}",
                payload={"organization_name": f"Firm {number}", "country": "DE"},
            )
            goldens.append(GoldenRecord.objects.get(global_id=result.global_id))
        for survivor, merged in zip(goldens[0:6:2], goldens[1:6:2], strict=True):
            merge_golden_records(survivor=survivor, merged=merged)
        unmerge_golden_record(merged=GoldenRecord.objects.get(pk=goldens[1].pk))
        third = GoldenRecord.objects.get(pk=goldens[2].pk)
        split_source_records(
            golden=third, source_records=list(third.source_records.filter(source_key="K3"))
        )
        retire_source_record(source_record=SourceRecord.objects.get(source_key="K8"))
        upsert_source_record(
            system=erp, domain="customer", source_key="K8",
            payload={"organization_name": "Firm 8", "country": "DE"},
        )  # fmt: skip
        merge_golden_records(
            survivor=GoldenRecord.objects.get(pk=goldens[10].pk),
            merged=GoldenRecord.objects.get(pk=goldens[11].pk),
        )
    finally:
        stop.set()
        follower.join(timeout=30)

    assert not errors, errors
    feed.catch_up(keys)
    assert keys.global_id == service_map()
    assert len(keys.global_id) == 12
