import datetime

from golden.survivorship import Member, Override, RuleChain, survive

T0 = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)


def member(pk, system, priority, days=0, **values):
    return Member(pk, system, f"K{pk}", priority, T0 + datetime.timedelta(days=days), values)


def test_source_priority_wins_and_lineage_names_the_source_and_rule():
    members = [member(1, "CRM", 10, city="Berlin"), member(2, "ERP", 30, city="Berlin-Mitte")]

    result = survive([RuleChain("city", ("source_priority", "most_recent"))], members)

    assert result.values == {"city": "Berlin-Mitte"}
    assert result.lineage["city"] == {"source_record": 2, "rule": "source_priority"}


def test_most_recent_breaks_a_priority_tie():
    members = [member(1, "A", 10, days=1, city="Old"), member(2, "B", 10, days=5, city="New")]

    result = survive([RuleChain("city", ("source_priority", "most_recent"))], members)

    assert result.values["city"] == "New"
    assert result.lineage["city"]["rule"] == "most_recent"


def test_most_frequent_value():
    members = [
        member(1, "A", 10, name="ACME"),
        member(2, "B", 10, name="Acme Inc"),
        member(3, "C", 10, name="Acme Inc"),
    ]

    result = survive([RuleChain("name", ("most_frequent",))], members)

    assert result.values["name"] == "Acme Inc"
    assert result.lineage["name"]["rule"] == "most_frequent"
    assert result.lineage["name"]["source_record"] == 2


def test_most_complete_prefers_the_fullest_record():
    members = [
        member(1, "A", 10, name="Bolt"),
        member(2, "B", 10, name="Hex bolt M8", category="Fasteners", gtin="1"),
    ]

    result = survive([RuleChain("name", ("most_complete",))], members)

    assert result.values["name"] == "Hex bolt M8"
    assert result.lineage["name"]["rule"] == "most_complete"


def test_aggregate_is_a_distinct_union_in_trust_order():
    members = [
        member(1, "CRM", 10, phone=["+1", "+2"]),
        member(2, "ERP", 30, phone=["+2", "+3"]),
    ]

    result = survive([RuleChain("phone", ("aggregate",))], members)

    assert result.values["phone"] == ["+2", "+3", "+1"]
    assert result.lineage["phone"]["source_records"] == [2, 2, 1]


def test_unbroken_tie_goes_to_the_oldest_record_whatever_the_order():
    a = member(7, "A", 10, city="X")
    b = member(3, "B", 10, city="Y")
    chains = [RuleChain("city", ("source_priority", "most_recent"))]

    assert survive(chains, [a, b]).values == survive(chains, [b, a]).values == {"city": "Y"}
    assert survive(chains, [a, b]).lineage["city"]["rule"] == "tie_break_oldest"


def test_agreement_and_single_source_are_named_as_such():
    chains = [RuleChain("city", ("source_priority",))]

    assert survive(chains, [member(1, "A", 1, city="X")]).lineage["city"]["rule"] == "only_source"
    both = [member(1, "A", 1, city="X"), member(2, "B", 9, city="X")]
    assert survive(chains, both).lineage["city"]["rule"] == "unanimous"


def test_override_beats_every_rule():
    members = [member(1, "ERP", 30, city="Berlin")]

    result = survive(
        [RuleChain("city", ("source_priority",))],
        members,
        {"city": Override("Potsdam", "customer moved", "steward")},
    )

    assert result.values == {"city": "Potsdam"}
    assert result.lineage["city"] == {
        "rule": "override",
        "reason": "customer moved",
        "by": "steward",
    }


def test_a_group_survives_together_from_one_source():
    address = ("street", "city")
    chains = [
        RuleChain("street", ("source_priority", "most_recent"), address, "address"),
        RuleChain("city", ("source_priority", "most_recent"), address, "address"),
    ]
    members = [
        member(1, "ERP", 30, street="Hauptstr. 1"),  # most trusted, but no city
        member(2, "CRM", 10, street="Main Street 1", city="Berlin"),
    ]

    result = survive(chains, members)

    # The trusted source wins the whole address: no street of one with a city of another.
    assert result.values == {"street": "Hauptstr. 1"}
    assert result.lineage["street"] == {
        "source_record": 1,
        "rule": "source_priority",
        "group": "address",
    }
