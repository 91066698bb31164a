r"""Stable units over the whole input domain, decided exactly with MILPs (LEO, step 1).

Each ReLU unit ``i`` has two *sides*: ``+`` (some ``x`` in the domain gives
``g_i(x) >= STABLE_MARGIN``) and ``-`` (some ``x`` gives ``g_i(x) <= -STABLE_MARGIN``).
A unit without ``+`` side is **stably inactive** (``h_i = 0`` on the domain, up to the
margin); a unit with ``+`` but no ``-`` side is **stably active** (``h_i = g_i``). The
margin (:data:`reluscope.tolerances.STABLE_MARGIN`) keeps the question away from the
solver's feasibility tolerance; both strategies answer exactly this question, so they
return the same units.

Cheap bounds come first (:func:`reluscope.bounds.tighten_bounds`): a unit whose upper
bound is ``<= 0`` or lower bound ``> 0`` needs no MILP. Layers are processed in order; a
layer-``l`` question is asked of the exact MILP model (paper eqs 1-4) of layers
``0..l-1``, in which the units already proven stable carry no binary.

Two strategies:

``per-unit`` (LEO, CPAIOR 2020)
    For each side of each undecided unit, one feasibility MILP
    ``max s*g_i  s.t.  s*g_i >= STABLE_MARGIN`` stopped at its first solution
    (``limits/solutions = 1``): a solution settles the sign, infeasibility proves the
    unit stable on that side. Up to two MILPs per unit.

``single`` (Serra, Kumar & Ramalingam, NeurIPS 2021)
    Sides already witnessed by sample inputs (training data when given) are skipped.
    For the remaining *candidate* sides of a layer, one MILP with a binary witness
    ``w_{i,s}`` per side, ``s*g_i >= STABLE_MARGIN*w + L_{i,s}*(1 - w)`` (``L`` a valid
    lower bound of ``s*g_i``, so ``w = 0`` is free), maximising ``sum w``. A lazy
    constraint handler records the sides witnessed by every solution SCIP proposes
    (those with ``w = 1``, plus every side the solution's input ``x`` shows in an exact
    NumPy forward pass), rejects the solution and adds ``w_{i,s} <= 0`` for them. When
    the search ends, every side never witnessed is impossible. One MILP per layer
    instead of one per side.

    Measured here: the joint proof is often *harder* than the separate ones, because
    the LP relaxation of ``sum w`` adds up fractional witnesses of many sides (each
    below 1, the sum above it), so the tree must be searched until every combination
    is pruned. The joint MILP therefore gets ``SINGLE_NODE_LIMIT`` nodes; if it has not
    finished by then, the sides it has not witnessed are settled one by one as in
    ``per-unit``, and every solution found there is run through the forward pass to
    settle further sides for free. The answer is the same either way (every side is
    either witnessed or proven impossible); only the time differs.

Both honour ``time_limit`` and Ctrl-C by stopping early: a side not decided is treated
as possible (the unit stays), which is always safe for compression.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from reluscope import interrupts, validation
from reluscope.bounds.result import Bounds
from reluscope.errors import ReluscopeError
from reluscope.network import FloatArray, ReLUNetwork
from reluscope.progress import progress_bar
from reluscope.reprs import short_repr
from reluscope.serialise import fields_dict
from reluscope.solvers.scip import (
    BINARY_THRESHOLD,
    LazyConstraintHandler,
    ScipOutcome,
    Stop,
    add_lazy_handler,
    best_solution_values,
    solve,
)
from reluscope.status import COMPLETE, FAILED, INTERRUPTED, TIME_LIMIT, Status
from reluscope.tolerances import BOUND_PADDING, STABLE_MARGIN

BoolArray = NDArray[np.bool_]

log = logging.getLogger(__name__)

STRATEGIES = ("single", "per-unit")

#: inputs drawn from the domain to seed ``single`` when no samples are given
DEFAULT_SEED_SAMPLES = 2000

#: branch-and-bound nodes allowed to a layer's joint witness MILP (``single``) before
#: the sides it has not witnessed are settled one by one (see the module doc)
SINGLE_NODE_LIMIT = 300

_CHUNK = 4096


@dataclass(frozen=True, eq=False)
class StableUnits:
    """Units proven stable over the domain, per affine layer.

    Attributes
    ----------
    active, inactive
        One boolean array per affine layer (all False on a final layer without ReLU).
        A unit is never both: one that can be neither positive nor negative is
        inactive.
    strategy, bounds_method
        How they were found.
    milp_solves
        MILPs solved (per-unit: one per side asked; single: one per layer with candidates).
    sides_from_samples
        Sides settled by the sample inputs before any MILP (single only).
    stalled_layers
        Layers where ``single``'s joint MILP hit its node limit and the remaining
        sides were settled one by one.
    status
        ``complete``; ``time_limit``, ``interrupted`` (Ctrl-C) or ``failed`` (see
        ``message``) when the search stopped early: undecided units were kept as
        unstable (sound, possibly not all stable units found). Read also as the
        properties ``complete`` and ``interrupted``.
    seconds
        Wall time, bounds included.
    message
        SCIP's message when a solver failure stopped the search.
    """

    __repr__ = short_repr

    active: tuple[BoolArray, ...]
    inactive: tuple[BoolArray, ...]
    strategy: str
    bounds_method: str
    milp_solves: int
    sides_from_samples: int
    status: Status
    seconds: float
    stalled_layers: int = 0
    message: str = ""

    @property
    def complete(self) -> bool:
        """The search finished: every stable unit was found."""
        return self.status is COMPLETE

    @property
    def interrupted(self) -> bool:
        """Ctrl-C stopped the search."""
        return self.status is INTERRUPTED

    @property
    def n_active(self) -> int:
        return int(sum(int(a.sum()) for a in self.active))

    @property
    def n_inactive(self) -> int:
        return int(sum(int(a.sum()) for a in self.inactive))

    @property
    def n_stable(self) -> int:
        return self.n_active + self.n_inactive

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (0-based layer and unit indices): the unit masks as index
        lists, the status as the ``complete`` and ``interrupted`` flags (the keys the
        command line has always printed; a failure also leaves its ``message``)."""
        return {
            **fields_dict(self, exclude=("active", "inactive", "status")),
            "stably_active": [np.flatnonzero(a).tolist() for a in self.active],
            "stably_inactive": [np.flatnonzero(a).tolist() for a in self.inactive],
            "n_stably_active": self.n_active,
            "n_stably_inactive": self.n_inactive,
            "complete": self.complete,
            "interrupted": self.interrupted,
        }


