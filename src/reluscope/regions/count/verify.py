r"""Is an activation pattern a counted linear region? Checked exactly as defined.

A pattern ``p`` over the ReLU units counts iff some ``x`` in the domain (the box, and
the polytope ``A x <= b`` when the network has one) has
``g_i(x) >= REGION_EPS`` where ``p_i = 1`` and ``g_i(x) <= 0`` where ``p_i = 0``, each
``g_i`` computed with the pattern applied (see :mod:`reluscope.tolerances`). An engine
whose solver works to a looser tolerance than the definition (SCIP's feasibility
tolerance is :data:`~reluscope.tolerances.SCIP_FEASIBILITY_TOL`) can propose a pattern
whose polyhedron misses the margin by that tolerance; :class:`PatternVerifier` settles
each proposed pattern first by the solver's own point (a forward pass), and only when
that point does not show it, by one LP at the definition's tolerance (HiGHS, the same
rule as the lp engine and the brute-force oracle).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from reluscope.errors import SolverError
from reluscope.network import FloatArray, ReLUNetwork
from reluscope.relu_form import require_plain_relu
from reluscope.solvers.highs import LPOutcome, new_highs, retry_from_scratch, run
from reluscope.tolerances import REGION_EPS, SOLVER_FEASIBILITY_TOL


class PatternVerifier:
    """Decides proposed patterns of one network; counts how each was decided."""

    def __init__(self, network: ReLUNetwork) -> None:
        require_plain_relu(network, "the pattern verifier")
        self.network = network
        self.by_point = 0  # shown by the solver's point
        self.by_lp = 0  # shown by an LP
        self.rejected = 0  # not a region: the polyhedron misses the margin

    def is_region(self, pattern: NDArray[np.bool_], x: FloatArray | None) -> bool:
        """Whether ``pattern`` (one bool per ReLU unit) is a region; ``x`` is the
        solver's input point for it, if any."""
        if x is not None and self._point_shows(pattern, x):
            self.by_point += 1
            return True
        a_ub, b_ub = pattern_rows(self.network, pattern)
        a_ub = np.vstack([a_ub, self.network.domain_A])
        b_ub = np.concatenate([b_ub, self.network.domain_b])
        if _feasible(a_ub, b_ub, self.network.lower, self.network.upper):
            self.by_lp += 1
            return True
        self.rejected += 1
        return False

    def _point_shows(self, pattern: NDArray[np.bool_], x: FloatArray) -> bool:
        net = self.network
        tol = SOLVER_FEASIBILITY_TOL
        x = np.asarray(x, dtype=float)
        if not net.contains(x):
            return False
        h, start = x, 0
        for layer in range(net.n_layers):
            g = net.weights[layer] @ h + net.biases[layer]
            if not net.relu[layer]:
                break
            p = pattern[start:start + g.size]
            start += g.size
            if np.any(g[p] < REGION_EPS - tol) or np.any(g[~p] > tol):
                return False
            h = np.where(p, g, 0.0)
        return True


def pattern_rows(
    network: ReLUNetwork, pattern: NDArray[np.bool_]
) -> tuple[FloatArray, FloatArray]:
    """``(A, b)`` with ``{x : A x <= b}`` the pattern's polyhedron (before the box)."""
    n0 = network.n_inputs
    a_map, c_map = np.eye(n0), np.zeros(n0)  # h = a_map @ x + c_map
    rows: list[FloatArray] = []
    rhs: list[FloatArray] = []
    start = 0
    for layer in range(network.n_layers):
        if not network.relu[layer]:
            break
        w, b = network.weights[layer], network.biases[layer]
        g_a, g_c = w @ a_map, w @ c_map + b
        p = pattern[start:start + g_c.size]
        start += g_c.size
        # active: -g <= -eps; inactive: g <= 0
        sign = np.where(p, -1.0, 1.0)
        rows.append(sign[:, None] * g_a)
        rhs.append(np.where(p, g_c - REGION_EPS, -g_c))
        a_map, c_map = g_a * p[:, None], g_c * p
    if not rows:
        return np.zeros((0, n0)), np.zeros(0)
    return np.vstack(rows), np.concatenate(rhs)


def _feasible(a_ub: FloatArray, b_ub: FloatArray, lower: FloatArray, upper: FloatArray) -> bool:
    """Whether ``{x in [lower, upper] : a_ub x <= b_ub}`` is non-empty (HiGHS, within
    SOLVER_FEASIBILITY_TOL)."""
    import highspy

    n_rows, n_cols = a_ub.shape
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_cols, n_rows
    lp.col_cost_ = np.zeros(n_cols)
    lp.col_lower_, lp.col_upper_ = np.asarray(lower, float), np.asarray(upper, float)
    lp.row_lower_ = np.full(n_rows, -highspy.kHighsInf)
    lp.row_upper_ = np.asarray(b_ub, float)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n_cols, n_rows
    lp.a_matrix_.start_ = np.arange(0, n_rows * n_cols + 1, n_cols, dtype=np.int32)
    lp.a_matrix_.index_ = np.tile(np.arange(n_cols, dtype=np.int32), n_rows)
    lp.a_matrix_.value_ = np.ascontiguousarray(a_ub, dtype=float).ravel()
    highs = new_highs()
    highs.passModel(lp)
    for attempt in range(2):
        if attempt:
            retry_from_scratch(highs)
        outcome = run(highs)
        if outcome is LPOutcome.OPTIMAL:
            return True
        if outcome is LPOutcome.INFEASIBLE:
            return False
    raise SolverError("HiGHS found no reliable answer on a pattern's LP (numerical trouble)")
