"""Leaky ReLU and identity units: every analysis against oracles that read the slopes.

The brute-force oracle (tests/oracles.py) reads ``network.slopes`` directly and never
uses :mod:`reluscope.relu_form`, through which the engines count; sampled activation
patterns give a lower bound; forward passes are compared with NumPy written here.
"""

from __future__ import annotations

import numpy as np
import pytest

import reluscope
from oracles import brute_force_patterns
from reluscope.errors import NetworkError
from reluscope.io.npz import load_npz, save_npz
from reluscope.network import ReLUNetwork
from reluscope.regions.patterns import read_patterns
from reluscope.relu_form import relu_form, require_plain_relu

#: slopes drawn for the units: ReLU, identity, leaky (positive and negative)
KINDS = (0.0, 1.0, 0.1, 0.3, -0.5)


def mixed_network(seed: int, n0: int = 2, widths: tuple[int, ...] = (4, 3, 2),
                  output_units: bool = False) -> ReLUNetwork:
    rng = np.random.default_rng(seed)
    weights, biases, slopes, fan_in = [], [], [], n0
    for width in widths:
        weights.append(rng.normal(size=(width, fan_in)))
        biases.append(rng.normal(size=width) * 0.5)
        slopes.append(rng.choice(KINDS, size=width))
        fan_in = width
    relu = [True] * (len(widths) - 1) + [output_units]
    return ReLUNetwork(weights, biases, relu=relu, slopes=slopes, lower=-1.0, upper=1.0)


def numpy_forward(net: ReLUNetwork, x: np.ndarray) -> np.ndarray:
    """The network's outputs, written out with the slopes (independent of forward())."""
    h = x
    for w, b, has_act, alpha in zip(net.weights, net.biases, net.relu, net.slopes,
                                     strict=True):
        g = h @ w.T + b
        h = np.maximum(g, 0) + alpha * np.minimum(g, 0) if has_act else g
    return h


# ------------------------------------------------------------------- the model
def test_slopes_default_to_relu_and_plain_networks_are_unchanged():
    net = ReLUNetwork([np.eye(2), np.ones((1, 2))], [np.zeros(2), np.zeros(1)],
                      relu=[True, False])
    assert net.is_plain_relu and net.unit_kinds() == {"relu": 2, "leaky": 0, "identity": 0}
    assert relu_form(net).network is net  # plain ReLU networks are analysed as today


def test_forward_and_patterns_follow_the_slopes():
    net = mixed_network(0, output_units=True)
    x = net.sample_inputs(500, random_state=1)
    assert np.allclose(net.forward(x), numpy_forward(net, x), rtol=0, atol=1e-12)
    patterns = net.activation_patterns(x)
    identity = net.unit_slopes == 1.0
    assert patterns[:, identity].all()  # an identity unit's bit is always 1


def test_bad_slopes_are_refused():
    with pytest.raises(NetworkError, match="slopes\\[0\\] must be a scalar or a vector"):
        ReLUNetwork([np.eye(2)], [np.zeros(2)], slopes=[[0.1, 0.2, 0.3]])
    with pytest.raises(NetworkError, match="NaN or infinite"):
        ReLUNetwork([np.eye(2)], [np.zeros(2)], slopes=[np.nan])


def test_npz_keeps_slopes_and_old_files_load_as_relu(tmp_path):
    net = mixed_network(2)
    save_npz(net, tmp_path / "mixed.npz")
    back = load_npz(tmp_path / "mixed.npz")
    assert all(np.array_equal(a, b) for a, b in zip(back.slopes, net.slopes, strict=True))
    plain = ReLUNetwork(net.weights, net.biases, relu=net.relu)
    save_npz(plain, tmp_path / "plain.npz")
    with np.load(tmp_path / "plain.npz") as data:
        assert "slopes" not in data.files  # files of ReLU networks are as before
    assert load_npz(tmp_path / "plain.npz").is_plain_relu


