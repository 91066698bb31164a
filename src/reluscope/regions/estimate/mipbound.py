r"""MIPBound and MBound: probabilistic lower bounds on the number of linear regions.

Paper Section 4 and Algorithm 1 (Serra & Ramalingam, AAAI 2020). The counting model
(eqs 5-7 with ``f >= REGION_EPS``) has one binary solution per linear region, projected on
the binaries ``z`` of the unstable units. A *repetition* adds random parity constraints
of size ``k`` (:mod:`reluscope.regions.estimate.parity`) until the model is infeasible;
``r`` = the number of constraints added. Because every region survives each constraint
with probability 1/2, independently, ``P(feasible with s constraints) <= |S| / 2^s``.

Counts and probabilities (Algorithm 1, index convention kept as in the paper):

* ``f[j]`` = number of repetitions still feasible after ``j`` constraints, i.e. with
  ``r > j`` (``f[j] += 1`` for ``j < r``); ``f[0]`` counts the feasible repetitions.
* After ``i`` repetitions, for ``j = 0, 1, ...``: ``delta = f[j+1]/i - 1/2``; while
  ``delta > 0``,
  ``P_j = 1 - (e^{2 delta} / (1 + 2 delta)^{1 + 2 delta})^{i/2}`` is the probability that
  ``|S| > 2^j``; stop at the first ``delta <= 0``. This is the Chernoff bound on seeing
  ``f[j+1] > i/2`` feasible trials with ``j + 1`` constraints when ``|S| <= 2^j`` (each
  trial feasible with probability at most 1/2). So ``f[j+1]`` backs ``P_j``, matching the
  paper's text ("feasible with j constraints -> P_{j-1} that |S| > 2^{j-1}").
* The reported bound is the largest ``2^j`` with ``P_j >= confidence`` (0.95, the
  paper's choice). When no ``P_j`` reaches it, the bound is the trivial 1 (every
  network has at least one region; a feasible repetition proves it), with probability 1.
* Repetitions: as in the paper, enough that a probability of ``target_probability``
  (99.5%) is reachable when every trial stays feasible: the smallest ``i`` with
  ``1 - (e/4)^{i/2} >= target`` (28 for 99.5%), capped by ``max_repetitions``.

Engines:

* ``method="mipbound"``: one SCIP solve per repetition. A constraint handler rejects
  every candidate solution: if it violates a parity constraint already drawn, the
  canonical cut of its assignment on that constraint's variables is added; otherwise
  (a genuine solution of the current model) new constraints are drawn until one removes
  it. A drawn constraint of size ``k <= EAGER_MAX_XOR`` enters the model at once as its
  ``2^{k-1}`` canonical cuts (faster, measured); larger ones cut by cut as violated.
  The solve ends infeasible; ``r`` = constraints drawn.
* ``method="mbound"``: the SAT-style baseline. For ``s = 0, 1, 2, ...`` a fresh solve
  of the model with constraints ``C_1..C_s`` (all ``2^{k-1}`` canonical cuts each),
  stopping at the first solution, until infeasible: ``r + 1`` solver calls.

Both draw constraint ``C_s`` of a repetition as the ``s``-th draw of that repetition's
own random stream, independent of the solutions found; ``r`` is then the smallest ``s``
making ``C_1..C_s`` infeasible, a function of the stream alone. So the two engines return
the *same* ``r`` per repetition for the same ``random_state``, and a result does not
depend on SCIP's search path.

Small cases: with fewer unstable units than ``k``, each constraint uses all of them
(size ``n``); with no unstable unit the count is exactly 1 and no solve is made.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from reluscope import interrupts, validation
from reluscope.bounds.result import Bounds
from reluscope.errors import ReluscopeError, SolverError
from reluscope.network import ReLUNetwork
from reluscope.progress import progress_bar
from reluscope.regions.estimate.parity import ParityConstraint, draw_parity
from reluscope.reprs import short_repr
from reluscope.serialise import fields_dict
from reluscope.solvers.scip import (
    BINARY_THRESHOLD,
    LazyConstraintHandler,
    ScipOutcome,
    Stop,
    add_lazy_handler,
    solve,
)
from reluscope.status import COMPLETE, INTERRUPTED, TIME_LIMIT, Status

METHODS = ("mipbound", "mbound")


@dataclass(frozen=True)
class RegionEstimate:
    """A probabilistic lower bound on the number of linear regions (MIPBound / MBound).

    Attributes
    ----------
    lower_bound
        ``2^log2_lower_bound``: the largest ``2^j`` with ``P_j >= confidence``, or the
        trivial bound 1.
    log2_lower_bound
        ``j`` of the reported bound (0 for the trivial bound).
    probability
        ``P_j`` of the reported bound: the probability that the count exceeds ``2^j``
        (1.0 for the trivial bound).
    probabilities
        Every ``P_j`` computed by Algorithm 1, ``{j: P_j}``.
    confidence
        The threshold the reported bound had to reach.
    repetitions
        Completed repetitions ``i`` (a repetition cut short by the time limit is dropped).
    solver_calls
        SCIP solves, all repetitions (one per repetition for ``mipbound``).
    seconds
        Wall time, bounds tightening included.
    status
        ``"complete"``, ``"time_limit"``, ``"interrupted"`` or ``"failed"`` (SCIP failed
        in a repetition, which is dropped; see ``message``).
    f
        ``f[j]`` = repetitions still feasible after ``j`` parity constraints.
    constraints
        ``r`` of each completed repetition (constraints that made the model infeasible).
    xor_size
        Requested parity size ``k`` (``min(k, n_binaries)`` variables are used).
    method
        ``"mipbound"`` or ``"mbound"``.
    n_binaries
        Unstable units, i.e. binaries the parity constraints are drawn on.
    regions_found
        Distinct regions met as solutions during the runs: a proven (deterministic)
        lower bound, often far below ``lower_bound``.
    cuts
        Canonical cuts added, all repetitions.
    message
        Why the run stopped early, in words (empty otherwise).
    """

    __repr__ = short_repr

    lower_bound: int
    log2_lower_bound: int
    probability: float
    probabilities: dict[int, float]
    confidence: float
    repetitions: int
    solver_calls: int
    seconds: float
    status: Status
    f: tuple[int, ...]
    constraints: tuple[int, ...]
    xor_size: int
    method: str
    n_binaries: int
    regions_found: int
    cuts: int = 0
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of every field (probabilities keyed by ``str(j)``)."""
        return fields_dict(self)

    @classmethod
    def from_dict(cls, payload: dict[str, Any]) -> RegionEstimate:
        """The estimate :meth:`to_dict` wrote (JSON keys back to their types)."""
        names = {f.name for f in fields(cls)}
        values = {k: v for k, v in payload.items() if k in names}
        values["probabilities"] = {int(j): p for j, p in values["probabilities"].items()}
        values["f"] = tuple(values["f"])
        values["constraints"] = tuple(values["constraints"])
        values["status"] = Status(values["status"])
        return cls(**values)


