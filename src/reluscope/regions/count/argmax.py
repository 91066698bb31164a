r"""Exact region counting of networks with max-pooling: one branch per window's argmax.

A max-pooling window of ``k`` inputs is one unit with ``k`` sides, its argmax
(:mod:`reluscope.pooling`); the pairwise tournament that computes it in the layered
model has more sign patterns than argmaxes, and those are not regions. This search
decides the network's units layer by layer, like the ``highs`` search of
:mod:`.lp_engine`, but reads the network's units directly:

* a ReLU or leaky unit with pre-activation ``g(x) = a.x + c`` (given the decisions of
  the earlier layers) has two sides, ``g >= REGION_EPS`` (output ``g``) and ``g <= 0``
  (output ``alpha g``);
* an identity unit outputs ``g`` and never branches;
* a window (at the layer of its tournament's first round) has ``k`` sides, side ``j``
  being ``z_j - z_i >= REGION_EPS`` for ``i < j`` and ``z_j - z_i >= 0`` for ``i > j``
  (``k - 1`` rows); it sets every comparison unit of its tournament (active iff ``j`` is
  on its right), so those units never branch.

A node's polyhedron is the input domain cut by the rows of its decisions; a side is
entered iff it is non-empty (an LP solved by HiGHS, unless a point of the parent
already satisfies the new rows, or the input box or the pre-activation bounds already
rule it out). A leaf is a region, so the count is the number of patterns of ReLU/leaky
sides and window argmaxes that the definition of :mod:`reluscope.tolerances` admits.
"""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable

import numpy as np

from reluscope import interrupts
from reluscope.bounds.result import Bounds
from reluscope.errors import NetworkError, SolverError
from reluscope.network import FloatArray, ReLUNetwork
from reluscope.pooling import PoolWindow
from reluscope.regions.result import COMPLETE, INTERRUPTED, TIME_LIMIT, RegionCount
from reluscope.solvers.highs import LPOutcome, new_highs, retry_from_scratch, run
from reluscope.tolerances import REGION_EPS, SOLVER_FEASIBILITY_TOL

#: A point of a node is reused for a new row only if it satisfies it by this much.
WITNESS_SLACK = 1e-12

#: One region: the side of every branching unit (layer order), then every window's argmax.
Pattern = tuple[tuple[bool, ...], tuple[int, ...]]

#: Rows ``a.x <= bound`` of one side of a decision.
Rows = list[tuple[FloatArray, float]]


class _Stop(Exception):
    """The time limit was reached."""


def require_windows(network: ReLUNetwork) -> None:
    """Raise unless every max-pooling unit of ``network`` belongs to a recorded window."""
    if network.has_max_pool and not network.pool_windows:
        raise NetworkError(
            "this network's max-pooling windows are not known (a compressed network, or "
            "a file whose windows do not match its layers): count the regions of the "
            "model as loaded from its source"
        )


def count_regions_argmax(
    network: ReLUNetwork,
    bounds: Bounds | None = None,
    *,
    time_limit: float | None = None,
    patterns: list[Pattern] | None = None,
) -> RegionCount:
    """Count the regions of ``network`` with each max-pooling window as one unit.

    ``bounds`` (pre-activation bounds of ``network``) settle stable units without an
    LP. ``patterns``, when given, receives every region's pattern (:data:`Pattern`).
    The result's method is ``"highs"``.
    """
    require_windows(network)
    search = _Search(network, bounds, time_limit, patterns)
    start = time.perf_counter()
    status, message = COMPLETE, ""
    depth = network.n_units + len(network.pool_windows) + 4 * network.n_layers + 100
    old_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old_limit, 3 * depth))
    try:
        search.layer(0, None, np.zeros(network.n_inputs), search.start_point())
    except _Stop:
        status, message = TIME_LIMIT, f"time limit of {time_limit} s reached"
    except KeyboardInterrupt:
        interrupts.note()
        status, message = INTERRUPTED, "interrupted"
    finally:
        sys.setrecursionlimit(old_limit)
    return RegionCount(
        regions=search.regions, exact=status == COMPLETE, method="highs", status=status,
        seconds=time.perf_counter() - start, lp_solves=search.lp_solves,
        nodes=search.nodes, message=message,
    )


