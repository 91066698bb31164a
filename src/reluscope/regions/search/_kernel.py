r"""The compiled core of the ``lp`` counting engine (numba, cached on disk).

Everything here is ``@njit(cache=True)``: the depth-first search over activation
patterns of :mod:`reluscope.regions.search.engine` and its own small LP solver, a dense
bounded dual simplex in input space.

The LP at a node (``m`` rows: a polytope domain's rows ``A x <= b`` first, fixed at the
root, then one per decided unit whose constraint is not redundant):

.. math::

    \min\ c^\top x \quad\text{s.t.}\quad a_i^\top x - s_i = b_i,\quad
    0 \le s_i \le S_i,\quad l \le x \le u,

where row ``i`` is ``a.x + c_0 - \varepsilon \ge 0`` (active) or ``-(a.x + c_0) \ge 0``
(inactive) and ``S_i`` is the row's range over the box (redundant, so every variable is
boxed and *any* basis is dual feasible after putting each nonbasic variable at the
bound its reduced cost asks for). The basis is ``m x m`` with an explicit inverse. Each
LP starts from the final basis of the last LP solved at the parent node (plus the new
row's slack): warm start from the parent. When that basis extends the last LP's final
one (same rows, new rows with their slacks basic), the inverse is kept and extended by a
block formula; else it is rebuilt with ``np.linalg.inv``; and after ``REFACTOR`` updates
(counted across LPs) it is always rebuilt, so no error accumulates along the search.
Leaving row by exact dual steepest edge (the weights ``||e_r^T B^{-1}||^2`` are cheap
with an explicit inverse); bound-flipping ratio test (the crossing found by a weighted
quickselect, no sort) with a Harris pass; nonbasic variables whose reduced cost changes
sign are flipped to their other bound.

Decisions and their evidence:

* **empty side**: only by a *certificate*: the row multipliers ``y`` of the current
  basis, clipped to ``y >= 0``, give the Lagrangian lower bound
  ``L(y) = b.y + sum_j min(d_j l_j, d_j u_j)``, ``d = c - A^T y``, valid for any
  ``y >= 0`` (weak duality). It is evaluated from the rows themselves, not from the
  simplex's state, and must exceed the side's threshold by more than a bound on its
  own rounding error (``CERTIFICATE_RTOL``). The simplex stops as soon as its dual
  objective passes the threshold and the certificate holds (early stop); an optimum
  above the threshold whose certificate fails is *trouble*.
* **non-empty side**: the optimum ``x`` (clipped to the box) is a witness; every
  counted region's witness is checked by a forward pass of the network
  (``WITNESS_TOL``) and against the polytope's rows (``DOMAIN_TOL``). A failed check is
  *trouble*.
* **witnesses** of a child: the node's points on its side, the LP optimum, and points
  of the segment from the node's first point to the optimum (:func:`_segment_witnesses`);
  all lie in the node by convexity, and every region's witness is checked as above.
* **trouble** (iteration cap ``KERNEL_MAX_ITERATIONS``, singular pivots, failed
  certificate or witness check):
  the kernel stops at that node and hands it to the HiGHS search (``method="highs"``),
  which decides it instead.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

# kernel return codes
DONE = 0  # the stack is empty
BUDGET = 1  # node budget used up; call again
TROUBLE = 2  # a node needs the HiGHS engine (its path and point are in the state)

# LP outcomes
_NONEMPTY, _EMPTY, _LP_TROUBLE = 0, 1, 2

#: Rebuild the basis inverse every so many simplex iterations.
REFACTOR = 32
#: Below this many breakpoints the ratio test's quickselect finishes by selection.
SELECTION_CUTOFF = 16

# indices into the int64 state vector
I_DEPTH, I_M, I_SP, I_LPS, I_ITERS, I_REGIONS, I_NODES, I_NPAT, I_TROUBLE_K = range(9)
I_DOMAIN_ROWS = 9  # rows 0..I_DOMAIN_ROWS-1 are a polytope domain's, fixed at the root
N_ISTATE = 10
# indices into the inverse's state: [rows of the basis it inverts (-1: none), updates
# since it was last built from scratch]
I_INV_M, I_INV_UPDATES = 0, 1


# The kernel's arguments, grouped (numba passes a NamedTuple of arrays as a struct of
# references: the kernel writes into the caller's arrays, nothing is copied).
class Network(NamedTuple):
    """The network over its box, fixed for a search (read only)."""

    layer_of: np.ndarray  # int64 (units,): each unit's layer
    idx_in_layer: np.ndarray  # int64 (units,): its index in that layer
    layer_start: np.ndarray  # int64 (layers,): the first unit of each layer
    last_of_layer: np.ndarray  # int64 (layers,): the depth at which a layer is decided
    w0: np.ndarray  # (width_0, n): the first layer's weights
    b0: np.ndarray  # (width_0,)
    wd: np.ndarray  # (layers, wmax, wmax): the other layers' weights, zero padded
    bd: np.ndarray  # (layers, wmax): every layer's biases, zero padded
    widths: np.ndarray  # int64 (layers,)
    xl: np.ndarray  # (n,): the input box
    xu: np.ndarray
    glo: np.ndarray  # (units,): global pre-activation bounds (from the bound tightening)
    ghi: np.ndarray


class Path(NamedTuple):
    """The current path: its decisions, LP rows, warm-start bases and affine maps."""

    ist: np.ndarray  # int64 (N_ISTATE,): the integer state, indexed by the I_* names
    sides: np.ndarray  # uint8 (units,): each decided unit's side (1: active)
    is_set: np.ndarray  # bool (units,)
    set_units: np.ndarray  # int64 (units + 1,): the unit decided at each depth
    rows_before: np.ndarray  # int64 (units + 1,): LP rows before each depth's decision
    row_unit: np.ndarray  # int64 (rows,): the unit of each LP row
    row_a: np.ndarray  # (rows, n): LP rows a.x >= b
    row_b: np.ndarray  # (rows,)
    row_s: np.ndarray  # (rows,): each row slack's upper bound (its range over the box)
    snap_basic: np.ndarray  # int64 (units + 2, rows): the last basis at each depth
    snap_m: np.ndarray  # int64 (units + 2,): its rows
    map_a: np.ndarray  # (layers, wmax, n): each layer's pre-activations as affine maps
    map_c: np.ndarray  # (layers, wmax) of the input, on the current path
    map_lo: np.ndarray  # (layers, wmax): their range over the box
    map_hi: np.ndarray


class Stack(NamedTuple):
    """The nodes still to search (depth-first), and what a kernel call hands back."""

    k: np.ndarray  # int64 (size,): each entry's depth
    code: np.ndarray  # int64 (size,): its last decision, 2 * unit + side
    add_row: np.ndarray  # bool (size,): whether that decision adds an LP row
    n_points: np.ndarray  # int64 (size,): its witnesses
    points: np.ndarray  # (size, witnesses, n)
    patterns: np.ndarray  # uint8 (kept, units): the patterns of the regions counted
    trouble_pt: np.ndarray  # (n,): the point of a node handed over (TROUBLE)


class LPWork(NamedTuple):
    """The simplex's work space, kept across LPs (the basis inverse is reused)."""

    binv: np.ndarray  # (rows, rows): the basis inverse
    d: np.ndarray  # (n + rows,): reduced costs
    z: np.ndarray  # (n + rows,): values of x and the slacks; z[:n] is the optimum
    is_basic: np.ndarray  # int64 (n + rows,): position in the basis, -1 nonbasic
    alpha: np.ndarray  # (n + rows,): the pivot row
    col: np.ndarray  # (rows,): a column of B^{-1} [A, -I]
    rho: np.ndarray  # (rows,): a row of B^{-1}, or the row duals
    inv_state: np.ndarray  # int64 (2,): indexed by I_INV_M, I_INV_UPDATES
    stats: np.ndarray  # int64 (3,): simplex iterations, LPs certified early, handed over


