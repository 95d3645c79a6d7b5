"""The deterministic engine, without a database."""

import ast
from pathlib import Path

from matching.engine.deterministic import DeterministicResolver, IdentitySpec, identity_keys

SPECS = [
    IdentitySpec("tax_id", strong=True, scope_by_country=True),
    IdentitySpec("email", strong=False),
]


def test_identity_keys_scope_numbers_without_prefix_by_country():
    assert identity_keys(SPECS, {"tax_id": "123456789", "country": "US"}) == {
        "tax_id": "tax_id:US:123456789"
    }
    assert identity_keys(SPECS, {"tax_id": "DE129274202", "country": "FR"}) == {
        "tax_id": "tax_id::DE129274202"
    }


def test_records_sharing_an_identifier_join_one_cluster():
    resolver = DeterministicResolver(SPECS, known=[("tax_id::DE1", 10)], order={10: 10})

    placement = resolver.place({"tax_id": "tax_id::DE1"})

    assert placement.cluster == 10 and not placement.is_new
    assert placement.matched_on == ("tax_id",)


def test_a_conflicting_strong_identifier_vetoes_a_weak_match():
    resolver = DeterministicResolver(
        SPECS, known=[("tax_id::DE1", 10), ("email::info@x.example", 10)], order={10: 10}
    )

    placement = resolver.place({"tax_id": "tax_id::DE2", "email": "email::info@x.example"})

    assert placement.is_new


def test_batch_placement_equals_one_at_a_time():
    resolver = DeterministicResolver(SPECS)

    first = resolver.place({"email": "email::a@x.example"})
    second = resolver.place({"email": "email::a@x.example", "tax_id": "tax_id::DE1"})
    third = resolver.place({"tax_id": "tax_id::DE1"})

    assert first.is_new
    assert second.cluster == first.cluster == third.cluster


def test_more_strong_evidence_wins_then_the_oldest_cluster():
    resolver = DeterministicResolver(
        SPECS,
        known=[("email::a@x.example", 5), ("tax_id::DE1", 9), ("email::a@x.example", 3)],
        order={3: 3, 5: 5, 9: 9},
    )

    assert resolver.place({"tax_id": "tax_id::DE1", "email": "email::a@x.example"}).cluster == 9
    assert resolver.place({"email": "email::a@x.example"}).cluster == 3


def test_matching_engine_imports_nothing_from_django():
    engine = Path(__file__).resolve().parent.parent / "matching" / "engine"
    forbidden = {"django", "rest_framework", "celery", "golden", "api", "mdm"}
    for path in engine.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            for name in names:
                assert name.split(".")[0] not in forbidden, f"{path.name} imports {name}"
