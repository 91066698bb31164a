r"""LP bound tightening: the LP relaxation of the big-M model, layer by layer (HiGHS).

For layer ``l`` (0-based) every pre-activation ``g_i = W_i h^{l-1} + b_i`` is minimised
and maximised over the LP relaxation of layers ``0..l-1``: eqs (1)-(4) with ``z``
relaxed to ``[0, 1]``. With the tight constants ``H = U``, ``Hbar = -L`` this
relaxation projects onto the *triangle* of each unstable ReLU, which is what is built
(fewer variables than the big-M form, the same feasible set in ``(x, h)``):

.. math::

    \text{stably inactive } (U \le 0):&\quad h = 0\\
    \text{stably active } (L > 0):&\quad h = W h^{\mathrm{prev}} + b\\
    \text{unstable}:&\quad g = W h^{\mathrm{prev}} + b,\quad L \le g \le U,\quad
        h \ge 0,\quad h \ge g,\quad h \le \tfrac{U}{U - L}\,(g - L),\quad h \le U

with ``x`` in the domain box. Layer 0 needs no LP: interval bounds are exact on a box.
On a polytope domain the rows ``A x <= b`` are added to every layer's LP, and layer 0
is bounded by LP too (exact: its ``g`` is affine in ``x``).

Implementation choices (documented in docs/bounds.md):

- One ``Highs`` object per layer; between the ``2 n_l`` solves only the objective
  changes, so each solve warm-starts from the previous optimal basis.
- An unstable unit gets its own ``g`` column, so its dense row ``W h + b`` appears once
  (the two triangle rows are sparse in ``g, h``): 1.3-1.4x faster than writing
  ``W h + b`` into both triangle rows, same bounds (784;100;100;10 MNIST networks).
- Every unit of every layer is bounded, stable or not: the bounds are the big-M
  constants and the CLI reports them; the cost is small next to one MILP.
- Soundness does not rely on HiGHS's tolerances: each reported bound is recomputed from
  the returned row duals as a Lagrangian bound, valid for *any* multipliers because
  every column is boxed (:func:`_dual_bound`); it is then padded outward by
  ``BOUND_PADDING * max(1, |bound|)`` and intersected with the interval bounds, so
  ``lp`` lies within ``interval`` exactly.
- Ctrl-C during the LPs, or the time limit, returns what is proven: the remaining
  units keep interval bounds propagated from the tightened ones.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import scipy.sparse as sp

from reluscope import interrupts
from reluscope.bounds.interval import interval_bounds
from reluscope.bounds.result import Bounds, post_activation, propagate_interval
from reluscope.errors import SolverError
from reluscope.network import FloatArray, ReLUNetwork
from reluscope.progress import progress_bar
from reluscope.solvers.highs import LPOutcome, new_highs, retry_from_scratch
from reluscope.solvers.highs import run as run_highs
from reluscope.tolerances import BOUND_PADDING


class OutOfTime(Exception):
    """The deadline of a bound tightening passed (caught where the bounds are built)."""


def lp_bounds(
    network: ReLUNetwork, *, time_limit: float | None = None, progress: bool = False
) -> Bounds:
    """Bounds on every pre-activation from the LP relaxation of the earlier layers.

    Parameters
    ----------
    network
        The network and its input box.
    time_limit
        Seconds for the whole call; the units not reached by then keep interval bounds
        propagated from the tightened ones (valid, looser).
    progress
        Show a tqdm progress bar over the layers' LPs.

    Returns
    -------
    Bounds
        ``method="lp"``; elementwise within the interval bounds. ``exact`` is True only
        for a single-layer network (where interval bounds are already exact).
    """
    deadline = None if time_limit is None else time.perf_counter() + float(time_limit)
    return lp_bounds_with_witnesses(network, deadline=deadline, progress=progress)[0]


def lp_bounds_with_witnesses(
    network: ReLUNetwork, *, deadline: float | None = None, progress: bool = False
) -> tuple[Bounds, FloatArray, bool]:
    """:func:`lp_bounds`, the input part ``x`` of every optimal LP solution, and whether
    Ctrl-C or the ``deadline`` (``time.perf_counter()`` time) cut the LPs short.

    The inputs (clipped to the box, shape ``(n_solves, n0)``) are points of the domain
    where the relaxed unit reached its extreme; evaluated through the real network they
    often show a unit on both sides of zero, proving it unstable without a MILP.
    """
    start = time.perf_counter()
    base = interval_bounds(network)
    witnesses: list[FloatArray] = []
    first = 1 if not network.has_polytope else 0  # layer 0: interval is exact on a box
    lowers: list[FloatArray] = [base.lower[0].copy()] if first else []
    uppers: list[FloatArray] = [base.upper[0].copy()] if first else []
    cut_short = False
    bar = progress_bar(
        progress, total=sum(network.widths[first:]), desc="LP bounds", unit="unit"
    )
    try:
        for layer in range(first, network.n_layers):
            if layer == 0:
                lo, hi = base.lower[0].copy(), base.upper[0].copy()
            else:
                h_lo, h_hi = post_activation(network, lowers[-1], uppers[-1], layer - 1)
                lo, hi = propagate_interval(network, h_lo, h_hi, layer)
                lo = np.maximum(lo, base.lower[layer])
                hi = np.minimum(hi, base.upper[layer])
            if not cut_short:
                try:
                    lp_lo, lp_hi = _layer_lp_bounds(
                        network, lowers, uppers, layer, bar, witnesses, deadline
                    )
                    lo, hi = np.maximum(lo, lp_lo), np.minimum(hi, lp_hi)
                except KeyboardInterrupt:
                    interrupts.note()
                    cut_short = True
                except OutOfTime:
                    cut_short = True
            lowers.append(lo)
            uppers.append(hi)
    finally:
        if bar is not None:
            bar.close()
    bounds = Bounds(
        lower=tuple(lowers),
        upper=tuple(uppers),
        biases=network.biases,
        method="lp",
        seconds=time.perf_counter() - start,
        exact=network.n_layers == 1 and not cut_short,
    )
    points = np.array(witnesses).reshape(-1, network.n_inputs)
    return bounds, np.clip(points, network.lower, network.upper), cut_short


# ---------------------------------------------------------------------------- the LP
class LayerLP:
    """The triangle relaxation of layers ``0..layer-1`` as arrays, with HiGHS loaded.

    Columns: ``x`` then ``h^0, h^1, ..., h^{layer-1}`` (``objective_cols`` are those of
    ``h^{layer-1}``); rows: the active-unit equalities and the two triangle rows of each
    unstable unit. :meth:`minimize` minimises ``c @ h^{layer-1}`` over it.
    """

    def __init__(
        self,
        network: ReLUNetwork,
        lowers: list[FloatArray],
        uppers: list[FloatArray],
        layer: int,
    ) -> None:
        n0 = network.n_inputs
        col_lo: list[FloatArray] = [network.lower.astype(float)]
        col_hi: list[FloatArray] = [network.upper.astype(float)]
        blocks: list[sp.csr_matrix] = []
        row_lo: list[FloatArray] = []
        row_hi: list[FloatArray] = []
        # column blocks: x, then h^0 .. h^{layer-1}, then one g per unstable unit
        starts = [int(v) for v in np.cumsum([0, n0, *network.widths[:layer]])]
        classes = [_classes(lowers[k], uppers[k]) for k in range(layer)]
        g_starts = [int(v) for v in np.cumsum([starts[-1], *(u.sum() for _, _, u in classes)])]
        n_cols = g_starts[-1]
        if network.has_polytope:  # A x <= b on the x columns
            blocks.append(_polytope_rows(network, n_cols))
            row_lo.append(np.full(blocks[-1].shape[0], -np.inf))
            row_hi.append(np.asarray(network.domain_b, dtype=float))
        g_lo: list[FloatArray] = []
        g_hi: list[FloatArray] = []
        for k in range(layer):
            w, b = network.weights[k], network.biases[k]
            lo, hi = lowers[k], uppers[k]
            prev = slice(starts[k], starts[k + 1])
            own = starts[k + 1]
            active, inactive, unstable = classes[k]
            col_lo.append(np.where(active, lo, 0.0))
            col_hi.append(np.where(inactive, 0.0, np.maximum(hi, 0.0)))
            # stably active: h - W h_prev = b
            rows = np.flatnonzero(active)
            if rows.size:
                blocks.append(_rows(w[rows], own + rows, prev, n_cols))
                row_lo.append(b[rows])
                row_hi.append(b[rows])
            # unstable: g - W h_prev = b (the only dense rows), then the triangle in (g, h):
            # h - g >= 0 and h - s g <= -s L with s = U / (U - L)
            rows = np.flatnonzero(unstable)
            if rows.size:
                g_cols = np.arange(g_starts[k], g_starts[k + 1])
                h_cols = own + rows
                g_lo.append(lo[rows])
                g_hi.append(hi[rows])
                blocks.append(_rows(w[rows], g_cols, prev, n_cols))
                row_lo.append(b[rows])
                row_hi.append(b[rows])
                s = hi[rows] / (hi[rows] - lo[rows])
                blocks.append(_pairs(h_cols, g_cols, np.ones(rows.size), n_cols))
                row_lo.append(np.zeros(rows.size))
                row_hi.append(np.full(rows.size, np.inf))
                blocks.append(_pairs(h_cols, g_cols, s, n_cols))
                row_lo.append(np.full(rows.size, -np.inf))
                row_hi.append(-s * lo[rows])
        col_lo.extend(g_lo)
        col_hi.extend(g_hi)
        self.col_lower = np.concatenate(col_lo)
        self.col_upper = np.concatenate(col_hi)
        if blocks:
            self.matrix = sp.vstack(blocks, format="csr")
            self.row_lower = np.concatenate(row_lo)
            self.row_upper = np.concatenate(row_hi)
        else:  # every earlier unit stably inactive: no rows
            self.matrix = sp.csr_matrix((0, n_cols))
            self.row_lower = np.zeros(0)
            self.row_upper = np.zeros(0)
        self.objective_cols = np.arange(starts[layer], starts[layer + 1], dtype=np.int32)
        self.n_cols = n_cols
        self.n_inputs = n0
        #: input part of the last optimal solution (None if the last solve was not optimal)
        self.last_x: FloatArray | None = None
        self.highs = new_highs()  # presolve off: the basis is kept between solves
        self.highs.passModel(self._highs_lp())
        self._cost = np.zeros(n_cols)

    def _highs_lp(self) -> Any:
        """The arrays above as a ``highspy.HighsLp`` (column-wise matrix, zero cost)."""
        import highspy

        n_cols = self.n_cols
        lp = highspy.HighsLp()
        lp.num_col_ = n_cols
        lp.num_row_ = self.matrix.shape[0]
        lp.col_cost_ = np.zeros(n_cols)
        lp.col_lower_ = self.col_lower
        lp.col_upper_ = self.col_upper
        lp.row_lower_ = self.row_lower
        lp.row_upper_ = self.row_upper
        csc = self.matrix.tocsc()
        csc.sort_indices()
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.num_col_ = n_cols
        lp.a_matrix_.num_row_ = self.matrix.shape[0]
        lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
        lp.a_matrix_.index_ = csc.indices.astype(np.int32)
        lp.a_matrix_.value_ = csc.data.astype(float)
        return lp

    def minimize(self, coefficients: FloatArray) -> float:
        """A valid lower bound on ``min coefficients @ h^{layer-1}`` over the relaxation.

        The value is the Lagrangian bound of HiGHS's duals (see :func:`_dual_bound`), so
        it stays valid even when HiGHS stops short of optimality.
        """
        cols = self.objective_cols
        self.highs.changeColsCost(cols.size, cols, np.asarray(coefficients, dtype=float))
        outcome = run_highs(self.highs)
        if outcome is LPOutcome.NUMERICAL:  # e.g. cycled: solve once more from scratch
            retry_from_scratch(self.highs)
            outcome = run_highs(self.highs)
        self._cost[cols] = coefficients
        self.last_x = None
        if outcome is LPOutcome.OPTIMAL:
            solution = self.highs.getSolution()
            duals = np.asarray(solution.row_dual, dtype=float)
            self.last_x = np.asarray(solution.col_value[: self.n_inputs], dtype=float)
        else:  # no usable duals: the bound from the column box alone (still valid)
            duals = np.zeros(self.matrix.shape[0])
        bound = _dual_bound(self, self._cost, duals)
        self._cost[cols] = 0.0
        if not np.isfinite(bound):
            raise SolverError("HiGHS returned an invalid bound; please report this network")
        return bound


def _polytope_rows(network: ReLUNetwork, n_cols: int) -> sp.csr_matrix:
    """The domain's rows ``A x`` on the first (input) columns of ``n_cols``."""
    a_rows = network.domain_A
    pad = sp.csr_matrix((a_rows.shape[0], n_cols - network.n_inputs))
    return sp.hstack([sp.csr_matrix(a_rows), pad], format="csr")


