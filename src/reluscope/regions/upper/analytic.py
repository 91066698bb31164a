r"""Analytical upper bounds on the number of linear regions, and APP-k.

Architecture-only bounds, for ReLU layer widths ``n_1..n_L`` on input dimension ``n_0``
(exact Python integers; they exceed 2^63):

- trivial: ``2^n`` with ``n = sum_l n_l``;
- Zaslavsky (1975): ``n`` hyperplanes in ``R^d`` make at most ``sum_{j<=d} C(n, j)``
  regions (:func:`zaslavsky`); per layer, each layer as an arrangement in its own input
  space ``R^{n_{l-1}}``: ``prod_l zaslavsky(n_l, n_{l-1})`` (:func:`zaslavsky_ub`);
- Montufar (2017): ``prod_l sum_{j<=d_l} C(n_l, j)``, ``d_l = min(n_0, ..., n_l)``;
- Configuration UB (Serra, Tjandraatmadja & Ramalingam, ICML 2018):
  ``sum_{J} prod_l C(n_l, j_l)`` over
  ``J = {0 <= j_l <= min(n_0, n_1 - j_1, ..., n_{l-1} - j_{l-1}, n_l)}``, evaluated by
  dynamic programming over the dimension; tight for one layer. With ``rank=True`` the
  dimensions are also capped by ``rank(W^1), ..., rank(W^l)`` (an arrangement and the
  image of a region through layer ``l`` live in at most ``rank(W^l)`` dimensions); this
  includes the paper's "replace ``n_l`` in the last term by ``rank(W^l)``".

Network bounds: the Empirical UB (Theorem 2 of Serra & Ramalingam, AAAI 2020), see
:mod:`reluscope.regions.upper.empirical`. Orders that always hold:
``Empirical <= Configuration <= Montufar <= Zaslavsky <= trivial`` (with ``rank=True``
the Empirical UB uses the same rank caps, so ``Empirical <= Configuration`` still holds).

MAPS is ``eta = log2(N)``. APP-k averages the XOR-k lower bound and the Empirical UB on
the log2 scale (:func:`app_k`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np

from reluscope import interrupts, validation
from reluscope.errors import NetworkError, ReluscopeError
from reluscope.network import ReLUNetwork
from reluscope.regions.upper.empirical import (
    DEFAULT_EXACT_COVERAGE_LIMIT,
    LayerLimits,
    empirical_ub,
)
from reluscope.reprs import short_repr
from reluscope.serialise import fields_dict


# --------------------------------------------------------------------- architecture
def _check_architecture(n0: int, widths: Sequence[int]) -> tuple[int, tuple[int, ...]]:
    try:
        n0_i = int(n0)
        ws = tuple(int(w) for w in widths)
    except (TypeError, ValueError):
        raise NetworkError(
            f"an architecture is integers (n0, n1, ..., nL); got n0={n0!r}, widths={widths!r}"
        ) from None
    # no ReLU layer at all (a purely affine network) is allowed: one region
    if n0_i < 1 or any(w < 1 for w in ws):
        raise NetworkError(
            "an architecture needs n0 >= 1 and ReLU layer widths >= 1; "
            f"got n0={n0_i}, widths={ws}"
        )
    return n0_i, ws


def zaslavsky(n_hyperplanes: int, dimension: int) -> int:
    """Most regions ``sum_{j=0}^{d} C(n, j)`` of ``n`` hyperplanes in ``R^d`` (Zaslavsky)."""
    return sum(math.comb(n_hyperplanes, j) for j in range(min(n_hyperplanes, dimension) + 1))


def trivial_ub(n0: int, widths: Sequence[int]) -> int:
    """``2^n``: every activation pattern of the ``n`` ReLU units."""
    _, ws = _check_architecture(n0, widths)
    return 2 ** sum(ws)


def zaslavsky_ub(n0: int, widths: Sequence[int]) -> int:
    """``prod_l zaslavsky(n_l, n_{l-1})``: each layer an arrangement in its input space."""
    n0, ws = _check_architecture(n0, widths)
    dims = (n0, *ws)[: len(ws)]
    return math.prod(zaslavsky(n, d) for n, d in zip(ws, dims, strict=True))


def montufar_ub(n0: int, widths: Sequence[int]) -> int:
    """Montufar (2017): ``prod_l sum_{j<=d_l} C(n_l, j)``, ``d_l = min(n_0, ..., n_l)``."""
    n0, ws = _check_architecture(n0, widths)
    total, dim = 1, n0
    for n in ws:
        dim = min(dim, n)
        total *= zaslavsky(n, dim)
    return total


def configuration_ub(n0: int, widths: Sequence[int], *, ranks: Sequence[int] | None = None) -> int:
    """Configuration UB of Serra et al. (2018), by dynamic programming over the dimension.

    ``C(l, d) = sum_{j=0}^{min(n_l, d, r_l)} C(n_l, j) * C(l+1, min(d, n_l - j, r_l))``
    with ``C(L+1, .) = 1`` and the bound ``C(1, n0)``; ``r_l = rank(W^l)`` when ``ranks``
    is given, else ``n_l``. ``O(L * n0 * max n_l)`` big-integer operations.
    """
    n0, ws = _check_architecture(n0, widths)
    if ranks is None:
        rs = ws
    else:
        rs = tuple(int(r) for r in ranks)
        if len(rs) != len(ws) or any(r < 0 or r > n for r, n in zip(rs, ws, strict=True)):
            raise NetworkError(f"give one rank 0 <= r_l <= n_l per layer; got {rs} for {ws}")
    depth = len(ws)

    @cache
    def c(layer: int, d: int) -> int:
        if layer == depth:
            return 1
        n, r = ws[layer], rs[layer]
        top = min(n, d, r)
        return sum(math.comb(n, j) * c(layer + 1, min(d, n - j, r)) for j in range(top + 1))

    return c(0, n0)


def architecture(network: ReLUNetwork) -> tuple[int, ...]:
    """``(n0, n1, ..., nL)``: input dimension and the widths of the ReLU layers."""
    return (network.n_inputs, *network.relu_widths)


def maps(count: int) -> float:
    """MAPS ``eta = log2(N)`` of a count (exact for huge integers; -inf for 0)."""
    return math.log2(count) if count > 0 else float("-inf")


def app_k(lower_bound: int, upper_bound: int) -> float:
    """APP-k as MAPS: the mean of ``log2`` of a lower bound and of an upper bound.

    The paper averages the XOR-k lower bound and the Empirical UB without saying on
    which scale; its figures plot MAPS. Averaging counts would give about ``UB / 2``
    whenever the bounds are orders of magnitude apart (the usual case), ignoring the
    lower bound; averaging ``log2`` (a geometric mean of the counts) weighs both, so this
    returns ``(log2 LB + log2 UB) / 2``. The count is ``2 ** app_k(...)``.
    """
    lb, ub = int(lower_bound), int(upper_bound)
    if lb < 1 or ub < 1:
        raise ReluscopeError(
            f"APP-k needs positive bounds (every network has at least one region); "
            f"got lower={lb}, upper={ub}"
        )
    if lb > ub:
        raise ReluscopeError(
            f"the lower bound {lb} exceeds the upper bound {ub}: one of them is wrong"
        )
    return (math.log2(lb) + math.log2(ub)) / 2.0


# --------------------------------------------------------------------------- result
@dataclass(frozen=True)
class UpperBounds:
    """Upper bounds on the number of linear regions of a network or an architecture.

    Attributes
    ----------
    architecture
        ``(n0, n1, ..., nL)``, widths of the ReLU layers.
    trivial_ub, zaslavsky_ub, montufar_ub, configuration_ub
        Architecture-only bounds (``configuration_ub`` with the rank caps when ``rank``).
    empirical_ub
        Theorem 2's bound; None for an architecture.
    rank
        Whether rank caps were used (needs a network).
    bounds_method
        Method of the bounds behind ``empirical_ub`` (None for an architecture).
    coverage
        Per ReLU layer, how ``I_l``/``A_l`` were maximised: ``"none"`` (first layer),
        ``"exact"`` or ``"greedy"`` (valid upper bounds derived from greedy).
    layers
        Per ReLU layer limits (stable counts, ``I_l(k)``, ``A_l(k)`` tables).
    lower_bound, app_k
        A region lower bound given by the caller (e.g. MIPBound XOR-k) and APP-k (log2).
    seconds, bounds_seconds
        Total wall time, and the part spent computing pre-activation bounds.
    """

    __repr__ = short_repr

    architecture: tuple[int, ...]
    trivial_ub: int
    zaslavsky_ub: int
    montufar_ub: int
    configuration_ub: int
    empirical_ub: int | None = None
    rank: bool = False
    bounds_method: str | None = None
    coverage: tuple[str, ...] = ()
    layers: tuple[LayerLimits, ...] = field(default=(), repr=False)
    lower_bound: int | None = None
    app_k: float | None = None
    seconds: float = 0.0
    bounds_seconds: float = 0.0

    @property
    def maps(self) -> dict[str, float]:
        """MAPS (log2) of every bound present."""
        names = ["trivial_ub", "zaslavsky_ub", "montufar_ub", "configuration_ub"]
        if self.empirical_ub is not None:
            names.append("empirical_ub")
        return {name: maps(getattr(self, name)) for name in names}

    @property
    def best(self) -> int:
        """The smallest (tightest) upper bound."""
        return self.empirical_ub if self.empirical_ub is not None else self.configuration_ub

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: counts as (arbitrarily large) integers, MAPS as floats."""
        # the layers without their ``enumerated`` counter (not in the JSON so far)
        return {
            **fields_dict(self),
            "maps": {"empirical_ub": None, **self.maps},
            "layers": [fields_dict(lim, exclude=("enumerated",)) for lim in self.layers],
        }

