r"""Region counting by MILP enumeration (the paper's method) and by SCIP's solution counter.

``method="milp"`` follows Serra, Tjandraatmadja & Ramalingam (ICML 2018) as the authors'
group coded it: one SCIP solve of the counting model

.. math::

    \max f \quad \text{s.t. (1)-(4)},\quad f \le h_i + (1 - z_i) H_i \ \ \forall i,
    \quad f \ge \varepsilon,\quad x \in X

(:func:`reluscope.milp.build_network_model` with ``counting=True``; ``\varepsilon`` is
:data:`reluscope.tolerances.REGION_EPS`), in which every integral solution found is
recorded and cut off by the no-good cut on the binaries of the unstable units

.. math::

    \sum_{i: \hat z_i = 1} z_i - \sum_{i: \hat z_i = 0} z_i \le |\{i: \hat z_i = 1\}| - 1,

added lazily by a constraint handler. The solve ends infeasible once every region has
been cut off; the count is the number of distinct binary patterns recorded (stable
units are fixed, so they add nothing).

SCIP works to its feasibility tolerance (:data:`~reluscope.tolerances.SCIP_FEASIBILITY_TOL`,
looser than the region definition: a tighter one makes SoPlex fail), so its feasible
set contains every region and possibly slivers that miss the margin ``f >= eps`` by
that tolerance. Each proposed pattern is therefore checked before it counts
(:class:`~reluscope.regions.count.verify.PatternVerifier`: SCIP's own point through a forward
pass, or else one LP at the definition's tolerance) and cut off either way.

``method="scip-count"`` hands the same model to SCIP's counting mode
(``setParamsCountsols`` + ``count``), which counts the distinct projections of the
feasible set onto the binaries: the same number, faster, but without the patterns, so
nothing can be checked: it runs at the definition's tolerance
(:data:`~reluscope.tolerances.SCIP_COUNT_FEASIBILITY_TOL`), where SoPlex may fail on
hard networks (status ``"failed"``, the count so far kept).

Both run with the safe settings of :func:`reluscope.solvers.scip.new_scip_model` (no dual
reductions, no symmetry handling): without them, lazily constrained SCIP runs
sometimes stop early (docs/solvers.md).
"""

from __future__ import annotations

import contextlib
import io
import time
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from reluscope.bounds.result import Bounds
from reluscope.errors import SolverError
from reluscope.milp.model import NetworkModel
from reluscope.network import FloatArray, ReLUNetwork
from reluscope.progress import progress_bar
from reluscope.regions.count.verify import PatternVerifier
from reluscope.regions.result import RegionCount
from reluscope.solvers.scip import (
    BINARY_THRESHOLD,
    LazyConstraintHandler,
    ScipOutcome,
    Stop,
    add_lazy_handler,
    apply_safe_params,
    best_solution_values,
    solve,
)
from reluscope.tolerances import SCIP_COUNT_FEASIBILITY_TOL

#: Integrality slack on binaries before an LP solution is treated as integral.
_INTEGRAL_SLACK = 1e-6


class _NoGoodHandler(LazyConstraintHandler):
    """Lazy no-good cuts on ``binaries``; ``on_pattern(bits, x)`` sees each new pattern
    with the solution's input point ``x`` (values of ``inputs``)."""

    def __init__(self, binaries: list[Any], inputs: list[Any], on_pattern: Any) -> None:
        self.locked_variables = binaries
        self.inputs = inputs
        self.on_pattern = on_pattern
        self.seen: dict[tuple[bool, ...], None] = {}
        self.cuts = 0

    def _bits(self, solution: Any) -> tuple[bool, ...] | None:
        values = [self.model.getSolVal(solution, var) for var in self.locked_variables]
        if any(min(v, 1.0 - v) > _INTEGRAL_SLACK for v in values):
            return None
        return tuple(v > BINARY_THRESHOLD for v in values)

    def _record(self, bits: tuple[bool, ...], solution: Any) -> None:
        if bits not in self.seen:
            self.seen[bits] = None
            x = np.array([self.model.getSolVal(solution, v) for v in self.inputs])
            self.on_pattern(bits, x)

    def _cut(self, bits: tuple[bool, ...]) -> None:
        from pyscipopt import quicksum

        binaries = self.locked_variables
        ones = [var for var, bit in zip(binaries, bits, strict=True) if bit]
        zeros = [var for var, bit in zip(binaries, bits, strict=True) if not bit]
        self.cuts += 1
        self.model.addCons(
            quicksum(ones) - quicksum(zeros) <= len(ones) - 1,
            name=f"nogood{self.cuts}",
            removable=False,
        )

    def check(self, solution: Any, completely: bool) -> str:
        # Reached only after every other handler accepted the solution (unless SCIP
        # checks "completely", when it does not stop at the first violation).
        bits = self._bits(solution)
        if bits is not None and not completely:
            self._record(bits, solution)
        return "INFEASIBLE"

    def enforce(self, solinfeasible: bool) -> str:
        if solinfeasible:
            return "FEASIBLE"  # another handler rejects it
        bits = self._bits(None)
        if bits is None:
            return "FEASIBLE"  # integrality branches first
        self._record(bits, None)
        self._cut(bits)
        return "CONSADDED"


