r"""MILP enumeration of the regions of a network with max-pooling (maxout formulation).

The second engine for max-pooling (the first is the search of :mod:`.argmax`). Each
pooling window is modelled as a maxout unit, as in Serra, Tjandraatmadja & Ramalingam
(ICML 2018): one binary ``w_j`` per input, ``sum_j w_j = 1``, and for ``w_j = 1`` the
side ``j`` of the region definition (:mod:`reluscope.pooling`),

.. math::

    z_j - z_i \ge m_{ij} - M_{ij} (1 - w_j) \quad \forall i \ne j,
    \qquad m_{ij} = \varepsilon \ (i < j),\ 0 \ (i > j),

with ``z_i`` the window's inputs (pre-activations of its first round) and ``M_{ij}``
from their bounds. The tournament's comparison units are modelled exactly as
``h = max(g, 0)`` (a binary each, free at ties): they carry the true values, and they
are not part of a pattern. A ReLU or leaky unit has a binary ``s`` with
``g >= eps - M (1 - s)``, ``g <= M s`` and ``h = g`` or ``alpha g`` by big-M rows; an
identity unit ``h = g``. The constants come from pre-activation bounds.

Every feasible pattern (ReLU/leaky sides, window argmaxes) is found by re-solving with a
no-good cut on those binaries until the model is infeasible. SCIP works to its own
feasibility tolerance, so each pattern found is checked with the search's LP rule
(:func:`.argmax.is_region`) before it counts.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from reluscope import interrupts
from reluscope.bounds.result import Bounds
from reluscope.network import ReLUNetwork
from reluscope.regions.count.argmax import Pattern, is_region, require_windows
from reluscope.regions.result import COMPLETE, FAILED, INTERRUPTED, TIME_LIMIT, RegionCount
from reluscope.solvers.scip import Stop, best_solution_values, new_scip_model, solve
from reluscope.tolerances import REGION_EPS, SCIP_FEASIBILITY_TOL


def count_regions_argmax_milp(
    network: ReLUNetwork,
    bounds: Bounds,
    *,
    time_limit: float | None = None,
    patterns: list[Pattern] | None = None,
) -> RegionCount:
    """Count the regions of ``network`` (windows as maxout units) by MILP enumeration;
    ``bounds`` must contain every pre-activation. The result's method is ``"milp"``."""
    require_windows(network)
    start = time.perf_counter()
    deadline = None if time_limit is None else start + time_limit
    model, branch, winners = _build(network, bounds)
    variables = [*branch, *(v for ws in winners for v in ws)]
    offsets = np.cumsum([len(branch)] + [len(ws) for ws in winners])[:-1]
    regions = solves = 0
    status, message = COMPLETE, ""
    while True:
        if deadline is not None:
            left = deadline - time.perf_counter()
            if left <= 0:
                status, message = TIME_LIMIT, f"time limit of {time_limit} s reached"
                break
            model.setParam("limits/time", left)
        outcome = solve(model)
        solves += 1
        if outcome.stop is not Stop.FINISHED:
            status, message = outcome.status, outcome.describe()
            break
        if model.getStatus() != "optimal":  # infeasible: every pattern is cut off
            break
        values = best_solution_values(model, variables)
        bits = values > 0.5
        sides = tuple(bool(b) for b in bits[: len(branch)])
        picked = tuple(int(np.argmax(values[start:start + len(ws)]))
                       for start, ws in zip(offsets, winners, strict=True))
        model.freeTransform()
        ones = [v for v, b in zip(variables, bits, strict=True) if b]
        zeros = [v for v, b in zip(variables, bits, strict=True) if not b]
        model.addCons(sum(ones) - sum(zeros) <= len(ones) - 1)  # no-good cut
        if is_region(network, (sides, picked)):
            regions += 1
            if patterns is not None:
                patterns.append((sides, picked))
    if status == INTERRUPTED:
        interrupts.note()
    return RegionCount(regions=regions, exact=status == COMPLETE, method="milp",
                       status=status if status in (COMPLETE, TIME_LIMIT, INTERRUPTED)
                       else FAILED,
                       seconds=time.perf_counter() - start, lp_solves=solves,
                       message=message)


