"""Field permissions (``golden.policy``): the default matrix, policy rows, several
roles together, the redaction helpers, and the admin pages that show values."""

from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser, Group, Permission
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from golden.domains import DOMAINS, Sensitivity
from golden.models import AttributeOverride, FieldPolicy, GoldenRecord, JournalEntry, SourceRecord
from golden.policy import (
    ROLES,
    access_by_domain,
    access_for,
    access_for_request,
    access_for_roles,
)
from golden.services import set_attribute_override, upsert_source_record
from matching import services
from matching.engine.comparisons import Comparison
from matching.engine.linking import Exclusivity
from matching.models import MatchKey, ReviewItem

# Each cell: "r" may read, "w" may write, "-" neither. "none" is a user without a role.
MATRIX = """
attribute                      data_steward  finance  integration  auditor  none
customer.national_id           rw            --       -w           --       --
customer.birth_date            rw            --       -w           --       --
supplier.bank_iban             rw            r-       -w           --       --
supplier.bank_account_holder   rw            r-       -w           --       --
customer.tax_id                rw            r-       rw           r-       --
supplier.payment_terms         rw            r-       rw           r-       --
customer.email                 rw            r-       rw           r-       r-
supplier.legal_name            rw            r-       rw           r-       r-
"""


def _cells():
    header, *rows = (line.split() for line in MATRIX.strip().splitlines())
    for row in rows:
        domain, attribute = row[0].split(".")
        for role, cell in zip(header[1:], row[1:], strict=True):
            for operation, flag in (("read", "r"), ("write", "w")):
                yield pytest.param(
                    role,
                    domain,
                    attribute,
                    operation,
                    flag in cell,
                    id=f"{role}-{domain}.{attribute}-{operation}",
                )


NATIONAL_ID = "RMNFNC52L26B758P"
BAD_NATIONAL_ID = "rmnfnc52l26b758x"  # fails the check character: a data-quality issue
BIRTH_DATE = "1952-07-26"
IBAN = "DE89370400440532013000"
RAW_IBAN = "de89 3704 0044 0532 0130 00"
ACCOUNT_HOLDER = "Treuhand Weber KG"

PERSON = {
    "kind": "person",
    "first_name": "Francesca",
    "last_name": "Romano",
    "birth_date": BIRTH_DATE,
    "address_line1": "Via Roma 12",
    "city": "Milano",
    "postal_code": "20121",
    "country": "IT",
    "phone": "+39 02 1234567",
}
SUPPLIER = {
    "legal_name": "Acme Bautechnik GmbH",
    "country": "DE",
    "city": "Leipzig",
    "bank_iban": RAW_IBAN,
    "bank_account_holder": ACCOUNT_HOLDER,
    "payment_terms": "NET30",
}
ADMIN_PERMISSIONS = [
    "view_goldenrecord",
    "view_sourcerecord",
    "view_journalentry",
    "view_attributeoverride",
    "add_attributeoverride",
    "view_reviewitem",
    "view_matchkey",
]


@pytest.fixture
def make_user(db, django_user_model):
    made = []

    def make(*roles, superuser=False, active=True):
        made.append(None)
        user = django_user_model.objects.create_user(
            f"user{len(made)}", is_staff=True, is_superuser=superuser, is_active=active
        )
        for role in roles:
            user.groups.add(Group.objects.get_or_create(name=role)[0])
        user.user_permissions.set(Permission.objects.filter(codename__in=ADMIN_PERMISSIONS))
        return user

    return make


@pytest.fixture
def browser(make_user):
    def login(*roles, superuser=False):
        client = Client()
        client.force_login(make_user(*roles, superuser=superuser))
        return client

    return login


