"""Stewardship through the API: the review queue and decisions, merge, unmerge,
split and overrides. Stewards only; every denied request changes nothing."""

import dataclasses

import pytest
from django.contrib.auth.models import Group
from django.utils.crypto import get_random_string
from rest_framework.test import APIClient

from golden.domains import DOMAINS
from golden.global_ids import format_global_id
from golden.models import (
    AttributeOverride,
    ChangeEvent,
    FieldPolicy,
    GoldenRecord,
    JournalEntry,
    SourceRecord,
)
from golden.services import merge_golden_records, upsert_source_record
from matching.models import ReviewItem

from .material_spec import SPEC
from .test_api_lookup import ACME, PERSON, client_for

# Material matching whose weights are easy to follow (as in test_matching_service):
# the same name alone is doubtful (0.876) and goes to review.


@pytest.fixture(autouse=True)
def material_spec(monkeypatch):
    monkeypatch.setitem(
        DOMAINS, "material", dataclasses.replace(DOMAINS["material"], matching=SPEC)
    )


def put(system, key, payload, domain="customer"):
    result = upsert_source_record(system=system, domain=domain, source_key=key, payload=payload)
    return GoldenRecord.objects.get(global_id=result.global_id)


def state():
    """Counts of everything a steward call may write, and each golden record's state."""
    return (
        SourceRecord.objects.count(),
        GoldenRecord.objects.count(),
        ChangeEvent.objects.count(),
        JournalEntry.objects.count(),
        ReviewItem.objects.count(),
        AttributeOverride.objects.count(),
        list(GoldenRecord.objects.order_by("pk").values_list("global_id", "status", "version")),
        list(ReviewItem.objects.order_by("pk").values_list("status", flat=True)),
    )


@pytest.fixture
def stella(django_user_model):
    user = django_user_model.objects.create_user("stella")
    user.groups.add(Group.objects.get(name="data_steward"))
    return user


@pytest.fixture
def steward(stella):
    """A steward signed in with a session (as from the admin); APIClient does not
    enforce CSRF checks unless told to."""
    client = APIClient()
    client.force_login(stella)
    return client


@pytest.fixture
def integration(erp):
    return client_for(erp, role="integration")[0]


@pytest.fixture
def pumps(erp, crm):
    """ERP M1 "Turbo pump" by Acme and CRM X9 "Turbo pump": a pending review item."""
    first = put(erp, "M1", {"name": "Turbo pump", "manufacturer": "Acme"}, "material")
    second = put(crm, "X9", {"name": "Turbo pump"}, "material")
    return first, second, ReviewItem.objects.get()


@pytest.fixture
def two(erp):
    """Two unrelated customers: Alpha (ERP A) and Beta (ERP B)."""
    alpha = put(erp, "A", {"organization_name": "Alpha AG", "city": "Bonn"})
    beta = put(erp, "B", {"organization_name": "Beta SA", "city": "Lyon"})
    return alpha, beta


@pytest.fixture
def acme(erp, crm):
    """Acme held by ERP 1000 and CRM C-7 (same tax ID)."""
    golden = put(erp, "1000", ACME)
    assert put(crm, "C-7", ACME | {"city": "Köln"}) == golden
    return golden


def wrong_check(global_id):
    return global_id[:-1] + ("A" if global_id[-1] != "A" else "B")


# Who may ------------------------------------------------------------------------------


def steward_calls(acme, pumps):
    item = pumps[2]
    gid = acme.global_id
    crm_key = {"system": "CRM", "key": "C-7"}
    return [
        ("get", "/api/v1/material/reviews", None),
        ("post", f"/api/v1/material/reviews/{item.pk}/decision", {"decision": "merge"}),
        ("post", f"/api/v1/customer/golden/{gid}/merge", {"merge": [pumps[0].global_id]}),
        ("post", f"/api/v1/customer/golden/{gid}/unmerge", {}),
        ("post", f"/api/v1/customer/golden/{gid}/split", {"xrefs": [crm_key]}),
        ("put", f"/api/v1/customer/golden/{gid}/overrides/city", {"value": "Bonn", "reason": "x"}),
        ("delete", f"/api/v1/customer/golden/{gid}/overrides/city", None),
    ]


