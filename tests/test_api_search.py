"""Golden record search (GET /api/v1/{domain}/golden) and the match probe
(POST /api/v1/{domain}/match)."""

import dataclasses

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from api.models import IdempotentResponse
from golden.domains import DOMAINS
from golden.models import GoldenRecord, SourceRecord
from golden.services import merge_golden_records, upsert_source_record

from .material_spec import SPEC
from .test_api_lookup import ACME, PERSON, client_for

SEARCH = "/api/v1/customer/golden"

BOLT = {"organization_name": "Bolt AG", "city": "Bonn", "country": "DE", "phone": "+49 228 1234567"}
CRANE = {"organization_name": "Crane Ltd", "city": "Leeds", "country": "GB"}


def put(system, key, payload, domain="customer"):
    result = upsert_source_record(system=system, domain=domain, source_key=key, payload=payload)
    return GoldenRecord.objects.get(global_id=result.global_id)


@pytest.fixture
def customers(erp, crm):
    """Acme (ERP 1000 and CRM C-7, Köln), Bolt (ERP 2000, Bonn), Crane (CRM C-9, Leeds)
    and Anna Schmidt (ERP P1, with a national ID)."""
    acme = put(erp, "1000", ACME | {"city": "Köln"})
    put(crm, "C-7", ACME | {"city": "Köln"})
    bolt = put(erp, "2000", BOLT)
    crane = put(crm, "C-9", CRANE)
    anna = put(erp, "P1", PERSON)
    return {"acme": acme, "bolt": bolt, "crane": crane, "anna": anna}


@pytest.fixture
def erp_client(erp):
    return client_for(erp)[0]


@pytest.fixture
def crm_client(crm):
    return client_for(crm)[0]


@pytest.fixture
def steward_client(erp):
    return client_for(erp, role="data_steward")[0]


def ids(response):
    assert response.status_code == 200, response.json()
    return [item["global_id"] for item in response.json()["results"]]


def names(response):
    assert response.status_code == 200, response.json()
    return [item["display_name"] for item in response.json()["results"]]


# Search -------------------------------------------------------------------------------


def test_search_by_part_of_the_display_name_in_any_case(customers, erp_client):
    response = erp_client.get(SEARCH, {"q": "bOLt"})

    body = response.json()
    assert body["count"] == 1 and body["next_offset"] is None
    (answer,) = body["results"]
    assert answer["global_id"] == customers["bolt"].global_id
    assert answer["display_name"] == "Bolt AG"
    assert answer["values"]["city"] == "Bonn"
    assert answer["xrefs"] == [{"system": "ERP", "key": "2000"}]
    assert answer["requested_id"] == answer["global_id"]
    assert answer["redirect_chain"] == [answer["global_id"]]


def test_search_by_a_loosely_typed_global_id_and_by_a_source_key(customers, erp_client):
    crane = customers["crane"].global_id
    loose = f"{crane[:3].lower()}-{crane[3:]}"

    assert ids(erp_client.get(SEARCH, {"q": loose})) == [crane]
    assert ids(erp_client.get(SEARCH, {"q": "C-7"})) == [customers["acme"].global_id]
    assert ids(erp_client.get(SEARCH, {"q": "C-"})) == []  # keys match exactly


def test_search_by_attribute_values(customers, erp_client):
    assert ids(erp_client.get(SEARCH, {"attr.city": "Köln"})) == [customers["acme"].global_id]
    assert ids(erp_client.get(SEARCH, {"attr.country": "DE", "attr.city": "Bonn"})) == [
        customers["bolt"].global_id
    ]
    # A multi-valued attribute matches on any one of its values.
    assert ids(erp_client.get(SEARCH, {"attr.phone": "+492281234567"})) == [
        customers["bolt"].global_id
    ]
    assert ids(erp_client.get(SEARCH, {"attr.city": "köln"})) == []  # exact values


def test_search_by_status_and_source_system(customers, erp, erp_client):
    merge_golden_records(survivor=customers["acme"], merged=customers["bolt"])

    retired = ids(erp_client.get(SEARCH, {"status": "retired"}))
    from_crm = ids(erp_client.get(SEARCH, {"system": "crm"}))

    assert retired == [customers["bolt"].global_id]
    assert sorted(from_crm) == sorted([customers["acme"].global_id, customers["crane"].global_id])
    unknown = erp_client.get(SEARCH, {"system": "NOPE"})
    assert unknown.status_code == 400
    assert unknown.json() == {"detail": "unknown source system NOPE", "code": "unknown_system"}


