"""The fuzzy matching engine without a database: comparison levels, scoring and its
explanation, blocking, clustering without chaining, and EM estimation."""

import numpy as np
import pytest

from matching.engine import blocking as b
from matching.engine import comparisons as c
from matching.engine import training
from matching.engine.batch import link_in_order
from matching.engine.clustering import decide
from matching.engine.linking import Exclusivity, Linker
from matching.engine.scoring import Model, Thresholds, default_parameters, probability_of


def level_name(comparison, a, b):
    return comparison.levels[comparison.level(comparison.prepare(a), comparison.prepare(b))].name


@pytest.mark.parametrize(
    ("a", "b", "level"),
    [
        ({"first_name": "John", "last_name": "Smith"}, {"first_name": "John", "last_name": "Smith"}, "exact"),
        ({"first_name": "Bill", "last_name": "Smith"}, {"first_name": "William", "last_name": "Smith"}, "nickname_or_swap"),
        ({"first_name": "Smith", "last_name": "John"}, {"first_name": "John", "last_name": "Smith"}, "nickname_or_swap"),
        ({"first_name": "Jon", "last_name": "Smyth"}, {"first_name": "John", "last_name": "Smith"}, "typo"),
        ({"first_name": "J", "last_name": "Smith"}, {"first_name": "John", "last_name": "Smith"}, "family_same"),
        ({"first_name": "Mary", "last_name": "Jones"}, {"first_name": "John", "last_name": "Smith"}, "else"),
        ({"first_name": "", "last_name": ""}, {"first_name": "John", "last_name": "Smith"}, "null"),
    ],
)  # fmt: skip
def test_person_name_levels(a, b, level):
    assert level_name(c.PersonName(), a, b) == level


@pytest.mark.parametrize(
    ("a", "b", "level"),
    [
        ("北京华信科技有限公司", "北京华信科技", "exact"),
        ("Acme GmbH", "ACME G.m.b.H.", "exact"),
        ("Acme Logistics Holding GmbH", "Holding Acme Logistics", "token_set>=0.95"),
        ("Siemens Healthineers AG", "Siemens Healthineer", "fuzzy>=0.90"),
        ("Globex", "Globex International", "contained"),
        ("Initech", "Umbrella Corp", "else"),
        ("", "Umbrella Corp", "null"),
    ],
)
def test_company_name_levels(a, b, level):
    comparison = c.CompanyName("organization_name")
    assert level_name(comparison, {"organization_name": a}, {"organization_name": b}) == level


@pytest.mark.parametrize(
    ("a", "b", "level"),
    [
        ("1980-03-04", "1980-03-04", "exact"),
        ("1980-03-04", "1980-04-03", "swapped"),
        ("1980-03-04", "1980-03-05", "typo"),
        ("1980-03-14", "1980-03-41", "typo"),  # transposed digits (not a valid date: null)
        ("1980-03-04", "1980-11-20", "year"),
        ("1980-03-04", "1981-03-04", "typo"),
        ("1980-03-04", "1961-07-19", "else"),
        ("", "1961-07-19", "null"),
    ],
)
def test_date_levels(a, b, level):
    comparison = c.Date("birth_date")
    expected = "null" if b == "1980-03-41" else level
    assert level_name(comparison, {"birth_date": a}, {"birth_date": b}) == expected


@pytest.mark.parametrize(
    ("a", "b", "level"),
    [
        ("Sony Turntable - PSLX350H", "SONY PS-LX350H belt-drive turntable", "shared_long"),
        ("Bose AM53BK speakers", "Bose Acoustimass AM-53BK", "shared_long"),
        ("Sony MDR-V6 headphones", "Sony MDRV6 studio monitor", "shared"),
        ("Canon PowerShot SD1100", "Canon PowerShot SD1100IS", "near"),
        ("Linksys EZXS88W switch", "Linksys EZXS55W switch", "else"),  # another model
        ("Sony KDL40V4100 TV", "Panasonic TH42PX80U", "else"),
        ("Sony turntable", "Panasonic TH42PX80U", "null"),
    ],
)
def test_model_code_levels(a, b, level):
    comparison = c.ModelCodes(("name",))
    assert level_name(comparison, {"name": a}, {"name": b}) == level