def test_only_stewards_may_call_the_stewardship_endpoints(acme, pumps, integration):
    before = state()

    for method, path, body in steward_calls(acme, pumps):
        response = getattr(integration, method)(path, body, format="json")

        assert response.status_code == 403, path
        assert response.json() == {
            "detail": "only data stewards may do this (role data_steward)",
            "code": "not_a_steward",
        }
    assert state() == before


def test_anonymous_callers_are_401(acme, pumps):
    for method, path, body in steward_calls(acme, pumps):
        assert getattr(APIClient(), method)(path, body, format="json").status_code == 401


def test_a_steward_api_key_and_a_superuser_may(acme, erp, django_user_model):
    key_client = client_for(erp, role="data_steward")[0]
    admin = APIClient()
    admin.force_login(django_user_model.objects.create_superuser("root", password="x"))

    assert key_client.get("/api/v1/customer/reviews").status_code == 200
    assert admin.get("/api/v1/customer/reviews").status_code == 200


def test_a_browser_session_needs_the_csrf_token(acme, stella):
    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(stella)
    path = f"/api/v1/customer/golden/{acme.global_id}/overrides/city"
    body = {"value": "Bonn", "reason": "moved"}
    before = state()

    refused = browser.put(path, body, format="json")

    assert refused.status_code == 403
    assert refused.json()["detail"].startswith("CSRF Failed")
    assert state() == before
    token = get_random_string(32)
    browser.cookies["csrftoken"] = token
    accepted = browser.put(path, body, format="json", HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 200
    assert accepted.json()["values"]["city"] == "Bonn"


# Review queue -------------------------------------------------------------------------


def test_a_steward_lists_the_pending_review_items(pumps, steward):
    first, second, item = pumps

    response = steward.get("/api/v1/material/reviews")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1 and body["next_offset"] is None
    (answer,) = body["results"]
    assert answer.pop("created_at").startswith(str(item.created_at.date()))
    assert answer == {
        "id": item.pk,
        "status": "pending",
        "probability": pytest.approx(0.876, abs=0.001),
        "explanation": [
            {"comparison": "name", "level": "exact", "description": "same name", "weight": 9.45}
        ],
        "record_a": {
            "system": "ERP",
            "key": "M1",
            "global_id": first.global_id,
            "retired": False,
            "values": {"name": "Turbo pump", "manufacturer": "Acme"},
        },
        "record_b": {
            "system": "CRM",
            "key": "X9",
            "global_id": second.global_id,
            "retired": False,
            "values": {"name": "Turbo pump"},
        },
        "decided_by": None,
        "decided_at": None,
    }
    assert steward.get("/api/v1/material/reviews?status=merged").json()["count"] == 0
    assert steward.get("/api/v1/customer/reviews").json()["count"] == 0


def test_review_values_and_explanations_pass_the_field_policy(erp, crm, steward):
    FieldPolicy.objects.create(
        role=Group.objects.get(name="data_steward"),
        domain="customer",
        attribute="tax_id",
        can_read=False,
        can_write=True,
    )
    a = upsert_source_record(system=erp, domain="customer", source_key="1", payload=ACME)
    b = upsert_source_record(
        system=crm, domain="customer", source_key="2", payload={"organization_name": "Acme"}
    )
    ReviewItem.objects.create(
        domain="customer",
        record_a_id=a.source_record_id,
        record_b_id=b.source_record_id,
        probability=0.7,
        explanation=[
            {"comparison": "tax_id", "level": "exact", "description": "DE129274202", "weight": 9.9}
        ],
    )

    answer = steward.get("/api/v1/customer/reviews").json()["results"][0]

    assert answer["record_a"]["values"] == {
        "organization_name": "Acme GmbH",
        "kind": "organization",
        "country": "DE",
    }
    assert answer["explanation"] == [
        {"comparison": "tax_id", "level": "exact", "description": "same tax ID", "weight": 9.9}
    ]


@pytest.mark.parametrize(
    "query, code",
    [("status=maybe", "bad_status"), ("limit=0", "bad_limit"), ("offset=x", "bad_offset")],
)
def test_review_list_refuses_bad_parameters(pumps, steward, query, code):
    response = steward.get(f"/api/v1/material/reviews?{query}")

    assert response.status_code == 400
    assert response.json()["code"] == code


def test_a_steward_merges_a_review_pair(pumps, steward, stella):
    first, second, item = pumps

    response = steward.post(
        f"/api/v1/material/reviews/{item.pk}/decision",
        {"decision": "merge", "note": "same pump"},
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert body["review"]["status"] == "merged"
    assert body["review"]["decided_by"] == "stella"
    assert body["review"]["decided_at"] is not None
    (golden,) = body["results"]
    assert golden["global_id"] == first.global_id
    assert golden["xrefs"] == [{"system": "CRM", "key": "X9"}, {"system": "ERP", "key": "M1"}]
    item.refresh_from_db()
    assert (item.status, item.decided_by, item.note) == ("merged", stella, "same pump")
    entry = JournalEntry.objects.get(action="merge", global_id=first.global_id)
    assert (entry.actor, entry.actor_label) == (stella, "api:user:stella")
    assert entry.reason == f"review item {item.pk}: same pump"


def test_a_steward_declares_a_pair_not_a_match_and_cannot_decide_it_twice(pumps, steward):
    first, second, item = pumps
    path = f"/api/v1/material/reviews/{item.pk}/decision"

    response = steward.post(path, {"decision": "not_a_match"}, format="json")

    assert response.status_code == 200
    assert response.json()["review"]["status"] == "not_a_match"
    assert [golden["global_id"] for golden in response.json()["results"]] == [
        first.global_id,
        second.global_id,
    ]
    before = state()
    again = steward.post(path, {"decision": "merge"}, format="json")
    assert again.status_code == 409
    assert again.json() == {
        "detail": f"review item {item.pk} is already decided (not_a_match)",
        "code": "already_decided",
    }
    assert state() == before


@pytest.mark.parametrize(
    "path, body, status",
    [
        ("/api/v1/material/reviews/999999/decision", {"decision": "merge"}, 404),
        ("/api/v1/customer/reviews/{pk}/decision", {"decision": "merge"}, 404),
        ("/api/v1/material/reviews/99999999999999999999/decision", {"decision": "merge"}, 404),
        ("/api/v1/material/reviews/{pk}/decision", {"decision": "perhaps"}, 400),
        ("/api/v1/material/reviews/{pk}/decision", ["merge"], 400),
    ],
)
def test_bad_decisions_change_nothing(pumps, steward, path, body, status):
    before = state()

    response = steward.post(path.format(pk=pumps[2].pk), body, format="json")

    assert response.status_code == status
    assert state() == before


# Merge and unmerge --------------------------------------------------------------------


def test_merge_then_unmerge_through_the_api(two, steward, stella):
    alpha, beta = two

    merged = steward.post(
        f"/api/v1/customer/golden/{alpha.global_id}/merge",
        {"merge": [beta.global_id.lower()], "reason": "same firm"},
        format="json",
    )

    assert merged.status_code == 200
    assert merged.json()["global_id"] == alpha.global_id
    assert merged.json()["xrefs"] == [{"system": "ERP", "key": "A"}, {"system": "ERP", "key": "B"}]
    beta.refresh_from_db()
    assert (beta.status, beta.merged_into_id) == ("retired", alpha.pk)
    entry = JournalEntry.objects.get(action="merge", global_id=beta.global_id)
    assert (entry.actor, entry.actor_label, entry.reason) == (
        stella,
        "api:user:stella",
        "same firm",
    )

    unmerged = steward.post(
        f"/api/v1/customer/golden/{beta.global_id}/unmerge",
        {"reason": "not the same"},
        format="json",
    )

    assert unmerged.status_code == 200
    restored, survivor = unmerged.json()["results"]
    assert (restored["global_id"], restored["status"]) == (beta.global_id, "active")
    assert restored["xrefs"] == [{"system": "ERP", "key": "B"}]
    assert survivor["global_id"] == alpha.global_id
    assert survivor["xrefs"] == [{"system": "ERP", "key": "A"}]


def test_unmerge_of_a_record_never_merged_is_409(two, steward):
    before = state()

    response = steward.post(f"/api/v1/customer/golden/{two[0].global_id}/unmerge", format="json")

    assert response.status_code == 409
    assert response.json() == {
        "detail": f"{two[0].global_id} was not merged into another record",
        "code": "not_merged",
    }
    assert state() == before


def test_merge_errors_name_the_reason_and_change_nothing(two, erp, steward):
    alpha, beta = two
    gamma = put(erp, "G", {"organization_name": "Gamma BV", "city": "Gouda"})
    merge_golden_records(survivor=beta, merged=gamma)
    bolt = put(erp, "M9", {"name": "Bolt"}, "material")
    path = f"/api/v1/customer/golden/{alpha.global_id}/merge"
    cases = [
        ([wrong_check(beta.global_id)], 400, "check_character"),
        (["banana"], 400, "malformed"),
        ([alpha.global_id], 400, "invalid"),
        ([beta.global_id, beta.global_id], 400, "invalid"),
        ([bolt.global_id], 404, "wrong_domain"),
        ([gamma.global_id], 409, "conflict"),
    ]
    before = state()

    for merge, status, code in cases:
        response = steward.post(path, {"merge": merge, "reason": "x"}, format="json")

        assert (response.status_code, response.json()["code"]) == (status, code), merge
    assert state() == before
    retired = steward.post(path, {"merge": [gamma.global_id]}, format="json").json()
    assert retired["detail"] == f"{gamma.global_id} is retired; only active records merge"


def test_merge_of_an_unknown_id_is_404_and_into_a_retired_one_409(two, erp, steward):
    alpha, beta = two
    never = format_global_id("CUS", 999_999_999)
    before = state()

    unknown = steward.post(
        f"/api/v1/customer/golden/{alpha.global_id}/merge", {"merge": [never]}, format="json"
    )
    unknown_path = steward.post(
        f"/api/v1/customer/golden/{never}/merge", {"merge": [beta.global_id]}, format="json"
    )
    merge_golden_records(survivor=alpha, merged=beta)
    middle = state()
    into_retired = steward.post(
        f"/api/v1/customer/golden/{beta.global_id}/merge",
        {"merge": [alpha.global_id]},
        format="json",
    )

    assert unknown.status_code == unknown_path.status_code == 404
    assert unknown.json() == {
        "detail": f"no such ID: {never} was never issued",
        "code": "not_found",
    }
    assert into_retired.status_code == 409
    assert state() != before and state() == middle


def test_merge_with_an_idempotency_key_merges_once(two, erp, steward):
    alpha, beta = two
    path = f"/api/v1/customer/golden/{alpha.global_id}/merge"
    body = {"merge": [beta.global_id], "reason": "same"}

    first = steward.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY="m-1")
    after_first = state()
    again = steward.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY="m-1")

    assert first.status_code == again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert state() == after_first
    assert JournalEntry.objects.filter(action="merge").values("operation").distinct().count() == 1


