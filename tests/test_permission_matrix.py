"""The permission matrix: roles × restricted fields × every surface a value can leave
by or enter through, and systems × other systems' records. Every cell is asserted;
every denied write is checked to have changed nothing."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from golden.models import ChangeEvent, GoldenRecord, JournalEntry, SourceRecord
from golden.services import upsert_source_record
from matching.models import ReviewItem

from .test_api_lookup import client_for

ROLES = ["data_steward", "finance", "integration", "auditor", None]
PERSON = {
    "kind": "person",
    "first_name": "Francesco",
    "last_name": "Romano",
    "national_id": "RMNFNC52L26B758P",
    "birth_date": "1952-07-26",
    "country": "IT",
}
SUPPLIER = {
    "legal_name": "Acme Supplies GmbH",
    "country": "DE",
    "bank_iban": "DE89370400440532013000",
    "bank_account_holder": "Acme Holding AG",
}
# (domain, attribute, stored value, a changed value)
FIELDS = [
    ("customer", "national_id", "RMNFNC52L26B758P", "MRTMTT25D09F205Z"),
    ("customer", "birth_date", "1952-07-26", "1952-07-27"),
    ("supplier", "bank_iban", "DE89370400440532013000", "GB82WEST12345698765432"),
    ("supplier", "bank_account_holder", "Acme Holding AG", "Acme Treasury Ltd"),
]
READS = {
    ("data_steward", "customer"): True,
    ("data_steward", "supplier"): True,
    ("finance", "customer"): False,
    ("finance", "supplier"): True,  # finance reads the bank fields
}
WRITERS = {"data_steward", "integration"}
CELLS = [(role, *field) for role in ROLES for field in FIELDS]


def may_read(role, domain) -> bool:
    return READS.get((role, domain), False)


def ids(cell):
    role, domain, attribute, *_ = cell
    return f"{role or 'no-role'}-{domain}-{attribute}"


@pytest.fixture
def records(erp):
    person = upsert_source_record(system=erp, domain="customer", source_key="P1", payload=PERSON)
    supplier = upsert_source_record(
        system=erp, domain="supplier", source_key="S1", payload=SUPPLIER
    )
    return {"customer": person.global_id, "supplier": supplier.global_id}


def state():
    return (
        SourceRecord.objects.count(),
        GoldenRecord.objects.count(),
        ChangeEvent.objects.count(),
        JournalEntry.objects.count(),
        ReviewItem.objects.count(),
        sorted(SourceRecord.objects.values_list("pk", "payload_hash")),
    )


@pytest.mark.parametrize("cell", CELLS, ids=[ids(cell) for cell in CELLS])
def test_reading_surfaces(cell, erp, records):
    role, domain, attribute, value, _ = cell
    client = client_for(erp, role=role)[0]
    sees = may_read(role, domain)

    golden = client.get(f"/api/v1/{domain}/golden/{records[domain]}")
    assert golden.status_code == 200
    assert (attribute in golden.json()["values"]) is sees
    assert (attribute in golden.json()["lineage"]) is sees
    assert (value in golden.content.decode()) is sees

    found = client.get(f"/api/v1/{domain}/golden", {f"attr.{attribute}": value})
    assert found.status_code == (200 if sees else 403)
    if sees:
        assert [item["global_id"] for item in found.json()["results"]] == [records[domain]]
    else:
        assert found.json()["attributes"] == [attribute]
        assert value not in found.content.decode()

    ordered = client.get(f"/api/v1/{domain}/golden", {"ordering": f"-attr.{attribute}"})
    assert ordered.status_code == (200 if sees else 403)

    listed = client.get(f"/api/v1/{domain}/golden", {"q": records[domain]})
    assert listed.status_code == 200
    assert (value in listed.content.decode()) is sees


@pytest.mark.parametrize("cell", CELLS, ids=[ids(cell) for cell in CELLS])
def test_the_change_feed_names_a_changed_field_only_to_readers(cell, erp, records):
    role, domain, attribute, _, changed = cell
    client = client_for(erp, role=role)[0]
    cursor = str(ChangeEvent.objects.order_by("-pk").values_list("pk", flat=True).first())
    payload = (PERSON if domain == "customer" else SUPPLIER) | {attribute: changed}
    upsert_source_record(system=erp, domain=domain, source_key="P1" if domain == "customer"
                         else "S1", payload=payload)  # fmt: skip

    events = client.get(f"/api/v1/changes?after={cursor}").json()["events"]

    updates = [event for event in events if event["event_type"] == "golden.updated"]
    assert len(updates) == 1
    assert (attribute in updates[0]["payload"]["changed"]) is may_read(role, domain)
    assert changed not in str(events)


@pytest.mark.parametrize("cell", CELLS, ids=[ids(cell) for cell in CELLS])
def test_writing_a_restricted_field(cell, erp, records):
    role, domain, attribute, _, changed = cell
    client = client_for(erp, role=role)[0]
    key = "P1" if domain == "customer" else "S1"
    payload = (PERSON if domain == "customer" else SUPPLIER) | {attribute: changed}
    before = state()

    response = client.put(f"/api/v1/{domain}/sources/ERP/{key}", payload, format="json")

    if role in WRITERS:
        assert response.status_code == 200
        assert response.json()["outcome"] == "updated"
        assert SourceRecord.objects.get(source_key=key).canonical[attribute] == changed
    else:
        assert response.status_code == 403
        assert response.json()["code"] == "field_forbidden"
        assert attribute in response.json()["attributes"]
        assert state() == before


@pytest.mark.parametrize("role", ROLES, ids=[role or "no-role" for role in ROLES])
def test_the_review_queue_is_for_stewards_and_shows_values_by_policy(role, erp, crm, records):
    upsert_source_record(
        system=crm, domain="customer", source_key="C1",
        payload=PERSON | {"national_id": None, "first_name": "Franco"},
    )  # fmt: skip
    client = client_for(erp, role=role)[0]

    response = client.get("/api/v1/customer/reviews")

    if role == "data_steward":
        assert response.status_code == 200
    else:
        assert response.status_code == 403
        assert response.json()["code"] == "not_a_steward"
        assert "RMNFNC52L26B758P" not in response.content.decode()


@pytest.mark.parametrize("role", ROLES, ids=[role or "no-role" for role in ROLES])
def test_the_admin_shows_restricted_values_by_policy(role, client, django_user_model, records):
    user = django_user_model.objects.create_user("someone", password="pw-someone-1", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_goldenrecord"))
    if role:
        user.groups.add(Group.objects.get(name=role))
    client.force_login(user)
    pages = {
        domain: client.get(
            reverse(
                "admin:golden_goldenrecord_change",
                args=[GoldenRecord.objects.get(global_id=global_id).pk],
            )
        ).content.decode()
        for domain, global_id in records.items()
    }

    for domain, attribute, value, _ in FIELDS:
        assert (value in pages[domain]) is may_read(role, domain), (domain, attribute)


@pytest.mark.parametrize(
    "writer, owner, allowed",
    [("ERP", "ERP", True), ("ERP", "CRM", False), ("CRM", "ERP", False), ("CRM", "CRM", True)],
)
def test_systems_write_only_their_own_records(writer, owner, allowed, erp, crm):
    systems = {"ERP": erp, "CRM": crm}
    upsert_source_record(
        system=systems[owner], domain="customer", source_key="K1",
        payload={"organization_name": "Acme GmbH"},
    )  # fmt: skip
    client = client_for(systems[writer])[0]
    before = state()

    put = client.put(
        f"/api/v1/customer/sources/{owner}/K1", {"organization_name": "Acme AG"}, format="json"
    )
    fresh = client.put(
        f"/api/v1/customer/sources/{owner}/K2", {"organization_name": "Bolt"}, format="json"
    )

    if allowed:
        assert (put.status_code, fresh.status_code) == (200, 201)
        assert client.delete(f"/api/v1/customer/sources/{owner}/K2").status_code == 200
    else:
        assert (put.status_code, fresh.status_code) == (404, 404)
        assert client.delete(f"/api/v1/customer/sources/{owner}/K1").status_code == 404
        assert state() == before
        assert SourceRecord.objects.get(source_key="K1").canonical["organization_name"] == (
            "Acme GmbH"
        )