def _rows(w: FloatArray, own_cols: Any, prev: slice, n_cols: int) -> sp.csr_matrix:
    """Rows ``h_own - w @ h_prev`` as a sparse block over all columns."""
    n_rows = w.shape[0]
    r, c = np.nonzero(w)
    rows = np.concatenate([r, np.arange(n_rows)])
    cols = np.concatenate([c + prev.start, np.asarray(own_cols)])
    vals = np.concatenate([-w[r, c], np.ones(n_rows)])
    return sp.csr_matrix((vals, (rows, cols)), shape=(n_rows, n_cols))


def _classes(lo: FloatArray, hi: FloatArray) -> tuple[Any, Any, Any]:
    """Masks (stably active, stably inactive, unstable) from pre-activation bounds."""
    active = lo > 0
    inactive = (hi <= 0) & ~active
    return active, inactive, ~(active | inactive)


def _pairs(h_cols: Any, g_cols: Any, g_coef: FloatArray, n_cols: int) -> sp.csr_matrix:
    """Rows ``h - g_coef * g``, one per (h, g) column pair."""
    n_rows = len(h_cols)
    rows = np.concatenate([np.arange(n_rows), np.arange(n_rows)])
    cols = np.concatenate([np.asarray(h_cols), np.asarray(g_cols)])
    vals = np.concatenate([np.ones(n_rows), -np.asarray(g_coef, dtype=float)])
    return sp.csr_matrix((vals, (rows, cols)), shape=(n_rows, n_cols))