@interrupts.entry_point
def find_stable_units(
    network: ReLUNetwork,
    *,
    strategy: str = "single",
    samples: ArrayLike | None = None,
    bounds_method: str = "lp",
    time_limit: float | None = None,
    random_state: Any = None,
    progress: bool = False,
) -> StableUnits:
    """Every unit that is stably active or stably inactive over the network's domain.

    Parameters
    ----------
    strategy
        ``"single"`` (one lazily constrained MILP per layer, seeded by samples) or
        ``"per-unit"`` (LEO: one sign-deciding MILP per unit side); see the module doc.
    samples
        Inputs ``(n, n0)`` inside the domain (e.g. the training set) whose activation
        patterns settle sides for ``single``; default: ``DEFAULT_SEED_SAMPLES`` uniform
        draws from the box. Ignored by ``per-unit``. Samples outside the box are dropped.
    bounds_method
        Cheap bounds computed first: ``"interval"``, ``"lp"`` or ``"milp"``.
    time_limit
        Seconds for the whole search; undecided units are kept as unstable.
    """
    strategy = validation.check_choice(strategy, STRATEGIES, "strategy")
    time_limit = validation.check_time_limit(time_limit)
    random_state = validation.check_seed(random_state)
    if not network.is_plain_relu:
        return _stable_units_of_relu_form(
            network, strategy=strategy, samples=samples, bounds_method=bounds_method,
            time_limit=time_limit, random_state=random_state, progress=progress,
        )
    from reluscope.bounds import tighten_bounds

    start = time.perf_counter()
    deadline = None if time_limit is None else start + float(time_limit)
    bounds = tighten_bounds(network, method=bounds_method, time_limit=time_limit)
    lower = [np.array(v, dtype=float) for v in bounds.lower]
    upper = [np.array(v, dtype=float) for v in bounds.upper]
    seen_pos = [np.zeros(w, dtype=bool) for w in network.widths]
    seen_neg = [np.zeros(w, dtype=bool) for w in network.widths]
    from_samples = 0
    if strategy == "single" and not interrupts.requested():  # no sampling after a stop
        xs = _seed_inputs(network, samples, random_state)
        seen_pos, seen_neg = observed_sides(network, xs)
    state = _Search(network, lower, upper, deadline, progress)
    if interrupts.requested():  # Ctrl-C during the bounds: no MILP
        state.stopped = state.interrupted = True
    try:
        for layer in network.relu_layers:
            unstable = (upper[layer] > 0) & (lower[layer] <= 0)
            pos = ~unstable | seen_pos[layer]  # side settled: either known or irrelevant
            neg = ~unstable | seen_neg[layer]
            if strategy == "single":
                from_samples += int((unstable & seen_pos[layer]).sum())
                from_samples += int((unstable & seen_neg[layer]).sum())
            # side s of unit i possible? Undecided sides of unstable units count as
            # possible (safe) until a MILP proves them impossible.
            possible_pos = np.where(unstable, True, upper[layer] > 0)
            possible_neg = np.where(unstable, True, lower[layer] <= 0)
            todo = [(int(i), 1) for i in np.flatnonzero(~pos)]
            todo += [(int(i), -1) for i in np.flatnonzero(~neg)]
            if todo and not state.stopped:
                if strategy == "per-unit":
                    found = state.per_unit(layer, todo)
                else:
                    found = state.single(layer, todo)
                for (i, side), ok in found.items():
                    (possible_pos if side > 0 else possible_neg)[i] = ok
            state.settle(layer, possible_pos, possible_neg)
    except KeyboardInterrupt:
        interrupts.note()
        state.stopped = state.interrupted = True
    active, inactive = _stable_masks(network, state.lower, state.upper)
    return StableUnits(
        active=active,
        inactive=inactive,
        strategy=strategy,
        bounds_method=bounds.method,
        milp_solves=state.solves,
        sides_from_samples=from_samples,
        status=state.status(),
        seconds=time.perf_counter() - start,
        stalled_layers=state.fallbacks,
        message=state.message,
    )