@pytest.fixture
def records(erp, crm, legacy):
    """A customer with a national ID (and a source whose national ID is invalid), a
    doubtful look-alike in review, and a supplier with bank details."""
    first = upsert_source_record(
        system=erp,
        domain="customer",
        source_key="1",
        payload=PERSON | {"national_id": NATIONAL_ID, "email": "f.romano@example.it"},
    )
    upsert_source_record(
        system=crm,
        domain="customer",
        source_key="C1",
        payload=PERSON | {"national_id": BAD_NATIONAL_ID},
    )
    upsert_source_record(
        system=legacy,
        domain="customer",
        source_key="L1",
        payload=PERSON | {"first_name": "Federica"},
    )
    supplier = upsert_source_record(
        system=erp, domain="supplier", source_key="S1", payload=SUPPLIER
    )
    return SimpleNamespace(
        customer=GoldenRecord.objects.get(global_id=first.global_id),
        supplier=GoldenRecord.objects.get(global_id=supplier.global_id),
        erp_customer=SourceRecord.objects.get(system=erp, source_key="1"),
        crm_customer=SourceRecord.objects.get(system=crm, source_key="C1"),
        erp_supplier=SourceRecord.objects.get(system=erp, source_key="S1"),
        review=ReviewItem.objects.get(),
    )


# -- the shipped roles and the default matrix ------------------------------------------


def test_the_shipped_roles_are_groups_created_by_a_migration(db):
    assert ROLES == ("data_steward", "finance", "integration", "auditor")
    assert sorted(Group.objects.filter(name__in=ROLES).values_list("name", flat=True)) == sorted(
        ROLES
    )


@pytest.mark.parametrize(("role", "domain", "attribute", "operation", "allowed"), list(_cells()))
def test_default_matrix(make_user, role, domain, attribute, operation, allowed):
    user = make_user() if role == "none" else make_user(role)
    access = access_for(user, domain)

    check = access.can_read if operation == "read" else access.can_write
    assert check(attribute) is allowed
    assert (attribute in (access.readable if operation == "read" else access.writable)) is allowed


def test_matrix_cells_are_those_of_the_sensitivity_classes(db):
    assert DOMAINS["customer"].attribute("tax_id").sensitivity == Sensitivity.INTERNAL
    assert DOMAINS["supplier"].attribute("payment_terms").sensitivity == Sensitivity.INTERNAL
    assert DOMAINS["customer"].attribute("email").sensitivity == Sensitivity.PUBLIC
    for domain, attribute in (("customer", "national_id"), ("supplier", "bank_iban")):
        assert DOMAINS[domain].attribute(attribute).sensitivity == Sensitivity.RESTRICTED


def test_superusers_read_and_write_everything(make_user):
    user = make_user(superuser=True)

    for name, domain in DOMAINS.items():
        access = access_for(user, name)
        assert access.readable == access.writable == frozenset(domain.attribute_names)


@pytest.mark.parametrize("who", ["no role", "anonymous", "inactive", "nobody"])
def test_without_a_role_only_public_attributes_are_read_and_nothing_written(make_user, who):
    user = {
        "no role": lambda: make_user(),
        "anonymous": AnonymousUser,
        "inactive": lambda: make_user("data_steward", superuser=True, active=False),
        "nobody": lambda: None,
    }[who]()

    for name, domain in DOMAINS.items():
        access = access_for(user, name)
        public = {a.name for a in domain.attributes if a.sensitivity == Sensitivity.PUBLIC}
        assert access.readable == public
        assert access.writable == frozenset()


def test_several_roles_get_the_union(make_user):
    user = make_user("finance", "integration")

    supplier = access_for(user, "supplier")
    customer = access_for(user, "customer")

    assert supplier.can_read("bank_iban") and supplier.can_write("bank_iban")  # one role each
    assert not customer.can_read("national_id") and customer.can_write("national_id")
    assert customer.can_read("tax_id") and customer.can_write("tax_id")


def test_a_group_that_is_not_a_shipped_role_gets_nothing_beyond_public(make_user):
    access = access_for(make_user("sales"), "customer")

    assert access.can_read("email") and not access.can_read("tax_id")
    assert not access.writable


# -- policy rows ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "domain", "attribute", "can_read", "can_write", "flipped"),
    [
        ("auditor", "customer", "national_id", True, False, "read"),  # granted
        ("finance", "supplier", "bank_iban", False, False, "read"),  # taken away
        ("integration", "customer", "tax_id", True, False, "write"),  # taken away
        ("finance", "supplier", "payment_terms", True, True, "write"),  # granted
        ("sales", "customer", "birth_date", True, False, "read"),  # another group
    ],
)
def test_a_policy_row_flips_exactly_its_cell(
    make_user, role, domain, attribute, can_read, can_write, flipped
):
    user = make_user(role)
    before = access_for(user, domain)

    FieldPolicy.objects.create(
        role=Group.objects.get(name=role),
        domain=domain,
        attribute=attribute,
        can_read=can_read,
        can_write=can_write,
    )
    after = access_for(user, domain)

    cell = {"read": (before.readable, after.readable), "write": (before.writable, after.writable)}
    changed, unchanged = cell[flipped], cell["write" if flipped == "read" else "read"]
    assert changed[0] ^ changed[1] == {attribute}
    assert unchanged[0] == unchanged[1]
    assert access_for(user, "material") == access_for(make_user(role), "material")


