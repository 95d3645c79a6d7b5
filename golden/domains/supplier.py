"""Suppliers: organizations the company buys from and pays."""

from . import canonical as c
from .base import Attribute, Domain, IdentityRule, Sensitivity

CONTACT = ("source_priority", "most_recent", "most_frequent")
ADDRESS = ("address_line1", "address_line2", "city", "region", "postal_code", "country")
LEGAL = ("source_priority", "most_frequent", "most_recent")


def display_name(values) -> str:
    return values.get("legal_name") or values.get("trade_name", "")


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
)
