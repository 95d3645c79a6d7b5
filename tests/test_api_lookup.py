"""The REST API: API keys, ID lookup, registration, change feed, limits."""

import io
import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from api.keys import create_api_key, revoke_api_key
from api.models import ApiKey
from golden.models import ChangeEvent, GoldenRecord, JournalEntry, SourceRecord
from golden.services import merge_golden_records, upsert_source_record

from .payloads import PERSON

ACME = {"organization_name": "Acme GmbH", "tax_id": "DE129274202", "country": "DE"}


def client_for(system, role="integration", **options):
    key, plain = create_api_key(system, role=role, **options)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {plain}")
    return client, key, plain


@pytest.fixture
def erp_client(erp):
    return client_for(erp)[0]


@pytest.fixture
def crm_client(crm):
    return client_for(crm)[0]


@pytest.fixture
def acme(erp, crm):
    first = upsert_source_record(system=erp, domain="customer", source_key="1000", payload=ACME)
    upsert_source_record(
        system=crm, domain="customer", source_key="C-7", payload=ACME | {"city": "Köln"}
    )
    return GoldenRecord.objects.get(global_id=first.global_id)


def state():
    return (
        SourceRecord.objects.count(),
        GoldenRecord.objects.count(),
        ChangeEvent.objects.count(),
        JournalEntry.objects.count(),
    )


# Authentication -----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/health", "/api/v1/schema", "/api/v1/docs"])
def test_only_health_schema_and_docs_answer_anonymously(db, path):
    assert APIClient().get(path).status_code == 200


def test_without_a_key_the_api_answers_401_with_the_scheme(acme):
    response = APIClient().get("/api/v1/customer/xref/ERP/1000")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Api-Key realm="api"'


@pytest.mark.parametrize(
    "header, reason",
    [
        ("Api-Key mdm_00000000_nothing", "invalid API key"),
        ("Api-Key something-else", "malformed API key"),
    ],
)
def test_a_wrong_key_is_refused_with_its_reason(acme, header, reason):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get("/api/v1/customer/xref/ERP/1000")

    assert response.status_code == 401
    assert response.json()["detail"] == reason


def test_revoked_and_expired_keys_stop_working(acme, erp):
    client, key, _ = client_for(erp)
    assert client.get("/api/v1/customer/xref/ERP/1000").status_code == 200

    revoke_api_key(key)
    assert client.get("/api/v1/customer/xref/ERP/1000").json()["detail"] == (
        "this API key is revoked"
    )

    expiring, key, _ = client_for(erp, expires_days=1)
    ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    from api import keys

    keys._cache.clear()
    assert expiring.get("/api/v1/customer/xref/ERP/1000").json()["detail"] == (
        "this API key is expired"
    )


def test_the_x_api_key_header_works_too(acme, erp):
    _, _, plain = client_for(erp)
    response = APIClient().get("/api/v1/customer/xref/ERP/1000", HTTP_X_API_KEY=plain)
    assert response.status_code == 200


def test_create_api_key_prints_a_working_key_once_and_stores_only_its_digest(acme):
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "create_api_key", "erp", "--role", "integration", "--expires", "30", stdout=out, stderr=err
    )

    plain = out.getvalue().strip()
    key = ApiKey.objects.get()
    assert plain.startswith(f"mdm_{key.prefix}_")
    assert plain not in key.digest and len(key.digest) == 64
    assert "cannot be shown again" in err.getvalue()
    assert key.role.name == "integration"
    assert timedelta(days=29) < key.expires_at - timezone.now() <= timedelta(days=30)
    response = APIClient().get("/api/v1/customer/xref/ERP/1000", HTTP_X_API_KEY=plain)
    assert response.status_code == 200


def test_create_api_key_refuses_an_unknown_system_or_role(erp):
    with pytest.raises(CommandError, match="unknown source system 'NOPE'"):
        call_command("create_api_key", "NOPE")
    with pytest.raises(CommandError, match="unknown role 'wizard'"):
        call_command("create_api_key", "ERP", "--role", "wizard")
    assert ApiKey.objects.count() == 0


# Lookup -------------------------------------------------------------------------------