def test_a_policy_row_of_one_role_takes_nothing_from_another(make_user):
    FieldPolicy.objects.create(
        role=Group.objects.get(name="finance"), domain="supplier", attribute="bank_iban"
    )

    assert not access_for(make_user("finance"), "supplier").can_read("bank_iban")
    assert access_for(make_user("finance", "data_steward"), "supplier").can_read("bank_iban")


def test_a_policy_row_for_another_domain_or_role_changes_nothing(make_user):
    FieldPolicy.objects.create(
        role=Group.objects.get(name="auditor"),
        domain="customer",
        attribute="national_id",
        can_read=True,
    )

    assert not access_for(make_user("finance"), "customer").can_read("national_id")
    assert access_for(make_user("auditor"), "customer").can_read("national_id")


@pytest.mark.parametrize(
    ("attribute", "can_read", "field", "message"),
    [
        ("passport", True, "attribute", "has no attribute 'passport'"),
        ("bank_iban", True, "attribute", "has no attribute 'bank_iban'"),  # a supplier one
        ("email", False, "can_read", "public"),
    ],
)
def test_policy_rows_are_validated(db, attribute, can_read, field, message):
    row = FieldPolicy(
        role=Group.objects.get(name="finance"),
        domain="customer",
        attribute=attribute,
        can_read=can_read,
    )

    with pytest.raises(ValidationError) as raised:
        row.full_clean()

    assert message in " ".join(raised.value.message_dict[field])


def test_a_valid_policy_row_passes_and_each_cell_has_one_row(db):
    role = Group.objects.get(name="finance")
    FieldPolicy(role=role, domain="customer", attribute="national_id", can_read=True).full_clean()
    FieldPolicy.objects.create(role=role, domain="customer", attribute="national_id")

    with pytest.raises(ValidationError):
        FieldPolicy(role=role, domain="customer", attribute="national_id").full_clean()


# -- queries ------------------------------------------------------------------------------


def test_access_takes_one_query_for_the_groups_and_one_for_the_rows(
    make_user, django_assert_num_queries
):
    user = make_user("finance", "auditor")

    with django_assert_num_queries(2):
        access = access_for(user, "supplier")
    with django_assert_num_queries(2):
        every = access_by_domain(user)
    with django_assert_num_queries(0):
        assert access.redact({"bank_iban": IBAN}) == {"bank_iban": IBAN}
    assert every["supplier"] == access


def test_access_is_computed_once_per_request(make_user, django_assert_num_queries):
    request = SimpleNamespace(user=make_user("finance"))

    with django_assert_num_queries(2):
        assert access_for_request(request, "supplier").can_read("bank_iban")
        assert not access_for_request(request, "customer").can_read("national_id")
        access_for_request(request, "supplier")


def test_access_for_roles_is_that_of_a_member_of_those_groups(make_user):
    assert access_for_roles(["finance", "integration"], "supplier") == access_for(
        make_user("finance", "integration"), "supplier"
    )
    assert access_for_roles([], "customer", superuser=True).writable == frozenset(
        DOMAINS["customer"].attribute_names
    )


# -- what the helpers leave out ----------------------------------------------------------


def test_values_lineage_payload_and_issues_lose_what_cannot_be_read(make_user, records):
    access = access_for(make_user("finance"), "customer")
    golden, crm = records.customer, records.crm_customer

    assert "national_id" in golden.values and "national_id" in golden.lineage
    assert set(access.redact(golden.values)) == set(golden.values) - {"national_id", "birth_date"}
    assert set(access.redact(golden.lineage)) == set(golden.lineage) - {
        "national_id",
        "birth_date",
    }
    assert "national_id" not in access.redact(crm.raw_payload)
    assert crm.quality_issues and access.redact_issues(crm.quality_issues) == []
    steward = access_for(make_user("data_steward"), "customer")
    assert steward.redact(golden.values) == golden.values
    assert steward.redact_issues(crm.quality_issues) == crm.quality_issues