def _build(network: ReLUNetwork,
           bounds: Bounds) -> tuple[Any, list[Any], list[list[Any]]]:
    """The model, the binaries of the branching units (layer order) and of each window."""
    model = new_scip_model("reluscope-maxpool")
    model.setParam("numerics/feastol", SCIP_FEASIBILITY_TOL)
    x = [model.addVar(lb=float(lo), ub=float(hi)) for lo, hi in
         zip(network.lower, network.upper, strict=True)]
    for row, b in zip(network.domain_A, network.domain_b, strict=True):
        model.addCons(sum(float(a) * v for a, v in zip(row, x, strict=True) if a) <= float(b))
    starts: dict[int, list[Any]] = {}
    for w in network.pool_windows:
        starts.setdefault(w.layer, []).append(w)
    branch: list[Any] = []
    winners: list[list[Any]] = [[] for _ in network.pool_windows]
    number = {id(w): k for k, w in enumerate(network.pool_windows)}
    h = x
    for layer in range(network.n_layers):
        w_mat, b_vec = network.weights[layer], network.biases[layer]
        lower, upper = bounds.lower[layer], bounds.upper[layer]
        g = []
        for u in range(w_mat.shape[0]):
            var = model.addVar(lb=float(lower[u]), ub=float(upper[u]))
            row = w_mat[u]
            model.addCons(var == sum(float(a) * v for a, v in zip(row, h, strict=True) if a)
                          + float(b_vec[u]))
            g.append(var)
        if not network.relu[layer]:
            break
        out = []
        for u, gv in enumerate(g):
            lo, hi = float(lower[u]), float(upper[u])
            alpha = float(network.slopes[layer][u])
            if alpha == 1.0:
                out.append(gv)
                continue
            big = max(abs(lo), abs(hi)) + 1.0
            reach = big * max(1.0, abs(alpha))
            hv = model.addVar(lb=-reach, ub=reach)
            s = model.addVar(vtype="B")
            if network.max_pool[layer][u]:  # exactly max(g, 0), ties either way
                model.addCons(hv >= gv)
                model.addCons(hv >= 0)
                model.addCons(hv <= gv + big * (1 - s))
                model.addCons(hv <= big * s)
            else:
                branch.append(s)
                model.addCons(gv >= REGION_EPS - (REGION_EPS + big) * (1 - s))
                model.addCons(gv <= big * s)
                scale = (abs(1.0 - alpha) + 1.0) * big
                model.addCons(hv - gv <= scale * (1 - s))
                model.addCons(gv - hv <= scale * (1 - s))
                model.addCons(hv - alpha * gv <= scale * s)
                model.addCons(alpha * gv - hv <= scale * s)
            out.append(hv)
        for window in starts.get(layer, []):
            k = number[id(window)]
            zs = [(g[c] + (g[r] if r >= 0 else 0.0),
                   float(lower[c]) + (float(lower[r]) if r >= 0 else 0.0),
                   float(upper[c]) + (float(upper[r]) if r >= 0 else 0.0))
                  for c, r in window.inputs]
            ws = [model.addVar(vtype="B") for _ in zs]
            winners[k] = ws
            model.addCons(sum(ws) == 1)
            for j, (zj, lo_j, _) in enumerate(zs):
                for i, (zi, _, hi_i) in enumerate(zs):
                    if i == j:
                        continue
                    margin = REGION_EPS if i < j else 0.0
                    big = margin - (lo_j - hi_i) + 1.0
                    model.addCons(zj - zi >= margin - big * (1 - ws[j]))
        h = out
    return model, branch, winners


__all__ = ["count_regions_argmax_milp"]
