"""tighten_bounds: the one entry point to the three bounding methods (interval, LP,
MILP), with the argument checks, the time limit of the whole call and the Ctrl-C policy."""

from __future__ import annotations

from reluscope import interrupts, validation
from reluscope.bounds.interval import interval_bounds
from reluscope.bounds.result import Bounds
from reluscope.errors import ReluscopeError
from reluscope.network import ReLUNetwork

BOUNDS_METHODS = ("interval", "lp", "milp")


@interrupts.entry_point
def tighten_bounds(
    network: ReLUNetwork,
    *,
    method: str = "lp",
    time_limit: float | None = None,
    solve_time_limit: float | None = None,
    sign_only: bool = False,
    progress: bool = False,
) -> Bounds:
    """Bounds on every unit's pre-activation over the network's domain.

    Parameters
    ----------
    method
        ``"interval"``, ``"lp"`` or ``"milp"``.
    time_limit
        Seconds for the whole call (``lp``, ``milp``; ``interval`` takes no time). The
        units not bounded by then keep the weaker bounds they had (LP, interval): sound,
        looser.
    solve_time_limit
        For ``milp``: seconds allowed per MILP solve; a solve cut short keeps the
        solver's valid dual bound (still a sound, looser bound).
    sign_only
        For ``milp``: stop each solve once the unit's sign is settled (enough for the
        stability classes; the bounds stay valid but may be looser).
    progress
        Show a progress bar (``lp`` and ``milp``).

    A network with leaky or identity units is bounded through its plain-ReLU form
    (:mod:`reluscope.relu_form`), whose units have the same pre-activations (shifted by
    a constant for identity units).
    """
    time_limit = validation.check_time_limit(time_limit)
    solve_time_limit = validation.check_time_limit(solve_time_limit, "solve_time_limit")
    if solve_time_limit is not None and method != "milp":
        raise ReluscopeError(
            f"solve_time_limit limits MILP solves: it has no effect with method={method!r}; "
            "drop it or use method='milp'"
        )
    if not network.is_plain_relu:  # through the plain-ReLU form: same pre-activations
        from reluscope.relu_form import relu_form

        form = relu_form(network)
        return form.original_bounds(
            tighten_bounds(form.network, method=method, time_limit=time_limit,
                           solve_time_limit=solve_time_limit, sign_only=sign_only,
                           progress=progress)
        )
    if method == "interval":
        return interval_bounds(network)
    if method == "lp":
        from reluscope.bounds.lp import lp_bounds

        return lp_bounds(network, time_limit=time_limit, progress=progress)
    if method == "milp":
        from reluscope.bounds.milp import milp_bounds

        return milp_bounds(
            network, time_limit=time_limit, solve_time_limit=solve_time_limit,
            sign_only=sign_only, progress=progress,
        )
    raise ReluscopeError(f"unknown bounds method {method!r}; choose one of {BOUNDS_METHODS}")


__all__ = ["BOUNDS_METHODS", "tighten_bounds"]