def possible_sides(window: PoolWindow, bounds: Bounds | None) -> set[int]:
    """The sides of ``window`` that its inputs' bounds leave possible: side ``j`` is
    impossible when some input ``i`` has ``upper(z_j) - lower(z_i)`` below the side's
    margin. A window with one possible side is stable (its argmax is fixed)."""
    k = len(window.inputs)
    if bounds is None:
        return set(range(k))
    lo = bounds.lower[window.layer]
    hi = bounds.upper[window.layer]
    z_lo = [float(lo[c] + (lo[r] if r >= 0 else 0.0)) for c, r in window.inputs]
    z_hi = [float(hi[c] + (hi[r] if r >= 0 else 0.0)) for c, r in window.inputs]
    return {j for j in range(k)
            if all(z_hi[j] - z_lo[i] >= (REGION_EPS if i < j else 0.0)
                   - SOLVER_FEASIBILITY_TOL for i in range(k) if i != j)}


def is_region(network: ReLUNetwork, pattern: Pattern) -> bool:
    """Whether ``pattern`` (branching units' sides, windows' argmaxes, as found by
    :func:`count_regions_argmax`) is a region of ``network`` (the same LP rule)."""
    search = _Search(network, None, None, None, forced=pattern)
    search.layer(0, None, np.zeros(network.n_inputs), search.start_point())
    return search.regions == 1


