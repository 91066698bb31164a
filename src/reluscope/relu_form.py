r"""The plain-ReLU form of a network with leaky and identity units: same regions and outputs.

Every analysis of reluscope (counting engines, bounds, MIPBound, upper bounds, slices)
is written for ReLU units. A network with leaky or identity units is analysed through
an exactly equivalent plain ReLU network, built here, with the same outputs on the
domain and a bijection between their counted patterns:

- a **ReLU** unit ``k`` stays as it is;
- an **identity** unit ``h_k = g_k`` becomes the *carried* ReLU unit
  ``y_k = relu(g_k + s_k)`` with ``s_k = max(0, 1 - l_k)``, ``l_k`` a valid lower bound
  of ``g_k`` on the domain (interval arithmetic): ``g_k + s_k >= 1`` everywhere, so the
  unit is stably active (always on its active side, ``g >= 1 > REGION_EPS``) and
  ``h_k = y_k - s_k`` exactly;
- a **leaky** unit, ``h_k = alpha g_k`` on its inactive side, uses
  ``leaky(g) = (1 - alpha) relu(g) + alpha g``: the ReLU unit ``y_k = relu(g_k)`` (same
  pre-activation, so the same two sides and the same region definition) and a carried
  unit for ``alpha g_k``, appended after the layer's units;
- the next layer reads ``h = M y + d`` (the maps above), so its weights become
  ``W M`` and its bias ``b + W d``; when the last layer itself has activations and
  non-ReLU units, a final linear layer ``(M, d)`` restores the outputs.

The counted patterns correspond one to one: a carried unit is active in every region
(its pre-activation is ``>= 1`` on the whole domain), and every other unit ``k`` has the
original's pre-activation ``g_k(x)`` for every ``x`` once the patterns agree. So the two
networks have the same number of regions, and a pattern of the original is the plain
network's pattern restricted to its first ``n_l`` units of each layer (an identity unit's
bit is 1, as :meth:`ReLUNetwork.activation_patterns` reports it). Bounds computed on the
plain network give the original's by subtracting the shifts ``s_k``. The theorems about
ReLU networks (upper bounds included) apply to the plain network, hence to the original.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from reluscope.network import FloatArray, ReLUNetwork
from reluscope.tolerances import BOUND_PADDING

if TYPE_CHECKING:
    from reluscope.bounds.result import Bounds


@dataclass(frozen=True, eq=False)
class ReluForm:
    """A network's plain-ReLU form and how to map its results back.

    Attributes
    ----------
    original, network
        The network given, and its plain ReLU form (the same object when ``original``
        is already a plain ReLU network).
    shifts
        Per layer of ``original``, the shift ``s_k`` added to each neuron's pre-activation
        in the plain network (non-zero only for identity units).
    extra, extra_shifts
        Per layer, the leaky units whose carried unit is appended after the layer's
        units (in this order), and the shifts of those carried units.
    """

    original: ReLUNetwork
    network: ReLUNetwork
    shifts: tuple[FloatArray, ...]
    extra: tuple[NDArray[np.int64], ...] = ()
    extra_shifts: tuple[FloatArray, ...] = ()

    @property
    def is_identity(self) -> bool:
        """Whether nothing was changed (the original is a plain ReLU network)."""
        return self.network is self.original

    def unit_columns(self) -> NDArray[np.int64]:
        """Indices of the original's units among the plain network's units: a pattern of
        the original is ``plain_pattern[..., unit_columns()]``."""
        cols: list[int] = []
        start = 0
        for layer in self.network.relu_layers:
            if layer < self.original.n_layers and self.original.relu[layer]:
                cols.extend(range(start, start + self.original.widths[layer]))
            start += self.network.widths[layer]
        return np.asarray(cols, dtype=np.int64)

    def original_bounds(self, bounds: Bounds) -> Bounds:
        """Bounds of the original network from bounds of the plain one."""
        if self.is_identity:
            return bounds
        n = self.original.n_layers
        lower = tuple(bounds.lower[i][: w] - s for i, (w, s) in
                      enumerate(zip(self.original.widths, self.shifts, strict=True)))
        upper = tuple(bounds.upper[i][: w] - s for i, (w, s) in
                      enumerate(zip(self.original.widths, self.shifts, strict=True)))
        return replace(bounds, lower=lower[:n], upper=upper[:n], biases=self.original.biases)

    def plain_bounds(self, bounds: Bounds) -> Bounds:
        """Bounds of the plain network from bounds of the original one."""
        if self.is_identity:
            return bounds
        from reluscope.bounds.interval import interval_bounds

        lower, upper = [], []
        for i, (s, extra, es) in enumerate(
            zip(self.shifts, self.extra, self.extra_shifts, strict=True)
        ):
            lower.append(np.concatenate([bounds.lower[i] + s, bounds.lower[i][extra] + es]))
            upper.append(np.concatenate([bounds.upper[i] + s, bounds.upper[i][extra] + es]))
        if self.network.n_layers > len(lower):  # the appended linear layer
            last = interval_bounds(self.network)
            lower.append(last.lower[-1])
            upper.append(last.upper[-1])
        return replace(bounds, lower=tuple(lower), upper=tuple(upper),
                       biases=self.network.biases)


def relu_form(network: ReLUNetwork) -> ReluForm:
    """The plain-ReLU form of ``network`` (see the module docstring)."""
    zero = tuple(np.zeros(w) for w in network.widths)
    if network.is_plain_relu:
        none = tuple(np.zeros(0, dtype=np.int64) for _ in network.widths)
        return ReluForm(network, network, zero, none, tuple(np.zeros(0) for _ in none))
    from reluscope.bounds.interval import interval_bounds

    interval = interval_bounds(network)
    weights: list[FloatArray] = []
    biases: list[FloatArray] = []
    relu: list[bool] = []
    shifts: list[FloatArray] = []
    extras: list[NDArray[np.int64]] = []
    extra_shifts: list[FloatArray] = []
    m: FloatArray | None = None  # h_prev = m @ y_prev + d (None: the identity)
    d = np.zeros(network.n_inputs)
    for layer in range(network.n_layers):
        w, b = network.weights[layer], network.biases[layer]
        a = w if m is None else w @ m
        c = b + w @ d
        width = w.shape[0]
        if not network.relu[layer]:
            weights.append(a)
            biases.append(c)
            relu.append(False)
            shifts.append(np.zeros(width))
            extras.append(np.zeros(0, dtype=np.int64))
            extra_shifts.append(np.zeros(0))
            m, d = None, np.zeros(width)
            continue
        alpha = network.slopes[layer]
        low = interval.lower[layer] - BOUND_PADDING * (1.0 + np.abs(interval.lower[layer]))
        carry = np.maximum(0.0, 1.0 - low)
        identity = alpha == 1.0
        leaky = (alpha != 0.0) & ~identity
        extra = np.flatnonzero(leaky)
        shift = np.where(identity, carry, 0.0)
        weights.append(np.vstack([a, a[extra]]))
        biases.append(np.concatenate([c + shift, c[extra] + carry[extra]]))
        relu.append(True)
        shifts.append(shift)
        extras.append(extra)
        extra_shifts.append(carry[extra])
        # h = m_out @ y + d_out
        m_out = np.zeros((width, width + extra.size))
        m_out[np.arange(width), np.arange(width)] = np.where(leaky, 1.0 - alpha, 1.0)
        m_out[extra, width + np.arange(extra.size)] = alpha[extra]
        d_out = -shift - np.where(leaky, alpha * carry, 0.0)
        m, d = m_out, d_out
    if network.relu[-1] and np.any(network.slopes[-1]) and m is not None:
        weights.append(m)
        biases.append(d)
        relu.append(False)
    plain = ReLUNetwork(
        weights, biases, relu=relu, lower=network.lower, upper=network.upper,
        domain_A=network.domain_A, domain_b=network.domain_b,
    )
    return ReluForm(
        network, plain, tuple(shifts), tuple(extras), tuple(extra_shifts)
    )




def require_plain_relu(network: ReLUNetwork, what: str) -> None:
    """Raise unless ``network`` has ReLU units only: ``what`` is written for them, and
    its callers pass :func:`relu_form`'s network (a safety net against a forgotten
    conversion, which would silently treat leaky and identity units as ReLUs)."""
    if not network.is_plain_relu:
        from reluscope.errors import NetworkError

        raise NetworkError(
            f"{what} handles ReLU units only and the network has leaky or identity units; "
            "analyse reluscope.relu_form.relu_form(network).network (same regions) instead"
        )


def require_no_max_pool(network: ReLUNetwork, what: str) -> None:
    """Raise when ``network`` has lowered max-pooling units: ``what`` counts or bounds
    regions, and their sign patterns are not regions (a pooling window is one unit with
    one side per input, its argmax; the pairwise lowering has more sign patterns)."""
    if network.has_max_pool:
        from reluscope.errors import NetworkError

        raise NetworkError(
            f"{what} is not available for a network with max-pooling: a pooling window "
            "is one unit with one side per input (its argmax), and the sign patterns of "
            "its pairwise lowering max(a, b) = a + relu(b - a) are not regions; exact "
            "counts (count_regions, method 'auto' or 'highs'), forward passes, bounds and "
            "compression work"
        )


__all__ = ["ReluForm", "relu_form", "require_no_max_pool", "require_plain_relu"]