def test_xref_lookup_translates_keys_between_systems(acme, erp_client):
    response = erp_client.get("/api/v1/customer/xref/erp/1000")

    assert response.status_code == 200
    assert response.json() == {
        "global_id": acme.global_id,
        "status": "active",
        "system": "ERP",
        "key": "1000",
        "xrefs": [{"system": "CRM", "key": "C-7"}, {"system": "ERP", "key": "1000"}],
    }


def test_xref_lookup_of_an_unknown_key_or_domain_is_404(acme, erp_client):
    response = erp_client.get("/api/v1/customer/xref/ERP/9999")
    assert response.status_code == 404
    assert response.json() == {
        "detail": "no customer with key '9999' in system ERP",
        "code": "not_found",
    }
    assert erp_client.get("/api/v1/planet/xref/ERP/1000").status_code == 404


def test_golden_by_global_id_typed_loosely(acme, erp_client):
    loose = f"{acme.global_id[:3].lower()}-{acme.global_id[3:]}"

    body = erp_client.get(f"/api/v1/customer/golden/{loose}").json()

    assert body["global_id"] == acme.global_id
    assert body["redirect_chain"] == [acme.global_id]
    assert body["values"]["organization_name"] == "Acme GmbH"
    assert body["values"]["tax_id"] == "DE129274202"
    assert body["xrefs"] == [{"system": "CRM", "key": "C-7"}, {"system": "ERP", "key": "1000"}]


@pytest.mark.parametrize("role, sees", [("integration", False), ("data_steward", True)])
def test_golden_values_pass_the_callers_field_policy(erp, role, sees):
    person = upsert_source_record(system=erp, domain="customer", source_key="P1", payload=PERSON)
    client = client_for(erp, role=role)[0]

    response = client.get(f"/api/v1/customer/golden/{person.global_id}")

    text = response.content.decode()
    assert response.json()["values"]["last_name"] == "Schmidt"
    assert ("RMNFNC52L26B758P" in text) is sees
    assert ("1952-07-26" in text) is sees
    assert ("national_id" in response.json()["lineage"]) is sees