@pytest.mark.parametrize(
    ("a", "b", "level"),
    [
        (
            {"address_line1": "12 Main Street", "postal_code": "10115", "city": "Berlin"},
            {"address_line1": "12 Main St.", "postal_code": "10115", "city": "Berlin"},
            "exact",
        ),
        (
            {"address_line1": "Hauptstr. 5", "postal_code": "10115", "city": "Berlin"},
            {"address_line1": "Hauptstrase 5", "postal_code": "10115", "city": "Berlin"},
            "street_typo",
        ),
        (
            {"address_line1": "Hauptstr. 5", "postal_code": "10115", "city": "Berlin"},
            {"address_line1": "Hauptstr. 7", "postal_code": "10115", "city": "Berlin"},
            "locality",
        ),
        (
            {"address_line1": "Hauptstr. 5", "postal_code": "10115", "country": "DE"},
            {"address_line1": "Hauptstr. 5", "postal_code": "10115", "country": "AT"},
            "else",
        ),
        ({}, {"address_line1": "Hauptstr. 5"}, "null"),
    ],
)
def test_address_levels(a, b, level):
    assert level_name(c.Address(), a, b) == level


@pytest.mark.parametrize(
    ("comparison", "a", "b", "level"),
    [
        (c.Exact("email"), "Jane@Example.com", "jane@example.com", "exact"),
        (c.Exact("email"), "jane@example.com", "john@example.com", "else"),
        (c.Text("city", thresholds=(0.95, 0.88)), "Munchen", "München", "exact"),
        (c.Text("city", thresholds=(0.95, 0.88)), "Frankfurt", "Frankfrut", "jaro_winkler>=0.95"),
        (c.Text("city", thresholds=(0.95, 0.88), phonetic=True), "Smith", "Smyth", "jaro_winkler>=0.88"),
        (c.Text("city", thresholds=(0.99,), phonetic=True), "Knight", "Night", "phonetic"),
        (c.Text("city"), "Paris", "Lyon", "else"),
        (c.Numeric("net_weight"), "1.0", "1.0", "exact"),
        (c.Numeric("net_weight"), "1.0", "1.005", "within0.01"),
        (c.Numeric("net_weight"), "1.0", "1.08", "within0.1"),
        (c.Numeric("net_weight"), "1.0", "2", "else"),
        (c.Words("name"), "sony bravia 40 inch lcd tv", "Sony Bravia 40 inch LCD TV black", "token_set>=0.9"),
        (c.Words("name"), "sony bravia tv", "bose speaker", "else"),
    ],
)  # fmt: skip
def test_simple_levels(comparison, a, b, level):
    attribute = comparison.attributes[0]
    assert level_name(comparison, {attribute: a}, {attribute: b}) == level


def test_vectorised_levels_equal_one_by_one():
    comparison = c.Text("name", thresholds=(0.95, 0.85, 0.7))
    words = ["Meyer", "Meier", "Mayer", "Maier", "Smith", "", "Schmidt", "Schmitt"]
    features = [comparison.prepare({"name": word}) for word in words]
    left = [features[i] for i in range(len(words)) for _ in range(len(words))]
    right = [features[j] for _ in range(len(words)) for j in range(len(words))]
    assert comparison.levels_of(left, right).tolist() == [
        comparison.level(a, b) for a, b in zip(left, right, strict=True)
    ]


THRESHOLDS = Thresholds(auto=0.99, review=0.5)


def small_model(thresholds=THRESHOLDS) -> Model:
    comparisons = (c.Exact("email"), c.Text("name", thresholds=(0.9,)))
    parameters = default_parameters(
        comparisons,
        m={"email": [0.9, 0.1], "name": [0.7, 0.2, 0.1]},
        u={"email": [0.001, 0.999], "name": [0.01, 0.05, 0.94]},
        prior=0.01,
    )
    return Model(comparisons, parameters, thresholds)