class _Search:
    """The depth-first search (module docstring) on one HiGHS model."""

    def __init__(self, network: ReLUNetwork, bounds: Bounds | None,
                 time_limit: float | None, patterns: list[Pattern] | None,
                 forced: Pattern | None = None) -> None:
        self.net = network
        self.forced = forced  # search this pattern's leaf only
        self.bounds = bounds
        self.deadline = None if time_limit is None else time.perf_counter() + time_limit
        self.patterns = patterns
        self.regions = self.lp_solves = self.nodes = 0
        self.lower, self.upper = network.lower, network.upper
        n0 = network.n_inputs
        self.columns = np.arange(n0, dtype=np.int32)
        self.highs = new_highs()
        self.highs.addVars(n0, self.lower, self.upper)
        for row, b in zip(network.domain_A, network.domain_b, strict=True):
            self.highs.addRow(-np.inf, float(b), n0, self.columns, row)
        self.fixed_rows = network.domain_A.shape[0]
        self.windows: dict[int, list[tuple[int, PoolWindow]]] = {}
        for index, w in enumerate(network.pool_windows):
            self.windows.setdefault(w.layer, []).append((index, w))
        self.possible = [possible_sides(w, bounds) for w in network.pool_windows]
        self.active_comparisons: set[tuple[int, int]] = set()
        self.sides: list[bool] = []
        self.winners = [0] * len(network.pool_windows)

    def start_point(self) -> FloatArray:
        """A point of the domain (an LP when the domain has polytope rows)."""
        if not self.fixed_rows:
            return (self.lower + self.upper) / 2.0
        point = self._solve()
        if point is None:  # cannot happen: the network checked its domain
            raise SolverError("HiGHS found the network's domain empty")
        return point

    # ------------------------------------------------------------------ layers
    def layer(self, index: int, ha: FloatArray | None, hc: FloatArray,
              point: FloatArray) -> None:
        """Decide layer ``index`` given ``h = ha x + hc`` (``ha`` None: ``h = x``)."""
        self._tick()
        net = self.net
        w, b = net.weights[index], net.biases[index]
        ga = w if ha is None else w @ ha
        gc = w @ hc + b
        if not net.relu[index]:
            self.regions += 1
            if self.patterns is not None:
                self.patterns.append((tuple(self.sides), tuple(self.winners)))
            return
        slopes, marked = net.slopes[index], net.max_pool[index]
        units = [u for u in range(w.shape[0]) if slopes[u] != 1.0 and not marked[u]]
        windows = self.windows.get(index, [])
        active = slopes == 1.0

        def finish(p: FloatArray) -> None:
            on = active.copy()
            for u in np.flatnonzero(marked):
                on[u] = (index, int(u)) in self.active_comparisons
            scale = np.where(on, 1.0, slopes)
            self.layer(index + 1, scale[:, None] * ga, scale * gc, p)

        def decide_unit(i: int, p: FloatArray) -> None:
            if i == len(units):
                finish(p)
                return
            u = units[i]
            lo, hi = self._range(index, u)
            choices = ((False, True) if self.forced is None
                       else (self.forced[0][len(self.sides)],))
            for side in choices:
                if (side and hi < REGION_EPS - SOLVER_FEASIBILITY_TOL) or (
                        not side and lo > SOLVER_FEASIBILITY_TOL):
                    continue
                rows = ([(-ga[u], float(gc[u]) - REGION_EPS)] if side
                        else [(ga[u], -float(gc[u]))])
                active[u] = side
                self.sides.append(side)
                self._enter(rows, p, functools.partial(decide_unit, i + 1))
                self.sides.pop()
            active[u] = False

        def decide_window(i: int, p: FloatArray) -> None:
            if i == len(windows):
                decide_unit(0, p)
                return
            number, window = windows[i]
            z = [(ga[c] + (ga[r] if r >= 0 else 0.0), float(gc[c] + (gc[r] if r >= 0 else 0.0)))
                 for c, r in window.inputs]
            possible = self.possible[number]
            for j, (zja, zjc) in enumerate(z):
                if j not in possible or (self.forced is not None
                                         and j != self.forced[1][number]):
                    continue
                margin = [REGION_EPS if k < j else 0.0 for k in range(len(z))]
                rows = [(zka - zja, zjc - zkc - margin[k])
                        for k, (zka, zkc) in enumerate(z) if k != j]
                on = window.active_units(j)
                self.active_comparisons |= on
                self.winners[number] = j
                self._enter(rows, p, functools.partial(decide_window, i + 1))
                self.active_comparisons -= on
            self.winners[number] = 0

        decide_window(0, point)

    def _range(self, layer: int, unit: int) -> tuple[float, float]:
        """Known bounds of a unit's pre-activation (infinite without ``bounds``)."""
        if self.bounds is None:
            return -np.inf, np.inf
        return float(self.bounds.lower[layer][unit]), float(self.bounds.upper[layer][unit])

    # ---------------------------------------------------------------- one side
    def _enter(self, rows: Rows, point: FloatArray,
               then: Callable[[FloatArray], None]) -> None:
        """Search below the side ``rows`` of the current node if it is non-empty."""
        for a, bound in rows:  # the input box alone rules it out
            low = float(np.minimum(a * self.lower, a * self.upper).sum())
            if low > bound + SOLVER_FEASIBILITY_TOL:
                return
        self.nodes += 1
        first = self.highs.getNumRow()
        for a, bound in rows:
            self.highs.addRow(-np.inf, bound, a.size, self.columns, a)
        try:
            if all(float(a @ point) <= bound - WITNESS_SLACK for a, bound in rows):
                then(point)
                return
            found = self._solve()
            if found is not None:
                then(found)
        finally:
            count = self.highs.getNumRow() - first
            self.highs.deleteRows(count, np.arange(first, first + count, dtype=np.int32))

    def _solve(self) -> FloatArray | None:
        """A point of the current rows and domain, or None when there is none."""
        self.lp_solves += 1
        outcome = run(self.highs)
        if outcome is LPOutcome.NUMERICAL:
            retry_from_scratch(self.highs)
            outcome = run(self.highs)
        if outcome is LPOutcome.OPTIMAL:
            return np.asarray(self.highs.getSolution().col_value, dtype=float)
        if outcome is LPOutcome.INFEASIBLE:
            return None
        raise SolverError(f"HiGHS could not decide a region of a max-pool network ({outcome})")

    def _tick(self) -> None:
        if self.deadline is not None and time.perf_counter() > self.deadline:
            raise _Stop
        if interrupts.requested():
            raise KeyboardInterrupt


__all__ = ["Pattern", "count_regions_argmax", "is_region", "possible_sides",
           "require_windows"]
