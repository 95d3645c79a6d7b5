"""Fingerprints of review items digest only the compared values a record has, so a
comparison added for an attribute (the material list price) keeps a steward's
not-a-match binding on records that lack it; migration ``matching.0009`` rewrites the
fingerprints stored before in the new form."""

import dataclasses
import hashlib
import importlib
import json

import pytest
from django.apps import apps

from golden.domains import DOMAINS
from golden.services import upsert_source_record
from matching import reviews, services
from matching.engine import comparisons as c
from matching.models import ReviewItem

from .material_spec import SPEC

migration = importlib.import_module("matching.migrations.0009_fingerprints_of_present_values")

# The same declaration, comparing the list price as well.
WITH_PRICE = dataclasses.replace(
    SPEC,
    comparisons=(*SPEC.comparisons, c.Price("list_price")),
    m={**SPEC.m, "list_price": [0.3, 0.3, 0.2, 0.2]},
    u={**SPEC.u, "list_price": [0.01, 0.04, 0.1, 0.85]},
)


def use(monkeypatch, spec):
    monkeypatch.setitem(
        DOMAINS, "material", dataclasses.replace(DOMAINS["material"], matching=spec)
    )


def put(system, key, **values):
    return upsert_source_record(system=system, domain="material", source_key=key, payload=values)


def former(attributes, canonical):
    text = json.dumps([canonical.get(name) for name in sorted(attributes)], default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture
def decided(monkeypatch, erp, crm):
    use(monkeypatch, SPEC)
    put(erp, "M1", name="Turbo pump", manufacturer="Acme")
    put(crm, "X9", name="Turbo pump")
    item = ReviewItem.objects.get()
    reviews.decide(item, merge=False)
    item.refresh_from_db()
    return item


def test_a_fingerprint_ignores_compared_attributes_the_record_has_no_value_for():
    class Model:
        def __init__(self, *names):
            self.attributes = frozenset(names)

    values = {"name": "Turbo pump", "category": "pumps"}
    assert services.fingerprint(Model("name"), values) == services.fingerprint(
        Model("name", "list_price"), values
    )
    priced = {**values, "list_price": "10"}
    assert services.fingerprint(Model("name", "list_price"), priced) != services.fingerprint(
        Model("name", "list_price"), values
    )
    # Values count under their names: the same value under another attribute differs.
    assert services.fingerprint(Model("name", "category"), {"name": "x"}) != services.fingerprint(
        Model("name", "category"), {"category": "x"}
    )


def test_a_new_comparison_keeps_a_not_a_match_binding_until_a_compared_value_changes(
    decided, monkeypatch, erp, crm
):
    use(monkeypatch, WITH_PRICE)
    # Re-upserting unchanged records scores the pair again: the decision stands.
    put(crm, "X9", name="Turbo pump")
    put(erp, "M1", name="Turbo pump", manufacturer="Acme")
    assert ReviewItem.objects.get().status == ReviewItem.Status.NOT_A_MATCH

    # A price now compared, newly given: the pair is offered again.
    put(crm, "X9", name="Turbo pump", list_price="120")
    item = ReviewItem.objects.get()
    assert item.status == ReviewItem.Status.PENDING
    assert item.note == reviews.OFFERED_AGAIN


def test_the_migration_rewrites_fingerprints_of_unchanged_records_only(decided, monkeypatch, erp):
    a, b = decided.record_a, decided.record_b
    # As the former code stored them: A's when decided, B's over the values it had
    # then (it has changed since, so its pair must be offered again).
    compared = SPEC.model().attributes
    ReviewItem.objects.filter(pk=decided.pk).update(
        fingerprint_a=former(compared, a.canonical),
        fingerprint_b=former(compared, {**b.canonical, "name": "Turbo pump old"}),
    )

    migration.rewrite(apps, None)

    item = ReviewItem.objects.get()
    model = services.current_model(DOMAINS["material"])
    assert item.fingerprint_a == services.fingerprint(model, a.canonical)
    assert item.fingerprint_b == former(compared, {**b.canonical, "name": "Turbo pump old"})


def test_the_migration_knows_fingerprints_made_before_the_list_price_was_compared(
    decided, monkeypatch
):
    use(monkeypatch, WITH_PRICE)
    a, b = decided.record_a, decided.record_b
    before = SPEC.model().attributes  # without the list price
    ReviewItem.objects.filter(pk=decided.pk).update(
        fingerprint_a=former(before, a.canonical), fingerprint_b=former(before, b.canonical)
    )

    migration.rewrite(apps, None)

    item = ReviewItem.objects.get()
    model = services.current_model(DOMAINS["material"])
    assert (item.fingerprint_a, item.fingerprint_b) == (
        services.fingerprint(model, a.canonical),
        services.fingerprint(model, b.canonical),
    )
    assert reviews._binding(model, [item]) == {a.pk: {b.pk}, b.pk: {a.pk}}
