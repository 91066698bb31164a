"""Interval arithmetic bounds: the cheapest method, exact for the first layer on a box.

On a polytope domain the network's box is the polytope's bounding box, so these bounds
are valid (the domain lies in the box) but no longer exact for the first layer.
"""

from __future__ import annotations

import time

from reluscope.bounds.result import Bounds, post_activation, propagate_interval
from reluscope.network import ReLUNetwork


def interval_bounds(network: ReLUNetwork) -> Bounds:
    """Bounds on every pre-activation by propagating the input box layer by layer."""
    start = time.perf_counter()
    lowers, uppers = [], []
    h_lo, h_hi = network.lower, network.upper
    for layer in range(network.n_layers):
        g_lo, g_hi = propagate_interval(network, h_lo, h_hi, layer)
        lowers.append(g_lo)
        uppers.append(g_hi)
        h_lo, h_hi = post_activation(network, g_lo, g_hi, layer)
    return Bounds(
        lower=tuple(lowers),
        upper=tuple(uppers),
        biases=network.biases,
        method="interval",
        seconds=time.perf_counter() - start,
        exact=network.n_layers == 1 and not network.has_polytope,
    )