# ---------------------------------------------------------------------------------------
# Algorithm 1 statistics (pure functions, no solver)


def chernoff_probability(delta: float, repetitions: int) -> float:
    """``1 - (e^{2 delta} / (1 + 2 delta)^{1 + 2 delta})^{i/2}`` for ``delta > 0``."""
    if delta <= 0:
        raise ReluscopeError(f"delta must be positive, got {delta}")
    beta = 2.0 * delta
    log_term = beta - (1.0 + beta) * math.log1p(beta)
    return 1.0 - math.exp(log_term * repetitions / 2.0)


def feasibility_counts(constraints: list[int] | tuple[int, ...], n: int) -> tuple[int, ...]:
    """``f[0..n]``: ``f[j]`` = repetitions with ``r > j`` (feasible after ``j`` constraints)."""
    r = np.asarray(constraints, dtype=np.int64)
    return tuple(int(np.sum(r > j)) for j in range(n + 1))


def bound_probabilities(f: list[int] | tuple[int, ...], repetitions: int) -> dict[int, float]:
    """Algorithm 1, lines 20-27: ``{j: P_j}`` for ``j`` while ``f[j+1]/i > 1/2``.

    ``P_j`` is the probability that the number of solutions exceeds ``2^j``. ``f`` has
    ``n + 1`` entries (``j = 0..n``); missing entries count as 0.
    """
    probabilities: dict[int, float] = {}
    if repetitions <= 0:
        return probabilities
    for j in range(len(f) - 1):
        delta = f[j + 1] / repetitions - 0.5
        if delta <= 0:
            break
        probabilities[j] = chernoff_probability(delta, repetitions)
    return probabilities


