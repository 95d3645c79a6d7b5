"""Customers: persons and organizations that buy from the company."""

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
)