def _stable_units_of_relu_form(network: ReLUNetwork, **options: Any) -> StableUnits:
    """:func:`find_stable_units` of a network with leaky or identity units: the units of
    its plain-ReLU form with the same pre-activations (identity units come out stably
    active: they are linear)."""
    from reluscope.relu_form import relu_form

    plain = find_stable_units(relu_form(network).network, **options)
    widths = network.widths
    return replace(
        plain,
        active=tuple(plain.active[i][: widths[i]] for i in range(network.n_layers)),
        inactive=tuple(plain.inactive[i][: widths[i]] for i in range(network.n_layers)),
    )


def _stable_masks(
    network: ReLUNetwork, lower: list[FloatArray], upper: list[FloatArray]
) -> tuple[tuple[BoolArray, ...], tuple[BoolArray, ...]]:
    """Per layer, the stably active and stably inactive units by the final bounds (none
    in a layer without ReLU; a unit that can be neither sign is inactive)."""
    active, inactive = [], []
    for layer in range(network.n_layers):
        if network.relu[layer]:
            inactive.append(np.asarray(upper[layer] <= 0))
            active.append(np.asarray(lower[layer] > 0) & ~inactive[-1])
        else:
            active.append(np.zeros(network.widths[layer], dtype=bool))
            inactive.append(np.zeros(network.widths[layer], dtype=bool))
    return tuple(active), tuple(inactive)