def test_safety_net_refuses_non_relu_networks_in_relu_only_code():
    with pytest.raises(NetworkError, match="leaky or identity units"):
        require_plain_relu(mixed_network(3), "the MILP model")


# ------------------------------------------------------------ plain-ReLU form
@pytest.mark.parametrize("seed", range(6))
def test_relu_form_has_the_same_outputs_and_patterns(seed):
    net = mixed_network(seed, n0=3, widths=(5, 4, 3), output_units=bool(seed % 2))
    form = relu_form(net)
    assert form.network.is_plain_relu
    x = net.sample_inputs(2000, random_state=seed)
    assert np.allclose(form.network.forward(x), numpy_forward(net, x), rtol=1e-12,
                       atol=1e-12)
    plain = form.network.activation_patterns(x)
    assert np.array_equal(plain[:, form.unit_columns()], net.activation_patterns(x))
    carried = np.setdiff1d(np.arange(form.network.n_units), form.unit_columns())
    assert plain[:, carried].all()  # carried units are always active


# ------------------------------------------------------------------- counting
@pytest.mark.parametrize("seed", range(8))
def test_every_engine_counts_the_oracles_regions(seed, tmp_path):
    net = mixed_network(seed, n0=2 + seed % 2, output_units=bool(seed % 2))
    expected = brute_force_patterns(net)
    sampled = {tuple(p) for p in net.activation_patterns(net.sample_inputs(20_000, seed))}
    assert sampled <= expected
    for method in ("lp", "highs", "milp", "scip-count"):
        path = tmp_path / f"{method}.npy" if method != "scip-count" else None
        result = reluscope.count_regions(net, method=method, n_jobs=1, patterns_path=path)
        assert result.exact and result.regions == len(expected), method
        if path is not None:
            found = {tuple(p) for p in read_patterns(path, net.n_units)}
            assert found == expected, method


def test_a_leaky_unit_splits_like_a_relu_and_an_identity_never_splits():
    # 1 input on [-1, 1]; layer 0: g = x and g = -x + 0.5; layer 1 reads them
    w0, b0 = np.array([[1.0], [-1.0]]), np.array([0.0, 0.5])
    w1, b1 = np.array([[1.0, 2.0]]), np.array([-0.2])
    for slopes, regions in (([0.0, 0.0], None), ([0.1, 0.2], None), ([1.0, 1.0], 2)):
        net = ReLUNetwork([w0, w1], [b0, b1], relu=[True, True], slopes=[slopes, [0.0]],
                          lower=-1.0, upper=1.0)
        count = reluscope.count_regions(net, n_jobs=1).regions
        assert count == len(brute_force_patterns(net))
        if regions is not None:  # identity units: only the output unit splits, at x = 0.8
            assert count == regions


# ------------------------------------------------------------- bounds, uppers
@pytest.mark.parametrize("method", ["interval", "lp", "milp"])
def test_bounds_contain_every_sampled_preactivation(method):
    net = mixed_network(11, n0=3, widths=(5, 4, 2), output_units=True)
    bounds = reluscope.tighten_bounds(net, method=method)
    interval = reluscope.tighten_bounds(net, method="interval")
    pre = net.preactivations(net.sample_inputs(20_000, random_state=0))
    for layer in range(net.n_layers):
        assert np.all(pre[layer] >= bounds.lower[layer] - 1e-9)
        assert np.all(pre[layer] <= bounds.upper[layer] + 1e-9)
        assert np.all(bounds.lower[layer] >= interval.lower[layer] - 1e-9)


@pytest.mark.parametrize("seed", range(4))
def test_upper_bounds_stay_above_the_exact_count(seed):
    net = mixed_network(seed, n0=2, widths=(4, 4), output_units=True)
    exact = len(brute_force_patterns(net))
    ub = reluscope.upper_bounds(net)
    assert exact <= ub.empirical_ub <= ub.configuration_ub


