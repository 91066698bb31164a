r"""The Empirical Upper Bound of Serra & Ramalingam (AAAI 2020): Theorem 2, Propositions 3-4.

Theorem 2 bounds the number of linear regions by a recurrence over the ReLU layers
``l = 1..L``. Given a region of the earlier layers of dimension at most ``d`` in which at
most ``k`` units of layer ``l - 1`` are active,

.. math::

    R(l, k, d) = \sum_{j=0}^{\min(\mathcal I_l(k), d)} \binom{\mathcal I_l(k)}{j}\,
                 R\bigl(l + 1,\ \mathcal A_l(k) - j,\ \min(\mathcal A_l(k) - j, d)\bigr),
    \qquad
    R(L, k, d) = \sum_{j=0}^{\min(\mathcal I_L(k), d)} \binom{\mathcal I_L(k)}{j},

and the bound is ``R(1, n0, n0)``. ``I_l(k)`` bounds the units of layer ``l`` that can be
unstable inside such a region and ``A_l(k)`` the units that can be active in it.

They come from the stability classification of a :class:`~reluscope.bounds.Bounds`
(stably active / inactive, active leaning ``U+`` = unstable with ``b > 0``, inactive
leaning ``U-`` = unstable with ``b <= 0``) and the signs of ``W^l``:

- ``I(l-1, j)``: units of ``U_l^+`` with ``W_ij < 0`` and units of ``U_l^-`` with
  ``W_ij > 0``: the units of layer ``l`` that unit ``j`` of layer ``l - 1`` can make
  unstable. If no such ``j`` is active, an inactive-leaning unit has ``g <= b <= 0``
  and an active-leaning one ``g >= b > 0``: both are stable in the region (``h >= 0``).
- Proposition 3: ``I_l(k) <= max_{|S| <= k} |U_{j in S} I(l-1, j)|``.
- Proposition 4: ``A_l(k) <= n_l^+ + |U_l^+| + max_{|S| <= k} |U_{j in S} I^-(l-1, j)|``
  with ``I^-(l-1, j)`` the ``U_l^-`` part of ``I(l-1, j)``.

Two valid refinements of the propositions are used: ``S`` ranges only over the units of
layer ``l - 1`` that are not stably inactive (they are never active) and always contains
the stably active ones (they are always active); and ``I_l(k) <= A_l(k) - n_l^+``.
Layer 1 has no sign argument (the inputs may be negative on a general box), so
``I_1 = |U_1|`` and ``A_1 = n_1^+ + |U_1|``.

The maxima are maximum-coverage problems (NP-hard in general). Each is solved by the
greedy algorithm, which also yields a valid *upper* bound on the maximum for every
budget ``t``: the data-dependent bound ``f(S_i) + (sum of the t largest marginal gains
at S_i)`` of Nemhauser, Wolsey & Fisher (1978), minimised over the greedy prefixes
``S_i``, and the classical ``(G(t) - f(F)) / (1 - (1 - 1/t)^t)`` (at most the greedy value
divided by ``1 - 1/e``), rounded down, capped by the size of the union. Where these upper
bounds do not meet the greedy value and enumerating the subsets of size ``t`` costs at
most ``exact_coverage_limit`` unions, the maximum is computed exactly by enumeration.
The bound is valid either way; :class:`CoverageResult` reports which values are exact.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from itertools import combinations

import numpy as np

from reluscope.bounds.result import Bounds
from reluscope.errors import ReluscopeError
from reluscope.network import ReLUNetwork

#: Default cap on the number of subset unions enumerated per maximum-coverage problem.
DEFAULT_EXACT_COVERAGE_LIMIT = 200_000

#: Ways a layer's coverage maxima were obtained (reported per ReLU layer).
COVERAGE_NONE = "none"  # layer 1: no maximum-coverage problem
COVERAGE_EXACT = "exact"  # every needed maximum proven (enumeration or greedy met its bound)
COVERAGE_GREEDY = "greedy"  # some maxima replaced by valid upper bounds derived from greedy


@dataclass(frozen=True)
class CoverageResult:
    """Upper bounds on a maximum-coverage function ``t -> max_{|S| <= t} |union S|``.

    Attributes
    ----------
    upper
        ``upper[t]`` >= the true maximum with ``t`` free sets (plus the forced ones),
        nondecreasing in ``t``, for ``t = 0..n_free``.
    greedy
        Greedy coverage with ``t`` free sets (a lower bound on the maximum).
    exact
        ``exact[t]``: ``upper[t]`` is the true maximum.
    enumerated
        Number of subset unions evaluated by exact enumeration.
    """

    upper: tuple[int, ...]
    greedy: tuple[int, ...]
    exact: tuple[bool, ...]
    enumerated: int

    @property
    def all_exact(self) -> bool:
        return all(self.exact)

    def at(self, t: int) -> int:
        """Upper bound with budget ``t`` (clipped to the table: constant beyond its end)."""
        return self.upper[min(max(t, 0), len(self.upper) - 1)]


def _popcount(x: int) -> int:
    return x.bit_count()


def max_coverage(
    sets: Sequence[int],
    *,
    forced: int = 0,
    exact_coverage_limit: int = DEFAULT_EXACT_COVERAGE_LIMIT,
) -> CoverageResult:
    """Valid upper bounds on ``max |forced | union of t sets|`` for every budget ``t``.

    Parameters
    ----------
    sets
        The candidate sets, as bit masks (Python ints; bit ``i`` = element ``i``).
    forced
        Elements always covered (the union of the sets that every solution contains).
    exact_coverage_limit
        Largest number of subset unions enumerated in total to prove maxima that the
        greedy bounds leave open; 0 uses the greedy upper bounds only.

    Returns
    -------
    CoverageResult
        Tables indexed by ``t = 0..len(sets)``.
    """
    n = len(sets)
    base = _popcount(forced)
    # candidate sets reduced to what they add beyond the forced elements
    residual = [s & ~forced for s in sets]
    union = forced
    for s in residual:
        union |= s
    total = _popcount(union)

    greedy, online = _greedy_cover(residual, forced, total)
    upper = []
    for t in range(n + 1):
        value = min(total, int(online[t]))
        if t > 0 and greedy[t] > base:
            ratio = 1.0 - (1.0 - 1.0 / t) ** t
            # float slack is absorbed by flooring after adding a tiny margin upward
            value = min(value, base + math.floor((greedy[t] - base) / ratio + 1e-9))
        upper.append(max(value, greedy[t]))
    # the true maximum is nondecreasing in t: a suffix minimum stays valid
    for t in range(n - 1, -1, -1):
        upper[t] = min(upper[t], upper[t + 1])
    exact = [upper[t] == greedy[t] for t in range(n + 1)]

    # --- exact enumeration where the bounds leave a gap and it is cheap enough
    enumerated = 0
    if not all(exact) and exact_coverage_limit > 0:
        candidates = _reduce_sets([s for s in residual if s])
        m = len(candidates)
        for t in range(1, n + 1):
            if exact[t]:
                continue
            if t >= m:  # every candidate fits: the union is reachable
                value = total
            else:
                cost = math.comb(m, t)
                if enumerated + cost > exact_coverage_limit:
                    break
                enumerated += cost
                value = base
                for combo in combinations(candidates, t):
                    acc = 0
                    for s in combo:
                        acc |= s
                    c = _popcount(acc)
                    if c > value - base:
                        value = base + c
                        if value >= upper[t]:
                            break
            upper[t] = min(upper[t], value)
            exact[t] = True
        # exact values may lower the table; keep it nondecreasing (still valid)
        for t in range(n - 1, -1, -1):
            if upper[t] > upper[t + 1]:
                upper[t] = upper[t + 1]
    return CoverageResult(
        upper=tuple(int(v) for v in upper),
        greedy=tuple(int(v) for v in greedy),
        exact=tuple(bool(e) for e in exact),
        enumerated=enumerated,
    )


def _greedy_cover(residual: list[int], forced: int, total: int) -> tuple[list[int], np.ndarray]:
    """The greedy cover of ``t = 0..n`` sets (the coverage after each pick) and the
    online upper bounds on the best cover of ``t`` sets: at every prefix, what is
    covered plus the ``t`` largest marginal gains still open."""
    n = len(residual)
    covered = forced
    greedy = [_popcount(forced)]
    online = np.full(n + 1, total, dtype=np.int64)  # data-dependent upper bounds
    remaining = list(range(n))
    while remaining and _popcount(covered) < total:
        gains = np.array([_popcount(residual[i] & ~covered) for i in remaining], dtype=np.int64)
        order = np.sort(gains)[::-1]
        prefix = np.concatenate(([0], np.cumsum(order)))  # top-t marginal sums, t = 0..
        cur = _popcount(covered)
        bound_here = np.full(n + 1, total, dtype=np.int64)
        m = min(len(prefix), n + 1)
        bound_here[:m] = cur + prefix[:m]
        bound_here[m:] = cur + prefix[-1]
        online = np.minimum(online, bound_here)
        best = int(np.argmax(gains))
        covered |= residual[remaining.pop(best)]
        greedy.append(_popcount(covered))
    while len(greedy) < n + 1:
        greedy.append(greedy[-1])
    return greedy, online


def _reduce_sets(sets: list[int]) -> list[int]:
    """Distinct sets not contained in another: an optimal cover never needs the others."""
    unique = sorted(set(sets), key=_popcount, reverse=True)
    kept: list[int] = []
    for s in unique:
        if not any(s & ~k == 0 for k in kept):
            kept.append(s)
    return kept


def _mask(members: np.ndarray) -> int:
    """Bit mask (Python int) of a boolean membership vector: bit i set iff members[i]."""
    packed = np.packbits(np.asarray(members, dtype=bool), bitorder="little")
    return int.from_bytes(packed.tobytes(), "little")


@dataclass(frozen=True)
class LayerLimits:
    """``I_l(k)`` and ``A_l(k)`` of one ReLU layer, tabulated over ``k``.

    ``max_unstable[k]`` and ``max_active[k]`` hold for ``k`` active units in the previous
    layer; the tables are constant beyond their last entry. ``coverage`` says how the
    maxima were obtained: ``"none"`` (first layer), ``"exact"`` or ``"greedy"``.
    """

    width: int
    stably_active: int
    stably_inactive: int
    active_leaning: int
    inactive_leaning: int
    max_unstable: tuple[int, ...]
    max_active: tuple[int, ...]
    coverage: str
    enumerated: int = 0

    def unstable_at(self, k: int) -> int:
        return self.max_unstable[min(k, len(self.max_unstable) - 1)]

    def active_at(self, k: int) -> int:
        return self.max_active[min(k, len(self.max_active) - 1)]


def _trim(table: list[int]) -> tuple[int, ...]:
    """Drop the constant tail of a nondecreasing table (kept implicit by clipping)."""
    end = len(table)
    while end > 1 and table[end - 1] == table[end - 2]:
        end -= 1
    return tuple(table[:end])


def layer_limits(
    network: ReLUNetwork,
    bounds: Bounds,
    *,
    exact_coverage_limit: int = DEFAULT_EXACT_COVERAGE_LIMIT,
) -> tuple[LayerLimits, ...]:
    """``I_l(k)`` and ``A_l(k)`` (Propositions 3-4) for every ReLU layer of ``network``.

    Parameters
    ----------
    bounds
        Pre-activation bounds of ``network`` (any method); tighter bounds give more
        stable units and smaller limits.
    exact_coverage_limit
        Per maximum-coverage problem, see :func:`max_coverage`.
    """
    _check_bounds_fit(network, bounds)
    out: list[LayerLimits] = []
    layers = network.relu_layers
    for pos, layer in enumerate(layers):
        act = bounds.stably_active(layer)
        inact = bounds.stably_inactive(layer)
        up = bounds.active_leaning(layer)
        down = bounds.inactive_leaning(layer)
        n_plus, n_up, n_down = int(act.sum()), int(up.sum()), int(down.sum())
        width = network.widths[layer]
        common = dict(
            width=width,
            stably_active=n_plus,
            stably_inactive=int(inact.sum()),
            active_leaning=n_up,
            inactive_leaning=n_down,
        )
        if pos == 0:
            out.append(
                LayerLimits(
                    max_unstable=(n_up + n_down,),
                    max_active=(n_plus + n_up + n_down,),
                    coverage=COVERAGE_NONE,
                    **common,
                )
            )
            continue
        prev = layers[pos - 1]
        w = network.weights[layer]
        prev_active = bounds.stably_active(prev)
        free = ~prev_active & ~bounds.stably_inactive(prev)
        # I(l-1, j) and I^-(l-1, j) as bit masks over the units of this layer
        cover_all = [
            _mask((up & (w[:, j] < 0)) | (down & (w[:, j] > 0))) for j in range(w.shape[1])
        ]
        cover_down = [_mask(down & (w[:, j] > 0)) for j in range(w.shape[1])]
        forced_all = forced_down = 0
        for j in np.flatnonzero(prev_active):
            forced_all |= cover_all[j]
            forced_down |= cover_down[j]
        free_idx = np.flatnonzero(free)
        res_all = max_coverage(
            [cover_all[j] for j in free_idx],
            forced=forced_all,
            exact_coverage_limit=exact_coverage_limit,
        )
        res_down = max_coverage(
            [cover_down[j] for j in free_idx],
            forced=forced_down,
            exact_coverage_limit=exact_coverage_limit,
        )
        n_forced = int(prev_active.sum())
        n_prev = int(free.sum()) + n_forced
        unstable_table, active_table = [], []
        for k in range(n_prev + 1):
            t = max(k - n_forced, 0)
            a = n_plus + n_up + res_down.at(t)
            unstable_table.append(min(res_all.at(t), a - n_plus))
            active_table.append(a)
        exact = res_all.all_exact and res_down.all_exact
        out.append(
            LayerLimits(
                max_unstable=_trim(unstable_table),
                max_active=_trim(active_table),
                coverage=COVERAGE_EXACT if exact else COVERAGE_GREEDY,
                enumerated=res_all.enumerated + res_down.enumerated,
                **common,
            )
        )
    return tuple(out)


def _check_bounds_fit(network: ReLUNetwork, bounds: Bounds) -> None:
    """Refuse bounds of another network (other layers or widths)."""
    if bounds.n_layers != network.n_layers:
        raise ReluscopeError(
            f"the bounds cover {bounds.n_layers} layers but the network has "
            f"{network.n_layers}; compute them with reluscope.tighten_bounds(network)"
        )
    for layer, width in enumerate(network.widths):
        if np.shape(bounds.lower[layer]) != (width,) or np.shape(bounds.upper[layer]) != (width,):
            raise ReluscopeError(
                f"the bounds of layer {layer} do not match its width {width}: they belong to "
                "another network; compute them with reluscope.tighten_bounds(network)"
            )


def theorem2_bound(
    n0: int,
    max_unstable: Sequence[Sequence[int]],
    max_active: Sequence[Sequence[int]],
    *,
    ranks: Sequence[int] | None = None,
) -> int:
    r"""Evaluate Theorem 2's recurrence ``R(1, n0, n0)`` by memoised dynamic programming.

    Parameters
    ----------
    n0
        Input dimension.
    max_unstable, max_active
        Per ReLU layer, the tables ``I_l(k)`` and ``A_l(k)`` indexed by ``k`` (active
        units in the previous layer; ``k = n0`` for the first layer); a table is constant
        beyond its last entry. Requires ``I_l(k) <= A_l(k)``.
    ranks
        Optional ``rank(W^l)`` per layer: the arrangement of layer ``l`` and the image of
        a region through it have dimension at most that rank (the rank refinement of the
        Configuration UB, applied identically so that Empirical <= Configuration).

    Returns
    -------
    int
        The bound, exactly. The work is ``O(sum_l states_l * width_l)`` with at most
        ``(n_{l-1}+1) * (n0+1)`` states per layer (far fewer after saturation of the
        tables), never an enumeration of ``J``.
    """
    n_layers = len(max_unstable)
    if len(max_active) != n_layers:
        raise ReluscopeError("give one I-table and one A-table per ReLU layer")
    if n_layers == 0:  # no ReLU layer: the network is affine, one region
        return 1
    i_tabs = [tuple(int(v) for v in t) for t in max_unstable]
    a_tabs = [tuple(int(v) for v in t) for t in max_active]
    for layer, (it, at) in enumerate(zip(i_tabs, a_tabs, strict=True)):
        if not it or not at:
            raise ReluscopeError(f"layer {layer}: empty I or A table")
        for k in range(max(len(it), len(at))):
            iv, av = it[min(k, len(it) - 1)], at[min(k, len(at) - 1)]
            if iv < 0 or iv > av:
                raise ReluscopeError(
                    f"layer {layer}, k={k}: need 0 <= I_l(k) <= A_l(k), got I={iv}, A={av}"
                )
    if ranks is not None and len(ranks) != n_layers:
        raise ReluscopeError(f"give one rank per ReLU layer ({n_layers}), got {len(ranks)}")
    # without ranks, the largest A of a layer caps nothing (j <= I <= A, k' <= A)
    rank_caps = [int(r) for r in ranks] if ranks is not None else [max(a) for a in a_tabs]
    # the dimension never matters beyond the largest I of the remaining layers
    dim_caps = [0] * n_layers
    running = 0
    for layer in range(n_layers - 1, -1, -1):
        running = max(running, min(max(i_tabs[layer]), rank_caps[layer]))
        dim_caps[layer] = running
    k_caps = [max(len(i_tabs[x]), len(a_tabs[x])) - 1 for x in range(n_layers)]

    @cache
    def binomials(i: int) -> tuple[int, ...]:
        row = [1]
        for j in range(1, i + 1):
            row.append(row[-1] * (i - j + 1) // j)
        return tuple(row)

    @cache
    def partial_sums(i: int) -> tuple[int, ...]:
        out, acc = [], 0
        for v in binomials(i):
            acc += v
            out.append(acc)
        return tuple(out)

    @cache
    def recurrence(layer: int, k: int, d: int) -> int:
        it, at = i_tabs[layer], a_tabs[layer]
        i, a = it[min(k, len(it) - 1)], at[min(k, len(at) - 1)]
        r = rank_caps[layer]
        top = min(i, d, r)
        if layer == n_layers - 1:
            return partial_sums(i)[top]
        nxt = layer + 1
        row = binomials(i)
        cap_d, cap_k = min(d, r, dim_caps[nxt]), k_caps[nxt]
        total = 0
        for j in range(top + 1):
            k_next = a - j
            total += row[j] * recurrence(nxt, min(k_next, cap_k), min(k_next, cap_d))
        return total

    d0 = min(n0, dim_caps[0])
    value = recurrence(0, min(n0, k_caps[0]), d0)
    recurrence.cache_clear()
    binomials.cache_clear()
    partial_sums.cache_clear()
    return value


@dataclass(frozen=True)
class EmpiricalBound:
    """Theorem 2's bound with the per-layer limits it was computed from."""

    value: int
    layers: tuple[LayerLimits, ...]
    bounds_method: str
    seconds: float

    @property
    def coverage(self) -> tuple[str, ...]:
        return tuple(layer.coverage for layer in self.layers)


