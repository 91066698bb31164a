r"""The HiGHS searcher (method ``highs``): the depth-first search with one warm-started LP.

The search decides the ReLU units one at a time, layer by layer. A node of the tree is a
partial activation pattern and its polyhedron in input space: for every decided unit
with affine pre-activation ``g(x) = a.x + c`` (given the pattern of the earlier layers)

.. math::

    \text{active:}\ a.x + c \ge \varepsilon, \qquad \text{inactive:}\ a.x + c \le 0,

plus the input box (and the rows ``A x <= b`` of a polytope domain, fixed rows of the
LP), with :math:`\varepsilon` = ``tolerances.REGION_EPS``. A leaf (every
unit decided) is a counted linear region; an empty node is never entered, so the number
of leaves is the count, exactly as defined in :mod:`reluscope.tolerances`. Within a
layer the next unit is chosen per node (:func:`_choose_unit`); any order gives the same
leaves.

To decide a unit ``u`` at a node, the engine first tries to avoid any LP:

* the range of ``g_u`` over the whole box, from the node's affine map (``c + sum`` of
  positive and negative parts), intersected with the global :class:`Bounds`, settles the
  units that are stable at this node (no constraint is added for them: it is redundant);
* every node carries up to ``MAX_WITNESSES`` points of its polyhedron; one with
  ``g_u >= eps`` proves the active side non-empty, one with ``g_u <= 0`` the inactive side.

Only a side left open needs one LP, ``min g_u`` (or ``max g_u``) over the node, solved
by HiGHS's dual simplex on ONE ``Highs`` object per process (:class:`HighsSearcher`): the
lifted LP is built once and the search only changes bounds and one cost coefficient, so
every solve is warm-started. A side counts as non-empty when the LP optimum reaches the
threshold within ``SOLVER_FEASIBILITY_TOL`` (the brute-force oracle uses the same rule);
a side is proven empty either by the optimum or, earlier, by HiGHS's exact dual bound
(``objective_bound``). The optimum (and its midpoint with a point of the parent) become
the new child's witnesses.

So the LPs are: one per branching (``regions - 1`` of them) plus one per unit proven
stable inside a node that the box range could not settle.

Tasks, slices and their scheduling are those of :mod:`reluscope.regions.search.core`.
"""


from __future__ import annotations

import threading
import time

import numpy as np
from numpy.typing import NDArray

from reluscope.errors import SolverError
from reluscope.network import FloatArray
from reluscope.regions.search.core import PreparedNetwork, SliceOutcome, Task
from reluscope.solvers.highs import LPOutcome, new_highs, retry_from_scratch
from reluscope.solvers.highs import run as run_highs
from reluscope.tolerances import (
    REGION_EPS,
    SOLVER_FEASIBILITY_TOL,
)

_OPTIMAL, _INFEASIBLE, _BOUND_STOP = 0, 1, 2
_STATUS_OF = {
    LPOutcome.OPTIMAL: _OPTIMAL,
    LPOutcome.INFEASIBLE: _INFEASIBLE,
    LPOutcome.BOUND_STOP: _BOUND_STOP,
}
#: Witness points kept per node (each settles sides without LP).
MAX_WITNESSES = 8
_NO_POINTS = np.zeros((0, 0))


