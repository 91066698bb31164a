"""Bounds: per-unit pre-activation bounds over the domain and the stability classes.

A unit of a ReLU layer is
- *stably inactive* if ``upper <= 0`` (never positive on the domain),
- *stably active* if ``lower > 0`` (always positive),
- *unstable* otherwise; an unstable unit is *active leaning* if its bias is positive and
  *inactive leaning* otherwise (paper, section 3; valid inequalities (8)-(9)).
Bounds are given for every affine layer, including a final layer without ReLU (the
classification of such a layer is not used).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from reluscope.network import FloatArray, ReLUNetwork
from reluscope.reprs import short_repr

BoolArray = NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class Bounds:
    """Lower/upper bounds on each unit's pre-activation ``g`` over the input domain.

    Attributes
    ----------
    lower, upper
        One array per affine layer of the network.
    biases
        The network's biases (they decide active/inactive leaning).
    method
        ``"interval"``, ``"lp"`` or ``"milp"``.
    seconds
        Wall time spent computing them.
    exact
        True when every bound is the exact optimum (a completed MILP).
    """

    __repr__ = short_repr

    lower: tuple[FloatArray, ...]
    upper: tuple[FloatArray, ...]
    biases: tuple[FloatArray, ...]
    method: str
    seconds: float = 0.0
    exact: bool = False

    @property
    def n_layers(self) -> int:
        return len(self.lower)

    def stably_active(self, layer: int) -> BoolArray:
        return np.asarray(self.lower[layer] > 0)

    def stably_inactive(self, layer: int) -> BoolArray:
        return np.asarray(self.upper[layer] <= 0)

    def unstable(self, layer: int) -> BoolArray:
        return ~(self.stably_active(layer) | self.stably_inactive(layer))

    def active_leaning(self, layer: int) -> BoolArray:
        """Unstable units with positive bias (inequality (9) applies)."""
        return self.unstable(layer) & (self.biases[layer] > 0)

    def inactive_leaning(self, layer: int) -> BoolArray:
        """Unstable units with non-positive bias (inequality (8) applies)."""
        return self.unstable(layer) & (self.biases[layer] <= 0)

    def count_stable(self, network: ReLUNetwork) -> tuple[int, int, int]:
        """Numbers of (stably active, stably inactive, unstable) units over the activation
        layers; identity units (which never split) are in none of the three."""
        active = inactive = splitting = 0
        for i in network.relu_layers:
            splits = network.slopes[i] != 1.0
            active += int((self.stably_active(i) & splits).sum())
            inactive += int((self.stably_inactive(i) & splits).sum())
            splitting += int(splits.sum())
        return active, inactive, splitting - active - inactive

    def to_dict(self, network: ReLUNetwork) -> dict[str, object]:
        """JSON-ready description: bounds and unit classes per ReLU layer (0-based indices)."""
        layers = []
        for i in network.relu_layers:
            splits = network.slopes[i] != 1.0  # identity units are in no class
            entry: dict[str, object] = {
                "layer": i,
                "lower": [float(v) for v in self.lower[i]],
                "upper": [float(v) for v in self.upper[i]],
                "stably_active": np.flatnonzero(self.stably_active(i) & splits).tolist(),
                "stably_inactive": np.flatnonzero(self.stably_inactive(i) & splits).tolist(),
                "unstable": np.flatnonzero(self.unstable(i) & splits).tolist(),
            }
            if not network.is_plain_relu:
                entry["identity"] = np.flatnonzero(~splits).tolist()
            layers.append(entry)
        return {"method": self.method, "layers": layers, "seconds": self.seconds}


def propagate_interval(
    network: ReLUNetwork, lower: FloatArray, upper: FloatArray, layer: int
) -> tuple[FloatArray, FloatArray]:
    """Interval bounds on layer ``layer``'s pre-activations from bounds on its input."""
    w, b = network.weights[layer], network.biases[layer]
    w_pos, w_neg = np.maximum(w, 0.0), np.minimum(w, 0.0)
    return w_pos @ lower + w_neg @ upper + b, w_pos @ upper + w_neg @ lower + b


def post_activation(
    network: ReLUNetwork, g_lower: FloatArray, g_upper: FloatArray, layer: int
) -> tuple[FloatArray, FloatArray]:
    """Bounds on a layer's output ``h`` from bounds on its pre-activation ``g`` (a unit
    with slope ``alpha`` outputs ``g`` for ``g > 0``, else ``alpha g``)."""
    if not network.relu[layer]:
        return g_lower, g_upper
    alpha = network.slopes[layer]
    if not np.any(alpha):
        return np.maximum(g_lower, 0.0), np.maximum(g_upper, 0.0)
    at_lo = np.where(g_lower > 0, g_lower, alpha * g_lower)
    at_hi = np.where(g_upper > 0, g_upper, alpha * g_upper)
    kink = np.where((g_lower < 0) & (g_upper > 0), 0.0, at_lo)  # the value at g = 0
    return (
        np.minimum(np.minimum(at_lo, at_hi), kink),
        np.maximum(np.maximum(at_lo, at_hi), kink),
    )