def _dual_bound(lp: LayerLP, cost: FloatArray, duals: FloatArray) -> float:
    r"""Lagrangian lower bound on ``min cost @ v`` valid for any row multipliers ``y``.

    ``cost @ v = y @ (A v) + (cost - A^T y) @ v``; each term is bounded below over the
    row range and the column box. Multipliers of the wrong sign for a one-sided row
    are set to zero first, so the bound is finite (all columns are boxed).
    """
    y = duals.copy()
    y[np.isinf(lp.row_lower) & (y > 0)] = 0.0
    y[np.isinf(lp.row_upper) & (y < 0)] = 0.0
    row_term = np.where(y > 0, y * np.where(y > 0, lp.row_lower, 0.0), 0.0) + np.where(
        y < 0, y * np.where(y < 0, lp.row_upper, 0.0), 0.0
    )
    reduced = cost - lp.matrix.T @ y
    col_term = np.minimum(reduced * lp.col_lower, reduced * lp.col_upper)
    return float(np.sum(row_term) + np.sum(col_term))


def _pad_down(value: FloatArray) -> FloatArray:
    """``value`` moved down by ``BOUND_PADDING`` (relative above magnitude 1)."""
    return np.asarray(value - BOUND_PADDING * np.maximum(1.0, np.abs(value)), dtype=float)


