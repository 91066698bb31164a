"""RegionCount: the result of an exact count, complete or cut short."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reluscope.serialise import fields_dict
from reluscope.status import COMPLETE, FAILED, INTERRUPTED, TIME_LIMIT, Status

if TYPE_CHECKING:
    from reluscope.regions.estimate.tree_estimate import CountEstimate

__all__ = ["COMPLETE", "FAILED", "INTERRUPTED", "TIME_LIMIT", "RegionCount"]


@dataclass(frozen=True)
class RegionCount:
    """Number of linear regions found by an exact counting engine.

    Attributes
    ----------
    regions
        Regions proven to exist: the exact count when ``exact``, else a lower bound.
    exact
        True iff the search finished (``status == "complete"``).
    method
        The engine: ``"lp"``, ``"highs"``, ``"geometric"``, ``"milp"`` or ``"scip-count"``.
    status
        ``"complete"``, ``"time_limit"``, ``"interrupted"`` (Ctrl-C) or ``"failed"`` (the
        solver failed: ``regions`` is still a proven lower bound; see ``message``).
    seconds
        Wall time, bounds step included.
    lp_solves, nodes
        The engine's own work counters (LP or MILP solves; search nodes).
    message
        Why a run stopped early, in words (empty when complete).
    estimate
        For a search stopped early: an estimate of the whole count (the proven regions
        plus the rest, sampled) with its interval; None otherwise.
    thin_cells
        Cells of positive volume whose best margin is below ``REGION_EPS``: pieces of
        the input space that are not regions by the definition (other tools count
        them). Known only to the ``geometric`` engine; None for the others.
    """

    regions: int
    exact: bool
    method: str
    status: Status
    seconds: float
    lp_solves: int = 0
    nodes: int = 0
    message: str = ""
    estimate: CountEstimate | None = None
    thin_cells: int | None = None

    @property
    def lower(self) -> int:
        """A proven lower bound (equals ``regions``)."""
        return self.regions

    @property
    def log2(self) -> float:
        """MAPS of the count: log2(regions)."""
        return math.log2(self.regions) if self.regions > 0 else float("-inf")

    def to_dict(self) -> dict[str, object]:
        return fields_dict(self)
