"""The equivalence check of compression: sampled difference and the MILP proof.

Oracles: a correct compression (MILP ~0), deliberately wrong ones (an unstable unit
dropped, a weight perturbed) whose true maximum difference on a 1-D input is found by a
dense grid (the difference is piecewise linear, so a fine grid gets within its slope
times the grid step).
"""

from __future__ import annotations

import numpy as np
import pytest

from netgen import planted_network, random_network
from reluscope.compression import check_equivalence, compress, milp_difference
from reluscope.errors import ReluscopeError
from reluscope.network import ReLUNetwork
from reluscope.tolerances import EQUAL_RTOL


def _drop_unit(net: ReLUNetwork, layer: int, unit: int) -> ReLUNetwork:
    weights, biases = list(net.weights), list(net.biases)
    keep = np.arange(net.widths[layer]) != unit
    weights[layer], biases[layer] = weights[layer][keep], biases[layer][keep]
    weights[layer + 1] = weights[layer + 1][:, keep]
    return ReLUNetwork(weights, biases, relu=net.relu, lower=net.lower, upper=net.upper)


def test_correct_compression_is_proven() -> None:
    net = planted_network()
    result = compress(net, bounds_method="interval", verify="milp", random_state=0)
    eq = result.equivalence
    assert eq is not None and eq.n_samples >= 100_000
    assert eq.max_abs_diff <= EQUAL_RTOL * eq.output_scale
    assert eq.milp_proven is True
    assert eq.milp_max_abs_diff is not None
    assert eq.milp_max_abs_diff <= EQUAL_RTOL * eq.output_scale


def test_dropping_an_unstable_unit_is_caught() -> None:
    net = planted_network()
    wrong = _drop_unit(net, 0, 4)  # unit 4 (x0 - x2 + 0.1) is unstable
    eq = check_equivalence(net, wrong, milp=True, random_state=0)
    xs = net.sample_inputs(200_000, random_state=3)
    sampled = float(np.abs(net.forward(xs) - wrong.forward(xs)).max())
    assert sampled > 0.1
    assert eq.milp_proven is False and eq.milp_exact is True
    # the MILP maximum is over the whole box: at least every sampled difference
    assert eq.milp_max_abs_diff >= sampled - 1e-9
    assert eq.max_abs_diff == pytest.approx(sampled, rel=0.05)


@pytest.mark.parametrize("seed", range(3))
def test_milp_difference_matches_dense_grid_in_one_dimension(seed: int) -> None:
    net = random_network(seed, 1, (5, 4, 2), output_relu=bool(seed % 2), lower=-1.0, upper=2.0)
    rng = np.random.default_rng(seed)
    weights = [w.copy() for w in net.weights]
    weights[1] = weights[1] + rng.normal(scale=0.3, size=weights[1].shape)
    other = ReLUNetwork(weights, net.biases, relu=net.relu, lower=-1.0, upper=2.0)
    bound, exact = milp_difference(net, other)
    grid = np.linspace(-1.0, 2.0, 300_001)[:, None]
    true_max = float(np.abs(net.forward(grid) - other.forward(grid)).max())
    assert exact
    assert bound == pytest.approx(true_max, abs=1e-3)


def test_incompatible_networks_are_an_error() -> None:
    a = random_network(0, 2, (3, 1))
    b = random_network(0, 3, (3, 1))
    with pytest.raises(ReluscopeError, match="inputs"):
        check_equivalence(a, b)
