r"""Polytope input domains ``{x : lower <= x <= upper, A x <= b}``: checks, LPs, samples.

A network's domain is always a finite box, optionally cut by ``m`` linear inequalities
``A x <= b`` (``A`` of shape ``(m, n0)``). Because the box is finite the domain is
bounded: it can be empty, never unbounded. This module holds what every method needs of
the polytope, all through the solver layer (:mod:`reluscope.solvers.highs`):

- :func:`check_polytope`: finite values, right shapes, no zero rows (one-line
  :class:`~reluscope.errors.DomainError` otherwise);
- :func:`bounding_box`: the smallest box around box ∩ polytope (``2 n0`` LPs, one
  warm-started HiGHS object), padded outward by ``DOMAIN_BOX_PADDING`` and clipped to
  the given box; :class:`DomainError` when the domain is empty. Each bound is the
  Lagrangian bound of HiGHS's row duals, valid for any multipliers (as in
  :mod:`reluscope.bounds.lp`), so it does not rely on the solver's tolerances;
- :func:`chebyshev_center`: a point of the domain as far as possible from its faces, and
  that distance (0 for a flat polytope);
- :func:`contains`: membership up to a tolerance;
- :func:`sample`: points drawn uniformly from the domain: rejection from the box, and
  hit-and-run from the Chebyshev center when too few box points land inside.

The network stores the tightened box (:class:`reluscope.network.ReLUNetwork`), so
interval arithmetic on its box stays a valid and tight over-approximation, and every
LP/MILP adds the rows ``A x <= b`` on its input variables.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from reluscope.errors import DomainError, EmptyDomainError, SolverError
from reluscope.tolerances import DOMAIN_BOX_PADDING, DOMAIN_FLAT_RADIUS, DOMAIN_TOL

FloatArray = NDArray[np.float64]

#: :func:`sample` rejects from the box while at least 1 draw in this many lands inside
#: (and draws at most this many times ``n`` box points), else it walks (hit-and-run)
REJECTION_TRIES = 20
#: hit-and-run: chains walked side by side, steps discarded before the first sample,
#: and steps between two samples of a chain
HIT_AND_RUN_CHAINS = 200
HIT_AND_RUN_BURN_IN = 50
HIT_AND_RUN_THIN = 1
#: box points drawn to measure the polytope's share of the box before rejection
PILOT_DRAWS = 2000

#: a cache of :func:`bounding_box` (it is idempotent; networks are rebuilt often)
_BOX_CACHE: dict[bytes, tuple[FloatArray, FloatArray]] = {}
_BOX_CACHE_SIZE = 64


def check_polytope(a: ArrayLike, b: ArrayLike, n_inputs: int) -> tuple[FloatArray, FloatArray]:
    """``(A, b)`` as float64 arrays of shapes ``(m, n0)`` and ``(m,)``, checked."""
    try:
        a_arr = np.array(a, dtype=np.float64)
        b_arr = np.array(b, dtype=np.float64)
    except (TypeError, ValueError):
        raise DomainError("the polytope's A and b must be arrays of numbers") from None
    if a_arr.ndim == 1 and a_arr.size == n_inputs:  # one inequality a.x <= b
        a_arr = a_arr[None, :]
    b_arr = b_arr.reshape(-1) if b_arr.ndim == 0 else b_arr
    if a_arr.size == 0 and b_arr.size == 0:
        return np.zeros((0, n_inputs)), np.zeros(0)
    if a_arr.ndim != 2 or a_arr.shape[1] != n_inputs:
        raise DomainError(
            f"the polytope's A must have shape (m, {n_inputs}) (one row per inequality, one "
            f"column per input); got shape {a_arr.shape}"
        )
    if b_arr.ndim != 1 or b_arr.shape[0] != a_arr.shape[0]:
        raise DomainError(
            f"the polytope's b must have one entry per row of A ({a_arr.shape[0]}); got "
            f"shape {b_arr.shape}"
        )
    if not (np.all(np.isfinite(a_arr)) and np.all(np.isfinite(b_arr))):
        raise DomainError("the polytope's A or b contains NaN or infinite values")
    zero = np.flatnonzero(~np.any(a_arr != 0.0, axis=1))
    if zero.size:
        raise DomainError(
            f"row {int(zero[0])} of the polytope's A is all zeros (0 <= {b_arr[zero[0]]:g} "
            "says nothing about x); remove it"
        )
    return a_arr, b_arr


class _DomainLP:
    """``min c.x`` over box ∩ polytope on one warm-started HiGHS object."""

    def __init__(self, lower: FloatArray, upper: FloatArray, a: FloatArray, b: FloatArray):
        import highspy

        from reluscope.solvers.highs import new_highs

        self.lower, self.upper, self.a, self.b = lower, upper, a, b
        n, m = a.shape[1], a.shape[0]
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = n, m
        lp.col_cost_ = np.zeros(n)
        lp.col_lower_, lp.col_upper_ = lower.astype(float), upper.astype(float)
        lp.row_lower_ = np.full(m, -highspy.kHighsInf)
        lp.row_upper_ = b.astype(float)
        rows, cols = np.nonzero(a)  # row-major order: the nonzeros of each row in turn
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n, m
        lp.a_matrix_.start_ = np.searchsorted(rows, np.arange(m + 1)).astype(np.int32)
        lp.a_matrix_.index_ = cols.astype(np.int32)
        lp.a_matrix_.value_ = np.ascontiguousarray(a[rows, cols], dtype=float)
        self.highs = new_highs()
        self.highs.passModel(lp)
        self.n = n

    def minimize(self, cost: FloatArray) -> tuple[float | None, FloatArray | None]:
        """A valid lower bound on ``min cost.x`` (None: the domain is empty) and the
        optimal ``x``."""
        from reluscope.solvers.highs import LPOutcome, retry_from_scratch, run

        self.highs.changeColsCost(self.n, np.arange(self.n, dtype=np.int32), cost)
        outcome = run(self.highs)
        if outcome is LPOutcome.NUMERICAL:
            retry_from_scratch(self.highs)
            outcome = run(self.highs)
        if outcome is LPOutcome.INFEASIBLE:
            return None, None
        if outcome is not LPOutcome.OPTIMAL:
            raise SolverError("HiGHS found no reliable answer on the domain's LP; "
                              "check the polytope's scaling")
        solution = self.highs.getSolution()
        # cost.x >= (cost + A^T lam).x - lam.b for every lam >= 0 and x in the domain
        lam = np.maximum(0.0, -np.asarray(solution.row_dual, dtype=float))
        reduced = cost + self.a.T @ lam
        bound = float(np.minimum(reduced * self.lower, reduced * self.upper).sum() - lam @ self.b)
        return bound, np.asarray(solution.col_value, dtype=float)


def _empty_error() -> EmptyDomainError:
    return EmptyDomainError(
        "the input domain is empty: no point of the box satisfies A x <= b; check the "
        "polytope's inequalities (their direction and right-hand sides) and the box"
    )


def bounding_box(
    lower: FloatArray, upper: FloatArray, a: FloatArray, b: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """The smallest box containing ``{lower <= x <= upper, A x <= b}``, padded outward
    by :data:`DOMAIN_BOX_PADDING` and clipped to ``[lower, upper]``.

    Raises :class:`DomainError` when the domain is empty.
    """
    key = _key(lower, upper, a, b)
    if key in _BOX_CACHE:
        return _BOX_CACHE[key]
    n = a.shape[1]
    lp = _DomainLP(lower, upper, a, b)
    lo, hi = np.array(lower, dtype=float), np.array(upper, dtype=float)
    for j in range(n):
        e = np.zeros(n)
        e[j] = 1.0
        low, _ = lp.minimize(e)
        if low is None:
            raise _empty_error()
        high, _ = lp.minimize(-e)
        if high is None:
            raise _empty_error()
        lo[j] = max(lower[j], low - DOMAIN_BOX_PADDING * max(1.0, abs(low)))
        hi[j] = min(upper[j], -high + DOMAIN_BOX_PADDING * max(1.0, abs(high)))
        if lo[j] > hi[j]:  # rounding of an (almost) empty domain
            raise _empty_error()
    lo.setflags(write=False)
    hi.setflags(write=False)
    if len(_BOX_CACHE) >= _BOX_CACHE_SIZE:
        _BOX_CACHE.clear()
    _BOX_CACHE[key] = (lo, hi)
    # the tightened box gives itself again: cache that too
    _BOX_CACHE[_key(lo, hi, a, b)] = (lo, hi)
    return lo, hi


def _key(*arrays: FloatArray) -> bytes:
    parts = [np.ascontiguousarray(v, dtype=np.float64).tobytes() for v in arrays]
    return b"".join(parts) + str(arrays[2].shape).encode()


def chebyshev_center(
    lower: FloatArray, upper: FloatArray, a: FloatArray, b: FloatArray
) -> tuple[FloatArray, float]:
    r"""The center ``x`` and radius ``r`` of a largest ball in box ∩ polytope.

    One LP: ``max r`` s.t. ``a_i.x + |a_i| r <= b_i``, ``lower + r <= x <= upper - r``,
    ``r >= 0``. ``r = 0`` for a flat domain (no interior). Raises :class:`DomainError`
    when the domain is empty.
    """
    n = a.shape[1]
    norms = np.linalg.norm(a, axis=1)
    eye = np.eye(n)
    rows = np.vstack([np.hstack([a, norms[:, None]]),
                      np.hstack([-eye, np.ones((n, 1))]),
                      np.hstack([eye, np.ones((n, 1))])])
    rhs = np.concatenate([b, -lower, upper])
    half = float(np.max(upper - lower)) / 2.0
    col_lo = np.concatenate([lower, [0.0]])
    col_hi = np.concatenate([upper, [half]])
    lp = _DomainLP(col_lo, col_hi, rows, rhs)
    cost = np.zeros(n + 1)
    cost[-1] = -1.0
    value, x = lp.minimize(cost)
    if value is None or x is None:
        raise _empty_error()
    center = np.clip(x[:n], lower, upper)
    radius = max(0.0, float(x[n]))
    # the returned optimum is feasible within HiGHS's tolerance; check it exactly
    if not contains(center, lower, upper, a, b):
        raise SolverError("HiGHS's Chebyshev center of the domain is outside it; "
                          "check the polytope's scaling")
    return center, radius


def contains(
    x: ArrayLike,
    lower: FloatArray,
    upper: FloatArray,
    a: FloatArray,
    b: FloatArray,
    tol: float = DOMAIN_TOL,
) -> Any:
    """Whether each point (``(n0,)`` or ``(k, n0)``) lies in the domain, rows up to
    ``tol * (1 + |b_i|)``, the box exactly."""
    pts = np.atleast_2d(np.asarray(x, dtype=float))
    inside = np.all((pts >= lower) & (pts <= upper), axis=1)
    if a.shape[0]:
        inside &= np.all(pts @ a.T <= b + tol * (1.0 + np.abs(b)), axis=1)
    return bool(inside[0]) if np.ndim(x) == 1 else inside


def sample(
    lower: FloatArray,
    upper: FloatArray,
    a: FloatArray,
    b: FloatArray,
    n: int,
    rng: np.random.Generator,
) -> FloatArray:
    """``n`` points drawn uniformly from box ∩ polytope.

    Rejection from the box first; when under 1 in ``REJECTION_TRIES`` of
    ``PILOT_DRAWS`` box points lands inside (a polytope cutting most of the box), or
    ``REJECTION_TRIES * n`` draws give too few, the rest come from a
    coordinate hit-and-run walk started at the Chebyshev center (uniform in the limit of
    many steps; see :func:`_hit_and_run` for the steps taken).

    Raises :class:`DomainError` for a flat domain (Chebyshev radius below
    ``DOMAIN_FLAT_RADIUS``), which has no uniform distribution to sample.
    """
    dim = lower.shape[0]
    if n <= 0:
        return np.zeros((0, dim))
    width = upper - lower
    pilot = lower + rng.random((min(n, PILOT_DRAWS), dim)) * width
    found = [pilot[np.all(pilot @ a.T <= b, axis=1)]]
    have = found[0].shape[0]
    if have * REJECTION_TRIES >= pilot.shape[0]:  # at least 1 in REJECTION_TRIES inside
        for _ in range(REJECTION_TRIES):
            if have >= n:
                return np.vstack(found)[:n]
            xs = lower + rng.random((n, dim)) * width
            xs = xs[np.all(xs @ a.T <= b, axis=1)]
            found.append(xs)
            have += xs.shape[0]
        if have >= n:
            return np.vstack(found)[:n]
    center, radius = chebyshev_center(lower, upper, a, b)
    if radius < DOMAIN_FLAT_RADIUS:
        raise DomainError(
            f"the polytope domain is flat (no ball of radius {DOMAIN_FLAT_RADIUS:g} fits "
            "inside), so it cannot be sampled uniformly; widen the polytope"
        )
    found.append(_hit_and_run(center, lower, upper, a, b, n - have, rng))
    return np.vstack(found)[:n]


def _hit_and_run(
    start: FloatArray,
    lower: FloatArray,
    upper: FloatArray,
    a: FloatArray,
    b: FloatArray,
    n: int,
    rng: np.random.Generator,
) -> FloatArray:
    """``n`` hit-and-run samples of box ∩ polytope from the interior point ``start``.

    Up to ``HIT_AND_RUN_CHAINS`` chains walk side by side (one matrix product per step
    for all of them); each step moves every chain along a random direction to a uniform
    point of its chord through the domain. ``HIT_AND_RUN_BURN_IN`` steps are discarded,
    then each chain gives a sample every ``HIT_AND_RUN_THIN`` steps.
    """
    dim = start.size
    chains = min(n, HIT_AND_RUN_CHAINS)
    per_chain = -(-n // chains)
    x = np.tile(start, (chains, 1))
    out = []
    burn, thin = HIT_AND_RUN_BURN_IN, HIT_AND_RUN_THIN
    for step in range(burn + per_chain * thin):
        d = rng.standard_normal((chains, dim))
        rd = d @ a.T  # (chains, m)
        slack = np.maximum(b - x @ a.T, 0.0)  # recomputed: no drift from the rows
        with np.errstate(divide="ignore", invalid="ignore"):
            to_upper, to_lower = (upper - x) / d, (lower - x) / d  # box faces along d
            up = np.where(d != 0, np.maximum(to_upper, to_lower), np.inf).min(axis=1)
            down = np.where(d != 0, np.minimum(to_upper, to_lower), -np.inf).max(axis=1)
            ratio = slack / rd
        t_hi = np.minimum(up, np.where(rd > 0, ratio, np.inf).min(axis=1, initial=np.inf))
        t_lo = np.maximum(down, np.where(rd < 0, ratio, -np.inf).max(axis=1, initial=-np.inf))
        t_hi, t_lo = np.maximum(t_hi, 0.0), np.minimum(t_lo, 0.0)  # rounding: stay put
        x = np.clip(x + (t_lo + rng.random(chains) * (t_hi - t_lo))[:, None] * d, lower, upper)
        if step >= burn and (step - burn) % thin == thin - 1:
            out.append(x)
    return np.clip(np.vstack(out)[:n], lower, upper)


__all__ = [
    "bounding_box",
    "chebyshev_center",
    "check_polytope",
    "contains",
    "sample",
]
