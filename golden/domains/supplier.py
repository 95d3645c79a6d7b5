"""Suppliers: organizations the company buys from and pays."""

from matching.engine import blocking as b
from matching.engine import comparisons as m
from matching.engine import normalize
from matching.engine.scoring import Thresholds
from matching.engine.spec import MatchSpec

from . import canonical as c
from .base import Attribute, Domain, IdentityRule, Sensitivity

CONTACT = ("source_priority", "most_recent", "most_frequent")
ADDRESS = ("address_line1", "address_line2", "city", "region", "postal_code", "country")
LEGAL = ("source_priority", "most_frequent", "most_recent")


def display_name(values) -> str:
    return values.get("legal_name") or values.get("trade_name", "")


# Suppliers are organizations: the legal name, the identifiers (tax ID, D-U-N-S, bank
# account) and the contact details decide. Two different tax IDs, D-U-N-S numbers or
# IBANs are two different legal entities. Companies of one group share a brand, often
# an address and sometimes a phone; a name with another legal form, or contained in
# the other ("Acme" and "Acme Logistics"), weighs against a merge.
POSTAL = b.exact("postal_code", normalize.part_number)

MATCHING = MatchSpec(
    comparisons=(
        m.OrganizationName("legal_name", label="legal name"),
        m.OrganizationName("trade_name", label="trade name"),
        m.Exact("tax_id", label="tax ID"),
        m.Exact("duns", label="D-U-N-S number"),
        m.Exact("bank_iban", label="IBAN"),
        m.Exact("email", key=normalize.email_key, label="e-mail address"),
        m.Exact("phone", key=normalize.phone_digits, label="phone number"),
        m.WebDomain(("website", "email")),
        m.StreetAddress("address_line1", "postal_code", "city", "country"),
    ),
    blocking=(
        b.BlockingRule("tax_id", b.exact("tax_id")),
        b.BlockingRule("duns", b.exact("duns")),
        b.BlockingRule("bank_iban", b.exact("bank_iban")),
        b.BlockingRule("email", b.exact("email", normalize.email_key)),
        b.BlockingRule("phone", b.each("phone", normalize.phone_digits)),
        b.BlockingRule("web", b.web_domain("website", "email")),
        b.BlockingRule("name_city", b.combined(b.organization_name("legal_name"), b.place("city"))),
        b.BlockingRule("name_sound_postal", b.combined(b.organization_sound("legal_name"), POSTAL)),
        b.BlockingRule("house_postal", b.combined(b.house("address_line1"), POSTAL)),
        b.BlockingRule("house_city", b.combined(b.house("address_line1"), b.place("city"))),
    ),
    # Non-null levels in order (see each comparison's ``levels``). u is set for the
    # candidates that look alike (companies of one group, namesakes), not for random
    # pairs. The trade name mostly repeats the legal name, so agreeing on it adds little;
    # namesakes may share a web domain.
    m={
        "legal_name": [0.84, 0.02, 0.13, 0.002, 0.005, 0.002, 0.001],
        "trade_name": [0.95, 0.01, 0.03, 0.002, 0.004, 0.002, 0.002],
        "tax_id": [0.99998, 0.00002],
        "duns": [0.99998, 0.00002],
        "bank_iban": [0.9998, 0.0002],
        "email": [0.4, 0.6],
        "phone": [0.95, 0.05],
        "web_domain": [0.97, 0.03],
        "address": [0.82, 0.085, 0.03, 0.06, 0.005],
    },
    u={
        "legal_name": [0.001, 0.0002, 0.0003, 0.3, 0.01, 0.005, 0.6835],
        "trade_name": [0.5, 0.05, 0.01, 0.1, 0.05, 0.01, 0.28],
        "tax_id": [0.0001, 0.9999],
        "duns": [0.0001, 0.9999],
        "bank_iban": [0.0001, 0.9999],
        "email": [0.0005, 0.9995],
        "phone": [0.005, 0.995],
        "web_domain": [0.17, 0.83],
        "address": [0.0008, 0.0002, 0.003, 0.05, 0.946],
    },
    prior=0.001,
    thresholds=Thresholds(auto=0.99, review=0.5),
    # Blocks of more than 20 records on one key (a common company name in one city,
    # one postal code and house number) are compared within a window of their 10
    # newest records, as for customers. On 174,934 generated suppliers (100,000
    # entities, seed 7, in memory) this compares 2,012,858 candidate pairs instead of
    # 5,073,893 (the default cap of 200 with a window of 20) for the same precision
    # (0.9987) and F1 0.9868 against 0.9870; recall of merges and review 0.9945
    # against 0.9961. A cap of 50 gave 3,122,130 pairs, F1 0.9868 and 0.9948.
    max_block=20,
    window=10,
)

DOMAIN = Domain(
    name="supplier",
    label="Supplier",
    id_prefix="SUP",
    attributes=(
        Attribute("legal_name", c.text, survivorship=LEGAL),
        Attribute("trade_name", c.text, survivorship=LEGAL),
        Attribute("tax_id", c.tax_id, label="tax ID", survivorship=LEGAL),
        Attribute("duns", c.duns, label="D-U-N-S number", survivorship=LEGAL),
        Attribute("email", c.email, label="e-mail", survivorship=CONTACT),
        Attribute("phone", c.phone, multi_valued=True, survivorship=("aggregate",)),
        Attribute("website", c.website, survivorship=CONTACT),
        Attribute("address_line1", c.text, label="address line 1", survivorship=CONTACT),
        Attribute("address_line2", c.text, label="address line 2", survivorship=CONTACT),
        Attribute("city", c.text, survivorship=CONTACT),
        Attribute("region", c.text, survivorship=CONTACT),
        Attribute("postal_code", c.upper_code, survivorship=CONTACT),
        Attribute("country", c.country, survivorship=CONTACT),
        Attribute(
            "bank_iban",
            c.iban_number,
            label="bank IBAN",
            sensitivity=Sensitivity.RESTRICTED,
            survivorship=("source_priority", "most_recent"),
        ),
        Attribute(
            "bank_account_holder",
            c.text,
            label="bank account holder",
            sensitivity=Sensitivity.RESTRICTED,
            survivorship=("source_priority", "most_recent"),
        ),
        Attribute(
            "payment_terms",
            c.upper_code,
            label="payment terms",
            sensitivity=Sensitivity.INTERNAL,
            survivorship=("source_priority", "most_recent"),
        ),
    ),
    name_attributes=("legal_name", "trade_name"),
    identity_rules=(
        IdentityRule("tax_id", scope_by_country=True),
        IdentityRule("duns"),
        IdentityRule("email", strong=False),
    ),
    display_name=display_name,
    survivorship_groups={"address": ADDRESS},
    matching=MATCHING,
)