def _network_and_architecture(
    net_or_architecture: Any, bounds: Any, rank: bool
) -> tuple[ReLUNetwork | None, tuple[int, ...], Any]:
    """The network in plain-ReLU form (leaky or identity units: the same regions; None
    for an architecture), its architecture ``(n0, n1, ..., nL)`` and its bounds in that
    form; an architecture given with options that need the weights is refused."""
    if isinstance(net_or_architecture, ReLUNetwork):
        network: ReLUNetwork | None = net_or_architecture
        plain_net = net_or_architecture
        from reluscope.relu_form import require_no_max_pool

        require_no_max_pool(net_or_architecture, "an upper bound on the regions")
        if not net_or_architecture.is_plain_relu:
            # leaky/identity units: the bounds of its plain-ReLU form, a ReLU network with
            # the same number of regions (reluscope.relu_form; docs/upper-bounds.md)
            from reluscope.relu_form import relu_form

            form = relu_form(net_or_architecture)
            network = plain_net = form.network
            if bounds is not None:
                bounds = form.plain_bounds(bounds)
        arch = architecture(plain_net)
    else:
        network = None
        try:
            arch = tuple(int(v) for v in net_or_architecture)
        except (TypeError, ValueError):
            raise NetworkError(
                "upper_bounds expects a ReLUNetwork or a sequence (n0, n1, ..., nL) of "
                f"integers; got {net_or_architecture!r}"
            ) from None
        if len(arch) < 2:
            raise NetworkError(
                f"an architecture is (n0, n1, ..., nL) with at least one layer; got {arch}"
            )
        if rank:
            raise ReluscopeError(
                "rank=True needs the weights: pass a ReLUNetwork instead of an architecture"
            )
        if bounds is not None:
            raise ReluscopeError("bounds were given for an architecture; pass the network")
    return network, arch, bounds


