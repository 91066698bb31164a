r"""Networks built to reach a bound: 1-D zig-zag networks with ``prod_l (n_l + 1)`` regions.

With one input, the Configuration UB is ``prod_l (n_l + 1)`` (for ``n_l >= 2`` in the
hidden layers), and Serra, Tjandraatmadja & Ramalingam (ICML 2018) show it is reached
when ``n_l >= 3``. :func:`zigzag_network` builds such a network on ``x in [0, 1]``.

Construction of one layer with ``n >= 3`` units acting on a scalar ``z in [0, 1]``:
breakpoints ``t_m = lam/2 + (m - 1) lam`` (``m = 1..n``, ``lam = 1 / (n + 1/2)``) cut
``[0, 1]`` into ``n + 1`` pieces, the first of length ``lam/2`` and the others ``lam``.
Unit ``m`` is ``max(0, z - t_m)`` ("rightward") except unit 3, ``max(0, t_3 - z)``
("leftward"). Every piece then has at least one active unit and the ``n + 1`` pieces
have distinct patterns. The layer's output combination
``y = c + sum_m a_m h_m`` is the zig-zag rising from 0 to 1 on piece 0, falling to 0 on
piece 1, and so on: its slope on piece ``p`` must be ``s_p = (-1)^p / len_p``; crossing
``t_m`` changes the slope by ``a_m`` whatever the unit's direction, so
``a_m = s_m - s_{m-1}``, and the leftward unit forces ``s_0 = -a_3 = |s_2| + |s_3|``,
which holds because the first piece is half as long. (With the leftward unit first, or
with ``n <= 2``, some piece is flat and the composition collapses; hence ``n >= 3``.)

Layer ``l + 1`` applies the same construction to ``z = y^l``, an affine function of
``h^l``: its weights are the rank-one ``dir (a^l)^T``. Each piece of the layers so far is
mapped onto all of ``[0, 1]`` (every region keeps dimension one), so layer ``l + 1``
splits it into ``n_{l+1} + 1`` pieces with new patterns: ``prod_l (n_l + 1)`` in all.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from reluscope.errors import NetworkError
from reluscope.network import ReLUNetwork

#: Index (0-based) of the leftward unit of each zig-zag layer (the paper's "one unit per
#: layer oriented leftward"); it must be the third breakpoint for the slopes to close.
LEFTWARD_UNIT = 2


def _zigzag_layer(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Directions, breakpoints, output weights ``a`` and offset ``c`` of one layer."""
    lam = 1.0 / (n + 0.5)
    lengths = np.array([lam / 2] + [lam] * n)
    breaks = np.cumsum(lengths)[:-1]  # t_1..t_n
    slopes = np.array([(-1.0) ** p / lengths[p] for p in range(n + 1)])
    a = slopes[1:] - slopes[:-1]
    direction = np.ones(n)
    direction[LEFTWARD_UNIT] = -1.0
    # y(0) = 0: at z = 0 only the leftward unit is active, with h = t_3
    c = -a[LEFTWARD_UNIT] * breaks[LEFTWARD_UNIT]
    return direction, breaks, a, float(c)


def zigzag_network(widths: Sequence[int], *, output_relu: bool = True) -> ReLUNetwork:
    """A 1-input network on ``[0, 1]`` with exactly ``prod_l (n_l + 1)`` linear regions.

    Parameters
    ----------
    widths
        ``n_1, ..., n_L``, each at least 3.
    output_relu
        ReLU on the last layer too (the paper's setting). Without it the last layer
        has no units and the count is ``prod`` over the other layers.

    Returns
    -------
    ReLUNetwork
        Every region is an interval of positive length (dimension one).
    """
    ws = [int(w) for w in widths]
    if not ws or any(w < 3 for w in ws):
        raise NetworkError(
            f"the zig-zag construction needs at least one layer and widths >= 3; got {ws}"
        )
    weights, biases = [], []
    prev_a, prev_c = np.ones(1), 0.0  # z = x for the first layer
    for n in ws:
        direction, breaks, a, c = _zigzag_layer(n)
        # g_m = dir_m * (z - t_m), z = prev_a . h + prev_c
        weights.append(np.outer(direction, prev_a))
        biases.append(direction * (prev_c - breaks))
        prev_a, prev_c = a, c
    relu = [True] * (len(ws) - 1) + [bool(output_relu)]
    return ReLUNetwork(weights, biases, relu=relu, lower=0.0, upper=1.0)


def zigzag_regions(widths: Sequence[int], *, output_relu: bool = True) -> int:
    """The number of regions of :func:`zigzag_network`: ``prod_l (n_l + 1)``."""
    ws = [int(w) for w in widths]
    counted = ws if output_relu else ws[:-1]
    total = 1
    for n in counted:
        total *= n + 1
    return total