def select_bound(probabilities: dict[int, float], confidence: float) -> tuple[int, float]:
    """``(j, P_j)`` of the largest ``j`` with ``P_j >= confidence``, else ``(0, 1.0)``.

    ``(0, 1.0)`` is the trivial bound ``2^0 = 1`` region, which holds surely.
    """
    best = [j for j, p in probabilities.items() if p >= confidence]
    if not best:
        return 0, 1.0
    j = max(best)
    return j, probabilities[j]


def repetitions_for_target(target_probability: float) -> int:
    """Smallest ``i`` with ``1 - (e/4)^{i/2} >= target``: the paper's stopping rule.

    That is the probability reached when all ``i`` trials stay feasible (delta = 1/2).
    28 for 0.995.
    """
    if not 0.0 < target_probability < 1.0:
        raise ReluscopeError(
            f"target_probability must lie strictly between 0 and 1, got {target_probability}"
        )
    i = 1
    while chernoff_probability(0.5, i) < target_probability:
        i += 1
    return i


# ---------------------------------------------------------------------------------------
# SCIP engines


class _RepetitionOutcome:
    """What one repetition produced (mutable scratch, not part of the API)."""

    def __init__(self) -> None:
        self.r = 0
        self.complete = False
        self.status = COMPLETE
        self.message = ""
        self.solver_calls = 0
        self.cuts = 0
        self.patterns: set[bytes] = set()


class _LazyParityHandler(LazyConstraintHandler):
    """Rejects every candidate; draws parity constraints at genuine solutions."""

    def __init__(self, variables: list[Any], rng: np.random.Generator, k: int,
                 outcome: _RepetitionOutcome, eager: bool) -> None:
        self.variables = self.locked_variables = variables
        self.rng = rng
        self.k = k
        self.outcome = outcome
        self.eager = eager
        self.parities: list[ParityConstraint] = []

    def _assignment(self) -> np.ndarray:
        values = [self.model.getSolVal(None, v) for v in self.variables]
        return np.array(values) > BINARY_THRESHOLD

    def _add(self, cut: Any) -> None:
        from pyscipopt import quicksum

        indices, coefficients, rhs = cut
        self.model.addCons(
            quicksum(float(c) * self.variables[i] for i, c in
                     zip(indices, coefficients, strict=True)) >= rhs,
            name=f"parity{self.outcome.cuts}",
        )
        self.outcome.cuts += 1

    def enforce(self, solinfeasible: bool) -> str:
        assignment = self._assignment()
        for parity in self.parities:
            if not parity.satisfied(assignment):
                self._add(parity.canonical_cut(assignment))
                return "CONSADDED"
        if solinfeasible:
            # not a solution of the model: draw nothing (draws need a genuine solution)
            return "INFEASIBLE"
        self.outcome.patterns.add(assignment.tobytes())
        while True:
            parity = draw_parity(self.rng, len(self.variables), self.k)
            self.parities.append(parity)
            if self.eager:  # the whole constraint now: its 2^(k-1) canonical cuts
                for cut in parity.all_cuts():
                    self._add(cut)
            if not parity.satisfied(assignment):
                if not self.eager:
                    self._add(parity.canonical_cut(assignment))
                return "CONSADDED"

    def check(self, solution: Any, completely: bool) -> str:
        # No solution is ever accepted: each one leads to new constraints removing it.
        return "INFEASIBLE"


def _set_time(model: Any, deadline: float | None) -> bool:
    """Give the solve the time left; False when none is left."""
    if deadline is None:
        return True
    left = deadline - time.perf_counter()
    if left <= 0:
        return False
    model.setParam("limits/time", left)
    return True


def _finish_solve(solved: ScipOutcome, outcome: _RepetitionOutcome) -> bool | None:
    """Feasible (True), infeasible (False), or cut short (None, status recorded)."""
    if solved.scip_status == "infeasible":
        return False
    if solved.stop in (Stop.FINISHED, Stop.SOLUTION_LIMIT):
        return True
    outcome.status = solved.status
    outcome.message = solved.describe() if solved.stop is Stop.FAILED else ""
    return None