def empirical_ub(
    network: ReLUNetwork,
    bounds: Bounds,
    *,
    rank: bool = False,
    exact_coverage_limit: int = DEFAULT_EXACT_COVERAGE_LIMIT,
) -> EmpiricalBound:
    """The Empirical UB (Theorem 2) of ``network`` given pre-activation ``bounds``.

    Parameters
    ----------
    rank
        Also cap dimensions by ``rank(W^l)`` (as the Configuration UB with ``rank=True``).
    exact_coverage_limit
        Enumeration budget per maximum-coverage problem (see :func:`max_coverage`).
    """
    import time

    start = time.perf_counter()
    from reluscope.relu_form import relu_form, require_no_max_pool

    require_no_max_pool(network, "the Empirical UB")
    if not network.is_plain_relu:  # the plain-ReLU form has the same regions
        form = relu_form(network)
        network, bounds = form.network, form.plain_bounds(bounds)
    limits = layer_limits(network, bounds, exact_coverage_limit=exact_coverage_limit)
    ranks = None
    if rank:
        ranks = [int(np.linalg.matrix_rank(network.weights[i])) for i in network.relu_layers]
    value = theorem2_bound(
        network.n_inputs,
        [lim.max_unstable for lim in limits],
        [lim.max_active for lim in limits],
        ranks=ranks,
    )
    return EmpiricalBound(
        value=value,
        layers=limits,
        bounds_method=bounds.method,
        seconds=time.perf_counter() - start,
    )