def test_ordering_both_ways(customers, erp_client):
    assert names(erp_client.get(SEARCH, {"ordering": "display_name"})) == [
        "Acme GmbH",
        "Anna Schmidt",
        "Bolt AG",
        "Crane Ltd",
    ]
    assert names(erp_client.get(SEARCH, {"ordering": "-display_name"})) == [
        "Crane Ltd",
        "Bolt AG",
        "Anna Schmidt",
        "Acme GmbH",
    ]
    # By a survived value; records without one come last either way.
    assert names(erp_client.get(SEARCH, {"ordering": "attr.city"})) == [
        "Bolt AG",
        "Acme GmbH",
        "Crane Ltd",
        "Anna Schmidt",
    ]
    assert names(erp_client.get(SEARCH, {"ordering": "-attr.city"})) == [
        "Crane Ltd",
        "Acme GmbH",
        "Bolt AG",
        "Anna Schmidt",
    ]
    by_id = ids(erp_client.get(SEARCH, {"ordering": "-global_id"}))
    assert by_id == sorted(by_id, reverse=True)
    assert names(erp_client.get(SEARCH, {"ordering": "attr.country,-display_name"})) == [
        "Bolt AG",
        "Acme GmbH",
        "Crane Ltd",
        "Anna Schmidt",
    ]


def test_paging_with_limit_and_offset(customers, erp_client):
    everything = ids(erp_client.get(SEARCH))

    first = erp_client.get(SEARCH, {"limit": 3}).json()
    second = erp_client.get(SEARCH, {"limit": 3, "offset": first["next_offset"]}).json()

    assert first["count"] == second["count"] == 4
    assert first["next_offset"] == 3 and second["next_offset"] is None
    assert [item["global_id"] for item in first["results"] + second["results"]] == everything
    assert everything == sorted(everything)  # by global ID unless told otherwise
    beyond = erp_client.get(SEARCH, {"offset": 10}).json()
    assert beyond == {"count": 4, "next_offset": None, "results": []}


def test_results_pass_the_callers_field_policy(customers, erp_client, steward_client):
    shown = erp_client.get(SEARCH, {"q": "Schmidt"})
    steward = steward_client.get(SEARCH, {"q": "Schmidt"})

    assert "national_id" not in shown.json()["results"][0]["values"]
    assert "RMNFNC52L26B758P" not in shown.content.decode()
    assert steward.json()["results"][0]["values"]["national_id"] == "RMNFNC52L26B758P"


@pytest.mark.parametrize(
    "query",
    [{"attr.national_id": "RMNFNC52L26B758P"}, {"ordering": "-attr.national_id"}],
    ids=["filter", "ordering"],
)
def test_a_hidden_attribute_is_refused_before_any_query_reads_master_data(
    customers, erp_client, query
):
    erp_client.get(SEARCH)  # the key is checked and cached
    tables = [model._meta.db_table for model in (GoldenRecord, SourceRecord)]

    with CaptureQueriesContext(connection) as queries:
        response = erp_client.get(SEARCH, query)

    assert response.status_code == 403
    assert response.json() == {
        "detail": "you may not filter or order customer records by national_id",
        "code": "field_forbidden",
        "attributes": ["national_id"],
    }
    assert not [q["sql"] for q in queries if any(table in q["sql"] for table in tables)]


def test_the_same_hidden_filter_answers_alike_whether_or_not_a_record_matches(
    customers, erp_client
):
    matching = erp_client.get(SEARCH, {"attr.birth_date": "1952-07-26"})
    other = erp_client.get(SEARCH, {"attr.birth_date": "1999-01-01"})

    assert matching.status_code == other.status_code == 403
    assert matching.json() == other.json()


UNKNOWN = "unknown attribute(s) for customer"