def test_score_decomposes_into_contributions_and_explains_itself():
    model = small_model()
    a = model.prepare({"email": "x@example.com", "name": "Anna Berg"})
    b = model.prepare({"email": "x@example.com", "name": "Anna Berg"})
    score = model.score(a, b)
    expected = np.log2(0.01 / 0.99) + np.log2(0.9 / 0.001) + np.log2(0.7 / 0.01)
    assert score.weight == pytest.approx(expected)
    assert score.probability == pytest.approx(probability_of(expected))
    assert score.weight == pytest.approx(
        score.prior_weight + sum(item.weight for item in score.contributions)
    )
    text = score.explain()
    assert "same email" in text and "same name" in text and "prior" in text
    # A missing value is no evidence either way: it does not appear.
    missing = model.score(a, model.prepare({"name": "Anna Berg"}))
    assert [item.comparison for item in missing.contributions] == ["name"]


def test_vectorised_weights_equal_scalar_scores():
    model = small_model()
    records = [
        {"email": "a@x.com", "name": "Anna Berg"},
        {"email": "a@x.com", "name": "Ana Berg"},
        {"name": "Anna Berg"},
        {"email": "b@x.com", "name": "Bob Stone"},
    ]
    features = [model.prepare(r) for r in records]
    pairs = np.array([(i, j) for i in range(4) for j in range(i + 1, 4)])
    weights = model.weights_of_matrix(model.level_matrix(features, pairs))
    for (i, j), weight in zip(pairs.tolist(), weights.tolist(), strict=True):
        assert weight == pytest.approx(model.score(features[i], features[j]).weight)


def test_no_chaining_a_record_must_match_the_whole_cluster():
    thresholds = Thresholds(auto=0.99, review=0.5)
    # Strong link to one member, but the other member contradicts it.
    decision = decide({"C1": {"a": 0.999, "b": 0.05}}, thresholds)
    assert not decision.attaches
    assert [item.cluster for item in decision.review] == ["C1"]
    # Matching every member well enough joins.
    decision = decide({"C1": {"a": 0.999, "b": 0.7}}, thresholds)
    assert decision.attaches and decision.cluster == "C1"


def test_not_a_match_vetoes_a_cluster_whatever_the_scores():
    thresholds = Thresholds(auto=0.99, review=0.5)
    decision = decide({"C1": {"a": 0.9999, "b": 0.9999}}, thresholds, vetoed={"b"})
    assert not decision.attaches and decision.review == ()


def test_review_band_and_below():
    thresholds = Thresholds(auto=0.99, review=0.5)
    assert decide({"C1": {"a": 0.8}}, thresholds).review[0].probability == 0.8
    nothing = decide({"C1": {"a": 0.2}}, thresholds)
    assert not nothing.attaches and nothing.review == ()


def test_batch_linking_does_not_chain_through_a_weak_link():
    model = small_model()
    records = [
        {"email": "one@x.com", "name": "Anna Berg"},
        {"email": "one@x.com", "name": "Anna Berg"},  # same as 0
        {"email": "two@x.com", "name": "Anna Berg"},  # same name, other e-mail
    ]
    features = [model.prepare(r) for r in records]
    pairs = np.array([(0, 1), (0, 2), (1, 2)])
    result = link_in_order(model, features, pairs)
    assert result.cluster_of[0] == result.cluster_of[1]
    assert result.cluster_of[2] != result.cluster_of[0]


def test_blocking_unions_rules_and_caps_oversized_blocks():
    rules = (
        b.BlockingRule("email", b.exact("email")),
        b.BlockingRule("name", b.prefix("name", 4)),
    )
    records = [{"email": "a@x.com", "name": "Anna"}, {"email": "a@x.com", "name": "Zoe"}]
    records += [{"name": f"Smith {i}"} for i in range(50)]
    blocker = b.Blocker(rules, max_block=10, window=3)
    pairs = blocker.candidate_pairs(records)
    assert (0, 1) in {tuple(p) for p in pairs.tolist()}
    assert blocker.report.capped_blocks == 1
    # 50 records in one capped block: about window × n pairs, not n²/2.
    assert blocker.report.pairs <= 1 + 50 * 3
    blocker.measure_recall(pairs, [(0, 1), (2, 40)])
    assert blocker.report.recall == 0.5