#: Up to this XOR size, MIPBound adds all ``2^(k-1)`` canonical cuts of a parity
#: constraint as soon as it is drawn (at most 32 rows); above it, only the cut of each
#: violating assignment, when one shows up. Measured on 784-input networks: adding whole
#: constraints is 1.6x (XOR-3) to 1.9x (XOR-5) faster than cut-by-cut, same results.
EAGER_MAX_XOR = 6


class _MipboundEngine:
    """MIPBound: one SCIP model reused by every repetition, parity constraints in a handler.

    Constraints are drawn only inside the handler, at a solution of the current model;
    with ``eager`` (default for ``k <= EAGER_MAX_XOR``) each drawn constraint enters the
    model at once as its canonical cuts, otherwise cut by cut as violated. The objective
    is dropped (a feasibility problem: no solution is ever accepted; 1.3x faster).
    The model is built once; after each solve ``freeTransform`` drops the cuts added
    during it (they live in the transformed problem), giving back ``F`` for the next
    repetition. Primal heuristics are off: every solution they find is rejected
    without a draw (draws only happen at LP solutions in enforcement), so they are pure
    overhead here. Cutting-plane separation is off too: SCIP's time goes into the dual
    LPs of the tree that proves infeasibility (profiled, docs/bench-mipbound.md), and
    its cuts did not pay for themselves (1.8x slower at XOR-5 on a 784-input network,
    about 3x on tiny ones). Neither setting affects correctness.
    """

    def __init__(self, network: ReLUNetwork, bounds: Bounds, k: int,
                 eager: bool | None = None) -> None:
        from pyscipopt import SCIP_PARAMSETTING

        from reluscope.milp.model import build_network_model

        self.nm = build_network_model(network, bounds, counting=True)
        self.model = self.nm.model
        self.model.setObjective(0)
        self.model.setHeuristics(SCIP_PARAMSETTING.OFF)
        self.model.setSeparating(SCIP_PARAMSETTING.OFF)
        self.variables = [v for _, v in self.nm.binaries]
        self.outcome = _RepetitionOutcome()
        eager = k <= EAGER_MAX_XOR if eager is None else eager
        self.handler = add_lazy_handler(
            self.model, _LazyParityHandler, self.variables, np.random.default_rng(0), k,
            self.outcome, eager,
            name="lazyparity", description="random parity constraints as lazy canonical cuts",
        )

    def run(self, rng: np.random.Generator, deadline: float | None) -> _RepetitionOutcome:
        outcome = _RepetitionOutcome()
        self.handler.outcome = outcome
        self.handler.rng = rng
        self.handler.parities = []
        if not _set_time(self.model, deadline):
            outcome.status = TIME_LIMIT
            return outcome
        try:
            solved = solve(self.model)
            outcome.solver_calls = 1
            feasible = _finish_solve(solved, outcome)
        finally:
            self.model.freeTransform()
        if feasible is None:
            return outcome
        if feasible:
            raise SolverError("SCIP accepted a solution the parity handler rejected; please report")
        outcome.r = len(self.handler.parities)
        outcome.complete = True
        return outcome


class _MboundEngine:
    """MBound baseline: a fresh solve per number of constraints, stopping at a first solution.

    Constraints are static here (all ``2^{k-1}`` canonical cuts of each), added to the
    original problem between solves and deleted at the end of the repetition.
    Objective and separation are off as in MIPBound (same model); primal heuristics stay
    on, since here they find the first solution that ends a feasible solve.
    """

    def __init__(self, network: ReLUNetwork, bounds: Bounds, k: int) -> None:
        from pyscipopt import SCIP_PARAMSETTING

        from reluscope.milp.model import build_network_model

        self.nm = build_network_model(network, bounds, counting=True)
        self.model = self.nm.model
        self.model.setObjective(0)
        self.model.setSeparating(SCIP_PARAMSETTING.OFF)
        self.model.setParam("limits/solutions", 1)  # satisfiability test: stop at a region
        self.variables = [v for _, v in self.nm.binaries]
        self.k = k

    def run(self, rng: np.random.Generator, deadline: float | None) -> _RepetitionOutcome:
        from pyscipopt import quicksum

        outcome = _RepetitionOutcome()
        model, variables = self.model, self.variables
        added: list[Any] = []
        try:
            while True:
                if not _set_time(model, deadline):
                    outcome.status = TIME_LIMIT
                    return outcome
                solved = solve(model)
                outcome.solver_calls += 1
                feasible = _finish_solve(solved, outcome)
                if feasible:
                    sol = model.getBestSol()
                    assignment = np.array([model.getSolVal(sol, v) for v in variables]) > 0.5
                    outcome.patterns.add(assignment.tobytes())
                model.freeTransform()
                if feasible is None:
                    return outcome
                if not feasible:
                    break
                parity = draw_parity(rng, len(variables), self.k)
                for indices, coefficients, rhs in parity.all_cuts():
                    added.append(model.addCons(
                        quicksum(float(c) * variables[i] for i, c in
                                 zip(indices, coefficients, strict=True)) >= rhs,
                        name=f"parity{outcome.cuts}",
                    ))
                    outcome.cuts += 1
                outcome.r += 1
            outcome.complete = True
            return outcome
        finally:
            if model.getStage() != 1:  # not PROBLEM stage: back to the original problem
                model.freeTransform()
            for cons in added:
                model.delCons(cons)


