import numpy as np
import pytest

from netgen import planted_network, random_network
from reluscope import DomainError, NetworkError, ReLUNetwork
from reluscope.bounds import interval_bounds


def test_forward_matches_hand_computation():
    net = ReLUNetwork([[[1.0, -1.0]], [[2.0]]], [[0.5], [-1.0]], relu=[True, False])
    x = np.array([[1.0, 0.0], [0.0, 1.0], [0.25, 0.25]])
    # g0 = x0 - x1 + 0.5 -> relu -> *2 - 1
    assert net.forward(x).ravel().tolist() == [2.0, -1.0, 0.0]
    assert net.activation_patterns(x).ravel().tolist() == [True, False, True]
    assert net.forward([1.0, 0.0]).tolist() == [2.0]


def test_structure_properties():
    net = random_network(0, 5, (4, 3, 2), output_relu=False)
    assert net.n_inputs == 5 and net.widths == (4, 3, 2)
    assert net.relu_layers == (0, 1) and net.relu_widths == (4, 3) and net.n_units == 7
    assert net.unit_offsets() == (0, 4)
    assert net.activation_patterns(net.sample_inputs(7, 0)).shape == (7, 7)


def test_network_is_immutable():
    net = random_network(0, 2, (2,))
    with pytest.raises(ValueError):
        net.weights[0][0, 0] = 1.0
    with pytest.raises(AttributeError):
        net.relu = (False,)  # type: ignore[misc]


@pytest.mark.parametrize(
    "kwargs, error, fragment",
    [
        (dict(weights=[], biases=[]), NetworkError, "zero layers"),
        (dict(weights=[np.ones((2, 3))], biases=[np.ones(3)]), NetworkError, "rows"),
        (dict(weights=[np.ones((2, 3)), np.ones((1, 4))], biases=[np.ones(2), np.ones(1)]),
         NetworkError, "expects 4 inputs"),
        (dict(weights=[np.array([[np.nan]])], biases=[np.zeros(1)]), NetworkError, "NaN"),
        (dict(weights=[np.ones((1, 1))], biases=[np.array([np.inf])]), NetworkError, "NaN"),
        (dict(weights=[np.ones((1, 2))], biases=[np.zeros(1)], lower=1.0, upper=0.0),
         DomainError, "empty"),
        (dict(weights=[np.ones((1, 2))], biases=[np.zeros(1)], upper=np.inf),
         DomainError, "unbounded"),
        (dict(weights=[np.ones((1, 2))], biases=[np.zeros(1)], lower=[0, 0, 0]),
         DomainError, "length"),
        (dict(weights=[np.ones((1, 2)), np.ones((1, 1))], biases=[np.zeros(1)] * 2,
              relu=[False, True]), NetworkError, "no ReLU"),
    ],
)
def test_invalid_networks_raise_clear_errors(kwargs, error, fragment):
    with pytest.raises(error, match=fragment):
        ReLUNetwork(**kwargs)


@pytest.mark.parametrize("seed", range(5))
def test_interval_bounds_contain_samples(seed):
    net = random_network(seed, 4, (6, 5, 3), lower=-1.0, upper=2.0)
    bounds = interval_bounds(net)
    pre = net.preactivations(net.sample_inputs(20_000, seed))
    for layer, g in enumerate(pre):
        assert np.all(g >= bounds.lower[layer] - 1e-9)
        assert np.all(g <= bounds.upper[layer] + 1e-9)


def test_interval_finds_planted_stable_units():
    net = planted_network()
    bounds = interval_bounds(net)
    assert bounds.stably_inactive(0).tolist() == [True, True, False, False, False, False]
    assert bounds.stably_active(0).tolist() == [False, False, True, True, False, False]
    assert bounds.active_leaning(0).tolist() == [False] * 4 + [True, True]