def test_em_separates_matches_from_non_matches():
    model = small_model()
    generator = np.random.default_rng(3)
    matches = np.column_stack(
        [
            generator.choice([1, 2], 300, p=[0.85, 0.15]),
            generator.choice([1, 2, 3], 300, p=[0.8, 0.15, 0.05]),
        ]
    )
    non_matches = np.column_stack(
        [generator.choice([1, 2], 3000, p=[0.002, 0.998]), generator.choice([1, 2, 3], 3000, p=[0.02, 0.08, 0.9])]
    )  # fmt: skip
    levels = np.vstack([matches, non_matches]).astype(np.int8)
    u = training.estimate_u(model, non_matches.astype(np.int8))
    parameters, report = training.expectation_maximisation(model, levels, u=u)
    assert parameters.m["email"][1] == pytest.approx(0.85, abs=0.05)
    assert parameters.prior == pytest.approx(300 / 3300, abs=0.02)
    assert report.iterations >= 2
    trained = model.with_parameters(parameters)
    assert trained.weight_of((1, 1)) > 5 > 0 > trained.weight_of((2, 3))


def test_groups_that_hold_each_entity_once():
    model = small_model(Thresholds(auto=0.99, review=0.5))
    records = [
        ("A", {"email": "one@x.com", "name": "Anna Berg"}),
        ("A", {"email": "two@x.com", "name": "Otto Lind"}),
        ("B", {"email": "one@x.com", "name": "Anna Bergh"}),  # 0.973 with record 0
        ("B", {"email": "one@x.com", "name": "Anna Bergh"}),  # same as 2, same group
    ]
    features = [model.prepare(values) for _, values in records]
    pairs = np.array([(i, j) for i in range(4) for j in range(i + 1, 4)])

    plain = link_in_order(model, features, pairs)
    assert plain.cluster_of[2] != plain.cluster_of[0]  # 0.973: review only
    assert plain.cluster_of[3] == plain.cluster_of[2]  # same values join

    grouped = link_in_order(model, features, pairs, groups=[g for g, _ in records])
    # Record 2 is record 0's clear best match both ways: +4 bits, 0.998.
    assert grouped.cluster_of[2] == grouped.cluster_of[0]
    assert grouped.decisions[2].probability == pytest.approx(probability_of(5.18 + 4), abs=1e-3)
    # Record 3 would join too, but the cluster already holds a record of group B.
    assert grouped.cluster_of[3] not in (grouped.cluster_of[0], grouped.cluster_of[1])
    assert [item.cluster for item in grouped.decisions[3].review] == [grouped.cluster_of[0]]


def test_no_exclusivity_evidence_when_a_rival_is_close():
    model = small_model(Thresholds(auto=0.99, review=0.5))
    records = [
        ("A", {"email": "one@x.com", "name": "Anna Berg"}),
        ("B", {"email": "one@x.com", "name": "Anna Bergh"}),  # placed first: 0.973
        ("B", {"email": "one@x.com", "name": "Anna Bergg"}),  # a rival as good
    ]
    features = [model.prepare(values) for _, values in records]
    pairs = np.array([(0, 1), (0, 2), (1, 2)])
    result = link_in_order(model, features, pairs, groups=[g for g, _ in records])
    # Record 1 is clear (record 2 is not placed yet) and joins; record 2 then meets a
    # cluster that holds a record of its group.
    assert result.cluster_of[1] == result.cluster_of[0]
    assert result.cluster_of[2] != result.cluster_of[0]

    # Placed against an open cluster with a same-group rival already elsewhere, no bonus.
    linker = Linker(model, features, pairs, groups=["A", "B", "B"])
    linker.assign(0, "C0")
    linker.assign(2, "C2")  # a rival of record 1 for record 0, kept apart
    decision = linker.decide(1)
    assert not decision.attaches
    assert decision.review[0].probability == pytest.approx(probability_of(5.18), abs=1e-3)