@interrupts.entry_point
def estimate_regions(
    network: ReLUNetwork,
    *,
    xor_size: int = 3,
    confidence: float = 0.95,
    random_state: Any = None,
    time_limit: float | None = None,
    method: str = "mipbound",
    target_probability: float = 0.995,
    max_repetitions: int | None = None,
    bounds: Bounds | None = None,
    bounds_method: str = "lp",
    progress: bool = False,
    previous: RegionEstimate | None = None,
) -> RegionEstimate:
    """Probabilistic lower bound on the number of linear regions (paper Algorithm 1).

    Parameters
    ----------
    xor_size
        Size ``k`` of the parity constraints (the paper's XOR-k, k = 2..5). Larger ``k``
        gives tighter bounds at a higher cost.
    confidence
        Probability the reported bound must reach (0.95 in the paper).
    random_state
        Seed (int, SeedSequence or Generator): same seed, same result. Repetition ``t``
        draws from its own spawned stream.
    time_limit
        Seconds for the whole run (bounds included); when reached, the repetitions
        completed so far give the result (status ``"time_limit"``).
    method
        ``"mipbound"`` (one solve per repetition, lazy parity cuts) or ``"mbound"``
        (one solve per number of constraints, the baseline).
    target_probability
        Run enough repetitions that this probability is reachable (99.5%: 28).
    max_repetitions
        Cap on the repetitions (default: none beyond ``target_probability``'s count).
    bounds, bounds_method
        Pre-activation bounds for the model's constants, or the method computing them.
    progress
        Show a tqdm bar over the repetitions.
    previous
        An estimate of the same network, bounds, ``xor_size``, method and
        ``random_state`` that was cut short (time limit, Ctrl-C): its repetitions are kept
        and the run goes on with the next ones, so the result is the one an uncut run
        gives. ``seconds``, solver calls and cuts add up; ``regions_found`` is the larger
        of the two runs' (the earlier run's regions are not kept).
    """
    method = validation.check_choice(method, METHODS, "estimate method")
    if not 0.0 < confidence < 1.0:
        raise ReluscopeError(f"confidence must lie strictly between 0 and 1, got {confidence}")
    xor_size = validation.check_positive_int(xor_size, "xor_size")
    time_limit = validation.check_time_limit(time_limit)
    random_state = validation.check_seed(random_state)
    target_probability = validation.check_probability(target_probability, "target_probability")
    planned = repetitions_for_target(target_probability)
    if max_repetitions is not None:
        if max_repetitions < 1:
            raise ReluscopeError(f"max_repetitions must be at least 1, got {max_repetitions}")
        planned = min(planned, int(max_repetitions))
    start = time.perf_counter()
    deadline = None if time_limit is None else start + float(time_limit)
    from reluscope.relu_form import require_no_max_pool

    require_no_max_pool(network, "MIPBound")
    network, bounds = _plain_network_and_bounds(network, bounds, bounds_method, time_limit)
    n = sum(int(bounds.unstable(layer).sum()) for layer in network.relu_layers)
    if n == 0:  # one pattern only: the count is exactly 1
        return RegionEstimate(
            lower_bound=1, log2_lower_bound=0, probability=1.0, probabilities={},
            confidence=confidence, repetitions=0, solver_calls=0,
            seconds=time.perf_counter() - start, status=COMPLETE, f=(), constraints=(),
            xor_size=xor_size, method=method, n_binaries=0, regions_found=1,
        )
    validation.check_xor_size(xor_size, n)

    rs: list[int] = []
    solver_calls = cuts = found = 0
    spent = 0.0
    if previous is not None:
        _check_previous(previous, xor_size, method, n)
        rs = list(previous.constraints)[:planned]
        solver_calls, cuts, found = previous.solver_calls, previous.cuts, previous.regions_found
        spent = previous.seconds
    engine = (_MipboundEngine if method == "mipbound" else _MboundEngine)(
        network, bounds, xor_size
    )
    # repetition t draws from child t of the seed, however many runs it takes to reach it
    streams = validation.seed_sequence(random_state).spawn(planned)[len(rs):]
    patterns: set[bytes] = set()
    bar = progress_bar(progress, total=planned, initial=len(rs),
                       desc=f"{method} XOR-{xor_size}", unit="rep")
    try:
        calls, more_cuts, status, message = _repeat(engine, streams, deadline, rs, patterns, bar)
    finally:
        if bar is not None:
            bar.close()
    solver_calls += calls
    cuts += more_cuts

    i = len(rs)
    f = feasibility_counts(rs, n)
    probabilities = bound_probabilities(f, i)
    j, probability = select_bound(probabilities, confidence)
    return RegionEstimate(
        lower_bound=2**j, log2_lower_bound=j, probability=probability,
        probabilities=probabilities, confidence=confidence, repetitions=i,
        solver_calls=solver_calls, seconds=spent + time.perf_counter() - start,
        status=status, f=f, constraints=tuple(rs), xor_size=xor_size, method=method,
        n_binaries=n, regions_found=max(len(patterns), found, 1 if i else 0), cuts=cuts,
        message=message,
    )


