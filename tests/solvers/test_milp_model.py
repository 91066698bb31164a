import numpy as np
import pytest

from netgen import planted_network, random_network
from reluscope.bounds import interval_bounds
from reluscope.milp import build_network_model
from reluscope.solvers.scip import SAFE_SCIP_PARAMS


@pytest.mark.parametrize("seed", range(4))
def test_model_with_fixed_input_reproduces_forward(seed):
    net = random_network(seed, 3, (5, 4, 2), output_relu=bool(seed % 2), lower=-1, upper=1)
    bounds = interval_bounds(net)
    for x0 in net.sample_inputs(3, seed):
        nm = build_network_model(net, bounds, valid_inequalities=True)
        for var, value in zip(nm.x, x0, strict=True):
            nm.model.fixVar(var, float(value))
        nm.model.optimize()
        assert nm.model.getStatus() == "optimal"
        h = np.array([nm.model.getVal(v) for v in nm.h[-1]])
        np.testing.assert_allclose(h, net.forward(x0), atol=1e-6)
        # binaries agree with the pattern except where a unit sits exactly at zero
        g = np.concatenate([net.preactivations(x0)[i] for i in net.relu_layers])
        decided = np.abs(g) > 1e-6
        assert np.array_equal(nm.pattern()[decided], net.activation_patterns(x0)[decided])


def test_stable_units_get_no_binary():
    net = planted_network()
    nm = build_network_model(net, interval_bounds(net), counting=True)
    assert [unit for unit, _ in nm.binaries] == [4, 5]
    assert nm.fixed_pattern().tolist() == [False, False, True, True, False, False]


def test_safe_settings_are_applied():
    nm = build_network_model(planted_network(), interval_bounds(planted_network()))
    for key, value in SAFE_SCIP_PARAMS.items():
        assert nm.model.getParam(key) == value
