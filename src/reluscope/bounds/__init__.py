"""Bounds on pre-activations over the input domain, and the stable units they prove.

Three methods, cheapest and weakest first: ``interval`` (interval arithmetic), ``lp``
(LP relaxation of the big-M model, layer by layer, HiGHS) and ``milp`` (one MILP per
direction per unit, SCIP). Each returns a :class:`Bounds`; stronger methods give
tighter bounds: milp within lp within interval.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reluscope.lazy import lazy_getattr

if TYPE_CHECKING:  # the names below, for type checkers; at run time imported on first use
    from reluscope.bounds.interval import interval_bounds
    from reluscope.bounds.result import Bounds
    from reluscope.bounds.tighten import BOUNDS_METHODS, tighten_bounds

# public name -> module defining it, imported on first use: the result type can be
# imported (say by the MILP model, which the MILP bounds use) without running this
# package's entry point, so bounds and milp do not import each other
_LAZY = {
    "BOUNDS_METHODS": "reluscope.bounds.tighten",
    "tighten_bounds": "reluscope.bounds.tighten",
    "Bounds": "reluscope.bounds.result",
    "interval_bounds": "reluscope.bounds.interval",
}


__getattr__ = lazy_getattr(__name__, _LAZY)


__all__ = ["BOUNDS_METHODS", "Bounds", "interval_bounds", "tighten_bounds"]