@pytest.mark.parametrize(
    "query, code, detail",
    [
        ({"attr.bank_iban": "x"}, "unknown_attribute", f"{UNKNOWN}: bank_iban"),
        ({"ordering": "attr.colour"}, "unknown_attribute", f"{UNKNOWN}: colour"),
        ({"colour": "red"}, "unknown_parameter", "unknown parameter(s): colour"),
        ({"status": "gone"}, "bad_status", "status must be one of active, retired"),
        ({"limit": "0"}, "bad_limit", "limit must be a whole number from 1 to 500"),
        ({"limit": "ten"}, "bad_limit", "limit must be a whole number from 1 to 500"),
        ({"offset": "-1"}, "bad_offset", "offset must be a whole number below 10^12"),
        ({"offset": "²"}, "bad_offset", "offset must be a whole number below 10^12"),
    ],
)
def test_bad_parameters_are_400(customers, erp_client, settings, query, code, detail):
    settings.MDM_API_MAX_PAGE_SIZE = 500

    response = erp_client.get(SEARCH, query)

    assert response.status_code == 400
    assert response.json()["code"] == code
    assert response.json()["detail"] == detail


def test_a_bad_ordering_says_what_it_accepts(customers, erp_client):
    response = erp_client.get(SEARCH, {"ordering": "values"})

    assert response.status_code == 400
    assert response.json() == {
        "detail": "cannot order by 'values' (use global_id, display_name, updated_at or "
        "attr.<name>, with '-' for descending)",
        "code": "bad_ordering",
    }


def test_a_limit_over_the_page_size_cap_is_400(customers, erp_client, settings):
    settings.MDM_API_MAX_PAGE_SIZE = 3

    response = erp_client.get(SEARCH, {"limit": 4})

    assert response.status_code == 400
    assert response.json() == {
        "detail": "limit 4 is over the largest page of 3 records (MDM_API_MAX_PAGE_SIZE); "
        "page on with offset",
        "code": "bad_limit",
    }
    assert erp_client.get(SEARCH, {"limit": 3}).json()["count"] == 4


def test_a_page_costs_the_same_queries_whatever_its_size(
    erp, erp_client, django_assert_max_num_queries
):
    for i in range(25):
        put(erp, f"K{i:02}", {"organization_name": f"Firma {i:02}", "city": f"Stadt {i:02}"})
    assert GoldenRecord.objects.filter(domain="customer").count() == 25
    erp_client.get(SEARCH)  # the key is checked and cached

    with CaptureQueriesContext(connection) as small:
        two = erp_client.get(SEARCH, {"limit": 2, "q": "Firma"})
    with django_assert_max_num_queries(len(small)), CaptureQueriesContext(connection) as large:
        twenty = erp_client.get(SEARCH, {"limit": 20, "q": "Firma"})

    assert len(two.json()["results"]) == 2
    assert len(twenty.json()["results"]) == 20
    assert twenty.json()["results"][0]["xrefs"] == [{"system": "ERP", "key": "K00"}]
    assert len(large) == len(small) <= 8


# Match probe --------------------------------------------------------------------------

PROBE = "/api/v1/customer/match"


@pytest.fixture
def material_spec(monkeypatch):
    """Material matching with weights that are easy to follow (as in
    test_matching_service): same name alone is doubtful (0.876), same name and
    manufacturer attaches (0.992)."""
    monkeypatch.setitem(
        DOMAINS, "material", dataclasses.replace(DOMAINS["material"], matching=SPEC)
    )


def every_row():
    """Every row of every golden and matching model, to show a probe stores nothing."""
    return {
        model._meta.label: list(model.objects.order_by("pk").values())
        for app in ("golden", "matching")
        for model in apps.get_app_config(app).get_models()
    }


def test_probe_finds_the_record_with_the_same_identifier_and_stores_nothing(customers, crm_client):
    before = every_row()

    response = crm_client.post(
        PROBE,
        {"organization_name": "ACME", "tax_id": "DE 129 274 202", "country": "de"},
        format="json",
    )

    assert response.status_code == 200
    assert response.json() == {
        "decision": "would_attach",
        "candidates": [
            {
                "global_id": customers["acme"].global_id,
                "probability": 1.0,
                "explanation": [
                    {
                        "comparison": "tax_id",
                        "level": "identifier",
                        "description": "same identifier",
                        "weight": None,
                    }
                ],
            }
        ],
        "matched_on": ["tax_id"],
    }
    assert every_row() == before


