r"""The SCIP model of a ReLU network (paper eqs 1-9): the one place that knows its layout.

For every unit ``i`` of layer ``l`` (0-based layers here, with input ``h^{-1} = x``):

.. math::

    W_i h^{l-1} + b_i = g_i                                   \quad (1)\\
    g_i = h_i - \bar h_i                                      \quad (2)\\
    h_i \le H_i z_i,\qquad \bar h_i \le \bar H_i (1 - z_i)    \quad (3)\\
    h_i \ge 0,\ \bar h_i \ge 0,\ z_i \in \{0, 1\}            \quad (4)

with ``H_i = max(upper_i, 0)`` and ``Hbar_i = max(-lower_i, 0)`` from a :class:`Bounds`
(tight constants give the convex hull of each ReLU, Lemma 1). Stable units get no
binary: stably inactive ``h_i = 0``; stably active ``h_i = g_i``. A final layer without
ReLU has ``h = g``. ``x`` ranges over the domain box (7), and over the polytope
``A x <= b`` when the network's domain has one (rows ``domain{k}``).

Counting model (5)-(6): ``max f`` with ``f <= h_i + (1 - z_i) H_i`` for unstable units,
``f <= h_i`` for stably active ones, and ``f >= REGION_EPS`` standing for ``f > 0``
(see :mod:`reluscope.tolerances`). Its binary solutions are exactly the linear regions.

Valid inequalities for layers after the first (optional):
``z_i <= sum_{j: W_ij > 0} z_j`` if ``b_i <= 0`` (8) and
``1 - z_i <= sum_{j: W_ij < 0} z_j`` if ``b_i > 0`` (9), where a stably active unit
``j`` of the previous layer counts as the constant 1 and a stably inactive one as 0.

Models are created by :func:`reluscope.solvers.scip.new_scip_model`, with the safe
settings that keep lazily constrained solves correct (docs/solvers.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from reluscope.bounds.result import Bounds
from reluscope.network import ReLUNetwork
from reluscope.relu_form import require_plain_relu
from reluscope.solvers.scip import new_scip_model
from reluscope.tolerances import BOUND_PADDING, REGION_EPS


@dataclass(eq=False)
class NetworkModel:
    """A SCIP model of (a prefix of) a network, with handles on its variables.

    ``g[l][i]``, ``h[l][i]`` are the pre-activation and output of unit ``i`` of layer
    ``l``; ``z[l][i]`` its binary, or None where the unit is stable or the layer has no
    ReLU. ``f`` is the counting variable (None unless built with ``counting=True``).
    ``binaries`` lists ``(flat unit index, z variable)`` of the unstable units in unit
    order, the variables whose projection is a linear region.
    """

    network: ReLUNetwork
    bounds: Bounds
    model: Any
    x: list[Any]
    g: list[list[Any]]
    h: list[list[Any]]
    z: list[list[Any | None]]
    f: Any | None = None
    binaries: list[tuple[int, Any]] = field(default_factory=list)

    def fixed_pattern(self) -> NDArray[np.bool_]:
        """Pattern of the units without binary: stably active True, everything else False."""
        pattern = np.zeros(self.network.n_units, dtype=bool)
        for layer, start in zip(self.network.relu_layers, self.network.unit_offsets(), strict=True):
            if layer < len(self.g):
                active = self.bounds.stably_active(layer)
                pattern[start : start + active.size] = active
        return pattern

    def pattern(self, solution: Any = None) -> NDArray[np.bool_]:
        """Activation pattern of a solution (default: the best one), all units."""
        pattern = self.fixed_pattern()
        for unit, var in self.binaries:
            value = (
                self.model.getVal(var)
                if solution is None
                else self.model.getSolVal(solution, var)
            )
            pattern[unit] = value > 0.5
        return pattern


def build_network_model(
    network: ReLUNetwork,
    bounds: Bounds,
    *,
    n_layers: int | None = None,
    counting: bool = False,
    valid_inequalities: bool = False,
    model: Any = None,
) -> NetworkModel:
    """Build eqs (1)-(4) for layers ``0..n_layers-1`` (default: every layer).

    Parameters
    ----------
    bounds
        Pre-activation bounds giving the big-M constants and the stable units.
    counting
        Add ``f`` and the counting constraints (5)-(6) with ``f >= REGION_EPS``.
    valid_inequalities
        Add inequalities (8)-(9) between consecutive ReLU layers.
    model
        An existing SCIP model to add to (default: :func:`new_scip_model`).
    """
    from pyscipopt import quicksum

    require_plain_relu(network, "the MILP model")
    n_layers = network.n_layers if n_layers is None else n_layers
    scip = new_scip_model() if model is None else model
    x = [
        scip.addVar(f"x{j}", lb=float(network.lower[j]), ub=float(network.upper[j]))
        for j in range(network.n_inputs)
    ]
    for k, (row, rhs) in enumerate(zip(network.domain_A, network.domain_b, strict=True)):
        nz = np.flatnonzero(row)
        scip.addCons(quicksum(float(row[j]) * x[j] for j in nz) <= float(rhs), name=f"domain{k}")
    nm = NetworkModel(network=network, bounds=bounds, model=scip, x=x, g=[], h=[], z=[])
    offsets = dict(zip(network.relu_layers, network.unit_offsets(), strict=True))
    prev = x
    for layer in range(n_layers):
        w, b = network.weights[layer], network.biases[layer]
        lo = bounds.lower[layer] - BOUND_PADDING
        hi = bounds.upper[layer] + BOUND_PADDING
        g_vars, h_vars, z_vars = [], [], []
        for i in range(w.shape[0]):
            g = scip.addVar(f"g{layer}_{i}", lb=float(lo[i]), ub=float(hi[i]))
            row = w[i]
            nz = np.flatnonzero(row)
            scip.addCons(
                quicksum(float(row[j]) * prev[j] for j in nz) + float(b[i]) == g,
                name=f"affine{layer}_{i}",
            )
            g_vars.append(g)
            z_var = None
            if not network.relu[layer] or bounds.lower[layer][i] > 0:
                h = g  # linear output layer, or stably active: h = g
            elif bounds.upper[layer][i] <= 0:
                h = scip.addVar(f"h{layer}_{i}", lb=0.0, ub=0.0)  # stably inactive
            else:
                h_max, hbar_max = float(max(hi[i], 0.0)), float(max(-lo[i], 0.0))
                h = scip.addVar(f"h{layer}_{i}", lb=0.0, ub=h_max)
                hbar = scip.addVar(f"hbar{layer}_{i}", lb=0.0, ub=hbar_max)
                z_var = scip.addVar(f"z{layer}_{i}", vtype="B")
                scip.addCons(g == h - hbar, name=f"split{layer}_{i}")
                scip.addCons(h <= h_max * z_var, name=f"on{layer}_{i}")
                scip.addCons(hbar <= hbar_max * (1 - z_var), name=f"off{layer}_{i}")
                nm.binaries.append((offsets[layer] + i, z_var))
            h_vars.append(h)
            z_vars.append(z_var)
        nm.g.append(g_vars)
        nm.h.append(h_vars)
        nm.z.append(z_vars)
        if valid_inequalities and layer > 0 and network.relu[layer]:
            _add_valid_inequalities(nm, layer)
        prev = h_vars
    if counting:
        _add_counting(nm)
    return nm


def _add_valid_inequalities(nm: NetworkModel, layer: int) -> None:
    """Inequalities (8)-(9) for the unstable units of ``layer``."""
    from pyscipopt import quicksum

    network, bounds = nm.network, nm.bounds
    w, b = network.weights[layer], network.biases[layer]
    prev_active = bounds.stably_active(layer - 1)
    for i, z_i in enumerate(nm.z[layer]):
        if z_i is None:
            continue
        signs = w[i] > 0 if b[i] <= 0 else w[i] < 0
        constant = int(np.sum(signs & prev_active))
        if constant > 0:
            continue  # a stably active predecessor already satisfies the inequality
        previous = nm.z[layer - 1]
        terms = [previous[j] for j in np.flatnonzero(signs) if previous[j] is not None]
        lhs = z_i if b[i] <= 0 else 1 - z_i
        nm.model.addCons(lhs <= quicksum(terms), name=f"valid{layer}_{i}")


def _add_counting(nm: NetworkModel) -> None:
    """The counting variable f and constraints (6), with f >= REGION_EPS."""
    network, bounds, scip = nm.network, nm.bounds, nm.model
    big = [float(max(bounds.upper[l].max(), 0.0)) for l in range(len(nm.g))]
    f = scip.addVar("f", lb=REGION_EPS, ub=max([REGION_EPS, *big]) + BOUND_PADDING)
    for layer in range(len(nm.g)):
        if not network.relu[layer]:
            continue
        for i, z_i in enumerate(nm.z[layer]):
            h = nm.h[layer][i]
            if z_i is not None:
                h_max = float(bounds.upper[layer][i]) + BOUND_PADDING
                scip.addCons(f <= h + h_max * (1 - z_i), name=f"count{layer}_{i}")
            elif bounds.lower[layer][i] > 0:
                scip.addCons(f <= h, name=f"count{layer}_{i}")
    scip.setObjective(f, sense="maximize")
    nm.f = f