def _pad_up(value: FloatArray) -> FloatArray:
    """``value`` moved up by ``BOUND_PADDING`` (relative above magnitude 1)."""
    return np.asarray(value + BOUND_PADDING * np.maximum(1.0, np.abs(value)), dtype=float)


def _layer_lp_bounds(
    network: ReLUNetwork,
    lowers: list[FloatArray],
    uppers: list[FloatArray],
    layer: int,
    bar: Any,
    witnesses: list[FloatArray],
    deadline: float | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Padded LP lower and upper bounds of every unit of ``layer``; appends LP optima's x.
    Raises :class:`OutOfTime` once ``deadline`` has passed."""
    lp = LayerLP(network, lowers, uppers, layer)
    w, b = network.weights[layer], network.biases[layer]
    lo = np.empty(w.shape[0])
    hi = np.empty(w.shape[0])
    for i in range(w.shape[0]):
        if deadline is not None and time.perf_counter() >= deadline:
            raise OutOfTime
        lo[i] = lp.minimize(w[i]) + b[i]
        if lp.last_x is not None:
            witnesses.append(lp.last_x)
        hi[i] = -lp.minimize(-w[i]) + b[i]
        if lp.last_x is not None:
            witnesses.append(lp.last_x)
        if bar is not None:
            bar.update(1)
    return _pad_down(lo), _pad_up(hi)