# Split --------------------------------------------------------------------------------


def test_split_moves_a_cross_reference_into_its_own_record(acme, steward, stella):
    response = steward.post(
        f"/api/v1/customer/golden/{acme.global_id}/split",
        {"xrefs": [{"system": "crm", "key": "C-7"}], "reason": "another branch"},
        format="json",
    )

    assert response.status_code == 200
    left, moved = response.json()["results"]
    assert left["global_id"] == acme.global_id
    assert left["xrefs"] == [{"system": "ERP", "key": "1000"}]
    assert moved["global_id"] != acme.global_id
    assert moved["xrefs"] == [{"system": "CRM", "key": "C-7"}]
    assert moved["values"]["city"] == "Köln"
    entry = JournalEntry.objects.filter(action="split").first()
    assert (entry.actor, entry.reason) == (stella, "another branch")


@pytest.mark.parametrize(
    "xrefs, status, code",
    [
        ([{"system": "CRM", "key": "nope"}], 404, "not_found"),
        ([{"system": "XYZ", "key": "C-7"}], 404, "not_found"),
        ([{"system": "CRM", "key": "C-7"}, {"system": "ERP", "key": "1000"}], 409, "conflict"),
        ([], 400, "invalid"),
    ],
)
def test_split_errors_change_nothing(acme, steward, xrefs, status, code):
    before = state()

    response = steward.post(
        f"/api/v1/customer/golden/{acme.global_id}/split", {"xrefs": xrefs}, format="json"
    )

    assert (response.status_code, response.json()["code"]) == (status, code)
    assert state() == before