def observed_sides(network: ReLUNetwork, xs: FloatArray) -> tuple[list[BoolArray], list[BoolArray]]:
    """Per layer, which units some input of ``xs`` shows at ``g >= margin`` / ``g <= -margin``."""
    pos = [np.zeros(w, dtype=bool) for w in network.widths]
    neg = [np.zeros(w, dtype=bool) for w in network.widths]
    for begin in range(0, xs.shape[0], _CHUNK):
        pre = network.preactivations(xs[begin : begin + _CHUNK])
        for layer, g in enumerate(pre):
            g = np.atleast_2d(g)
            pos[layer] |= np.any(g >= STABLE_MARGIN, axis=0)
            neg[layer] |= np.any(g <= -STABLE_MARGIN, axis=0)
    return pos, neg


def _shown_sides(
    network: ReLUNetwork, layer: int, x: FloatArray, keys: list[tuple[int, int]]
) -> list[tuple[int, int]]:
    """The sides among ``keys`` that input ``x`` (clipped to the box) shows exactly.

    On a polytope, ``x`` (a SCIP solution) satisfies the rows within SCIP's tolerance; a
    side it shows is only ever kept as possible, which is safe for compression."""
    x = np.clip(x, network.lower, network.upper)
    g = network.preactivations(x)[layer]
    return [(unit, side) for unit, side in keys if side * g[unit] >= STABLE_MARGIN]


def _seed_inputs(network: ReLUNetwork, samples: ArrayLike | None, random_state: Any) -> FloatArray:
    if samples is None:
        return network.seed_inputs(DEFAULT_SEED_SAMPLES, random_state=random_state)
    xs = np.asarray(samples, dtype=np.float64)
    if xs.ndim != 2 or xs.shape[1] != network.n_inputs:
        raise ReluscopeError(
            f"samples must have shape (n, {network.n_inputs}); got {xs.shape}"
        )
    if network.has_polytope:  # samples outside the polytope show nothing about it
        return xs[network.contains(xs)]
    if np.all(xs.min(axis=0) >= network.lower) and np.all(xs.max(axis=0) <= network.upper):
        return xs
    inside = np.all((xs >= network.lower) & (xs <= network.upper), axis=1)
    return xs[inside]