def test_journal_snapshots_lose_unreadable_values(make_user, records):
    access = access_for(make_user("auditor"), "customer")
    entry = JournalEntry.objects.filter(golden_record=records.customer).order_by("pk").last()

    after = access.redact_snapshot(entry.after)

    assert "national_id" in entry.after["values"] and "national_id" not in after["values"]
    assert after["xrefs"] == entry.after["xrefs"] and after["global_id"] == entry.global_id
    assert access.redact_snapshot(None) is None


def test_hidden_comparisons_keep_level_and_weight_and_show_the_declared_text(make_user):
    explanation = [
        {"comparison": "birth_date", "level": "exact", "description": BIRTH_DATE, "weight": 13.1},
        {"comparison": "national_id", "level": "identifier", "description": NATIONAL_ID},
        {"comparison": "name", "level": "exact", "description": "same names", "weight": 9.0},
        {"comparison": "exclusive", "level": "clear_best", "description": "one-to-one"},
    ]

    hidden = access_for(make_user("finance"), "customer").redact_explanation(explanation)
    shown = access_for(make_user("data_steward"), "customer").redact_explanation(explanation)

    assert hidden[0] == explanation[0] | {"description": "same birth date"}
    assert hidden[1] == explanation[1] | {"description": "identifier"}
    assert hidden[2:] == explanation[2:]
    assert shown == explanation


def test_explanations_describe_levels_in_fixed_words_never_values():
    for domain in DOMAINS.values():
        for comparison in domain.matching.comparisons:
            # The description is the declared text of the level, whatever the values.
            assert type(comparison).describe is Comparison.describe
            for level in comparison.levels:
                assert "{" not in level.description


def test_the_items_matching_adds_to_explanations_are_fixed_texts():
    texts = {services._identifier(name)["description"] for name in ("national_id", "tax_id")}

    assert texts == {"same identifier"}
    assert services._steward_link()["description"] == "a steward merged these records"
    assert Exclusivity().contribution().description.startswith("each system holds an entity")


def test_an_explanation_scored_from_values_quotes_none_of_them(records):
    model = DOMAINS["customer"].matching.model()
    a, b = records.erp_customer.canonical, records.review.record_b.canonical

    score = model.score(model.prepare(a), model.prepare(b))

    values = {str(v) for record in (a, b) for v in record.values() if len(str(v)) > 3}
    for item in score.contributions:
        assert not any(value in item.description for value in values), item


def test_display_names_are_built_from_public_attributes_only():
    for domain in DOMAINS.values():
        for kind in ("person", "organization"):
            values = {
                attribute.name: f"SECRET-{attribute.name}"
                if attribute.sensitivity != Sensitivity.PUBLIC
                else f"v-{attribute.name}"
                for attribute in domain.attributes
            } | ({"kind": kind} if "kind" in domain.attribute_names else {})
            assert "SECRET" not in domain.display_name(values), domain.name


def test_hidden_write_and_hidden_read_name_what_a_caller_may_not_use(make_user):
    integration = access_for(make_user("integration"), "customer")
    finance = access_for(make_user("finance"), "customer")

    payload = {"first_name": "A", "national_id": NATIONAL_ID, "passport": "X"}
    assert integration.hidden_write(payload) == ["passport"]
    assert finance.hidden_write(payload) == ["first_name", "national_id", "passport"]
    assert integration.hidden_read(["email", "national_id", "birth_date", "national_id"]) == [
        "national_id",
        "birth_date",
    ]


# -- the admin ---------------------------------------------------------------------------


def _page(client, name, *args, **query):
    response = client.get(reverse(f"admin:{name}", args=args), query)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


CUSTOMER_SECRETS = (NATIONAL_ID, BAD_NATIONAL_ID, BIRTH_DATE)
SUPPLIER_SECRETS = (IBAN, RAW_IBAN, ACCOUNT_HOLDER)