def test_split_of_a_record_that_is_not_a_member_is_409(acme, erp, steward):
    other = put(erp, "Z", {"organization_name": "Zeta", "city": "Zug"})
    before = state()

    response = steward.post(
        f"/api/v1/customer/golden/{other.global_id}/split",
        {"xrefs": [{"system": "CRM", "key": "C-7"}]},
        format="json",
    )

    assert response.status_code == 409
    assert "are not live members of" in response.json()["detail"]
    assert state() == before


# Overrides ----------------------------------------------------------------------------


def test_set_and_remove_an_override(acme, steward, stella):
    path = f"/api/v1/customer/golden/{acme.global_id}/overrides/city"
    survived = dict(acme.values)  # the address survives from ERP 1000, without a city

    set_ = steward.put(path, {"value": " Bonn ", "reason": "moved"}, format="json")

    assert set_.status_code == 200
    assert set_.json()["values"]["city"] == "Bonn"
    override = AttributeOverride.objects.get()
    assert (override.value, override.reason, override.created_by) == ("Bonn", "moved", stella)

    removed = steward.delete(f"{path}?reason=back")

    assert removed.status_code == 200
    assert removed.json()["values"] == survived
    assert AttributeOverride.objects.count() == 0
    assert JournalEntry.objects.filter(action="override").last().reason == "back"
    again = steward.delete(path)
    assert again.status_code == 404
    assert again.json() == {
        "detail": f"{acme.global_id} has no override of 'city'",
        "code": "not_found",
    }


