"""A material matching declaration whose weights are easy to follow: the same name
alone is doubtful (0.876) and goes to review; name, manufacturer and part number
together attach. Tests put it in place of the shipped one."""

from matching.engine import blocking as b
from matching.engine import comparisons as c
from matching.engine.scoring import Thresholds
from matching.engine.spec import MatchSpec

SPEC = MatchSpec(
    comparisons=(
        c.Text("name", thresholds=(0.9,)),
        c.Exact("manufacturer"),
        c.Exact("manufacturer_part_number", label="part number"),
    ),
    blocking=(b.BlockingRule("name", b.prefix("name", 4)),),
    m={
        "name": [0.7, 0.2, 0.1],
        "manufacturer": [0.9, 0.1],
        "manufacturer_part_number": [0.99, 0.01],
    },
    u={
        "name": [0.001, 0.01, 0.989],
        "manufacturer": [0.05, 0.95],
        "manufacturer_part_number": [0.001, 0.999],
    },
    prior=0.01,
    thresholds=Thresholds(auto=0.99, review=0.6),
)