@pytest.mark.parametrize(
    ("role", "customer_shown", "supplier_shown"),
    [
        ("finance", False, True),
        ("integration", False, False),
        ("auditor", False, False),
        ("data_steward", True, True),
    ],
)
def test_admin_pages_show_restricted_values_only_to_who_may_read_them(
    browser, records, role, customer_shown, supplier_shown
):
    client = browser(role)
    # (page, the value it shows to a reader), per group of secrets
    pages = {
        CUSTOMER_SECRETS: [
            (_page(client, "golden_goldenrecord_change", records.customer.pk), NATIONAL_ID),
            (_page(client, "golden_sourcerecord_change", records.erp_customer.pk), NATIONAL_ID),
            (_page(client, "golden_sourcerecord_change", records.crm_customer.pk), BAD_NATIONAL_ID),
            (_page(client, "matching_reviewitem_change", records.review.pk), BIRTH_DATE),
            (
                _page(client, "golden_journalentry_change", records.customer.journal.last().pk),
                NATIONAL_ID,
            ),
        ],
        SUPPLIER_SECRETS: [
            (_page(client, "golden_goldenrecord_change", records.supplier.pk), IBAN),
            (_page(client, "golden_sourcerecord_change", records.erp_supplier.pk), RAW_IBAN),
            (
                _page(client, "golden_journalentry_change", records.supplier.journal.last().pk),
                ACCOUNT_HOLDER,
            ),
        ],
    }

    for secrets, shown in ((CUSTOMER_SECRETS, customer_shown), (SUPPLIER_SECRETS, supplier_shown)):
        for page, value in pages[secrets]:
            if shown:
                assert value in page
            else:
                assert not [secret for secret in secrets if secret in page], role
    everything = "".join(page for page, _ in pages[CUSTOMER_SECRETS])
    assert "Francesca" in everything and "Via Roma 12" in everything  # public values stay
    assert "same birth date" in everything  # the explanation keeps its level


def test_the_payload_hash_is_shown_only_to_who_reads_every_value(browser, records):
    record = records.erp_customer

    assert record.payload_hash in _page(
        browser("data_steward"), "golden_sourcerecord_change", record.pk
    )
    assert record.payload_hash not in _page(
        browser("finance"), "golden_sourcerecord_change", record.pk
    )


def test_the_review_item_shows_the_pair_side_by_side_without_hidden_rows(browser, records):
    page = _page(browser("finance"), "matching_reviewitem_change", records.review.pk)

    steward = _page(browser("data_steward"), "matching_reviewitem_change", records.review.pk)

    assert "Federica" in page and "Francesca" in page
    assert page.count("<td>birth_date</td>") == 1  # its explanation row, no value row
    assert f"<td>birth_date</td><td>{BIRTH_DATE}</td><td>{BIRTH_DATE}</td>" in steward


@pytest.mark.parametrize(
    "name", ["golden_goldenrecord", "golden_sourcerecord", "matching_matchkey"]
)
def test_admin_search_by_a_hidden_national_id_finds_nothing(browser, records, name):
    response = browser("finance").get(reverse(f"admin:{name}_changelist"), {"q": NATIONAL_ID})

    assert response.status_code == 200
    assert response.context["cl"].result_count == 0


def test_match_keys_are_listed_only_where_every_attribute_is_read(browser, records, erp):
    upsert_source_record(  # a supplier with an identity key (e-mail)
        system=erp,
        domain="supplier",
        source_key="S2",
        payload={"legal_name": "Borealis Logistik AG", "country": "DE", "email": "a@b.example"},
    )
    steward = browser("data_steward").get(
        reverse("admin:matching_matchkey_changelist"), {"q": NATIONAL_ID}
    )
    finance = browser("finance").get(reverse("admin:matching_matchkey_changelist"))

    assert steward.context["cl"].result_count >= 1
    domains = set(finance.context["cl"].queryset.values_list("domain", flat=True))
    assert domains == {"supplier"}  # finance reads every supplier attribute
    assert MatchKey.objects.filter(domain="customer").exists()


@pytest.mark.parametrize(
    "lookup",
    [
        ("golden_goldenrecord", "values__national_id"),
        ("golden_sourcerecord", "canonical__national_id"),
        ("golden_sourcerecord", "raw_payload__national_id"),
        ("golden_journalentry", "after__values__national_id"),
    ],
)
def test_admin_url_filters_on_values_are_refused(browser, records, lookup):
    name, field = lookup

    response = browser("finance").get(reverse(f"admin:{name}_changelist"), {field: NATIONAL_ID})

    assert response.status_code == 400