class Settings(NamedTuple):
    """The kernel's tolerances and limits (values from reluscope.tolerances)."""

    feasibility_tol: float  # primal feasibility, and the slack of a side's LP target
    dual_tol: float
    pivot_tol: float
    certificate_rtol: float  # a certificate's bound on its own rounding error
    max_iterations: int  # simplex iterations per LP before TROUBLE
    region_eps: float  # an active unit's pre-activation is >= region_eps
    witness_tol: float  # margin of the forward check of a region's witness
    bound_padding: float  # added to each row slack's upper bound
    cost_perturbation: float
    domain_tol: float  # a polytope domain's rows, checked at a region's witness


def new_lp_work(rows: int, n: int) -> LPWork:
    """Zeroed work space for LPs of up to ``rows`` rows over ``n`` inputs."""
    return LPWork(
        binv=np.zeros((rows, rows)),
        d=np.zeros(n + rows),
        z=np.zeros(n + rows),
        is_basic=np.zeros(n + rows, dtype=np.int64),
        alpha=np.zeros(n + rows),
        col=np.zeros(rows),
        rho=np.zeros(rows),
        inv_state=np.array([-1, 0], dtype=np.int64),
        stats=np.zeros(3, dtype=np.int64),
    )


@njit(cache=True)
def _box_range(a, c0, xl, xu):
    lo = c0
    hi = c0
    for j in range(a.shape[0]):
        p = a[j] * xl[j]
        q = a[j] * xu[j]
        if p < q:
            lo += p
            hi += q
        else:
            lo += q
            hi += p
    return lo, hi


@njit(cache=True)
def certified_bound(cost, m, row_a, row_b, y, xl, xu, rtol):
    """A lower bound on min cost.x over the rows and the box, minus its rounding error."""
    n = cost.shape[0]
    total = 0.0
    mag = 0.0
    yp = np.zeros(m)
    for i in range(m):
        if y[i] > 0.0:
            yp[i] = y[i]
            total += y[i] * row_b[i]
            mag += abs(y[i] * row_b[i])
    dv = cost.copy()
    dmv = np.abs(cost)
    for i in range(m):
        yi = yp[i]
        if yi != 0.0:
            for j in range(n):
                t = yi * row_a[i, j]
                dv[j] -= t
                dmv[j] += abs(t)
    for j in range(n):
        d = dv[j]
        dm = dmv[j]
        p = d * xl[j]
        q = d * xu[j]
        total += p if p < q else q
        mag += dm * max(abs(xl[j]), abs(xu[j]))
    return total - rtol * mag - 1e-300


@njit(cache=True)
def _build_inverse(basic, m, n, row_a, binv):
    bmat = np.zeros((m, m))
    for k in range(m):
        v = basic[k]
        if v < n:
            for i in range(m):
                bmat[i, k] = row_a[i, v]
        else:
            bmat[v - n, k] = -1.0
    # singular bases give inf/nan; the caller checks
    res = np.linalg.inv(bmat) if m > 0 else bmat
    for i in range(m):
        for k in range(m):
            binv[i, k] = res[i, k]