@interrupts.entry_point
def upper_bounds(
    net_or_architecture: ReLUNetwork | Sequence[int],
    *,
    bounds_method: str = "lp",
    bounds: Any = None,
    rank: bool = False,
    exact_coverage_limit: int = DEFAULT_EXACT_COVERAGE_LIMIT,
    lower_bound: int | None = None,
    time_limit: float | None = None,
    solve_time_limit: float | None = None,
) -> UpperBounds:
    """All upper bounds on the number of linear regions.

    Parameters
    ----------
    net_or_architecture
        A :class:`ReLUNetwork`, or ``(n0, n1, ..., nL)``: input dimension and ReLU layer
        widths (architecture-only bounds; ``empirical_ub`` is then None). A network with
        leaky or identity units is bounded through its plain-ReLU form (same regions;
        ``architecture`` is then that form's, see docs/upper-bounds.md).
    bounds_method
        ``"interval"``, ``"lp"`` (default, as everywhere in reluscope and in
        ``reluscope upper``: seconds on MNIST-size networks) or ``"milp"`` (per-unit
        MILPs, minutes, a tighter Empirical UB): how to find stable units for the
        Empirical UB when ``bounds`` is not given.
    bounds
        Precomputed :class:`~reluscope.bounds.Bounds` of the network.
    rank
        Cap dimensions by ``rank(W^l)`` in the Configuration and Empirical UBs (network
        only).
    exact_coverage_limit
        Enumeration budget per maximum-coverage problem of Propositions 3-4; beyond it
        the greedy-derived upper bounds are used (reported in ``coverage``).
    lower_bound
        A lower bound on the number of regions (e.g. MIPBound XOR-k): adds APP-k.
    time_limit
        Seconds for the whole call: the bounds step (the only long one) stops by then,
        its units not bounded keeping weaker bounds (a sound, larger Empirical UB).
    solve_time_limit
        Seconds per MILP solve of the bounds step (``bounds_method="milp"``).
    """
    exact_coverage_limit = validation.check_nonnegative_int(
        exact_coverage_limit, "exact_coverage_limit"
    )
    time_limit = validation.check_time_limit(time_limit)
    solve_time_limit = validation.check_time_limit(solve_time_limit, "solve_time_limit")
    if lower_bound is not None:
        validation.check_positive_int(lower_bound, "lower_bound")
    start = time.perf_counter()
    network, arch, bounds = _network_and_architecture(net_or_architecture, bounds, rank)
    n0, widths = _check_architecture(arch[0], arch[1:])
    ranks = None
    if network is not None and rank:
        ranks = [int(np.linalg.matrix_rank(network.weights[i])) for i in network.relu_layers]
    result: dict[str, Any] = {
        "architecture": (n0, *widths),
        "trivial_ub": trivial_ub(n0, widths),
        "zaslavsky_ub": zaslavsky_ub(n0, widths),
        "montufar_ub": montufar_ub(n0, widths),
        "configuration_ub": configuration_ub(n0, widths, ranks=ranks),
        "rank": bool(rank),
    }
    bounds_seconds = 0.0
    if network is not None:
        if bounds is None:
            from reluscope.bounds import tighten_bounds

            t0 = time.perf_counter()
            left = None if time_limit is None else max(0.0, time_limit - (t0 - start))
            bounds = tighten_bounds(network, method=bounds_method, time_limit=left,
                                    solve_time_limit=solve_time_limit)
            bounds_seconds = time.perf_counter() - t0
        emp = empirical_ub(
            network, bounds, rank=rank, exact_coverage_limit=exact_coverage_limit
        )
        result.update(
            empirical_ub=emp.value,
            bounds_method=bounds.method,
            coverage=emp.coverage,
            layers=emp.layers,
        )
    if lower_bound is not None:
        lb = int(lower_bound)
        best = result.get("empirical_ub", result["configuration_ub"])
        result.update(lower_bound=lb, app_k=app_k(lb, best))
    return UpperBounds(
        **result, seconds=time.perf_counter() - start, bounds_seconds=bounds_seconds
    )


__all__ = [
    "UpperBounds",
    "app_k",
    "architecture",
    "configuration_ub",
    "maps",
    "montufar_ub",
    "trivial_ub",
    "upper_bounds",
    "zaslavsky",
    "zaslavsky_ub",
]
