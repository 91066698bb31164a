r"""Do two networks compute the same function on the domain? By sampling, and by MILP.

Sampling: ``max |f(x) - f'(x)|`` over inputs drawn uniformly from the domain (plus any
given inputs that lie in it), reported absolutely and relative to the output scale
``max |f(x)|`` on the same inputs (1 when that is 0). On a polytope domain the draws
come from :meth:`ReLUNetwork.seed_inputs` (rejection, then hit-and-run); a flat polytope
(no interior) cannot be sampled, and is compared at its Chebyshev center alone (the
count of inputs compared says so) -- the MILP proof covers it in full.

MILP proof (small networks): both networks in one SCIP model (paper eqs 1-4 for each,
their inputs tied ``x = x'``); for every output ``k`` two solves, ``max f_k - f'_k``
and ``max f'_k - f_k``, each with SCIP's objective limit at the tolerance
``EQUAL_RTOL * output_scale``: it either proves nothing exceeds the tolerance, or finds
and maximises a larger difference. The result is a proven upper bound on
``max_x |f(x) - f'(x)|`` over the whole domain (box and polytope rows), and a status:
proven equal, a difference found (an input, checked by forward passes, where the outputs
differ by more than the tolerance), or not proven (time limit, Ctrl-C: the bound is then
only an upper bound).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from reluscope import interrupts
from reluscope.errors import ReluscopeError
from reluscope.network import ReLUNetwork
from reluscope.serialise import fields_dict
from reluscope.solvers.scip import (
    ScipOutcome,
    Stop,
    best_solution_values,
    new_scip_model,
    solve,
)
from reluscope.status import COMPLETE, FAILED, INTERRUPTED, TIME_LIMIT, Status
from reluscope.tolerances import EQUAL_RTOL

_CHUNK = 4096


@dataclass(frozen=True)
class Equivalence:
    """Outcome of comparing two networks.

    Attributes
    ----------
    n_samples
        Inputs compared.
    max_abs_diff, output_scale, relative
        Largest absolute output difference on them, ``max |f(x)|`` there, and their ratio.
    milp_max_abs_diff
        Proven upper bound on ``max |f - f'|`` over the whole domain (None: not run).
        Equal to the tolerance when the MILP proved nothing exceeds it; SCIP's dual
        bound (or the output bounds) when a time limit or Ctrl-C cut it short.
    milp_exact
        Every MILP solve finished (False when cut short).
    milp_proven
        True: the MILP proved ``max |f - f'| <= EQUAL_RTOL * output_scale``; False: it
        found an input where the outputs differ by more (a checked counterexample);
        None: not run, or not proven either way (time limit, Ctrl-C).
    milp_status
        The MILP's verdict (:attr:`MilpDifference.verdict`): ``"proven"``,
        ``"difference found"``, ``"time_limit"``, ``"interrupted"`` or ``"failed"``;
        None when the MILP was not run.
    milp_found_diff
        Largest difference on an input found by the MILP, checked by forward passes.
    seconds
        Wall time of both checks.
    """

    n_samples: int
    max_abs_diff: float
    output_scale: float
    relative: float
    milp_max_abs_diff: float | None = None
    milp_exact: bool | None = None
    milp_proven: bool | None = None
    milp_status: str | None = None
    milp_found_diff: float | None = None
    seconds: float = 0.0

    @property
    def equal(self) -> bool:
        """Sampled outputs agree within EQUAL_RTOL (and the MILP did not disprove it)."""
        return self.relative <= EQUAL_RTOL and self.milp_proven is not False

    def to_dict(self) -> dict[str, Any]:
        return fields_dict(self)


def sampled_difference(
    first: ReLUNetwork,
    second: ReLUNetwork,
    *,
    n_samples: int = 100_000,
    samples: ArrayLike | None = None,
    random_state: Any = None,
) -> tuple[int, float, float]:
    """(number of inputs, max |f - f'|, max |f|) on uniform draws plus ``samples``."""
    _check_compatible(first, second)
    rng = np.random.default_rng(random_state)
    count, diff, scale = 0, 0.0, 0.0
    batches: list[Any] = []
    if samples is not None:
        given = np.asarray(samples, dtype=np.float64)
        if first.has_polytope:  # the networks need agree on the domain only
            given = given[np.atleast_1d(first.contains(np.atleast_2d(given)))]
        batches.append(given)
    if first.has_polytope:
        if n_samples:
            batches.append(first.seed_inputs(n_samples, random_state=rng))
    else:
        for begin in range(0, n_samples, _CHUNK):
            size = min(_CHUNK, n_samples - begin)
            width = first.upper - first.lower
            batches.append(first.lower + rng.random((size, first.n_inputs)) * width)
    for batch in batches:
        for begin in range(0, batch.shape[0], _CHUNK):
            xs = batch[begin : begin + _CHUNK]
            a, b = first.forward(xs), second.forward(xs)
            diff = max(diff, float(np.max(np.abs(a - b), initial=0.0)))
            scale = max(scale, float(np.max(np.abs(a), initial=0.0)))
            count += xs.shape[0]
    return count, diff, scale


@dataclass(frozen=True)
class MilpDifference:
    """Outcome of the MILP comparison of two networks over the whole box.

    Attributes
    ----------
    bound
        Proven upper bound on ``max_x |f(x) - f'(x)|`` (SCIP's dual bound for a solve
        cut short, the output bounds for a solve never run).
    found
        Largest difference attained by an input SCIP found, checked by an exact forward
        pass of both networks (a real counterexample when above the tolerance; 0 when
        none was found).
    exact
        Every solve finished: ``bound`` is the exact maximum, or (with a tolerance)
        nothing exceeds it.
    proven
        True: nothing exceeds the tolerance (proven equal); False: an input shows a
        difference above it; None: neither (see :attr:`verdict`).
    status
        How the comparison ended: ``complete`` (every solve finished),
        ``time_limit``, ``interrupted`` or ``failed``.
    message
        SCIP's message when it failed.
    """

    bound: float
    found: float
    exact: bool
    proven: bool | None
    status: Status
    solves: int = 0
    message: str = ""

    @property
    def verdict(self) -> str:
        """One of :data:`MILP_VERDICTS`: ``"proven"``, ``"difference found"``, or, when
        neither, how the comparison ended. A run that finished and still shows neither
        (the MILP's bound above the tolerance, no input confirming it by forward pass)
        reads ``"time_limit"``: not proven, as after a time limit."""
        if self.proven is not None:
            return "proven" if self.proven else "difference found"
        return str(TIME_LIMIT if self.status is COMPLETE else self.status)


#: The words :attr:`MilpDifference.verdict` (and ``Equivalence.milp_status``) take.
MILP_VERDICTS = ("proven", "difference found", TIME_LIMIT, INTERRUPTED, FAILED)


def milp_difference(
    first: ReLUNetwork,
    second: ReLUNetwork,
    *,
    bounds_method: str = "interval",
    tolerance: float | None = None,
    time_limit: float | None = None,
) -> MilpDifference:
    """Compare ``f`` and ``f'`` over the whole domain by MILP (two solves per output).

    With ``tolerance``, each solve only has to show that no difference exceeds it (SCIP's
    objective limit prunes every node whose bound is below it, much faster when the
    networks are equal); a solve that shows this contributes ``tolerance`` to the bound,
    one that finds more maximises it. Without, every solve maximises. ``time_limit`` is
    for the whole call: the two networks' bounds, then all ``2 * n_outputs`` solves
    together, shared out so that each remaining solve gets an equal part of what is left.
    A time limit or Ctrl-C stops the comparison: the result says what was proven (status
    ``"time_limit"`` / ``"interrupted"``), never that the networks differ unless an input
    shows it.
    """
    from reluscope.bounds import tighten_bounds

    _check_compatible(first, second)
    if time_limit is not None and not time_limit >= 0:
        raise ReluscopeError(f"time_limit must be >= 0 seconds, got {time_limit}")
    start = time.perf_counter()
    tol = 0.0 if tolerance is None else float(tolerance)
    b1 = tighten_bounds(first, method=bounds_method, time_limit=time_limit)
    left = None if time_limit is None else max(0.0, time_limit - (time.perf_counter() - start))
    b2 = tighten_bounds(second, method=bounds_method, time_limit=left)
    # valid bounds on f_k - f'_k for the solves never run (from the output bounds)
    lo1, hi1 = _output_range(first, b1)
    lo2, hi2 = _output_range(second, b2)
    model, nm1, nm2 = _joint_model(first, second, b1, b2)
    jobs = [(k, sign) for k in range(first.n_outputs) for sign in (1.0, -1.0)]
    bounds = {
        (k, sign): float(hi1[k] - lo2[k]) if sign > 0 else float(hi2[k] - lo1[k])
        for k, sign in jobs
    }
    stopped: Status | None = None
    found, finished, solves, failure = 0.0, True, 0, ""
    try:
        for index, (k, sign) in enumerate(jobs):
            if time_limit is not None:
                remaining = time_limit - (time.perf_counter() - start)
                if remaining <= 0:
                    stopped = TIME_LIMIT
                    break
                model.setParam("limits/time", max(remaining / (len(jobs) - index), 0.01))
            diff = nm1.h[-1][k] - nm2.h[-1][k]
            model.setObjective(sign * diff, sense="maximize")
            if tolerance is not None:
                model.setObjlimit(tol)
            solved = solve(model)
            solves += 1
            if solved.returned and model.getNSols() > 0:
                x = best_solution_values(model, nm1.x)
                found = max(found, _forward_difference(first, second, x))
            bound, solve_done, message = _solve_bound(
                solved, model, None if tolerance is None else tol, bounds[(k, sign)]
            )
            finished = finished and solve_done
            if message is not None:
                failure = message
            bounds[(k, sign)] = min(bounds[(k, sign)], max(bound, tol))
            model.freeTransform()
            if solved.stop in (Stop.INTERRUPTED, Stop.FAILED):
                stopped = solved.status
                break
            if not solved.finished and bound > tol:
                stopped = TIME_LIMIT
    except KeyboardInterrupt:
        interrupts.note()
        stopped = INTERRUPTED
    done = solves == len(jobs) and finished and stopped is None
    worst = max(max(bounds.values()), 0.0)
    proven = None
    if found > tol:
        proven = False
    elif worst <= tol:
        proven = True  # every solve showed nothing above the tolerance
    status = stopped or (COMPLETE if done else TIME_LIMIT)
    return MilpDifference(
        bound=worst, found=found, exact=done, proven=proven, status=status, solves=solves,
        message=failure,
    )


def _joint_model(first: ReLUNetwork, second: ReLUNetwork, b1: Any, b2: Any) -> tuple[Any, Any, Any]:
    """Both networks in one SCIP model (bounds ``b1``, ``b2``), their inputs tied."""
    from pyscipopt import SCIP_PARAMSETTING

    from reluscope.milp.model import build_network_model

    model = new_scip_model("equivalence")
    # root cutting planes cost ~10x the whole search on these models (measured): off
    model.setSeparating(SCIP_PARAMSETTING.OFF)
    nm1 = build_network_model(first, b1, model=model)
    nm2 = build_network_model(second, b2, model=model)
    for a, b in zip(nm1.x, nm2.x, strict=True):
        model.addCons(a == b)
    return model, nm1, nm2


def _solve_bound(
    solved: ScipOutcome, model: Any, tol: float | None, fallback: float
) -> tuple[float, bool, str | None]:
    """What one solve of :func:`milp_difference` proved: an upper bound on its
    difference (``fallback``, from the output bounds, for a solve that returned
    nothing), whether the solve finished, and SCIP's message when it failed (None: the
    message so far stands). ``tol``: the objective limit, if one was set."""
    if solved.scip_status == "optimal" and tol is not None and (
            model.getNSols() == 0 or float(model.getObjVal()) <= tol):
        # the search closed at the objective limit with nothing above it (SCIP then
        # reports the limit as its dual bound, with round-off of ~1e-15 from its
        # transformed objective: seen as "not proven" before)
        return tol, True, None
    if solved.scip_status == "optimal":
        return max(float(model.getObjVal()), float(model.getDualbound())), True, None
    if solved.scip_status == "infeasible" and tol is not None:
        return tol, True, None  # nothing above the objective limit
    if solved.scip_status == "infeasible":
        raise ReluscopeError("the equivalence MILP is infeasible: the domain is empty")
    if not solved.returned:  # keep the output-bound estimate
        return fallback, False, solved.describe() if solved.stop is Stop.FAILED else ""
    # time limit, Ctrl-C: the dual bound is still valid
    return float(model.getDualbound()), False, None


@interrupts.entry_point
def check_equivalence(
    first: ReLUNetwork,
    second: ReLUNetwork,
    *,
    n_samples: int = 100_000,
    samples: ArrayLike | None = None,
    milp: bool = False,
    bounds_method: str = "interval",
    time_limit: float | None = None,
    random_state: Any = None,
) -> Equivalence:
    """Compare two networks on sampled inputs and, with ``milp=True``, by MILP.

    ``time_limit`` bounds the MILP comparison (see :func:`milp_difference`).
    """
    if not isinstance(n_samples, (int, np.integer)) or n_samples < 0:
        raise ReluscopeError(f"n_samples must be a non-negative integer, got {n_samples!r}")
    if time_limit is not None and not time_limit >= 0:
        raise ReluscopeError(f"time_limit must be >= 0 seconds, got {time_limit}")
    start = time.perf_counter()
    count, diff, scale = sampled_difference(
        first, second, n_samples=n_samples, samples=samples, random_state=random_state
    )
    if count == 0:
        raise ReluscopeError(
            "no input to compare the networks on: give n_samples >= 1 or some samples"
        )
    ref = scale if scale > 0 else 1.0
    result = None
    if milp:
        from reluscope.relu_form import relu_form

        # leaky/identity units: the plain-ReLU forms have the same outputs on the domain
        result = milp_difference(
            relu_form(first).network,
            relu_form(second).network,
            bounds_method=bounds_method,
            tolerance=EQUAL_RTOL * ref,
            time_limit=time_limit,
        )
    return Equivalence(
        n_samples=count,
        max_abs_diff=diff,
        output_scale=scale,
        relative=diff / ref,
        milp_max_abs_diff=None if result is None else result.bound,
        milp_exact=None if result is None else result.exact,
        milp_proven=None if result is None else result.proven,
        milp_status=None if result is None else result.verdict,
        milp_found_diff=None if result is None else result.found,
        seconds=time.perf_counter() - start,
    )


def _output_range(network: ReLUNetwork, bounds: Any) -> tuple[np.ndarray, np.ndarray]:
    """Valid bounds on each output over the box (after the output ReLU, if any)."""
    lo = np.asarray(bounds.lower[-1], dtype=float)
    hi = np.asarray(bounds.upper[-1], dtype=float)
    if network.relu[-1]:
        lo, hi = np.maximum(lo, 0.0), np.maximum(hi, 0.0)
    return lo, hi


def _forward_difference(first: ReLUNetwork, second: ReLUNetwork, x: np.ndarray) -> float:
    """``max_k |f_k(x) - f'_k(x)|`` by exact forward passes (x clipped to the box; on a
    polytope, SCIP's point satisfies the rows within its feasibility tolerance)."""
    x = np.clip(x, first.lower, first.upper)[None, :]
    return float(np.max(np.abs(first.forward(x) - second.forward(x)), initial=0.0))


def _check_compatible(first: ReLUNetwork, second: ReLUNetwork) -> None:
    if first.n_inputs != second.n_inputs or first.n_outputs != second.n_outputs:
        raise ReluscopeError(
            f"cannot compare a network with {first.n_inputs} inputs and {first.n_outputs} "
            f"outputs to one with {second.n_inputs} inputs and {second.n_outputs} outputs"
        )
    same_box = (
        np.array_equal(first.lower, second.lower)
        and np.array_equal(first.upper, second.upper)
        and np.array_equal(first.domain_A, second.domain_A)
        and np.array_equal(first.domain_b, second.domain_b)
    )
    if not same_box:
        raise ReluscopeError(
            "the two networks have different input domains; compare on one domain"
        )