@njit(cache=True)
def _extend_inverse(basic, m0, m, n, row_a, binv):
    """Append rows ``m0..m-1`` to the inverse of ``basic[:m0]`` in ``binv``: each new row
    ``k`` has its own slack basic, ``B' = [[B, 0], [u, -1]]`` with ``u`` the row's
    entries at the basic columns, so ``B'^{-1} = [[B^{-1}, 0], [u B^{-1}, -1]]``."""
    for k in range(m0, m):
        for i in range(k + 1):
            binv[k, i] = 0.0
            binv[i, k] = 0.0
        for c in range(k):
            v = basic[c]
            if v < n:
                u = row_a[k, v]
                if u != 0.0:
                    for i in range(k):
                        binv[k, i] += u * binv[c, i]
        binv[k, k] = -1.0


@njit(cache=True)
def _is_finite_matrix(binv, m):
    for i in range(m):
        for k in range(m):
            if not np.isfinite(binv[i, k]):
                return False
    return True


@njit(cache=True)
def _column(v, n, m, row_a, binv, out):
    """out = B^{-1} M_v (M_v: column v of [A, -I])."""
    if v < n:
        for i in range(m):
            s = 0.0
            for k in range(m):
                s += binv[i, k] * row_a[k, v]
            out[i] = s
    else:
        r = v - n
        for i in range(m):
            out[i] = -binv[i, r]