class _Search:
    """The MILPs of both strategies, sharing the bounds that improve as layers settle."""

    def __init__(
        self,
        network: ReLUNetwork,
        lower: list[FloatArray],
        upper: list[FloatArray],
        deadline: float | None,
        progress: bool,
    ) -> None:
        self.network = network
        self.lower = lower
        self.upper = upper
        self.deadline = deadline
        self.progress = progress
        self.solves = 0
        self.fallbacks = 0
        self.stopped = False
        self.interrupted = False
        self.message = ""

    def status(self) -> Status:
        """How the search ended: a stop by Ctrl-C, a solver failure or a time limit."""
        if self.interrupted:
            return INTERRUPTED
        if self.message:
            return FAILED
        return TIME_LIMIT if self.stopped else COMPLETE

    # ------------------------------------------------------------------ helpers
    def _note_failure(self, solved: ScipOutcome) -> None:
        """Keep SCIP's message when a failure (not a limit) stopped the search."""
        if solved.stop is Stop.FAILED:
            self.message = solved.describe()
            log.warning("%s; the units not yet decided are kept", self.message)
    def settle(self, layer: int, possible_pos: BoolArray, possible_neg: BoolArray) -> None:
        """Record a layer's stable units in the bounds used by the later layers' models.

        A stably inactive unit gets ``upper = 0`` (its ``h`` is fixed at 0), a stably
        active one ``lower = tiny > 0`` (``h = g``, no binary); both within the margin.
        """
        lo, hi = self.lower[layer], self.upper[layer]
        inactive = ~possible_pos
        active = possible_pos & ~possible_neg
        hi[inactive] = np.minimum(hi[inactive], 0.0)
        lo[active] = np.maximum(lo[active], np.nextafter(0.0, 1.0))

    def _bounds(self) -> Bounds:
        return Bounds(
            lower=tuple(self.lower),
            upper=tuple(self.upper),
            biases=self.network.biases,
            method="compress",
        )

    def _remaining(self) -> float | None:
        if self.deadline is None:
            return None
        return self.deadline - time.perf_counter()

    def _set_limits(self, model: Any) -> bool:
        remaining = self._remaining()
        if remaining is not None:
            if remaining <= 0:
                self.stopped = True
                return False
            model.setParam("limits/time", max(remaining, 0.01))
        return True

    def _prefix_model(self, layer: int) -> tuple[Any, list[Any]]:
        """Exact model of layers ``0..layer-1`` and the input vector of ``layer``."""
        from reluscope.milp.model import build_network_model

        nm = build_network_model(self.network, self._bounds(), n_layers=layer)
        prev = nm.x if layer == 0 else nm.h[layer - 1]
        return nm, prev

    def _affine(self, layer: int, unit: int, prev: list[Any]) -> Any:
        from pyscipopt import quicksum

        row = self.network.weights[layer][unit]
        return quicksum(float(row[j]) * prev[j] for j in np.flatnonzero(row))

    # --------------------------------------------------------------- per-unit
    def per_unit(
        self, layer: int, todo: list[tuple[int, int]], *, harvest: bool = False
    ) -> dict[tuple[int, int], bool]:
        """One sign-deciding feasibility MILP per (unit, side).

        With ``harvest``, the input of every solution found is run through an exact
        forward pass and the sides it shows are settled too (skipping their MILPs).
        """
        nm, prev = self._prefix_model(layer)
        model = nm.model
        model.setParam("limits/solutions", 1)
        bias = self.network.biases[layer]
        found: dict[tuple[int, int], bool] = {}
        bar = progress_bar(
            self.progress, total=len(todo), desc=f"layer {layer} per-unit", leave=False
        )
        try:
            for unit, side in sorted(todo):
                if (unit, side) in found:
                    continue
                if self.stopped or not self._set_limits(model):
                    break
                expr = self._affine(layer, unit, prev)
                cons = model.addCons(
                    side * expr >= STABLE_MARGIN - side * float(bias[unit]),
                    name=f"side{unit}_{side}",
                )
                model.setObjective(side * expr, sense="maximize")
                solved = solve(model)
                self.solves += 1
                if solved.returned and model.getNSols() > 0:
                    found[(unit, side)] = True
                    if harvest:
                        xs = best_solution_values(model, nm.x)
                        for key in _shown_sides(self.network, layer, xs, todo):
                            found[key] = True
                elif solved.scip_status == "infeasible":
                    found[(unit, side)] = False
                else:  # time limit, interrupt or failure: undecided, keep the unit
                    self.stopped = True
                    self._note_failure(solved)
                if solved.stop is Stop.INTERRUPTED:  # Ctrl-C, even after a solution
                    self.stopped = self.interrupted = True
                model.freeTransform()
                model.delCons(cons)
                if bar is not None:
                    bar.update(1)
        finally:
            if bar is not None:
                bar.close()
        return found

    # ----------------------------------------------------------------- single
    def single(self, layer: int, todo: list[tuple[int, int]]) -> dict[tuple[int, int], bool]:
        """One MILP for all candidate sides of the layer, with a lazy witness handler."""
        from pyscipopt import SCIP_PARAMSETTING, quicksum

        remaining = self._remaining()
        if remaining is not None and remaining <= 0:
            self.stopped = True
            return {}
        nm, prev = self._prefix_model(layer)
        model = nm.model
        bias = self.network.biases[layer]
        witnesses: dict[tuple[int, int], Any] = {}
        for unit, side in todo:
            expr = self._affine(layer, unit, prev)
            # valid lower bound of side * g over the domain (padded outward)
            low = self.lower[layer][unit] if side > 0 else -self.upper[layer][unit]
            low = float(low) - BOUND_PADDING
            w = model.addVar(f"w{unit}_{side}", vtype="B")
            model.addCons(
                side * (expr + float(bias[unit])) >= STABLE_MARGIN * w + low * (1 - w),
                name=f"witness{unit}_{side}",
            )
            witnesses[(unit, side)] = w
        model.setObjective(quicksum(witnesses.values()), sense="maximize")
        handler = add_lazy_handler(
            model, _WitnessHandler, self.network, layer, nm.x, witnesses,
            name="reluscope_witness", description="records witnessed unit sides and cuts them off",
        )
        self._set_limits(model)
        # root cutting planes on the witness rows stall for seconds (tens of rounds,
        # each shaving little off the bound; measured on MNIST): switch them off
        model.setSeparating(SCIP_PARAMSETTING.OFF)
        model.setParam("limits/nodes", max(SINGLE_NODE_LIMIT, 0))
        solved = solve(model)
        self.solves += 1
        log.debug(
            "single layer %d: %d candidate sides, %d witnessed, status %s, %d nodes, "
            "%.2f s (presolve %.2f s)", layer, len(witnesses), len(handler.witnessed),
            solved.scip_status, model.getNNodes(), model.getSolvingTime(),
            model.getPresolvingTime(),
        )
        if solved.finished:  # the joint proof finished
            return {key: key in handler.witnessed for key in witnesses}
        if solved.stop is not Stop.NODE_LIMIT:  # time limit, interrupt or failure
            self.stopped = True
            self.interrupted = solved.stop is Stop.INTERRUPTED
            self._note_failure(solved)
            return {key: True for key in handler.witnessed}
        # the joint proof stalled: settle the sides not witnessed one by one
        self.fallbacks += 1
        rest = [key for key in witnesses if key not in handler.witnessed]
        found = self.per_unit(layer, rest, harvest=True)
        found.update({key: True for key in handler.witnessed})
        return found