class HighsSearcher:
    """Depth-first search over activation patterns with one warm-started HiGHS LP.

    One instance per process. The LP is built once and only its bounds change:
    variables ``x`` (the input box), ``g_u`` for every unit and ``h_u`` for every unit
    feeding a next layer; rows ``g_u - W_u . (x or h_prev) = b_u`` and a link row
    ``h_u - g_u`` (free, or ``= 0`` when ``u`` is active). Deciding ``u`` bounds ``g_u``
    (``>= eps`` or ``<= 0``) and fixes ``h_u = 0`` (inactive) or ``h_u = g_u`` (active);
    an undecided unit keeps its finite interval bounds, so every column stays boxed and
    the dual simplex restarts from the previous basis after any change.
    """

    def __init__(self, prep: PreparedNetwork, *, record_patterns: bool = False) -> None:
        import highspy

        self.prep = prep
        self.record = record_patterns
        n, nu = prep.n_inputs, prep.n_units
        self.n = n
        self.h = h = new_highs(
            simplex_strategy=1,  # dual simplex: warm start after bound changes
            simplex_dual_edge_weight_strategy=0,  # Dantzig: fastest measured
        )
        self.early_stop = True
        self.inf = inf = highspy.kHighsInf
        n_layers = len(prep.weights)
        self.n_layers = n_layers
        self.last_of_layer = [
            (prep.layer_start[k + 1] - 1 if k + 1 < n_layers else nu - 1) for k in range(n_layers)
        ]
        # ---- the lifted LP
        feeds = [u for u in range(nu) if prep.layer_of[u] + 1 < n_layers]
        self.g_col = [n + u for u in range(nu)]
        self.h_col = [-1] * nu
        self.link_row = [-1] * nu
        for j, u in enumerate(feeds):
            self.h_col[u] = n + nu + j
        self.g_lo = prep.box_lower.tolist()
        self.g_hi = prep.box_upper.tolist()
        self.h_lo = [min(v, 0.0) for v in self.g_lo]
        self.h_hi = [max(v, 0.0) for v in self.g_hi]
        empty_i = np.zeros(0, dtype=np.int32)
        h.addCols(n, np.zeros(n), prep.lower, prep.upper, 0, empty_i, empty_i, np.zeros(0))
        n_extra = nu + len(feeds)
        h.addCols(
            n_extra,
            np.zeros(n_extra),
            np.array(self.g_lo + [self.h_lo[u] for u in feeds]),
            np.array(self.g_hi + [self.h_hi[u] for u in feeds]),
            0, empty_i, empty_i, np.zeros(0),
        )
        for u in range(nu):
            layer, i = prep.layer_of[u], prep.index_in_layer[u]
            w, b = prep.weights[layer][i], float(prep.biases[layer][i])
            if layer == 0:
                inputs = list(range(n))
            else:
                start = prep.layer_start[layer - 1]
                inputs = [self.h_col[start + j] for j in range(len(w))]
            keep = np.flatnonzero(w)
            idx = np.array([self.g_col[u], *(inputs[j] for j in keep)], dtype=np.int32)
            h.addRow(b, b, len(idx), idx, np.concatenate([[1.0], -w[keep]]))
        for row, u in enumerate(feeds, start=nu):
            cols = np.array([self.h_col[u], self.g_col[u]], dtype=np.int32)
            h.addRow(-inf, inf, 2, cols, np.array([1.0, -1.0]))
            self.link_row[u] = row
        # the polytope's rows A x <= b, after every other row (their indices stay put)
        for a_row, b_row in zip(prep.domain_A, prep.domain_b, strict=True):
            keep = np.flatnonzero(a_row).astype(np.int32)
            h.addRow(-inf, float(b_row), len(keep), keep, a_row[keep])
        # ---- the current path
        self.sides = np.zeros(nu, dtype=np.uint8)
        self.depth = 0  # units decided on the current path
        self.set_units: list[int] = []  # the unit decided at each depth of the path
        self.has_row = np.zeros(nu, dtype=bool)  # decided units whose constraint binds
        self.is_set = np.zeros(nu, dtype=bool)  # decided units
        self.row_a = np.zeros((nu, n))  # x-space rows (a, c) of decided units
        self.row_c = np.zeros(nu)
        # affine map of each layer's pre-activations in x, valid for the current path
        self.maps: list[tuple[FloatArray, FloatArray, FloatArray, FloatArray] | None]
        self.maps = [None] * n_layers
        if n_layers:
            self.maps[0] = self._with_range(prep.weights[0], prep.biases[0])
        self.lp_solves = 0
        self.inward = True  # also keep the midpoint of a new witness and the parent's
        self.max_points = MAX_WITNESSES
        self.dynamic_order = True  # choose the next unit within a layer per node

    # ------------------------------------------------------------------ helpers
    def _with_range(
        self, a: FloatArray, c: FloatArray
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """The map with the range of each g over the box (c + sum of min/max parts)."""
        lo_part = np.minimum(a * self.prep.lower, a * self.prep.upper).sum(axis=1)
        hi_part = np.maximum(a * self.prep.lower, a * self.prep.upper).sum(axis=1)
        return a, c, c + lo_part, c + hi_part

    def _bound_side(self, unit: int, side: int) -> None:
        lo, hi = self.g_lo[unit], self.g_hi[unit]
        if side:
            lo = max(lo, REGION_EPS)
            self.h.changeColBounds(self.g_col[unit], lo, max(lo, hi))
        else:
            hi = min(hi, 0.0)
            self.h.changeColBounds(self.g_col[unit], min(lo, hi), hi)

    def _truncate(self, depth: int) -> None:
        """Forget the decisions made at depths >= depth (restore their LP bounds)."""
        h, inf = self.h, self.inf
        units = self.set_units
        while len(units) > depth:
            u = units.pop()
            h.changeColBounds(self.g_col[u], self.g_lo[u], self.g_hi[u])
            if self.h_col[u] >= 0:
                if self.sides[u]:
                    h.changeRowBounds(self.link_row[u], -inf, inf)
                else:
                    h.changeColBounds(self.h_col[u], self.h_lo[u], self.h_hi[u])
            self.has_row[u] = False
            self.is_set[u] = False
        self.depth = depth

    def _descend(self, unit: int, side: int, add_row: bool) -> None:
        """Decide ``unit`` at the next depth: LP bounds, x-space row, next layer's map."""
        prep = self.prep
        layer = prep.layer_of[unit]
        depth = self.depth
        self.sides[unit] = side
        self.is_set[unit] = True
        self.set_units.append(unit)
        if add_row:
            self._bound_side(unit, side)
            a, c, _, _ = self.maps[layer]  # type: ignore[misc]
            i = prep.index_in_layer[unit]
            self.has_row[unit] = True
            self.row_a[unit] = a[i] if side else -a[i]  # row: row_a . x + row_c >= 0
            self.row_c[unit] = c[i] - REGION_EPS if side else -c[i]
        if self.h_col[unit] >= 0:
            if side:
                self.h.changeRowBounds(self.link_row[unit], 0.0, 0.0)
            else:
                self.h.changeColBounds(self.h_col[unit], 0.0, 0.0)
        self.depth = depth + 1
        if depth == self.last_of_layer[layer] and layer + 1 < self.n_layers:
            a, c, _, _ = self.maps[layer]  # type: ignore[misc]
            start = prep.layer_start[layer]
            active = self.sides[start : depth + 1].astype(bool)
            w = prep.weights[layer + 1][:, active]
            self.maps[layer + 1] = self._with_range(
                w @ a[active], w @ c[active] + prep.biases[layer + 1]
            )

    def _path_codes(self, depth: int) -> NDArray[np.int32]:
        """The decisions at depths < depth, as ``2 * unit + side``."""
        units = np.asarray(self.set_units[:depth], dtype=np.int32)
        return 2 * units + self.sides[units].astype(np.int32)

    def _goto(self, prefix: NDArray[np.int32]) -> None:
        """Make the current path equal to ``prefix`` (codes ``2 * unit + side``)."""
        k = len(prefix)
        limit = min(k, self.depth)
        current = self._path_codes(limit)
        differ = np.flatnonzero(current != prefix[:limit])
        common = int(differ[0]) if differ.size else limit
        self._truncate(common)
        prep = self.prep
        for code in prefix[common:].tolist():
            unit, side = code >> 1, code & 1
            _, _, lo, hi = self.maps[prep.layer_of[unit]]
            i = prep.index_in_layer[unit]
            lo_u = max(lo[i], prep.global_lower[unit])
            hi_u = min(hi[i], prep.global_upper[unit])
            redundant = lo_u >= REGION_EPS if side else hi_u <= 0
            self._descend(unit, side, not redundant)

    def _new_points(
        self, x: FloatArray, other: FloatArray, a: FloatArray, c: float, side: int
    ) -> FloatArray:
        """Witnesses of the child found by LP: the optimum ``x`` and, when it is still on
        ``side``, the midpoint with a point ``other`` of the node (inside the node by
        convexity, and farther from the child's faces: it settles more later units)."""
        if self.inward:
            mid = 0.5 * (x + other)
            g = float(a @ mid) + c
            if (g >= REGION_EPS) if side else (g <= 0.0):
                return np.stack([mid, x])
        return x[None, :]

    def _probe(
        self, unit: int, a: FloatArray, c: float, side: int
    ) -> tuple[FloatArray | None, float]:
        """Optimise ``g_u`` towards ``side``: a point of that side (or None) and a bound.

        ``min g_u`` for side 0 (the side is non-empty iff the minimum is
        ``<= SOLVER_FEASIBILITY_TOL``), ``max g_u`` for side 1 (iff ``>= eps - tol``).
        With ``early_stop`` the dual simplex stops as soon as its dual bound proves the
        side empty (HiGHS ``objective_bound``); the bound returned is then the threshold.
        """
        h = self.h
        col = self.g_col[unit]
        tol = SOLVER_FEASIBILITY_TOL
        # minimise g (side 0) or -g (side 1); the side is empty iff the optimum > target
        target = tol if side == 0 else tol - REGION_EPS
        h.changeColCost(col, 1.0 if side == 0 else -1.0)
        if self.early_stop:
            h.setOptionValue("objective_bound", target)
        try:
            status = self._run_lp()
            if status == _BOUND_STOP:
                return None, (target if side == 0 else -target)
            if status == _INFEASIBLE:
                raise SolverError(
                    "HiGHS declared a region polyhedron with a known point infeasible; the "
                    "network is numerically too hard for the lp engine: try method='milp'"
                )
            x = np.array(h.getSolution().col_value[: self.n])
        finally:
            h.changeColCost(col, 0.0)
        g = float(a @ x) + c
        if side == 0:
            return (x if g <= tol else None), g
        return (x if g >= REGION_EPS - tol else None), g

    def _run_lp(self) -> int:
        """Solve: _OPTIMAL, _INFEASIBLE or _BOUND_STOP. A numerical outcome (such as a
        cycling dual simplex stopped by the iteration cap) is solved again from scratch
        once; if it persists, :class:`SolverError` (never count on an ambiguous status).
        A solver error is raised at once by :func:`reluscope.solvers.highs.run`."""
        for attempt in range(2):
            if attempt:
                retry_from_scratch(self.h)
            outcome = run_highs(self.h)
            self.lp_solves += 1
            if outcome is not LPOutcome.NUMERICAL:
                return _STATUS_OF[outcome]
        raise SolverError(
            "HiGHS found no reliable answer on a region LP, twice (numerical trouble); "
            "the network is numerically too hard for the lp engine: try method='milp'"
        )

    # --------------------------------------------------------------------- search
    # long: the HiGHS search's node loop; locals cached for the per-node hot path, as in the kernel
    def run(
        self,
        task: Task,
        *,
        slice_end: float,
        stop: threading.Event | None = None,
        max_nodes: int | None = None,
    ) -> SliceOutcome:
        """Search the subtree of ``task`` until done, ``slice_end`` (monotonic), ``stop``
        or ``max_nodes`` nodes (a budget that, unlike the clock, gives the same nodes on
        every run)."""
        prep = self.prep
        n_units = prep.n_units
        layer_of = prep.layer_of
        g_lo_all, g_hi_all = prep.global_lower, prep.global_upper
        eps = REGION_EPS
        result = SliceOutcome()
        packed: list[bytes] = []
        lp_before = self.lp_solves
        prefix, witness = task
        k0 = len(prefix)
        if k0 > 0:
            self._goto(prefix[:-1])
            # the task's last decision is replayed by the loop below (its row flag)
            stack: list[tuple[int, int, FloatArray, bool]] = [
                (k0, int(prefix[-1]), np.atleast_2d(witness), True)
            ]
        else:
            self._truncate(0)
            stack = [(0, -1, np.atleast_2d(witness), False)]
        max_points = self.max_points
        dynamic = self.dynamic_order
        layer_start, last_of_layer = prep.layer_start, self.last_of_layer
        nodes = regions = 0
        clock = time.monotonic
        while stack:
            if max_nodes is not None and nodes >= max_nodes:
                break
            if (nodes & 15) == 0 and (clock() >= slice_end or (stop is not None and stop.is_set())):
                break
            k, code, pts, add_row = stack.pop()
            nodes += 1
            if k > 0:
                if self.depth != k - 1:
                    self._truncate(k - 1)
                self._descend(code >> 1, code & 1, add_row)
            if k == n_units:
                regions += 1
                if self.record:
                    packed.append(np.packbits(self.sides).tobytes() or b"\x00")
                continue
            # the undecided units of the current layer, with their ranges over the node's box
            layer = layer_of[k]
            start = layer_start[layer]
            a, c, lo, hi = self.maps[layer]  # type: ignore[misc]
            local = np.flatnonzero(~self.is_set[start : last_of_layer[layer] + 1])
            units = local + start
            lo_c = np.maximum(lo[local], g_lo_all[units])
            hi_c = np.minimum(hi[local], g_hi_all[units])
            act_ok = hi_c >= eps
            inact_ok = lo_c <= 0.0
            if not np.all(act_ok | inact_ok):
                continue  # a unit has 0 < g < eps on the whole node: no region here
            if dynamic and len(local) > 1:
                g_all = pts @ a[local].T + c[local]
                j = _choose_unit(g_all, a[local], act_ok, inact_ok)
                g_pts = g_all[:, j]
            else:
                j = 0
                g_pts = pts @ a[local[0]] + c[local[0]]
            i = int(local[j])
            unit = start + i
            a_i, c_i = a[i], c[i]
            lo_u, hi_u = lo_c[j], hi_c[j]
            can_act, can_inact = act_ok[j], inact_ok[j]
            pts_inact = pts[g_pts <= 0.0] if can_inact else _NO_POINTS
            pts_act = pts[g_pts >= eps] if can_act else _NO_POINTS
            if can_inact and not len(pts_inact):
                x, g_min = self._probe(unit, a_i, c_i, 0)
                lo_u = max(lo_u, g_min)
                if x is not None:
                    pts_inact = self._new_points(x, pts[0], a_i, c_i, 0)
            if can_act and not len(pts_act):
                x, g_max = self._probe(unit, a_i, c_i, 1)
                hi_u = min(hi_u, g_max)
                if x is not None:
                    pts_act = self._new_points(x, pts[0], a_i, c_i, 1)
            if len(pts_inact):
                stack.append((k + 1, 2 * unit, pts_inact[:max_points], hi_u > 0))
            if len(pts_act):
                stack.append((k + 1, 2 * unit + 1, pts_act[:max_points], lo_u < eps))
        # what is left becomes tasks (the decisions leading to each pending node)
        for k, code, pts, _ in stack:
            if k > 0:
                prefix_left = np.append(self._path_codes(k - 1), np.int32(code))
            else:
                prefix_left = np.zeros(0, dtype=np.int32)
            result.remaining.append((prefix_left.astype(np.int32), pts[0]))
        result.regions = regions
        result.nodes = nodes
        result.lp_solves = self.lp_solves - lp_before
        result.packed = b"".join(packed)
        return result


def _choose_unit(
    g: FloatArray, a: FloatArray, act_ok: NDArray[np.bool_], inact_ok: NDArray[np.bool_]
) -> int:
    """Which undecided unit of the layer to decide next (any order gives the same count).

    First units stable over the node's box (no branching, no LP); then units needing an
    LP, those whose witnesses lie farthest from their hyperplane first (likely stable
    here: proving it once at this node saves proving it again in every sub-node);
    last units with witnesses on both sides (they split for free).
    """
    witnessed = ((g >= REGION_EPS).any(axis=0) | ~act_ok) & ((g <= 0.0).any(axis=0) | ~inact_ok)
    category = np.where(~(act_ok & inact_ok), 0.0, np.where(witnessed, 4.0, 2.0))
    norms = np.sqrt(np.einsum("ij,ij->i", a, a)) + 1e-300
    margin = np.abs(g).min(axis=0) / norms
    return int(np.argmin(category + 1.0 / (1.0 + margin)))