def enumerate_regions_milp(
    network: ReLUNetwork,
    bounds: Bounds,
    *,
    time_limit: float | None = None,
    progress: bool = False,
    valid_inequalities: bool = False,
) -> tuple[RegionCount, NDArray[np.bool_]]:
    """The paper's MILP enumeration: the count and the patterns found.

    Parameters
    ----------
    bounds
        Pre-activation bounds (big-M constants and stable units).
    time_limit
        Seconds for the SCIP solve; when reached, the patterns found so far are
        returned with ``exact=False`` and status ``"time_limit"``. Ctrl-C (caught by
        SCIP) gives status ``"interrupted"`` the same way, and a SCIP failure (e.g. "error
        in LP solver") status ``"failed"`` with SCIP's message in ``message``.
    progress
        Show a tqdm counter of the regions found.
    valid_inequalities
        Add the paper's inequalities (8)-(9); they cut no region, only fractional points.

    Returns
    -------
    count, patterns
        The :class:`RegionCount` and a ``(regions, n_units)`` boolean array, one row per
        region (stable units filled in), in the order found.
    """
    from reluscope.milp import build_network_model

    start = time.perf_counter()
    nm = build_network_model(
        network, bounds, counting=True, valid_inequalities=valid_inequalities
    )
    _enumeration_search(nm.model)
    return run_enumeration(nm, start=start, time_limit=time_limit, progress=progress)


def _enumeration_search(scip: Any) -> None:
    """Search settings for enumeration: depth first, no cutting planes, no heuristics.

    Every integral point is cut off, so there is no incumbent to improve: primal
    heuristics only produce solutions that the no-good handler rejects, and cutting
    planes strengthen a bound that never prunes. Depth-first search reaches integral
    leaves fastest. Measured 2.5-3x faster than SCIP's default search (docs/solvers.md);
    the counts do not depend on it.
    """
    from pyscipopt import SCIP_PARAMSETTING

    scip.setHeuristics(SCIP_PARAMSETTING.OFF)
    scip.setSeparating(SCIP_PARAMSETTING.OFF)
    scip.setParam("nodeselection/dfs/stdpriority", 1_000_000)