class _WitnessHandler(LazyConstraintHandler):
    """Lazy constraints of ``single``: every proposed solution witnesses sides; record
    them (and the sides an exact forward pass of its ``x`` shows), then forbid them."""

    def __init__(
        self, network: ReLUNetwork, layer: int, x: list[Any], witnesses: dict[tuple[int, int], Any]
    ) -> None:
        self.network = network
        self.layer = layer
        self.x = x
        self.witnesses = witnesses
        self.locked_variables = list(witnesses.values())
        self.witnessed: set[tuple[int, int]] = set()
        self.cut: set[tuple[int, int]] = set()

    def _record(self, solution: Any) -> list[tuple[int, int]]:
        """Sides this solution witnesses (newly or not); records them all."""
        get = self.model.getSolVal
        shown = [key for key, w in self.witnesses.items() if get(solution, w) > BINARY_THRESHOLD]
        xs = np.array([get(solution, v) for v in self.x], dtype=float)
        self.witnessed.update(_shown_sides(self.network, self.layer, xs, list(self.witnesses)))
        self.witnessed.update(shown)
        return shown

    def enforce(self, solinfeasible: bool) -> str:
        from pyscipopt import quicksum

        shown = self._record(None)
        new = [key for key in self.witnessed if key not in self.cut]
        if not shown and not new:
            return "FEASIBLE"
        keys = sorted(set(new) | set(shown))
        self.model.addCons(
            quicksum(self.witnesses[k] for k in keys) <= 0, name="witnessed", removable=False
        )
        self.cut.update(keys)
        return "CONSADDED"

    def check(self, solution: Any, completely: bool) -> str:
        return "INFEASIBLE" if self._record(solution) else "FEASIBLE"