def test_a_write_to_a_field_the_caller_may_not_write_is_403_and_changes_nothing(erp):
    client = client_for(erp, role="auditor")[0]
    before = state()

    response = client.put("/api/v1/customer/sources/ERP/P1", PERSON, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "field_forbidden"
    assert "birth_date" in response.json()["detail"]
    assert "national_id" in response.json()["attributes"]
    assert state() == before


def test_a_merged_away_id_answers_with_its_survivor_and_the_chain(erp, erp_client):
    a = upsert_source_record(
        system=erp, domain="customer", source_key="1", payload={"organization_name": "A"}
    )
    b = upsert_source_record(
        system=erp, domain="customer", source_key="2", payload={"organization_name": "B"}
    )
    survivor = GoldenRecord.objects.get(global_id=a.global_id)
    merge_golden_records(survivor=survivor, merged=GoldenRecord.objects.get(global_id=b.global_id))

    response = erp_client.get(f"/api/v1/customer/golden/{b.global_id}")

    assert response.status_code == 200
    body = response.json()
    assert body["global_id"] == a.global_id
    assert body["requested_id"] == b.global_id
    assert body["redirect_chain"] == [b.global_id, a.global_id]


def test_a_mistyped_id_says_its_check_character_is_wrong(acme, erp_client):
    typo = acme.global_id[:-1] + ("A" if acme.global_id[-1] != "A" else "B")

    response = erp_client.get(f"/api/v1/customer/golden/{typo}")

    assert response.status_code == 400
    assert response.json()["code"] == "check_character"
    never = erp_client.get("/api/v1/customer/golden/CUS999999999" + "X")
    assert never.status_code in {400, 404}


def test_batch_lookup_answers_in_order_with_a_status_per_item(erp, erp_client, acme):
    other = upsert_source_record(
        system=erp, domain="customer", source_key="2000", payload={"organization_name": "Bolt"}
    )
    merge_golden_records(survivor=acme, merged=GoldenRecord.objects.get(global_id=other.global_id))
    body = {
        "keys": [
            {"system": "CRM", "key": "C-7"},
            {"system": "ERP", "key": "nope"},
            {"global_id": other.global_id},
            {"global_id": acme.global_id},
            {"global_id": "CUS-1"},
            {"system": "XYZ", "key": "1"},
        ]
    }

    response = erp_client.post("/api/v1/customer/xref/lookup", body, format="json")

    assert response.status_code == 200
    results = response.json()["results"]
    assert [item["status"] for item in results] == [
        "found",
        "unknown",
        "redirected",
        "found",
        "invalid",
        "unknown",
    ]
    assert results[0]["global_id"] == acme.global_id
    assert results[2]["global_id"] == acme.global_id
    assert results[2]["requested_id"] == other.global_id
    assert {"system": "ERP", "key": "2000"} in results[3]["xrefs"]


def test_batch_lookup_limits_and_bad_items(acme, erp_client, settings):
    settings.MDM_API_MAX_BATCH = 3
    too_many = {"keys": [{"system": "ERP", "key": str(i)} for i in range(4)]}

    response = erp_client.post("/api/v1/customer/xref/lookup", too_many, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "detail": "at most 3 keys per call, this one has 4",
        "code": "batch_too_large",
    }
    bad = erp_client.post(
        "/api/v1/customer/xref/lookup", {"keys": [{"system": "ERP"}]}, format="json"
    )
    assert bad.status_code == 400
    assert (
        erp_client.post("/api/v1/customer/xref/lookup", {"keys": []}, format="json").status_code
        == 400
    )


def test_a_body_over_the_size_limit_is_413(acme, erp_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = {"keys": [{"system": "ERP", "key": "k" * 150} for _ in range(10)]}

    response = erp_client.post("/api/v1/customer/xref/lookup", body, format="json")

    assert response.status_code == 413
    assert response.json()["code"] == "too_large"


def test_idempotency_key_replays_the_first_answer(acme, erp_client):
    body = {"keys": [{"system": "ERP", "key": "1000"}]}
    headers = {"HTTP_IDEMPOTENCY_KEY": "abc-1"}

    first = erp_client.post("/api/v1/customer/xref/lookup", body, format="json", **headers)
    again = erp_client.post("/api/v1/customer/xref/lookup", body, format="json", **headers)
    other = erp_client.post(
        "/api/v1/customer/xref/lookup", {"keys": [{"system": "CRM", "key": "C-7"}]},
        format="json", **headers,
    )  # fmt: skip

    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"


def test_throttling_per_key_answers_429(acme, erp, settings):
    settings.REST_FRAMEWORK = settings.REST_FRAMEWORK | {
        "DEFAULT_THROTTLE_RATES": {"client": "2/minute"}
    }
    from django.core.cache import cache
    from rest_framework.settings import api_settings

    from api.throttling import PerClientThrottle

    cache.clear()
    PerClientThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
    try:
        client = client_for(erp)[0]
        codes = [client.get("/api/v1/customer/xref/ERP/1000").status_code for _ in range(3)]
        other_key = client_for(erp)[0].get("/api/v1/customer/xref/ERP/1000").status_code
    finally:
        PerClientThrottle.THROTTLE_RATES = {"client": "200000/minute"}
        cache.clear()

    assert codes == [200, 200, 429]
    assert other_key == 200


# Registration -------------------------------------------------------------------------


def test_put_registers_a_record_and_returns_its_global_id(erp_client, crm_client):
    response = erp_client.put("/api/v1/customer/sources/ERP/1000", ACME, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["outcome"] == "created"
    golden = GoldenRecord.objects.get(global_id=body["global_id"])
    assert golden.source_records.get().source_key == "1000"

    again = erp_client.put("/api/v1/customer/sources/ERP/1000", ACME, format="json")
    assert again.status_code == 200 and again.json()["outcome"] == "unchanged"

    attached = crm_client.put("/api/v1/customer/sources/CRM/C-7", ACME, format="json")
    assert attached.status_code == 201
    assert attached.json()["outcome"] == "attached"
    assert attached.json()["global_id"] == body["global_id"]
    assert attached.json()["matched_on"] == ["tax_id"]


def test_a_system_may_not_write_another_systems_records(acme, erp_client):
    before = state()

    response = erp_client.put("/api/v1/customer/sources/CRM/C-7", {"city": "Bonn"}, format="json")
    deleted = erp_client.delete("/api/v1/customer/sources/CRM/C-7")

    assert response.status_code == 404 and deleted.status_code == 404
    assert state() == before
    assert SourceRecord.objects.get(source_key="C-7").canonical["city"] == "Köln"


def test_put_refuses_unknown_attributes_and_rejected_records(erp_client):
    unknown = erp_client.put(
        "/api/v1/customer/sources/ERP/1", {"organization_name": "A", "emial": "x"}, format="json"
    )
    nameless = erp_client.put("/api/v1/customer/sources/ERP/1", {"city": "Bonn"}, format="json")

    assert unknown.status_code == 400 and unknown.json()["attributes"] == ["emial"]
    assert nameless.status_code == 400 and nameless.json()["code"] == "rejected"
    assert "no identifying attribute" in nameless.json()["detail"]
    assert SourceRecord.objects.count() == 0


def test_delete_retires_the_record_and_is_idempotent(acme, erp_client):
    response = erp_client.delete("/api/v1/customer/sources/ERP/1000")
    again = erp_client.delete("/api/v1/customer/sources/ERP/1000")

    assert response.status_code == 200 and response.json()["retired"] is True
    assert again.status_code == 200
    assert SourceRecord.objects.get(source_key="1000").retired
    assert erp_client.get("/api/v1/customer/xref/ERP/1000").status_code == 404


# Change feed --------------------------------------------------------------------------


def test_the_change_feed_pages_through_every_event_in_order(acme, erp_client):
    expected = list(ChangeEvent.objects.order_by("pk").values_list("pk", "event_type"))
    seen, cursor = [], "0"
    while True:
        page = erp_client.get(f"/api/v1/changes?after={cursor}&limit=2").json()
        seen += [(int(event["cursor"]), event["event_type"]) for event in page["events"]]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break

    assert seen == expected
    empty = erp_client.get(f"/api/v1/changes?after={cursor}").json()
    assert empty == {"events": [], "next_cursor": cursor, "has_more": False}


@pytest.mark.parametrize(
    "query, code",
    [("after=abc", "bad_cursor"), ("domain=planet", "unknown_domain"), ("limit=0", "bad_limit")],
)
def test_the_change_feed_refuses_bad_parameters(acme, erp_client, query, code):
    response = erp_client.get(f"/api/v1/changes?{query}")
    assert response.status_code == 400
    assert response.json()["code"] == code


def test_the_change_feed_filters_by_domain(acme, erp, erp_client):
    upsert_source_record(system=erp, domain="material", source_key="M1", payload={"name": "Bolt"})

    events = erp_client.get("/api/v1/changes?domain=material").json()["events"]

    assert {event["domain"] for event in events} == {"material"}
    assert [event["event_type"] for event in events] == ["golden.created", "xref.added"]


def test_schema_names_the_id_global_id_everywhere(db):
    schema = json.dumps(APIClient().get("/api/v1/schema", HTTP_ACCEPT="application/json").json())
    assert '"global_id"' in schema
    assert '"globalId"' not in schema and '"gid"' not in schema


def test_a_value_with_a_nul_character_is_a_clear_400(erp_client):
    response = erp_client.put(
        "/api/v1/customer/sources/ERP/1", {"organization_name": "Ac\u0000me"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["detail"] == "'organization_name' contains a NUL character"
    assert SourceRecord.objects.count() == 0


def test_the_short_lookup_path_answers_as_the_full_one(acme, erp_client):
    short = erp_client.get("/api/v1/customer/xref/ERP/1000")
    full = erp_client.get("/api/v1/customer/xref/ERP/1000?format=json")  # DRF's own cycle

    assert short.status_code == full.status_code == 200
    assert short.content == full.content
    assert dict(short.headers) == dict(full.headers)


def test_lookups_the_short_path_does_not_answer_get_the_full_answer(acme, erp_client):
    html = erp_client.get("/api/v1/customer/xref/ERP/1000", HTTP_ACCEPT="text/html")
    assert html.status_code == 406
    wrong_key = APIClient().get("/api/v1/customer/xref/ERP/1000", HTTP_X_API_KEY="mdm_x_y")
    assert wrong_key.status_code == 401
    assert wrong_key.json()["detail"] == "invalid API key"
    assert erp_client.get("/api/v1/customer/xref/ERP/404").json()["code"] == "not_found"


@pytest.mark.parametrize(
    "body", [b'{"keys": [', b'{"keys": [{"system": "ERP", "key": NaN}]}', b"\xff\xfe"]
)
def test_a_body_that_is_not_strict_json_is_a_clear_400(acme, erp_client, body):
    response = erp_client.post(
        "/api/v1/customer/xref/lookup", data=body, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")
