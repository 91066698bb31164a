r"""Do two networks compute the same function on the domain? By sampling, and by MILP.

Sampling: ``max |f(x) - f'(x)|`` over inputs drawn uniformly from the box (plus any
given inputs), reported absolutely and relative to the output scale
``max |f(x)|`` on the same inputs (1 when that is 0).

MILP proof (small networks): both networks in one SCIP model (paper eqs 1-4 for each,
their inputs tied ``x = x'``); for every output ``k`` two solves, ``max f_k - f'_k``
and ``max f'_k - f_k``, each with SCIP's objective limit at the tolerance
``EQUAL_RTOL * output_scale``: it either proves nothing exceeds the tolerance, or finds
and maximises a larger difference. The result is a proven upper bound on
``max_x |f(x) - f'(x)|`` over the whole box.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from reluscope.errors import ReluscopeError
from reluscope.network import ReLUNetwork
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
    milp_exact
        The bound is the exact maximum (False when the MILP only proved it below the
        tolerance ``EQUAL_RTOL * output_scale``, or was cut short).
    milp_proven
        The MILP proved ``max |f - f'| <= EQUAL_RTOL * output_scale`` (None: not run).
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
    seconds: float = 0.0

    @property
    def equal(self) -> bool:
        """Sampled outputs agree within EQUAL_RTOL (and the MILP did not disprove it)."""
        return self.relative <= EQUAL_RTOL and self.milp_proven is not False

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_samples": self.n_samples,
            "max_abs_diff": self.max_abs_diff,
            "output_scale": self.output_scale,
            "relative": self.relative,
            "milp_max_abs_diff": self.milp_max_abs_diff,
            "milp_exact": self.milp_exact,
            "milp_proven": self.milp_proven,
            "seconds": self.seconds,
        }


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
        batches.append(np.asarray(samples, dtype=np.float64))
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


def milp_difference(
    first: ReLUNetwork,
    second: ReLUNetwork,
    *,
    bounds_method: str = "interval",
    tolerance: float | None = None,
    time_limit: float | None = None,
) -> tuple[float, bool]:
    """Proven upper bound on ``max_x |f(x) - f'(x)|`` over the box, and whether it is exact.

    With ``tolerance``, each solve only has to show that no difference exceeds it (SCIP's
    objective limit prunes every node whose bound is below it, much faster when the
    networks are equal); the bound returned is then ``tolerance`` when that holds, and
    the exact maximum otherwise. ``time_limit`` is for all ``2 * n_outputs`` solves
    together; a solve cut short contributes its dual bound (still a valid upper bound).
    """
    from reluscope.bounds import tighten_bounds
    from reluscope.milp.model import build_network_model, new_scip_model

    _check_compatible(first, second)
    start = time.perf_counter()
    from pyscipopt import SCIP_PARAMSETTING

    model = new_scip_model("equivalence")
    # root cutting planes cost ~10x the whole search on these models (measured): off
    model.setSeparating(SCIP_PARAMSETTING.OFF)
    nm1 = build_network_model(first, tighten_bounds(first, method=bounds_method), model=model)
    nm2 = build_network_model(second, tighten_bounds(second, method=bounds_method), model=model)
    for a, b in zip(nm1.x, nm2.x, strict=True):
        model.addCons(a == b)
    worst, worst_exact, cut_short = 0.0, False, False
    for k in range(first.n_outputs):
        diff = nm1.h[-1][k] - nm2.h[-1][k]
        for sign in (1.0, -1.0):
            if time_limit is not None:
                remaining = time_limit - (time.perf_counter() - start)
                model.setParam("limits/time", max(remaining, 0.01))
            model.setObjective(sign * diff, sense="maximize")
            if tolerance is not None:
                model.setObjlimit(float(tolerance))
            model.optimize()
            status = model.getStatus()
            solved = status == "optimal"
            if solved:
                bound = max(float(model.getObjVal()), float(model.getDualbound()))
            elif status == "infeasible" and tolerance is not None:
                bound = float(tolerance)  # nothing above the objective limit
            elif status == "infeasible":
                raise ReluscopeError("the equivalence MILP is infeasible: the domain is empty")
            else:
                bound = float(model.getDualbound())
                cut_short = True
            if bound > worst or (bound == worst and solved):
                worst, worst_exact = bound, solved
            model.freeTransform()
    return worst, worst_exact and not cut_short


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
    """Compare two networks on sampled inputs and, with ``milp=True``, by MILP."""
    start = time.perf_counter()
    count, diff, scale = sampled_difference(
        first, second, n_samples=n_samples, samples=samples, random_state=random_state
    )
    ref = scale if scale > 0 else 1.0
    milp_bound = milp_exact = proven = None
    if milp:
        milp_bound, milp_exact = milp_difference(
            first,
            second,
            bounds_method=bounds_method,
            tolerance=EQUAL_RTOL * ref,
            time_limit=time_limit,
        )
        proven = milp_bound <= EQUAL_RTOL * ref
    return Equivalence(
        n_samples=count,
        max_abs_diff=diff,
        output_scale=scale,
        relative=diff / ref,
        milp_max_abs_diff=milp_bound,
        milp_exact=milp_exact,
        milp_proven=proven,
        seconds=time.perf_counter() - start,
    )


def _check_compatible(first: ReLUNetwork, second: ReLUNetwork) -> None:
    if first.n_inputs != second.n_inputs or first.n_outputs != second.n_outputs:
        raise ReluscopeError(
            f"cannot compare a network with {first.n_inputs} inputs and {first.n_outputs} "
            f"outputs to one with {second.n_inputs} inputs and {second.n_outputs} outputs"
        )
    same_box = np.array_equal(first.lower, second.lower) and np.array_equal(
        first.upper, second.upper
    )
    if not same_box:
        raise ReluscopeError("the two networks have different input domains; compare on one box")