def test_lowered_clusters_are_offered_below_the_review_threshold_and_beyond_the_cap():
    thresholds = Thresholds(auto=0.99, review=0.5)
    candidates = {f"C{i}": {f"m{i}": 0.9 - i / 100} for i in range(4)}
    candidates["low"] = {"x": 0.02}
    plain = decide(candidates, thresholds)
    assert [item.cluster for item in plain.review] == ["C0", "C1", "C2"]
    offered = decide(candidates, thresholds, lowered={"low": 0.01})
    assert [item.cluster for item in offered.review] == ["C0", "C1", "C2", "low"]
    assert offered.review[-1].probability == 0.02
    assert offered.review[-1].lowered and not any(item.lowered for item in offered.review[:3])
    # Below its own floor a lowered cluster stays out.
    assert "low" not in [
        i.cluster for i in decide(candidates, thresholds, lowered={"low": 0.03}).review
    ]


def test_review_last_clusters_come_after_the_others_whatever_their_probability():
    thresholds = Thresholds(auto=0.99, review=0.5)
    candidates = {"own": {"a": 0.95}, "B": {"b": 0.6}, "C": {"c": 0.7}}
    decision = decide(candidates, thresholds, review_last={"own"})
    assert [item.cluster for item in decision.review] == ["C", "B", "own"]
    # Taken by the rest, the cap leaves no place for it.
    crowded = {**candidates, "D": {"d": 0.55}}
    assert "own" not in [i.cluster for i in decide(crowded, thresholds, review_last={"own"}).review]


def counterpart_records():
    """Group A holds records 0 and 1; group B records 2 and 3. Record 2 has no
    e-mail: 0.41 with record 0 (same name), 0.039 with record 1 (near name). The
    tests add no bits for a clear best match, to see the review floor alone."""
    return [
        ("A", {"email": "one@x.com", "name": "Anna Berg"}),
        ("A", {"email": "two@x.com", "name": "Anna Bergh"}),
        ("B", {"name": "Anna Berg"}),
        ("B", {"email": "two@x.com", "name": "Anna Bergh"}),  # record 1's own match
    ]


def place_counterpart(pairs, exclusivity, groups=True, records=None):
    model = small_model(Thresholds(auto=0.99, review=0.5))
    records = records or counterpart_records()
    features = [model.prepare(values) for _, values in records]
    linker = Linker(
        model,
        features,
        np.array(pairs),
        groups=[g for g, _ in records] if groups else None,
        exclusivity=exclusivity,
    )
    linker.assign(0, "C0")
    linker.assign(1, "C1")
    return linker.decide(2)


def test_best_counterpart_is_offered_for_review_below_the_threshold():
    pairs = [(0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3)]
    offered = place_counterpart(pairs, Exclusivity(weight=0.0, review=0.01))
    assert not offered.attaches
    assert [item.cluster for item in offered.review] == ["C0"]
    assert offered.review[0].probability == pytest.approx(probability_of(-0.5), abs=1e-3)
    # Record 1 has a stronger partner in group B (record 3): C1 at 0.039 is not
    # record 2's counterpart either way.
    assert "C1" not in [item.cluster for item in offered.review]
    # Without the setting, or without once-only groups, 0.41 is below the threshold.
    assert place_counterpart(pairs, Exclusivity(weight=0.0)).review == ()
    assert place_counterpart(pairs, Exclusivity(weight=0.0, review=0.01), groups=False).review == ()


def test_a_record_that_is_its_partners_best_is_offered_too():
    # Without the pair (1, 3), record 2 is the best group-B record record 1 has.
    pairs = [(0, 1), (0, 2), (1, 2), (0, 3), (2, 3)]
    offered = place_counterpart(pairs, Exclusivity(weight=0.0, review=0.01))
    assert [item.cluster for item in offered.review] == ["C0", "C1"]
    # The floor still holds: from 0.05, the 0.039 pair is not offered.
    assert [
        i.cluster for i in place_counterpart(pairs, Exclusivity(weight=0.0, review=0.05)).review
    ] == ["C0"]


def test_counterparts_tied_for_best_are_all_offered():
    records = counterpart_records()
    records[1] = ("A", {"email": "three@x.com", "name": "Anna Berg"})  # as good as record 0
    pairs = [(0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3)]
    offered = place_counterpart(pairs, Exclusivity(weight=0.0, review=0.01), records=records)
    assert sorted(item.cluster for item in offered.review) == ["C0", "C1"]
