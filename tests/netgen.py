"""Random and hand-made networks for tests (importable from any test: tests/ is on sys.path)."""

from __future__ import annotations

import numpy as np

from reluscope.network import ReLUNetwork


def random_network(
    seed: int,
    n0: int,
    widths: tuple[int, ...],
    *,
    output_relu: bool = True,
    lower: float = 0.0,
    upper: float = 1.0,
    bias_scale: float = 1.0,
) -> ReLUNetwork:
    """Gaussian weights (scaled 1/sqrt(fan-in)) and biases; every layer but maybe the last ReLU."""
    rng = np.random.default_rng(seed)
    weights, biases, fan_in = [], [], n0
    for width in widths:
        weights.append(rng.normal(size=(width, fan_in)) / np.sqrt(fan_in))
        biases.append(rng.normal(size=width) * bias_scale)
        fan_in = width
    relu = [True] * (len(widths) - 1) + [output_relu]
    return ReLUNetwork(weights, biases, relu=relu, lower=lower, upper=upper)


def random_small_network(seed: int) -> ReLUNetwork:
    """A random tiny network: input dim 1-4, depth 1-3, widths 1-4, random box."""
    rng = np.random.default_rng(10_000 + seed)
    n0 = int(rng.integers(1, 5))
    depth = int(rng.integers(1, 4))
    widths = tuple(int(w) for w in rng.integers(1, 5, size=depth))
    lo = float(rng.choice([0.0, -1.0, -2.5]))
    hi = lo + float(rng.choice([1.0, 2.0, 3.5]))
    return random_network(
        seed, n0, widths, output_relu=bool(rng.integers(0, 2)), lower=lo, upper=hi
    )


def planted_network() -> ReLUNetwork:
    """3 inputs on [0,1]; layer 0 has 2 stably inactive units (bias -100), 2 stably active
    ones (positive weights, bias +5) and 2 ordinary units; layer 1 is ordinary."""
    w0 = np.array(
        [[1.0, -1.0, 0.5], [0.3, 0.2, 0.1], [1.0, 1.0, 1.0], [0.5, 0.0, 2.0],
         [1.0, 0.0, -1.0], [-1.0, 1.0, 0.0]]
    )
    b0 = np.array([-100.0, -50.0, 5.0, 5.0, 0.1, 0.2])
    w1 = np.array([[1.0, -1.0, 0.5, -0.5, 1.0, 1.0], [0.2, 0.1, -0.3, 0.2, -1.0, 1.0]])
    b1 = np.array([-2.0, 0.5])
    return ReLUNetwork([w0, w1], [b0, b1], relu=[True, False])


def dense_network(
    seed: int, n0: int, widths: tuple[int, ...], *, output_relu: bool = True
) -> ReLUNetwork:
    """Standard normal weights; each bias puts its unit's hyperplane through the bulk of
    the layer's inputs on [0,1]^n0 (a random 20-80% quantile of 200 sampled
    pre-activations), so the box holds many regions, spread over all of it."""
    rng = np.random.default_rng(seed)
    weights, biases, fan_in = [], [], n0
    h = rng.random((200, n0))
    for width in widths:
        w = rng.normal(size=(width, fan_in))
        g = h @ w.T
        b = -np.array([np.quantile(g[:, i], rng.uniform(0.2, 0.8)) for i in range(width)])
        weights.append(w)
        biases.append(b)
        h = np.maximum(g + b, 0.0)
        fan_in = width
    relu = [True] * (len(widths) - 1) + [output_relu]
    return ReLUNetwork(weights, biases, relu=relu)
