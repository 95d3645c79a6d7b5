"""Materials: products, parts and goods the company buys, makes or sells."""

from matching.engine import blocking as b
from matching.engine import comparisons as m
from matching.engine.linking import Exclusivity
from matching.engine.scoring import Thresholds
from matching.engine.spec import MatchSpec

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


# Product data rarely shares clean keys: the model or part number hidden in titles
# and descriptions is the strongest evidence, title words the next; conflicting
# versions, editions or colours (``Variant``) tell look-alikes of one line apart.
# Codes and words are one comparison (``ProductTitle``) because they are not
# independent. The defaults are set by hand (no labels): a model number shared by
# both titles, with nothing conflicting, merges automatically; similar titles without
# a model number to confirm them go to review. The maker counts when one listing
# names it in a field and the other only in its title (``Maker``, level "in_title",
# about 2.3 bits; the other levels keep their former weights less 0.4 bits), and its
# words in one title are not held against the other title (``ProductTitle(brand=)``).
# List prices: m set by hand for one product at two sellers (the labelled pairs of
# both benchmarks spread alike: a third within 10 %, about 60 % within 25 %), u from
# random pairs (two products lie within 10 % about one time in 25, within 50 % one
# time in six). The same price weighs +3.3 bits, within 10 % +2.6, 25 % +2.1, 50 %
# +1.2, further apart -2. A price of zero is no price; prices in two currencies are
# not compared. EM on benchmark data (``--train``)
# did worse than these defaults, so a trained model should not replace them without
# steward decisions to check it against.
MATCHING = MatchSpec(
    comparisons=(
        m.Exact("gtin", label="GTIN"),
        m.ProductTitle("name", ("manufacturer_part_number", "description"), brand="manufacturer"),
        m.Variant("name"),
        m.Maker("manufacturer", "name"),
        m.Price("list_price", tolerances=(0.1, 0.25, 0.5), label="list price"),
    ),
    blocking=(
        b.BlockingRule("gtin", b.exact("gtin")),
        b.BlockingRule("code", b.model_codes("name", "manufacturer_part_number", "description")),
        b.BlockingRule("stem", b.code_stems("name", "manufacturer_part_number")),
        # Six words, digits first, then the longest: titles that name the vendor and
        # a catalogue number first ("encore software 14060 - terror strike") still
        # share the product's own words with a short title ("terror strike").
        b.BlockingRule("word", b.rare_tokens("name", limit=6)),
    ),
    # Non-null levels in order (see each comparison's ``levels``).
    m={
        "gtin": [0.95, 0.05],
        "product_title": [0.25, 0.3, 0.12, 0.05, 0.1, 0.06, 0.03, 0.03, 0.01, 0.05],
        "variant": [0.3, 0.6, 0.05, 0.01, 0.02, 0.02],
        "manufacturer": [0.56, 0.056, 0.028, 0.3, 0.056],
        "list_price": [0.1, 0.25, 0.25, 0.2, 0.2],
    },
    u={
        "gtin": [0.0001, 0.9999],
        "product_title": [1e-6, 2e-6, 1e-5, 2e-5, 1e-4, 1e-3, 2e-4, 2e-3, 5e-4, 0.996157],
        "variant": [0.02, 0.6, 0.08, 0.05, 0.1, 0.15],
        "manufacturer": [0.094, 0.0094, 0.0188, 0.06, 0.8178],
        "list_price": [0.01, 0.04, 0.06, 0.09, 0.8],
    },
    prior=0.001,
    thresholds=Thresholds(auto=0.99, review=0.05),
    # Blocks of more than 100 records on one key (a brand's model-code stem, a word
    # like "software" among the six rarest of a short title) are compared within a
    # window of their 20 newest records. With --distinct, in memory: Abt-Buy 99,221
    # candidate pairs instead of 144,209 (the default cap of 200) with the same
    # automatic merges and recall of merges and review (0.9182, 16 fewer pairs to
    # review); Amazon-Google 196,949 instead of 266,505, F1 0.2884 against 0.2872,
    # recall of merges and review 0.8432 against 0.8413 (0.8459 against 0.8395
    # through the import path, bench/evaluate.py). A cap of 50 lost recall on both
    # (0.9173 and 0.8377).
    max_block=100,
    # A clear best match both ways between two catalogues that hold each product
    # once (every competitor at least 8x less likely) weighs 6 bits here, against 4
    # by default: a pair the titles alone put at 0.61 or more then merges. In memory,
    # --distinct: Abt-Buy precision 0.9937 -> 0.9953 and F1 0.8432 -> 0.8744,
    # Amazon-Google precision as measured 0.7730 -> 0.7620 and F1 0.5744 -> 0.6279
    # (5 bits: 0.8445 and 0.6073; 7 bits: precision 0.9942 and 0.7542).
    # A record's best counterpart in the other catalogue (or a product that finds
    # the record its best) is offered for review from 0.01 instead of 0.05, beyond
    # the three usual places. Through the import path, --distinct: Abt-Buy recall of
    # merges and review 0.9201 -> 0.9545 for 1,062 -> 1,206 review items;
    # Amazon-Google 0.9193 -> 0.9429 for 4,808 -> 5,091. From 0.0001: 0.9610 and
    # 0.9574 for 1,239 and 6,118 items. Lowering the review threshold itself to 0.01
    # instead: Abt-Buy 0.9396 for 2,014 items.
    exclusivity=Exclusivity(weight=6.0, review=0.01),
)

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
        Attribute(
            "list_price",
            c.money,
            label="list price",
            survivorship=("source_priority", "most_recent"),
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
    matching=MATCHING,
)