def test_an_override_of_a_field_the_steward_may_not_write_is_403(erp, steward):
    FieldPolicy.objects.create(
        role=Group.objects.get(name="data_steward"),
        domain="customer",
        attribute="national_id",
        can_read=True,
        can_write=False,
    )
    anna = put(erp, "P1", PERSON)
    before = state()

    response = steward.put(
        f"/api/v1/customer/golden/{anna.global_id}/overrides/national_id",
        {"value": "RSSMRA85T10A562S", "reason": "typo"},
        format="json",
    )

    assert response.status_code == 403
    assert response.json() == {
        "detail": "you may not write national_id of a customer",
        "code": "field_forbidden",
        "attributes": ["national_id"],
    }
    assert state() == before
    anna.refresh_from_db()
    assert anna.values["national_id"] == "RMNFNC52L26B758P"


@pytest.mark.parametrize(
    "attribute, body, status, code",
    [
        ("colour", {"value": "red", "reason": "x"}, 400, "unknown_attribute"),
        ("country", {"value": "Atlantis", "reason": "x"}, 400, "invalid_value"),
        ("city", {"value": "Bonn"}, 400, "invalid"),
        ("city", {"value": "Bonn", "reason": ""}, 400, "invalid"),
        ("city", {"value": {"a": 1}, "reason": "x"}, 400, "invalid"),
        ("city", {"value": "   ", "reason": "x"}, 400, "invalid_value"),
    ],
)
def test_bad_overrides_change_nothing(acme, steward, attribute, body, status, code):
    before = state()

    response = steward.put(
        f"/api/v1/customer/golden/{acme.global_id}/overrides/{attribute}", body, format="json"
    )

    assert (response.status_code, response.json()["code"]) == (status, code)
    assert state() == before


def test_overrides_of_a_retired_record_or_an_unknown_id_are_refused(two, steward):
    alpha, beta = two
    merge_golden_records(survivor=alpha, merged=beta)
    before = state()
    body = {"value": "Paris", "reason": "x"}

    def put_override(path):
        return steward.put(f"/api/v1/{path}", body, format="json")

    retired = put_override(f"customer/golden/{beta.global_id}/overrides/city")
    typo = put_override(f"customer/golden/{wrong_check(alpha.global_id)}/overrides/city")
    other_domain = put_override(f"material/golden/{alpha.global_id}/overrides/name")

    assert (retired.status_code, retired.json()["code"]) == (409, "conflict")
    assert (typo.status_code, typo.json()["code"]) == (400, "check_character")
    assert (other_domain.status_code, other_domain.json()["code"]) == (404, "wrong_domain")
    assert state() == before
