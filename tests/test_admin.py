import pytest
from django.urls import reverse

from golden.models import ChangeEvent, GoldenRecord, JournalEntry, SourceRecord
from golden.services import upsert_source_record

ACME = {"organization_name": "Acme GmbH", "country": "DE", "tax_id": "DE129274202"}


@pytest.fixture
def steward_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("steward", "s@x.example", "pw-steward-1")
    client.force_login(user)
    return client


@pytest.fixture
def acme(erp, crm):
    upsert_source_record(system=erp, domain="customer", source_key="1000", payload=ACME)
    upsert_source_record(
        system=crm,
        domain="customer",
        source_key="C-7",
        payload=ACME
        | {"organization_name": "ACME", "email": "not-an-address", "phone": "030 1234567"},
    )
    return SourceRecord.objects.get(source_key="1000").golden_record


def test_anonymous_users_are_sent_to_login(client, acme):
    response = client.get(reverse("admin:golden_goldenrecord_changelist"))

    assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.parametrize(
    "name",
    [
        "golden_goldenrecord",
        "golden_sourcerecord",
        "golden_sourcesystem",
        "golden_journalentry",
        "golden_changeevent",
        "golden_attributeoverride",
        "golden_globalidcounter",
        "matching_matchkey",
        "matching_reviewitem",
        "matching_matchparameters",
    ],
)
def test_every_model_has_a_working_changelist(steward_client, acme, name):
    assert steward_client.get(reverse(f"admin:{name}_changelist")).status_code == 200


def test_golden_record_page_shows_xrefs_lineage_quality_issues_and_journal(steward_client, acme):
    response = steward_client.get(reverse("admin:golden_goldenrecord_change", args=[acme.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    assert acme.global_id in page
    assert "ERP" in page and "1000" in page and "C-7" in page  # cross-references
    assert "ERP:1000 (source priority)" in page  # lineage
    assert "not a valid e-mail address" in page  # data-quality issue
    assert "created with 1 cross-reference(s)" in page  # journal


@pytest.mark.parametrize("term", ["{gid}", "{gid_lower_hyphen}", "Acme", "C-7"])
def test_search_by_global_id_name_or_source_key(steward_client, acme, term):
    gid = acme.global_id
    term = term.format(gid=gid, gid_lower_hyphen=f"{gid[:3]}-{gid[3:]}".lower())

    response = steward_client.get(reverse("admin:golden_goldenrecord_changelist"), {"q": term})

    assert gid in response.content.decode()
    assert response.context["cl"].result_count == 1


def test_merge_action_goes_through_the_service(steward_client, acme, legacy):
    other = upsert_source_record(
        system=legacy, domain="customer", source_key="L1", payload={"organization_name": "ACME"}
    )
    other_golden = GoldenRecord.objects.get(global_id=other.global_id)

    response = steward_client.post(
        reverse("admin:golden_goldenrecord_changelist"),
        {"action": "merge_selected", "_selected_action": [acme.pk, other_golden.pk]},
        follow=True,
    )

    assert response.status_code == 200
    other_golden.refresh_from_db()
    assert other_golden.merged_into_id == acme.pk
    entry = JournalEntry.objects.filter(action="merge").first()
    assert entry.actor.username == "steward" and entry.reason == "merged in admin"
    assert ChangeEvent.objects.filter(event_type="golden.merged").count() == 1


def test_golden_records_cannot_be_edited_by_hand(steward_client, acme):
    url = reverse("admin:golden_goldenrecord_change", args=[acme.pk])

    steward_client.post(url, {"display_name": "Hacked"})

    acme.refresh_from_db()
    assert acme.display_name == "Acme GmbH"
    assert steward_client.get(reverse("admin:golden_goldenrecord_add")).status_code == 403
