"""Customers: persons and organizations that buy from the company."""

from matching.engine import blocking as b
from matching.engine import comparisons as m
from matching.engine import normalize
from matching.engine.scoring import Thresholds
from matching.engine.spec import MatchSpec

from . import canonical as c
from .base import Attribute, Domain, IdentityRule, Sensitivity

KINDS = {
    "person": "person",
    "individual": "person",
    "p": "person",
    "organization": "organization",
    "organisation": "organization",
    "company": "organization",
    "o": "organization",
}


def infer(values: dict) -> dict:
    """A record without ``kind`` is an organization when it only names one."""
    if "kind" not in values:
        has_person_name = any(values.get(name) for name in ("first_name", "last_name"))
        values["kind"] = (
            "organization" if values.get("organization_name") and not has_person_name else "person"
        )
    return values


def display_name(values) -> str:
    if values.get("kind") == "organization" and values.get("organization_name"):
        return values["organization_name"]
    person = " ".join(
        values[name] for name in ("first_name", "middle_name", "last_name") if values.get(name)
    )
    return person or values.get("organization_name", "")


CONTACT = ("source_priority", "most_recent", "most_frequent")
ADDRESS = ("address_line1", "address_line2", "city", "region", "postal_code", "country")
NAME = ("source_priority", "most_frequent", "most_recent")


def is_organization(values) -> bool:
    return values.get("kind") == "organization"


# Persons and organizations in one model: each has its own name comparison, and a
# record of the other kind leaves it empty (no evidence). Identifiers decide in both
# directions: two different national or tax IDs are two different people or
# companies. Relatives share an address, a family name and often a phone; namesakes
# share a name; so neither name nor address alone merges, the birth date and the
# contact details must agree as well.
MATCHING = MatchSpec(
    comparisons=(
        m.Exact("kind"),
        m.FullPersonName("first_name", "last_name"),
        m.OrganizationName("organization_name"),
        m.Date("birth_date"),
        m.Exact("national_id", label="national ID"),
        m.Exact("tax_id", label="tax ID"),
        m.Exact("email", key=normalize.email_key, label="e-mail address"),
        m.Exact("phone", key=normalize.phone_digits, label="phone number"),
        m.WebDomain(("email",), label="e-mail domain", when=is_organization),
        m.StreetAddress("address_line1", "postal_code", "city", "country"),
    ),
    blocking=(
        b.BlockingRule("national_id", b.exact("national_id")),
        b.BlockingRule("tax_id", b.exact("tax_id")),
        b.BlockingRule("email", b.exact("email", normalize.email_key)),
        b.BlockingRule("phone", b.each("phone", normalize.phone_digits)),
        b.BlockingRule(
            "name_birth",
            b.combined(b.name_sounds("first_name", "last_name"), b.exact("birth_date")),
        ),
        b.BlockingRule(
            "name_postal",
            b.combined(
                b.full_name_sound("first_name", "last_name"),
                b.exact("postal_code", normalize.part_number),
            ),
        ),
        # No rule for a person's name with the city: name with postal code, and house
        # number with city, find nearly every pair it found, and its blocks (people of
        # one name in one city) are large. On generated customers it made a fifth of
        # the candidate pairs and of the import time, for 0.1 % of the true pairs
        # among automatic merges and 0.25 % among merges and review items.
        b.BlockingRule(
            "org_city", b.combined(b.organization_name("organization_name"), b.place("city"))
        ),
        b.BlockingRule(
            "org_sound_postal",
            b.combined(
                b.organization_sound("organization_name"),
                b.exact("postal_code", normalize.part_number),
            ),
        ),
        b.BlockingRule(
            "house_postal",
            b.combined(b.house("address_line1"), b.exact("postal_code", normalize.part_number)),
        ),
        # House number, street and city, and an initial of the name: for records
        # without (or with another) postal code. Without the initial, everyone at one
        # address shares the key; on 175,000 generated customers the initial keeps
        # the blocking recall (0.9906 to 0.9905) and compares 28 % fewer pairs.
        b.BlockingRule(
            "house_city",
            b.combined(
                b.house("address_line1"),
                b.place("city"),
                b.initials("first_name", "last_name", organization="organization_name"),
            ),
        ),
    ),
    # Non-null levels in order (see each comparison's ``levels``). u is set for the
    # candidates that look alike, not for random pairs: people of one household share an
    # address and often a phone, so these weigh less than their rarity alone would say,
    # and another given name under the same family name weighs against a match.
    m={
        "kind": [0.999, 0.001],
        "name": [0.62, 0.11, 0.2, 0.01, 0.015, 0.000002, 0.015],
        "organization_name": [0.84, 0.02, 0.13, 0.002, 0.005, 0.002, 0.001],
        "web_domain": [0.97, 0.03],
        "birth_date": [0.895, 0.04, 0.06, 0.002, 0.0001],
        "national_id": [0.99998, 0.00002],
        "tax_id": [0.99998, 0.00002],
        "email": [0.4, 0.6],
        "phone": [0.95, 0.05],
        "address": [0.82, 0.085, 0.03, 0.06, 0.005],
    },
    u={
        "kind": [0.55, 0.45],
        "name": [0.0003, 0.00006, 0.0004, 0.0001, 0.02, 0.3, 0.67914],
        "organization_name": [0.001, 0.0002, 0.0003, 0.3, 0.01, 0.005, 0.6835],
        "web_domain": [0.05, 0.95],
        "birth_date": [0.0001, 0.00003, 0.0016, 0.014, 0.98427],
        "national_id": [0.0001, 0.9999],
        "tax_id": [0.0001, 0.9999],
        "email": [0.0005, 0.9995],
        "phone": [0.005, 0.995],
        "address": [0.0008, 0.0002, 0.003, 0.05, 0.946],
    },
    prior=0.001,
    thresholds=Thresholds(auto=0.99, review=0.5),
    # Blocks of more than 20 records on one key (a house number and street in one
    # city, a Chinese brand name in one city) are compared within a window of their 10
    # newest records. Such blocks grow with the number of customers on file and make
    # matching cost grow with it. On 174,266 generated customers (100,000 entities,
    # seed 7, in memory) a cap of 20 with a window of 10, against 50 and 20, compares
    # 20 % fewer pairs (386,603 against 485,988) for the same precision (0.9983) and
    # F1 (0.9859; 10 fewer of 101,101 automatic pairs); recall of merges and review
    # 0.9916 against 0.9918. (50 instead of 200 had compared 26 % fewer pairs with no
    # loss either.)
    max_block=20,
    window=10,
)