def test_probe_explanations_pass_the_callers_field_policy(customers, erp, erp_client):
    steward = client_for(erp, role="data_steward")[0]
    probe = {"first_name": "Anna", "last_name": "Schmidt", "national_id": "RMNFNC52L26B758P"}

    shown = erp_client.post(PROBE, probe | {"country": "IT"}, format="json").json()
    full = steward.post(PROBE, probe | {"country": "IT"}, format="json").json()

    assert shown["decision"] == full["decision"] == "would_attach"
    assert full["candidates"][0]["explanation"][0]["description"] == "same identifier"
    # integration may write a national ID but not read it: the declared text only
    assert shown["candidates"][0]["explanation"][0] == {
        "comparison": "national_id",
        "level": "identifier",
        "description": "identifier",
        "weight": None,
    }


def test_probe_offers_a_doubtful_candidate_and_a_close_one_attaches(erp, material_spec):
    pump = put(erp, "M1", {"name": "Turbo pump TP-100", "manufacturer": "Acme"}, "material")
    client = client_for(erp)[0]
    before = every_row()

    doubtful = client.post("/api/v1/material/match", {"name": "Turbo pump TP-100"}, format="json")
    close = client.post(
        "/api/v1/material/match",
        {"name": "TURBO PUMP TP 100", "manufacturer": "ACME"},
        format="json",
    )

    assert doubtful.json() == {
        "decision": "would_create_and_review",
        "candidates": [
            {
                "global_id": pump.global_id,
                "probability": pytest.approx(0.876, abs=0.001),
                "explanation": [
                    {
                        "comparison": "name",
                        "level": "exact",
                        "description": "same name",
                        "weight": 9.45,
                    }
                ],
            }
        ],
        "matched_on": [],
    }
    body = close.json()
    assert body["decision"] == "would_attach"
    assert [item["global_id"] for item in body["candidates"]] == [pump.global_id]
    assert body["candidates"][0]["probability"] == pytest.approx(0.992, abs=0.001)
    assert body["matched_on"] == ["name", "manufacturer"]
    assert every_row() == before


def test_probe_of_something_new_would_create(customers, erp_client):
    response = erp_client.post(
        PROBE, {"organization_name": "Zephyr Corp", "city": "Oslo"}, format="json"
    )

    assert response.json() == {"decision": "would_create", "candidates": [], "matched_on": []}


@pytest.mark.parametrize(
    "body, code, detail",
    [
        ({"city": "Bonn"}, "rejected", None),
        (
            {"organization_name": "A", "colour": "red"},
            "unknown_attribute",
            "unknown attribute(s) for customer: colour",
        ),
        (["organization_name"], "invalid", "the body must be a JSON object of attributes"),
    ],
)
def test_probe_refuses_what_an_upsert_would_refuse(customers, erp_client, body, code, detail):
    before = every_row()

    response = erp_client.post(PROBE, body, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == code
    if detail:
        assert response.json()["detail"] == detail
    else:
        assert "no identifying attribute" in response.json()["detail"]
    assert every_row() == before


def test_probe_on_an_attribute_the_caller_may_neither_read_nor_write_is_403(customers, erp):
    auditor = client_for(erp, role="auditor")[0]

    response = auditor.post(
        PROBE, {"last_name": "Schmidt", "national_id": "RMNFNC52L26B758P"}, format="json"
    )

    assert response.status_code == 403
    assert response.json() == {
        "detail": "you may not match customer records on national_id",
        "code": "field_forbidden",
        "attributes": ["national_id"],
    }


def test_probe_honours_the_idempotency_key(customers, erp_client):
    body = {"organization_name": "Acme GmbH", "tax_id": "DE129274202"}
    headers = {"HTTP_IDEMPOTENCY_KEY": "probe-1"}

    first = erp_client.post(PROBE, body, format="json", **headers)
    again = erp_client.post(PROBE, body, format="json", **headers)
    other = erp_client.post(PROBE, {"organization_name": "B"}, format="json", **headers)

    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert other.status_code == 422
    assert IdempotentResponse.objects.count() == 1


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/api/v1/planet/golden"),
        ("post", "/api/v1/planet/match"),
        ("post", "/api/v1/customer/reviews/-1/decision"),
        ("put", "/api/v1/customer/golden/a/b/overrides/city"),
    ],
)
def test_paths_no_endpoint_serves_answer_a_json_404(db, method, path):
    response = getattr(APIClient(enforce_csrf_checks=True), method)(path)

    assert response.status_code == 404
    assert response.json() == {"detail": "no such endpoint", "code": "not_found"}
