"""A domain's matching declaration: comparisons, blocking rules, default parameters
and thresholds. Domain modules declare one; services and tools build the model
from it (with trained parameters when some are stored)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .blocking import Blocker, BlockingRule
from .comparisons import Comparison
from .linking import Exclusivity
from .scoring import Model, Parameters, Thresholds, default_parameters


@dataclass(frozen=True)
class MatchSpec:
    comparisons: tuple[Comparison, ...]
    blocking: tuple[BlockingRule, ...]
    #: Default m and u per comparison, for the non-null levels in order.
    m: Mapping[str, Sequence[float]]
    u: Mapping[str, Sequence[float]]
    prior: float
    thresholds: Thresholds = field(default_factory=Thresholds)
    max_block: int = 200
    #: Records of an oversized block are compared with this many neighbours only.
    window: int = 20
    #: Evidence from systems declared to hold each entity once (see ``linking``).
    exclusivity: Exclusivity = field(default_factory=Exclusivity)

    def __post_init__(self) -> None:
        for comparison in self.comparisons:
            for table, label in ((self.m, "m"), (self.u, "u")):
                values = table.get(comparison.name)
                if values is None or len(values) != len(comparison.levels) - 1:
                    raise ValueError(
                        f"{label} of {comparison.name!r} needs {len(comparison.levels) - 1} values"
                    )

    def default_parameters(self) -> Parameters:
        return default_parameters(self.comparisons, self.m, self.u, self.prior)

    def model(self, parameters: Parameters | None = None, thresholds: Thresholds | None = None):
        return Model(
            self.comparisons,
            parameters or self.default_parameters(),
            thresholds or self.thresholds,
        )

    def blocker(self) -> Blocker:
        return Blocker(self.blocking, max_block=self.max_block, window=self.window)