DOMAIN = Domain(
    name="customer",
    label="Customer",
    id_prefix="CUS",
    attributes=(
        Attribute("kind", c.choice(KINDS), required=True, survivorship=NAME),
        Attribute("first_name", c.text, survivorship=NAME),
        Attribute("middle_name", c.text, survivorship=NAME),
        Attribute("last_name", c.text, survivorship=NAME),
        Attribute("organization_name", c.text, survivorship=NAME),
        Attribute(
            "birth_date",
            c.past_date,
            sensitivity=Sensitivity.RESTRICTED,
            survivorship=("source_priority", "most_frequent", "most_recent"),
        ),
        Attribute(
            "national_id",
            c.national_id,
            label="national ID",
            sensitivity=Sensitivity.RESTRICTED,
            survivorship=("source_priority", "most_frequent", "most_recent"),
        ),
        Attribute("tax_id", c.tax_id, label="tax ID", sensitivity=Sensitivity.INTERNAL),
        Attribute("email", c.email, label="e-mail", survivorship=CONTACT),
        Attribute(
            "phone",
            c.phone,
            multi_valued=True,
            survivorship=("aggregate",),
        ),
        Attribute("address_line1", c.text, label="address line 1", survivorship=CONTACT),
        Attribute("address_line2", c.text, label="address line 2", survivorship=CONTACT),
        Attribute("city", c.text, survivorship=CONTACT),
        Attribute("region", c.text, survivorship=CONTACT),
        Attribute("postal_code", c.upper_code, survivorship=CONTACT),
        Attribute("country", c.country, survivorship=CONTACT),
    ),
    name_attributes=("first_name", "last_name", "organization_name"),
    identity_rules=(
        IdentityRule("national_id", scope_by_country=True),
        IdentityRule("tax_id", scope_by_country=True),
        IdentityRule("email", strong=False),
    ),
    display_name=display_name,
    survivorship_groups={"address": ADDRESS},
    infer=infer,
    matching=MATCHING,
)