def _plain_network_and_bounds(
    network: ReLUNetwork, bounds: Bounds | None, bounds_method: str, time_limit: float | None
) -> tuple[ReLUNetwork, Bounds]:
    """The network in plain-ReLU form (leaky or identity units: same regions) and its
    bounds, computed within ``time_limit`` when not given."""
    from reluscope.relu_form import relu_form

    if not network.is_plain_relu:
        form = relu_form(network)
        network = form.network
        if bounds is not None:
            bounds = form.plain_bounds(bounds)
    if bounds is None:
        from reluscope.bounds import tighten_bounds

        bounds = tighten_bounds(network, method=bounds_method, time_limit=time_limit)
    return network, bounds


def _repeat(
    engine: Any, streams: list[Any], deadline: float | None, rs: list[int],
    patterns: set[bytes], bar: Any,
) -> tuple[int, int, Status, str]:
    """Run one repetition per random stream until all are done or one stops: each
    finished repetition's ``r`` goes to ``rs``, every pattern met to ``patterns``.
    Returns the solver calls and cuts spent, the status and the reason for a stop."""
    solver_calls = cuts = 0
    try:
        for stream in streams:
            if interrupts.requested():  # e.g. Ctrl-C during the bounds: stop the call
                return solver_calls, cuts, INTERRUPTED, ""
            outcome = engine.run(np.random.default_rng(stream), deadline)
            solver_calls += outcome.solver_calls
            cuts += outcome.cuts
            patterns |= outcome.patterns
            if not outcome.complete:
                return solver_calls, cuts, outcome.status, outcome.message
            rs.append(outcome.r)
            if bar is not None:
                bar.update(1)
    except KeyboardInterrupt:
        interrupts.note()
        return solver_calls, cuts, INTERRUPTED, ""
    return solver_calls, cuts, COMPLETE, ""


def _check_previous(previous: RegionEstimate, xor_size: int, method: str, n: int) -> None:
    """``previous`` must be an estimate of the same kind on the same model to continue it."""
    theirs = (previous.xor_size, previous.method, previous.n_binaries)
    if theirs != (xor_size, method, n):
        raise ReluscopeError(
            f"cannot continue an estimate with XOR-{previous.xor_size}, {previous.method}, "
            f"{previous.n_binaries} unstable units as XOR-{xor_size}, {method}, {n} "
            "unstable units; pass the same network, bounds and settings"
        )


__all__ = [
    "METHODS",
    "RegionEstimate",
    "bound_probabilities",
    "chernoff_probability",
    "estimate_regions",
    "feasibility_counts",
    "repetitions_for_target",
    "select_bound",
]
