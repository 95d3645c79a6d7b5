"""Materials: products, parts and goods the company buys, makes or sells."""

from . import canonical as c
from .base import Attribute, Domain, IdentityRule

WEIGHT_UNITS = {
    "kg": "kg", "kgm": "kg", "kilogram": "kg",
    "g": "g", "grm": "g", "gram": "g",
    "mg": "mg",
    "t": "t", "tne": "t", "tonne": "t",
    "lb": "lb", "lbs": "lb", "lbr": "lb", "pound": "lb",
    "oz": "oz", "onz": "oz", "ounce": "oz",
}  # fmt: skip

DESCRIPTIVE = ("source_priority", "most_complete", "most_recent")


def display_name(values) -> str:
    return values.get("name") or values.get("description", "")


DOMAIN = Domain(
    name="material",
    label="Material",
    id_prefix="MAT",
    attributes=(
        Attribute("name", c.text, survivorship=DESCRIPTIVE),
        Attribute("description", c.text, survivorship=DESCRIPTIVE),
        Attribute("manufacturer", c.text, survivorship=("source_priority", "most_frequent")),
        Attribute(
            "manufacturer_part_number",
            c.upper_code,
            label="manufacturer part number",
            survivorship=("source_priority", "most_frequent"),
        ),
        Attribute("gtin", c.gtin, label="GTIN", survivorship=("most_frequent", "source_priority")),
        Attribute("unit_of_measure", c.upper_code, label="unit of measure"),
        Attribute("category", c.text),
        Attribute("net_weight", c.decimal, label="net weight", survivorship=DESCRIPTIVE),
        Attribute("weight_unit", c.choice(WEIGHT_UNITS), label="weight unit"),
    ),
    name_attributes=("name", "description"),
    identity_rules=(IdentityRule("gtin"),),
    display_name=display_name,
)