def test_mipbound_lower_bound_is_below_the_exact_count():
    net = mixed_network(5, n0=3, widths=(5, 4), output_units=True)
    exact = len(brute_force_patterns(net))
    est = reluscope.estimate_regions(net, xor_size=2, random_state=0, max_repetitions=6)
    assert est.regions_found <= exact
    assert est.lower_bound <= exact


def test_slice_counts_the_regions_of_the_plane():
    from reluscope.regions.views.slices import composed_network

    net = mixed_network(4, n0=3, widths=(5, 3), output_units=True)
    pts = np.array([[-0.8, -0.8, 0.1], [0.9, -0.5, 0.0], [-0.6, 0.9, -0.2]])
    result = reluscope.slice_regions(net, pts)
    directions = np.column_stack([pts[1] - pts[0], pts[2] - pts[0]])
    composed = composed_network(net, pts[0], directions)
    # the slice is clipped to the input box [-1, 1]^3: rows D p <= 1 - P0, -D p <= 1 + P0
    rows = np.vstack([directions, -directions])
    rhs = np.concatenate([1.0 - pts[0], 1.0 + pts[0]])
    expected = brute_force_patterns(composed, rows, rhs)
    assert result.regions == len(expected)
    assert {tuple(c.pattern) for c in result.cells if c.counted} == expected


# ---------------------------------------------------------------- compression
@pytest.mark.parametrize("output_units", [False, True])
def test_compression_folds_stable_leaky_and_identity_units(output_units):
    w0 = np.array([[1.0, 0.5], [0.2, -0.3], [1.0, 1.0], [0.5, -1.0], [-1.0, 0.4]])
    b0 = np.array([5.0, -5.0, 0.1, 0.0, 6.0])  # stably active, stably inactive, unstable...
    w1 = np.random.default_rng(0).normal(size=(3, 5))
    b1 = np.array([0.1, -0.2, 0.3])
    net = ReLUNetwork([w0, w1], [b0, b1], relu=[True, output_units],
                      slopes=[[0.1, 0.2, 0.0, 1.0, 0.0], [0.3, 0.0, 0.1]],
                      lower=-1.0, upper=1.0)
    for seed in range(6):  # the sample scale sets the tolerance: several seeds
        result = reluscope.compress(net, verify="milp", random_state=seed)
        # proven on the plain-ReLU forms (seed 1 with output units ended "not proven"
        # while SCIP's dual bound at the objective limit, off by 1e-15, was the bound)
        assert result.equivalence.milp_proven is True
        assert result.equivalence.milp_found_diff < 1e-9
    x = net.sample_inputs(5000, random_state=3)
    assert np.allclose(result.network.forward(x), numpy_forward(net, x), atol=1e-9)
    # units 0 (active leaky), 1 (inactive leaky), 3 (identity), 4 (active ReLU) are
    # linear: their rows span at most 2 dimensions, so at most 2 of them stay besides
    # the unstable ReLU unit 2
    assert result.network.widths[0] <= 3
    assert reluscope.count_regions(result.network, n_jobs=1).regions == \
        reluscope.count_regions(net, n_jobs=1).regions


def test_counts_on_a_polytope_domain_match_the_oracle():
    net = mixed_network(21, n0=2, output_units=True).with_polytope(
        np.array([[1.0, 1.0], [-1.0, 0.5]]), np.array([0.8, 0.6])
    )
    expected = brute_force_patterns(net, box=(-1.0, 1.0))
    for method in ("lp", "highs", "milp"):
        assert reluscope.count_regions(net, method=method, n_jobs=1).regions == len(expected)


def test_checkpoint_with_patterns_is_refused_for_non_relu_units(tmp_path):
    with pytest.raises(reluscope.ReluscopeError, match="checkpointed run"):
        reluscope.count_regions(mixed_network(1), checkpoint=tmp_path / "c.ckpt",
                                patterns_path=tmp_path / "p.npy")
