r"""MILP bound tightening: exact ``max g_i`` and ``min g_i`` of each unit (SCIP).

For layer ``l >= 1`` one SCIP model of layers ``0..l-1`` (eqs 1-4 with the bounds found
so far as big-M constants, :func:`reluscope.milp.build_network_model`) is built once;
for each unit ``i`` of layer ``l`` its objective is set to ``W_i h^{l-1}`` (``+ b_i``)
and the model is solved, maximising then minimising. Layer 0 is exact by interval
arithmetic on a box, and by the LP bounds on a polytope domain (whose rows ``A x <= b``
every model has). Reusing one model per layer (``freeTransform`` + ``setObjective``)
is measured against rebuilding per solve in ``benchmarks/bench_bounds.py``.

Choices (documented in docs/bounds.md):

- The LP bounds (:func:`reluscope.bounds.lp.lp_bounds`) are computed first. Units they
  prove stable keep their LP bounds: a stable unit gets no binary, so its bound value is
  never a big-M constant. Only units unstable after the LP step are solved.
- The network is evaluated first on ``MILP_SAMPLES`` sampled inputs and on the input
  part of every LP optimum (points where a relaxed unit reaches its extreme). The direction that
  could prove a unit stable is solved first (``min g`` for a unit only seen positive,
  else ``max g``); once a unit is proven stable the other direction is not solved (that
  bound is never used) and keeps the LP value. The last layer, if it has no ReLU, has
  every unit solved in both directions.
- ``sign_only=True`` decides only the classification: a unit seen on both sides of zero
  is unstable without any solve (it keeps its LP bounds); for the others one solve stops
  as soon as the sign is decided (SCIP's ``limits/dual``: the dual bound proves
  stability; ``limits/primal``: a solution reaches the other side). Its bound is SCIP's
  dual bound at that moment: valid, classification-exact, looser than the optimum.
- A solve cut short by ``solve_time_limit`` (seconds per solve) or by ``time_limit``
  (seconds for the whole call) keeps SCIP's dual bound, which is always valid; past
  ``time_limit`` no solve starts and the remaining units keep their LP bounds. Bounds
  are padded outward by ``BOUND_PADDING * max(1, |bound|)`` and intersected with the LP
  bounds, so ``milp`` lies within ``lp`` within ``interval``.
- ``Bounds.exact`` is True when every solve ran to optimality (never with
  ``sign_only``): then the classification is exact and every unstable unit's bounds are
  its exact range (up to the padding).
- SCIP's cutting planes are off (:data:`SCIP_SEPARATING`): root separation dominated the
  time of these small, many, repeated MILPs (29x slower with cuts on the example).
  Changing only the objective of one model per layer is as fast as rebuilding per solve
  on the example (ratio 0.99); the model is reused.
- Ctrl-C returns what is proven so far: SCIP stops the running solve (its dual bound is
  kept) and the remaining units keep their LP bounds.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np

from reluscope.bounds.lp import OutOfTime, _pad_down, _pad_up, lp_bounds_with_witnesses
from reluscope.bounds.result import Bounds
from reluscope.network import FloatArray, ReLUNetwork
from reluscope.progress import progress_bar
from reluscope.solvers.scip import Stop, solve
from reluscope.tolerances import BOUND_PADDING, REGION_EPS

#: Cutting planes in the bound MILPs. Off: on the bundled example SCIP's root separation
#: made the full MILP bounds 29x slower (benchmarks/bench_bounds.py measures it).
SCIP_SEPARATING = False

#: Inputs sampled to find units that are visibly unstable before any MILP.
MILP_SAMPLES = 1000

_log = logging.getLogger(__name__)

#: SCIP reports an infinite bound as +-1e20.
_SCIP_INFINITY = 1e19
#: The default ("unset") value of limits/primal and limits/dual, whatever the sense.
_SCIP_NO_LIMIT = 1e99


def _directions(seen_positive: bool, seen_nonpositive: bool, *, sign_only: bool) -> list[bool]:
    """The solves of a unit, ``True`` maximising (its upper bound), ``False`` minimising.
    A unit seen on both sides is unstable: ``sign_only`` needs no solve at all;
    otherwise the direction that may prove it stable goes first."""
    if sign_only:
        return [not seen_positive] if seen_positive != seen_nonpositive else []
    if seen_positive and not seen_nonpositive:
        return [False, True]
    return [True, False]


def milp_bounds(
    network: ReLUNetwork,
    *,
    time_limit: float | None = None,
    solve_time_limit: float | None = None,
    sign_only: bool = False,
    reuse_model: bool = True,
    progress: bool = False,
) -> Bounds:
    """Exact bounds on every unstable unit's pre-activation, one MILP per direction.

    Parameters
    ----------
    network
        The network and its input box.
    time_limit
        Seconds for the whole call, LP step included (None: no limit). The solve running
        at that time keeps SCIP's dual bound and the units not solved keep their LP
        bounds: valid, looser, and ``exact`` becomes False.
    solve_time_limit
        Seconds allowed per MILP solve (None: no limit). A solve cut short keeps SCIP's
        dual bound: valid, looser, and ``exact`` becomes False.
    sign_only
        Stop each solve once the unit's sign is decided (stable or not) instead of
        solving to optimality; the bounds of unstable units are then valid but loose.
    reuse_model
        Keep one SCIP model per layer and change only its objective (default), or
        rebuild the model for every solve (for benchmarking).
    progress
        Show a tqdm progress bar over the solves.

    Returns
    -------
    Bounds
        ``method="milp"``, elementwise within the LP bounds.
    """
    start = time.perf_counter()
    deadline = None if time_limit is None else start + float(time_limit)
    lp, witnesses, cut_short = lp_bounds_with_witnesses(network, deadline=deadline)
    lowers = [a.copy() for a in lp.lower]
    uppers = [a.copy() for a in lp.upper]
    all_optimal = not sign_only
    seen_lo, seen_hi = _sampled_range(network, witnesses)
    todo = [_units_to_solve(network, lp, layer) for layer in range(network.n_layers)]
    if cut_short:  # Ctrl-C or the deadline during the LPs: the bounds proven so far
        todo = [np.zeros(0, dtype=int) for _ in todo]
        all_optimal = False
    bar = progress_bar(
        progress, total=int(sum(t.size for t in todo)), desc="MILP bounds", unit="unit"
    )
    try:
        for layer in range(1, network.n_layers):
            if todo[layer].size == 0:
                continue
            current = Bounds(
                lower=tuple(lowers), upper=tuple(uppers), biases=network.biases, method="milp"
            )
            solver = _LayerSolver(network, current, layer, reuse=reuse_model)
            is_relu = network.relu[layer]
            for i in todo[layer]:
                directions = _directions(
                    seen_hi[layer][i] > 0, seen_lo[layer][i] <= 0, sign_only=sign_only and is_relu
                )
                for maximize in directions:
                    value, done = solver.bound(
                        i, maximize=maximize, time_limit=_solve_limit(solve_time_limit, deadline),
                        sign_only=sign_only and is_relu,
                    )
                    all_optimal &= done
                    # a bound that cuts off a sampled (reachable) value is a solver
                    # failure: keep the LP bound instead
                    if maximize and value < seen_hi[layer][i]:
                        _log.warning("SCIP bound %g below sampled %g (layer %d unit %d); "
                                     "keeping the LP bound", value, seen_hi[layer][i], layer, i)
                        all_optimal = False
                    elif not maximize and value > seen_lo[layer][i]:
                        _log.warning("SCIP bound %g above sampled %g (layer %d unit %d); "
                                     "keeping the LP bound", value, seen_lo[layer][i], layer, i)
                        all_optimal = False
                    elif maximize:
                        uppers[layer][i] = min(uppers[layer][i], value)
                    else:
                        lowers[layer][i] = max(lowers[layer][i], value)
                    if solver.interrupted:
                        raise KeyboardInterrupt
                    if is_relu and (uppers[layer][i] <= 0 or lowers[layer][i] > 0):
                        break  # proven stable: the other bound is never a big-M constant
                if bar is not None:
                    bar.update(1)
    except (KeyboardInterrupt, OutOfTime):
        all_optimal = False
    finally:
        if bar is not None:
            bar.close()
    return Bounds(
        lower=tuple(lowers),
        upper=tuple(uppers),
        biases=network.biases,
        method="milp",
        seconds=time.perf_counter() - start,
        exact=all_optimal,
    )


def _solve_limit(solve_time_limit: float | None, deadline: float | None) -> float | None:
    """Seconds the next solve may take: its own limit, cut to the call's deadline.
    Raises :class:`OutOfTime` once the deadline has passed."""
    if deadline is None:
        return solve_time_limit
    left = deadline - time.perf_counter()
    if left <= 0:
        raise OutOfTime
    return left if solve_time_limit is None else min(float(solve_time_limit), left)


def _sampled_range(
    network: ReLUNetwork, witnesses: FloatArray
) -> tuple[list[FloatArray], list[FloatArray]]:
    """Smallest and largest pre-activations seen on sampled inputs and LP optima's inputs.

    Reachable values, so ``max g >= seen_hi`` and ``min g <= seen_lo``: a unit seen on
    both sides of zero is unstable without any MILP.
    """
    x = network.seed_inputs(MILP_SAMPLES, random_state=0)
    x = np.vstack([x, witnesses, network.domain_point()])
    if not network.has_polytope:  # the box's corners lie in the domain
        x = np.vstack([x, network.lower, network.upper])
    pre = network.preactivations(x)
    return [g.min(axis=0) for g in pre], [g.max(axis=0) for g in pre]


def _units_to_solve(network: ReLUNetwork, lp: Bounds, layer: int) -> np.ndarray:
    """Units of ``layer`` needing MILPs: unstable after LP (every unit of a linear layer)."""
    if layer == 0:
        return np.zeros(0, dtype=int)  # exact already: interval on a box, LP on a polytope
    if not network.relu[layer]:
        return np.arange(network.widths[layer])
    return np.flatnonzero(lp.unstable(layer))


class _LayerSolver:
    """SCIP model(s) of layers ``0..layer-1`` with the pre-activations of ``layer`` as objective."""

    def __init__(
        self,
        network: ReLUNetwork,
        bounds: Bounds,
        layer: int,
        *,
        reuse: bool,
        separating: bool | None = None,
    ) -> None:
        self.network, self.bounds, self.layer, self.reuse = network, bounds, layer, reuse
        self.separating = SCIP_SEPARATING if separating is None else separating
        self.nm: Any = self._build() if reuse else None
        self.interrupted = False

    def _build(self) -> Any:
        from reluscope.milp.model import build_network_model

        nm = build_network_model(self.network, self.bounds, n_layers=self.layer)
        if not self.separating:
            from pyscipopt import SCIP_PARAMSETTING

            nm.model.setSeparating(SCIP_PARAMSETTING.OFF)
        return nm

    def bound(
        self, unit: int, *, maximize: bool, time_limit: float | None, sign_only: bool
    ) -> tuple[float, bool]:
        """Valid padded bound on ``max g`` (or ``min g``) and whether it is the optimum.

        Returns ``inf`` (``-inf``) when SCIP proved nothing; the caller intersects with
        the LP bound.
        """
        from pyscipopt import quicksum

        nm = self.nm if self.reuse else self._build()
        model = nm.model
        if self.reuse:
            model.freeTransform()
        w = self.network.weights[self.layer][unit]
        b = float(self.network.biases[self.layer][unit])
        prev = nm.h[-1]
        expr = quicksum(float(w[j]) * prev[j] for j in np.flatnonzero(w))
        model.setObjective(expr, sense="maximize" if maximize else "minimize")
        model.setParam("limits/time", 1e20 if time_limit is None else float(time_limit))
        # objective units: g - b. Stop once the sign of g is decided (sign_only).
        if sign_only and maximize:
            # dual bound proves max g <= 0 even after padding: stably inactive
            model.setParam("limits/dual", -b - 2 * BOUND_PADDING)
            model.setParam("limits/primal", -b + REGION_EPS)  # a point with g > 0
        elif sign_only:
            model.setParam("limits/dual", -b + REGION_EPS)  # min g > 0: stably active
            model.setParam("limits/primal", -b)  # a point with g <= 0
        else:
            model.setParam("limits/dual", _SCIP_NO_LIMIT)
            model.setParam("limits/primal", _SCIP_NO_LIMIT)
        outcome = solve(model)
        if outcome.stop is Stop.INTERRUPTED:
            self.interrupted = True
        if not outcome.returned:  # Ctrl-C outside SCIP or a SCIP error: keep the LP bound
            if outcome.stop is Stop.FAILED:
                _log.warning("%s (layer %d unit %d); keeping its LP bound",
                             outcome.describe(), self.layer, unit)
            return (float("inf") if maximize else float("-inf")), False
        dual = float(model.getDualbound())
        optimal = outcome.scip_status == "optimal"
        if maximize:
            if not dual < _SCIP_INFINITY:
                return float("inf"), False
            return float(_pad_up(np.array(dual + b))), optimal
        if not dual > -_SCIP_INFINITY:
            return float("-inf"), False
        return float(_pad_down(np.array(dual + b))), optimal