@pytest.mark.parametrize(
    ("role", "attribute", "value"),
    [
        ("finance", "national_id", "RSSMRA80A01F205X"),
        ("auditor", "email", "someone@example.it"),
        ("finance", "birth_date", "1960-01-01"),
    ],
)
def test_an_override_on_an_attribute_the_user_may_not_write_is_refused(
    browser, records, role, attribute, value
):
    golden = records.customer
    before = (dict(golden.values), JournalEntry.objects.count(), golden.version)

    response = browser(role).post(
        reverse("admin:golden_attributeoverride_add"),
        {
            "global_id": golden.global_id,
            "attribute_name": attribute,
            "new_value": value,
            "why": "corrected",
        },
    )

    assert response.status_code == 200
    assert f"Your role may not write {attribute} of customer records." in response.content.decode()
    golden.refresh_from_db()
    assert (golden.values, JournalEntry.objects.count(), golden.version) == before
    assert not AttributeOverride.objects.exists()


def test_an_override_on_a_writable_attribute_goes_through_the_service(browser, records):
    golden = records.customer

    response = browser("data_steward").post(
        reverse("admin:golden_attributeoverride_add"),
        {
            "global_id": golden.global_id.lower(),
            "attribute_name": "national_id",
            "new_value": "RSSMRA80A01F205X",
            "why": "confirmed by the customer",
        },
    )

    assert response.status_code == 302
    golden.refresh_from_db()
    assert golden.values["national_id"] == "RSSMRA80A01F205X"
    assert golden.lineage["national_id"]["rule"] == "override"
    entry = JournalEntry.objects.filter(action="override").get()
    assert entry.actor.groups.filter(name="data_steward").exists()


def test_an_invalid_override_value_is_refused_by_the_service_on_the_form(browser, records):
    response = browser("data_steward").post(
        reverse("admin:golden_attributeoverride_add"),
        {
            "global_id": records.customer.global_id,
            "attribute_name": "email",
            "new_value": "not-an-address",
            "why": "typo",
        },
    )

    assert response.status_code == 200
    assert "not a valid e-mail address" in response.content.decode()
    assert not AttributeOverride.objects.exists()


def test_overrides_of_hidden_attributes_show_neither_value_nor_reason(
    browser, records, django_user_model
):
    steward = django_user_model.objects.create_user("steward")
    set_attribute_override(
        golden=records.customer,
        attribute="national_id",
        value="RSSMRA80A01F205X",
        reason="was RSSMRA80A01F205X on the form",
        acting_user=steward,
    )
    finance = browser("finance")

    pages = [
        _page(finance, "golden_goldenrecord_change", records.customer.pk),
        _page(finance, "golden_attributeoverride_changelist"),
        _page(finance, "golden_attributeoverride_change", AttributeOverride.objects.get().pk),
        _page(finance, "golden_journalentry_changelist"),
        _page(
            finance, "golden_journalentry_change", JournalEntry.objects.get(action="override").pk
        ),
    ]

    for page in pages:
        assert "RSSMRA80A01F205X" not in page
    assert "national_id" in pages[1]  # which attribute is overridden is not secret
    shown = _page(browser("data_steward"), "golden_attributeoverride_changelist")
    assert "was RSSMRA80A01F205X on the form" in shown


def test_the_golden_record_page_offers_an_override_only_to_writers(browser, records):
    url = reverse("admin:golden_attributeoverride_add") + "?global_id="

    assert url in _page(browser("data_steward"), "golden_goldenrecord_change", records.customer.pk)
    assert url not in _page(browser("auditor"), "golden_goldenrecord_change", records.customer.pk)


def test_field_policies_are_kept_in_the_admin(browser, db):
    client = browser(superuser=True)

    response = client.post(
        reverse("admin:golden_fieldpolicy_add"),
        {
            "role": Group.objects.get(name="auditor").pk,
            "domain": "customer",
            "attribute": "nationality",
            "can_read": "on",
        },
    )

    assert response.status_code == 200 and "has no attribute" in response.content.decode()
    assert _page(client, "golden_fieldpolicy_changelist")