@njit(cache=True, fastmath={"reassoc"})
def crossing_ratio(cand_t, cand_w, nc, slope, wt):
    """``(t, ties)``: the ratio where the slope turns and how many breakpoints of that
    same ratio pass before it; ``t = inf`` when it never turns.

    A weighted quickselect: each round sums the slope costs below a median-of-three
    pivot in one branch-free pass and keeps only the side that holds the crossing
    (compacted into ``wt`` and, in place, ``cand_w``), so nothing is sorted or swapped.
    """
    src_t = cand_t  # the first round reads the ratios where they are
    size = nc
    if size <= SELECTION_CUTOFF:
        for k in range(size):
            wt[k] = cand_t[k]
        src_t = wt
    while size > SELECTION_CUTOFF:
        a = src_t[0]
        b = src_t[size // 2]
        c = src_t[size - 1]
        pivot = max(min(a, b), min(max(a, b), c))  # median of three
        w_less = 0.0
        w_equal = 0.0
        for k in range(size):
            t = src_t[k]
            w = cand_w[k]
            w_less += w if t < pivot else 0.0
            w_equal += w if t == pivot else 0.0
        if slope - w_less < 0.0:
            keep = 0
            for k in range(size):
                t = src_t[k]
                wt[keep] = t
                cand_w[keep] = cand_w[k]
                keep += 1 if t < pivot else 0
            size = keep
            src_t = wt
            continue
        slope -= w_less
        if slope - w_equal < 0.0:
            ties = 0
            for k in range(size):
                if src_t[k] == pivot:
                    slope -= cand_w[k]
                    if slope < 0.0:
                        return pivot, ties
                    ties += 1
        slope -= w_equal
        keep = 0
        for k in range(size):
            t = src_t[k]
            wt[keep] = t
            cand_w[keep] = cand_w[k]
            keep += 1 if t > pivot else 0
        size = keep
        src_t = wt
    # a few left: walk them in increasing ratio
    for k in range(size):
        best = k
        for kk in range(k + 1, size):
            if wt[kk] < wt[best]:
                best = kk
        wt[k], wt[best] = wt[best], wt[k]
        cand_w[k], cand_w[best] = cand_w[best], cand_w[k]
        slope -= cand_w[k]
        if slope < 0.0:
            ties = 0
            for kk in range(k):
                ties += 1 if wt[kk] == wt[k] else 0
            return wt[k], ties
    return np.inf, 0


@njit(cache=True, fastmath={"reassoc", "contract"})
def _dot(a, b, n):
    """sum(a[:n] * b[:n]), vectorised (reassociated); only the simplex's own arithmetic
    uses it, never a certificate or a witness check."""
    s = 0.0
    for j in range(n):
        s += a[j] * b[j]
    return s


@njit(cache=True)
def _row_duals(cost, basic, m, n, binv, out):
    """out = the row multipliers of the true costs for the current basis (B^{-T} c_B)."""
    for i in range(m):
        out[i] = 0.0
    for k in range(m):
        v = basic[k]
        if v < n and cost[v] != 0.0:
            ck = cost[v]
            for i in range(m):
                out[i] += ck * binv[k, i]


@njit(cache=True)
def perturbation_fractions(size):
    """Fixed pseudo-random factors in [0.5, 1] of the cost perturbation, one per variable."""
    frac = np.empty(size)
    for j in range(size):
        frac[j] = 0.5 + 0.5 * (((j + 1) * 2654435761) % 1000003) / 1000003.0
    return frac


# long: numba: the bounded dual simplex is one hot loop; calls split out of it cost speed per pivot
@njit(cache=True)
def solve_lp(cost, target, m, row_a, row_b, row_s, xl, xu, basic, frac, reuse_m, lp, settings):
    """min cost.x over rows ``0..m-1`` and the box: _NONEMPTY (``lp.z[:n]`` is the
    optimum, value <= target), _EMPTY (certified > target) or _LP_TROUBLE. ``basic[:m]``
    is updated in place.

    ``lp.binv`` is rebuilt from scratch unless ``reuse_m >= 0``: then it already holds
    the inverse of ``basic[:reuse_m]`` (the last LP's final basis) and only the rows
    added since, whose slacks are basic, are appended. ``lp.inv_state[I_INV_UPDATES]``
    counts the updates since the last rebuild, across LPs: every ``REFACTOR`` a fresh
    inverse. One function: the simplex's loop shares its work arrays across steps.
    """
    n = xl.shape[0]
    binv, d, z, is_basic = lp.binv, lp.d, lp.z, lp.is_basic
    work_alpha, work_col, work_rho = lp.alpha, lp.col, lp.rho
    inv_state, stats = lp.inv_state, lp.stats
    ptol = settings.feasibility_tol
    dtol = settings.dual_tol
    pivtol = settings.pivot_tol
    rtol = settings.certificate_rtol
    max_iter = settings.max_iterations
    perturb = settings.cost_perturbation
    nv = n + m
    cand = np.empty(nv, dtype=np.int64)
    cand_x = np.empty(nv)
    cand_t = np.empty(nv)
    cand_w = np.empty(nv)
    buf_t = np.empty(nv)
    # bounds of every variable (x: the box; slack i: [0, row_s[i]]); side[v] is +1 for
    # a nonbasic variable at its lower bound, -1 at its upper one, 0 basic or fixed
    vlo = np.empty(nv)
    vhi = np.empty(nv)
    for j in range(n):
        vlo[j] = xl[j]
        vhi[j] = xu[j]
    for i in range(m):
        vlo[n + i] = 0.0
        vhi[n + i] = row_s[i]
    side = np.zeros(nv)
    # the costs the simplex works with: perturbed (breaks the dual degeneracy that makes
    # a textbook dual simplex cycle); decisions only use the true ``cost``
    pc = np.empty(nv)
    for j in range(nv):
        cj = cost[j] if j < n else 0.0
        delta = perturb * (1.0 + abs(cj)) * frac[j]
        pc[j] = cj + delta if cj >= 0.0 else cj - delta
    for it in range(max_iter + 1):
        rebuild = inv_state[I_INV_UPDATES] >= REFACTOR or (it == 0 and reuse_m < 0)
        if it == 0 and not rebuild:
            _extend_inverse(basic, reuse_m, m, n, row_a, binv)
        if rebuild:
            _build_inverse(basic, m, n, row_a, binv)
            if not _is_finite_matrix(binv, m):
                # fall back to the slack basis (always regular)
                for k in range(m):
                    basic[k] = n + k
                _build_inverse(basic, m, n, row_a, binv)
            inv_state[I_INV_UPDATES] = 0
        if it == 0 or rebuild:
            for v in range(nv):
                is_basic[v] = -1
            for k in range(m):
                is_basic[basic[k]] = k
            # duals y = B^{-T} c_B (work_rho), reduced costs
            for i in range(m):
                work_rho[i] = 0.0
            for k in range(m):
                ck = pc[basic[k]]
                if ck != 0.0:
                    for i in range(m):
                        work_rho[i] += ck * binv[k, i]
            for j in range(n):
                d[j] = pc[j]
            for i in range(m):
                yi = work_rho[i]
                if yi != 0.0:
                    for j in range(n):
                        d[j] -= row_a[i, j] * yi
            for i in range(m):
                d[n + i] = pc[n + i] + work_rho[i]
            # nonbasic values at the bound the reduced cost asks for
            for v in range(nv):
                if is_basic[v] >= 0:
                    d[v] = 0.0
                    side[v] = 0.0
                    continue
                lo = vlo[v]
                hi = vhi[v]
                if it == 0 or z[v] != lo and z[v] != hi:
                    z[v] = lo if d[v] >= 0.0 else hi
                elif z[v] == lo and d[v] < -dtol:
                    z[v] = hi
                elif z[v] == hi and d[v] > dtol:
                    z[v] = lo
                side[v] = 0.0 if hi - lo <= 0.0 else (-1.0 if z[v] == hi else 1.0)
            # basic values x_B = B^{-1}(b - N z_N) (basic entries of z zeroed first)
            for k in range(m):
                z[basic[k]] = 0.0
            for i in range(m):
                work_col[i] = row_b[i] - _dot(row_a[i], z, n) + z[n + i]
            for k in range(m):
                s = 0.0
                for i in range(m):
                    s += binv[k, i] * work_col[i]
                z[basic[k]] = s
        # dual objective (= cost of the current basic solution)
        obj = _dot(cost, z, n)
        if obj > target + 1e-12 * (1.0 + abs(target)):
            # try to certify emptiness with the current row duals
            _row_duals(cost, basic, m, n, binv, work_rho)
            if certified_bound(cost, m, row_a, row_b, work_rho, xl, xu, rtol) > target:
                stats[1] += 1
                stats[0] += it
                return _EMPTY
        # leaving row: largest infeasibility^2 / ||e_r^T B^{-1}||^2
        r = -1
        best = 0.0
        for k in range(m):
            v = basic[k]
            if z[v] < vlo[v] - ptol:
                inf = vlo[v] - z[v]
            elif z[v] > vhi[v] + ptol:
                inf = z[v] - vhi[v]
            else:
                continue
            w = 0.0
            for i in range(m):
                w += binv[k, i] * binv[k, i]
            score = inf * inf / max(w, 1e-300)
            if score > best:
                best = score
                r = k
        if r < 0:
            stats[0] += it
            if obj <= target:
                return _NONEMPTY
            # optimum above the threshold: certify it
            _row_duals(cost, basic, m, n, binv, work_rho)
            if certified_bound(cost, m, row_a, row_b, work_rho, xl, xu, rtol) > target:
                return _EMPTY
            stats[2] += 1
            return _LP_TROUBLE
        if it == max_iter:
            break
        p = basic[r]
        lo_p = vlo[p]
        hi_p = vhi[p]
        below = z[p] < lo_p
        target_p = lo_p if below else hi_p
        sgn = -1.0 if below else 1.0
        # pivot row alpha_r = e_r^T B^{-1} [A, -I]
        for i in range(m):
            work_rho[i] = binv[r, i]
        for j in range(n):
            work_alpha[j] = 0.0
        for i in range(m):
            ri = work_rho[i]
            if ri != 0.0:
                for j in range(n):
                    work_alpha[j] += ri * row_a[i, j]
        for i in range(m):
            work_alpha[n + i] = -work_rho[i]
        # bound-flipping ratio test: pass every breakpoint whose flip keeps the dual
        # objective's slope positive (those variables go to their other bound), enter
        # at the first one that does not; Harris tolerance among the remaining ones.
        # Breakpoints: nonbasic variables whose reduced cost moves towards zero
        # (collected without branches; basic and fixed ones have side 0)
        nc = 0
        for v in range(nv):
            x = sgn * side[v] * work_alpha[v]
            cand[nc] = v
            cand_x[nc] = x
            cand_t[nc] = abs(d[v])
            cand_w[nc] = vhi[v] - vlo[v]
            nc += 1 if x > pivtol else 0
        if nc == 0:
            break  # dual unbounded: the node would be empty, yet it has a point
        for k in range(nc):
            cand_t[k] /= cand_x[k]
            cand_w[k] *= cand_x[k]
        # the breakpoint where the dual objective's slope turns (weighted selection)
        slope = lo_p - z[p] if below else z[p] - hi_p
        t_cross, ties = crossing_ratio(cand_t, cand_w, nc, slope, buf_t)
        skip = -1
        if t_cross == np.inf:
            # the slope never turns: all pass but the largest ratio, which enters
            skip = 0
            for k in range(1, nc):
                skip = k if cand_t[k] > cand_t[skip] else skip
        # one pass: flip the breakpoints passed (those variables go to their other
        # bound; their |alpha| is negated to mark them), and the Harris bound of the rest
        for i in range(m):
            work_rho[i] = 0.0
        kq = 0
        seen = 0
        tmax = np.inf
        for k in range(nc):
            t = cand_t[k]
            tie = t == t_cross
            if ((t < t_cross) or (tie and seen < ties)) and k != skip:
                v = cand[k]
                new = vlo[v] if side[v] < 0.0 else vhi[v]
                delta = new - z[v]
                z[v] = new
                side[v] = -side[v]
                if v < n:
                    for i in range(m):
                        work_rho[i] += delta * row_a[i, v]
                else:
                    work_rho[v - n] -= delta
                cand_x[k] = -cand_x[k]
                kq += 1
            elif t < tmax:  # else its Harris bound cannot be smaller
                tmax = min(tmax, t + dtol / cand_x[k])
            seen += 1 if tie else 0
        # enter: the largest |alpha| within the Harris bound among those not passed
        q = -1
        big = 0.0
        for k in range(nc):
            if cand_t[k] <= tmax and cand_x[k] > big:
                big = cand_x[k]
                q = cand[k]
        if q < 0:
            break
        if kq > 0:
            for k in range(m):
                s = 0.0
                for i in range(m):
                    s += binv[k, i] * work_rho[i]
                z[basic[k]] -= s
        # column of q, primal step
        _column(q, n, m, row_a, binv, work_col)
        piv = work_col[r]
        if abs(piv) < pivtol:
            break
        theta_p = (z[p] - target_p) / piv
        for k in range(m):
            z[basic[k]] -= theta_p * work_col[k]
        z[p] = target_p
        z[q] += theta_p
        # dual step (every entry, then the basic ones back to zero)
        theta_d = d[q] / work_alpha[q]
        wrong = 0  # reduced costs that turn against their bound (flipped below)
        for v in range(nv):
            dv = d[v] - theta_d * work_alpha[v]
            d[v] = dv
            wrong += 1 if side[v] * dv < -dtol else 0
        for k in range(m):
            d[basic[k]] = 0.0
        d[p] = -theta_d
        d[q] = 0.0
        # basis change and inverse update
        for i in range(m):
            binv[r, i] /= piv
        for k in range(m):
            if k != r and work_col[k] != 0.0:
                f = work_col[k]
                for i in range(m):
                    binv[k, i] -= f * binv[r, i]
        basic[r] = q
        is_basic[q] = r
        is_basic[p] = -1
        inv_state[I_INV_UPDATES] += 1
        side[q] = 0.0
        side[p] = 0.0 if hi_p - lo_p <= 0.0 else (1.0 if below else -1.0)
        # bound flips for reduced costs of the wrong sign
        if wrong == 0 and side[p] * d[p] >= -dtol:
            continue
        for v in range(nv):
            if side[v] * d[v] < -dtol:
                new = vhi[v] if side[v] > 0.0 else vlo[v]
                delta = new - z[v]
                _column(v, n, m, row_a, binv, work_col)
                for k in range(m):
                    z[basic[k]] -= delta * work_col[k]
                z[v] = new
                side[v] = -side[v]
    stats[0] += max_iter
    stats[2] += 1
    return _LP_TROUBLE


@njit(cache=True)
def in_domain_rows(x, mp, row_a, row_b, tol):
    """Whether ``x`` satisfies the polytope rows ``0..mp-1`` (``a.x >= b``, that is
    ``A x <= b``) up to ``tol * (1 + |b|)`` (tolerances.DOMAIN_TOL)."""
    for k in range(mp):
        s = 0.0
        for j in range(x.shape[0]):
            s += row_a[k, j] * x[j]
        if s < row_b[k] - tol * (1.0 + abs(row_b[k])):
            return False
    return True


@njit(cache=True)
def forward_check(x, sides, w0, b0, wd, bd, widths, eps, tol):
    """True iff the forward pass of ``x`` has pattern ``sides`` (with margin ``tol``)."""
    n_layers = widths.shape[0]
    if n_layers == 0:
        return True
    wmax = bd.shape[1]
    h = np.zeros(wmax)
    g = np.zeros(wmax)
    u = 0
    for i in range(widths[0]):
        s = b0[i]
        for j in range(x.shape[0]):
            s += w0[i, j] * x[j]
        g[i] = s
    for layer in range(n_layers):
        width = widths[layer]
        if layer > 0:
            prev = widths[layer - 1]
            for i in range(width):
                s = bd[layer, i]
                for j in range(prev):
                    s += wd[layer, i, j] * h[j]
                g[i] = s
        for i in range(width):
            if sides[u + i]:
                if g[i] < eps - tol:
                    return False
            elif g[i] > tol:
                return False
        for i in range(width):
            h[i] = g[i] if sides[u + i] else 0.0
        u += width
    return True


@njit(cache=True)
def _map_of_next_layer(layer, start, sides, map_a, map_c, map_lo, map_hi, wd, bd, widths, xl, xu):
    width = widths[layer]
    nxt = layer + 1
    n = xl.shape[0]
    for i in range(widths[nxt]):
        for j in range(n):
            map_a[nxt, i, j] = 0.0
        cc = bd[nxt, i]
        for k in range(width):
            if sides[start + k]:
                w = wd[nxt, i, k]
                if w != 0.0:
                    cc += w * map_c[layer, k]
                    for j in range(n):
                        map_a[nxt, i, j] += w * map_a[layer, k, j]
        map_c[nxt, i] = cc
        lo, hi = _box_range(map_a[nxt, i], cc, xl, xu)
        map_lo[nxt, i] = lo
        map_hi[nxt, i] = hi


@njit(cache=True)
def descend(unit, side, add_row, net, path, inv_state, settings):
    """Decide ``unit`` at the next depth (row, warm-start basis, next layer's map)."""
    layer_of, idx_in_layer, layer_start = net.layer_of, net.idx_in_layer, net.layer_start
    last_of_layer, wd, bd, widths, xl, xu = (
        net.last_of_layer, net.wd, net.bd, net.widths, net.xl, net.xu
    )
    ist, sides, is_set, set_units = path.ist, path.sides, path.is_set, path.set_units
    rows_before, row_unit, row_a, row_b, row_s = (
        path.rows_before, path.row_unit, path.row_a, path.row_b, path.row_s
    )
    snap_basic, snap_m = path.snap_basic, path.snap_m
    map_a, map_c, map_lo, map_hi = path.map_a, path.map_c, path.map_lo, path.map_hi
    eps = settings.region_eps
    pad = settings.bound_padding
    depth = ist[I_DEPTH]
    layer = layer_of[unit]
    i = idx_in_layer[unit]
    n = xl.shape[0]
    sides[unit] = side
    is_set[unit] = True
    set_units[depth] = unit
    m = ist[I_M]
    rows_before[depth] = m
    mp = snap_m[depth]
    for k in range(mp):
        snap_basic[depth + 1, k] = snap_basic[depth, k]
    if add_row:
        if m < inv_state[I_INV_M]:
            inv_state[I_INV_M] = -1  # the kept inverse used the row this one replaces
        if side:
            for j in range(n):
                row_a[m, j] = map_a[layer, i, j]
            row_b[m] = eps - map_c[layer, i]
            s_hi = map_hi[layer, i] - eps
        else:
            for j in range(n):
                row_a[m, j] = -map_a[layer, i, j]
            row_b[m] = map_c[layer, i]
            s_hi = -map_lo[layer, i]
        row_s[m] = max(s_hi, 0.0) * (1.0 + 1e-9) + pad
        row_unit[m] = unit
        snap_basic[depth + 1, mp] = n + m
        snap_m[depth + 1] = mp + 1
        ist[I_M] = m + 1
    else:
        snap_m[depth + 1] = mp
    ist[I_DEPTH] = depth + 1
    if depth == last_of_layer[layer] and layer + 1 < widths.shape[0]:
        _map_of_next_layer(
            layer, layer_start[layer], sides, map_a, map_c, map_lo, map_hi, wd, bd, widths, xl, xu
        )


@njit(cache=True)
def descend_path(codes, adds, net, path, inv_state, settings):
    """:func:`descend` for each decision ``codes[i]`` (``2 * unit + side``), adding its row
    when ``adds[i]``: one call for a whole path (the tree estimator's jumps)."""
    for k in range(codes.shape[0]):
        descend(codes[k] >> 1, codes[k] & 1, adds[k], net, path, inv_state, settings)


@njit(cache=True)
def truncate(depth, ist, is_set, set_units, rows_before):
    d = ist[I_DEPTH]
    while d > depth:
        d -= 1
        is_set[set_units[d]] = False
        ist[I_M] = rows_before[d]
    ist[I_DEPTH] = d


@njit(cache=True)
def _segment_witnesses(
    p, g_p, q, g_q, layer, start, stop_u, is_set, map_a, map_c, i, eps, pts_i, ni, cap_i,
    pts_a, na, cap_a, cuts, piece,
):
    """Witnesses on the segment from ``p`` to ``q`` (both in the node): a point in each
    piece that the hyperplanes of the layer's undecided units cut (``g_p``, ``g_q``: their
    pre-activations at the ends), appended to ``pts_i`` (``g <= 0`` for unit ``i``) or
    ``pts_a`` (``g >= eps``) up to ``cap_i`` and ``cap_a`` points. Returns ``(ni, na)``.

    Cheap witnesses for the units decided below, which then need fewer LPs (on MNIST
    784;8;8;10, 17% fewer LPs and 31% fewer simplex iterations, measured).
    """
    n = p.shape[0]
    nb = 0
    for u in range(start, stop_u):
        if not is_set[u]:
            k = u - start
            if g_p[k] * g_q[k] < 0.0:
                cuts[nb] = g_p[k] / (g_p[k] - g_q[k])
                nb += 1
    cuts[nb] = 1.0
    nb += 1
    cuts[:nb].sort()
    c0 = map_c[layer, i]
    t_prev = 0.0
    for kb in range(nb):
        t_mid = 0.5 * (t_prev + cuts[kb])
        t_prev = cuts[kb]
        for j in range(n):
            piece[j] = p[j] + t_mid * (q[j] - p[j])
        g = c0 + _dot(map_a[layer, i], piece, n)
        if g <= 0.0 and ni < cap_i:
            for j in range(n):
                pts_i[ni, j] = piece[j]
            ni += 1
        elif g >= eps and na < cap_a:
            for j in range(n):
                pts_a[na, j] = piece[j]
            na += 1
    return ni, na


# long: numba: the node loop of the search; its state in locals, which a split would pass per node
@njit(cache=True)
def search(budget, net, path, stack, lp, settings, stop_at_branch=False):
    """Depth-first search from ``stack`` for at most ``budget`` nodes; with
    ``stop_at_branch``, also stop once a node left other than one entry on a stack of
    one (a node with two children, or none: what the tree estimator expands).

    One function: a node's unit choice, its two LPs and its children share the node's
    points and bounds (numba gives no cheaper way to pass them between parts)."""
    layer_of, layer_start, last_of_layer = net.layer_of, net.layer_start, net.last_of_layer
    w0, b0, wd, bd, widths = net.w0, net.b0, net.wd, net.bd, net.widths
    xl, xu, glo, ghi = net.xl, net.xu, net.glo, net.ghi
    ist, sides, is_set, set_units = path.ist, path.sides, path.is_set, path.set_units
    rows_before, row_a, row_b, row_s = path.rows_before, path.row_a, path.row_b, path.row_s
    snap_basic, snap_m, map_a, map_c = path.snap_basic, path.snap_m, path.map_a, path.map_c
    map_lo, map_hi = path.map_lo, path.map_hi
    st_k, st_code, st_add, st_np = stack.k, stack.code, stack.add_row, stack.n_points
    st_pts, patterns, trouble_pt = stack.points, stack.patterns, stack.trouble_pt
    zvec, work_alpha, inv_state = lp.z, lp.alpha, lp.inv_state
    eps = settings.region_eps
    tol = settings.feasibility_tol
    wtol = settings.witness_tol
    domain_tol = settings.domain_tol
    max_points = st_pts.shape[1]
    n = xl.shape[0]
    nu = layer_of.shape[0]
    nodes = 0
    cost = np.zeros(n)
    basic = np.zeros(row_a.shape[0], dtype=np.int64)
    pts_a = np.zeros((max_points, n))
    pts_i = np.zeros((max_points, n))
    frac = perturbation_fractions(n + row_a.shape[0])
    inv_state[I_INV_M] = -1  # ``basic`` is new: the inverse kept from a last call is unknown
    # |map row| of each unit, computed when first needed after its layer was mapped
    n_layers = widths.shape[0]
    map_norm = np.zeros(map_c.shape)
    norm_ok = np.zeros(n_layers, dtype=np.bool_)
    g_pts = np.zeros((max_points, map_c.shape[1]))  # the pre-activations at the points
    cuts = np.zeros(map_c.shape[1] + 1)
    piece = np.zeros(n)
    g_end = np.zeros(map_c.shape[1])
    while ist[I_SP] > 0:
        if nodes >= budget or (stop_at_branch and nodes > 0 and ist[I_SP] != 1):
            return BUDGET
        sp = ist[I_SP] - 1
        k = st_k[sp]
        code = st_code[sp]
        add = st_add[sp]
        npts = st_np[sp]
        nodes += 1
        ist[I_NODES] += 1
        if k > 0:
            if ist[I_DEPTH] != k - 1:
                truncate(k - 1, ist, is_set, set_units, rows_before)
            descend(code >> 1, code & 1, add, net, path, inv_state, settings)
            done_layer = layer_of[code >> 1]
            if ist[I_DEPTH] - 1 == last_of_layer[done_layer] and done_layer + 1 < n_layers:
                norm_ok[done_layer + 1] = False  # descend mapped the next layer anew
        if k == nu:
            x = st_pts[sp, 0]
            if not (forward_check(x, sides, w0, b0, wd, bd, widths, eps, wtol)
                    and in_domain_rows(x, ist[I_DOMAIN_ROWS], row_a, row_b, domain_tol)):
                for j in range(n):
                    trouble_pt[j] = st_pts[sp, 0, j]
                ist[I_TROUBLE_K] = k
                ist[I_SP] = sp
                return TROUBLE
            ist[I_SP] = sp
            npat = ist[I_NPAT]
            if npat < patterns.shape[0]:
                for u in range(nu):
                    patterns[npat, u] = sides[u]
            ist[I_NPAT] = npat + 1
            ist[I_REGIONS] += 1
            continue
        layer = layer_of[k]
        start = layer_start[layer]
        stop_u = last_of_layer[layer] + 1
        if not norm_ok[layer]:
            for i in range(widths[layer]):
                map_norm[layer, i] = np.sqrt(_dot(map_a[layer, i], map_a[layer, i], n))
            norm_ok[layer] = True
        # choose the unit (see engine._choose_unit)
        best_j = -1
        best_score = np.inf
        empty_node = False
        for u in range(start, stop_u):
            if is_set[u]:
                continue
            i = u - start
            lo_c = max(map_lo[layer, i], glo[u])
            hi_c = min(map_hi[layer, i], ghi[u])
            act_ok = hi_c >= eps
            inact_ok = lo_c <= 0.0
            if not (act_ok or inact_ok):
                empty_node = True
                break
            has_a = False
            has_i = False
            gmin = np.inf
            for q in range(npts):
                g = map_c[layer, i] + _dot(map_a[layer, i], st_pts[sp, q], n)
                g_pts[q, i] = g
                if g >= eps:
                    has_a = True
                if g <= 0.0:
                    has_i = True
                if abs(g) < gmin:
                    gmin = abs(g)
            witnessed = (has_a or not act_ok) and (has_i or not inact_ok)
            if not (act_ok and inact_ok):
                category = 0.0
            elif witnessed:
                category = 4.0
            else:
                category = 2.0
            margin = gmin / (map_norm[layer, i] + 1e-300)
            score = category + 1.0 / (1.0 + margin)
            if score < best_score:
                best_score = score
                best_j = u
        if empty_node:
            ist[I_SP] = sp
            continue
        unit = best_j
        i = unit - start
        lo_u = max(map_lo[layer, i], glo[unit])
        hi_u = min(map_hi[layer, i], ghi[unit])
        can_act = hi_u >= eps
        can_inact = lo_u <= 0.0
        c0 = map_c[layer, i]
        na = 0
        ni = 0
        for q in range(npts):
            g = g_pts[q, i]
            if can_act and g >= eps:
                for j in range(n):
                    pts_a[na, j] = st_pts[sp, q, j]
                na += 1
            if can_inact and g <= 0.0:
                for j in range(n):
                    pts_i[ni, j] = st_pts[sp, q, j]
                ni += 1
        m = ist[I_M]
        depth = ist[I_DEPTH]
        for side in range(2):
            if side == 0 and not (can_inact and ni == 0):
                continue
            if side == 1 and not (can_act and na == 0):
                continue
            if side == 0:
                for j in range(n):
                    cost[j] = map_a[layer, i, j]
                target = tol - c0
            else:
                for j in range(n):
                    cost[j] = -map_a[layer, i, j]
                target = c0 - eps + tol
            # warm start from the parent's last basis; the inverse of the last LP's final
            # basis is kept when this one extends it (only new rows, with their slacks)
            mb = snap_m[depth]
            reuse_m = inv_state[I_INV_M] if inv_state[I_INV_M] <= mb else -1
            for kk in range(mb):
                kept = basic[kk] if kk < reuse_m else n + kk
                if snap_basic[depth, kk] != kept:
                    reuse_m = -1
                basic[kk] = snap_basic[depth, kk]
            ist[I_LPS] += 1
            status = solve_lp(
                cost, target, m, row_a, row_b, row_s, xl, xu, basic, frac, reuse_m, lp, settings
            )
            inv_state[I_INV_M] = mb if status != _LP_TROUBLE else -1
            for kk in range(mb):
                snap_basic[depth, kk] = basic[kk]
            if status == _LP_TROUBLE:
                for j in range(n):
                    trouble_pt[j] = st_pts[sp, 0, j]
                ist[I_TROUBLE_K] = k
                ist[I_SP] = sp  # the node leaves the stack: the caller hands it over
                return TROUBLE
            if status == _EMPTY:
                if side == 0:
                    lo_u = max(lo_u, tol)
                else:
                    hi_u = min(hi_u, eps - tol)
                continue
            # a point of this side: the optimum (clipped), a bound on g in the node
            g = c0
            for j in range(n):
                v = min(max(zvec[j], xl[j]), xu[j])
                work_alpha[j] = v
                g += map_a[layer, i, j] * v
            if side == 0:
                lo_u = max(lo_u, g)
            else:
                hi_u = min(hi_u, g)
            # witnesses: the optimum, and a point in each piece of the segment from the
            # node's first point to it (see _segment_witnesses)
            for u2 in range(start, stop_u):
                if not is_set[u2]:
                    i2 = u2 - start
                    g_end[i2] = map_c[layer, i2] + _dot(map_a[layer, i2], work_alpha, n)
            # the optimum keeps the last place of its side
            ni, na = _segment_witnesses(
                st_pts[sp, 0], g_pts[0], work_alpha, g_end, layer, start, stop_u, is_set,
                map_a, map_c, i, eps, pts_i, 0 if side == 0 else ni, max_points - 1 + side,
                pts_a, na if side == 0 else 0, max_points - side, cuts, piece,
            )
            target_pts = pts_i if side == 0 else pts_a
            cnt = ni if side == 0 else na
            for j in range(n):
                target_pts[cnt, j] = work_alpha[j]
            cnt += 1
            if side == 0:
                ni = cnt
            else:
                na = cnt
        # pop the node, push its children (inactive first: the active one is searched first)
        top = sp
        if ni > 0:
            st_k[top] = k + 1
            st_code[top] = 2 * unit
            st_add[top] = hi_u > 0.0
            st_np[top] = min(ni, max_points)
            for q in range(min(ni, max_points)):
                for j in range(n):
                    st_pts[top, q, j] = pts_i[q, j]
            top += 1
        if na > 0:
            st_k[top] = k + 1
            st_code[top] = 2 * unit + 1
            st_add[top] = lo_u < eps
            st_np[top] = min(na, max_points)
            for q in range(min(na, max_points)):
                for j in range(n):
                    st_pts[top, q, j] = pts_a[q, j]
            top += 1
        ist[I_SP] = top
    return DONE