def run_enumeration(
    nm: NetworkModel,
    *,
    start: float | None = None,
    time_limit: float | None = None,
    progress: bool = False,
) -> tuple[RegionCount, NDArray[np.bool_]]:
    """Enumerate the regions of a built counting model (see enumerate_regions_milp).

    The model keeps whatever SCIP settings it was created with; the tests use this to
    show that SCIP's defaults are unsafe here.
    """
    start = time.perf_counter() if start is None else start
    scip = nm.model
    if time_limit is not None:
        scip.setParam("limits/time", max(float(time_limit), 0.0))
    fixed = nm.fixed_pattern()
    units = np.array([unit for unit, _ in nm.binaries], dtype=int)
    found: list[tuple[bool, ...]] = []
    bar = progress_bar(progress, desc="regions", unit=" regions")

    verifier = PatternVerifier(nm.network)

    def on_pattern(bits: tuple[bool, ...], x: FloatArray | None) -> None:
        pattern = fixed.copy()
        pattern[units] = bits
        if verifier.is_region(pattern, x):
            found.append(bits)
            if bar is not None:
                bar.update(1)

    if not nm.binaries:
        outcome = solve(scip)
        if outcome.scip_status == "optimal":
            on_pattern((), best_solution_values(scip, nm.x))
    else:
        add_lazy_handler(
            scip, _NoGoodHandler, [var for _, var in nm.binaries], nm.x, on_pattern,
            name="reluscope_nogood", description="lazy no-good cuts enumerating linear regions",
        )
        outcome = solve(scip)
    if bar is not None:
        bar.close()
    patterns = np.tile(fixed, (len(found), 1))
    if units.size:
        for row, bits in enumerate(found):
            patterns[row, units] = bits
    count = RegionCount(
        regions=len(found),
        exact=outcome.finished,
        method="milp",
        status=outcome.status,
        seconds=time.perf_counter() - start,
        lp_solves=int(scip.getNLPs()),
        nodes=int(scip.getNTotalNodes()),
        message=_message(outcome),
    )
    return count, patterns


def _message(outcome: ScipOutcome) -> str:
    if outcome.stop is Stop.FAILED:
        return f"{outcome.describe()}; the regions found so far are a proven lower bound"
    return ""


def count_regions_milp(
    network: ReLUNetwork,
    bounds: Bounds,
    *,
    time_limit: float | None = None,
    progress: bool = False,
    patterns_path: str | Path | None = None,
    valid_inequalities: bool = False,
) -> RegionCount:
    """Count linear regions with the paper's MILP enumeration (lazy no-good cuts).

    See :func:`enumerate_regions_milp` for the parameters. ``patterns_path``, if
    given, receives the patterns found, in the bit-packed ``.npy`` format of
    :mod:`reluscope.regions.patterns` (read it with ``read_patterns``); it is written
    also when the run is cut short.
    """
    count, patterns = enumerate_regions_milp(
        network, bounds, time_limit=time_limit, progress=progress,
        valid_inequalities=valid_inequalities,
    )
    if patterns_path is not None:
        from reluscope.regions.patterns import row_bytes

        packed = np.zeros((patterns.shape[0], row_bytes(network.n_units)), dtype=np.uint8)
        if network.n_units:
            packed = np.packbits(patterns, axis=1, bitorder="big")
        np.save(Path(patterns_path), packed)
    return count


def count_regions_scip(
    network: ReLUNetwork,
    bounds: Bounds,
    *,
    time_limit: float | None = None,
) -> RegionCount:
    """Count linear regions with SCIP's counting mode on the counting model.

    SCIP counts the distinct assignments of the unstable units' binaries that extend
    to a feasible point (``f >= REGION_EPS``), i.e. exactly the regions. It cannot
    return the patterns. Cut short by ``time_limit`` or Ctrl-C, the number counted so
    far is a lower bound (``exact=False``).
    """
    from reluscope.milp import build_network_model

    start = time.perf_counter()
    nm = build_network_model(network, bounds, counting=True)
    scip = nm.model
    scip.setObjective(0.0, sense="maximize")  # counting is a feasibility question
    scip.setParamsCountsols()
    apply_safe_params(scip)
    scip.setParam("numerics/feastol", SCIP_COUNT_FEASIBILITY_TOL)
    if time_limit is not None:
        scip.setParam("limits/time", max(float(time_limit), 0.0))
    outcome = solve(scip, count=True)
    with contextlib.redirect_stdout(io.StringIO()) as noise:
        regions = int(scip.getNCountedSols())
    if noise.getvalue():
        raise SolverError(
            "SCIP's solution counter overflowed; use method='milp' or method='lp'"
        )
    if not nm.binaries and outcome.finished:
        regions = min(regions, 1)
    return RegionCount(
        regions=regions,
        exact=outcome.finished,
        method="scip-count",
        status=outcome.status,
        message=_message(outcome),
        seconds=time.perf_counter() - start,
        lp_solves=int(scip.getNLPs()),
        nodes=int(scip.getNTotalNodes()),
    )
