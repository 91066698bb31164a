"""LP (HiGHS) and MILP (SCIP) bound tightening against independent oracles.

Oracles: dense sampling of the input box (every bound must contain every sampled
pre-activation; a unit called stable must never flip), exhaustive enumeration of the
activation patterns of the earlier layers with one ``scipy.optimize.linprog`` per
pattern (the exact range of each pre-activation), and the big-M LP relaxation with
``z in [0, 1]`` written out independently for ``linprog``.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.optimize import linprog

from netgen import planted_network, random_network, random_small_network
from reluscope.bounds import interval_bounds, tighten_bounds
from reluscope.bounds.lp import lp_bounds, lp_bounds_with_witnesses
from reluscope.bounds.milp import milp_bounds
from reluscope.network import ReLUNetwork

N_SAMPLES = 100_000

#: (seed, n0, widths, output_relu, lower, upper): several shapes and boxes other than [0,1]
NETWORKS = [
    (0, 4, (6, 5, 3), True, -1.0, 2.0),
    (1, 3, (5, 5, 2), False, -2.5, 1.0),
    (2, 5, (6, 4), True, 0.5, 3.0),
    (3, 2, (4, 4, 4, 2), False, -1.0, 1.0),
]


def _net(spec):
    seed, n0, widths, output_relu, lo, hi = spec
    return random_network(seed, n0, widths, output_relu=output_relu, lower=lo, upper=hi)


@pytest.fixture(scope="module", params=NETWORKS, ids=lambda s: f"seed{s[0]}")
def computed(request):
    net = _net(request.param)
    return net, {
        "interval": interval_bounds(net),
        "lp": lp_bounds(net),
        "milp": milp_bounds(net),
    }


def test_bounds_contain_sampled_preactivations(computed):
    net, bounds = computed
    pre = net.preactivations(net.sample_inputs(N_SAMPLES, random_state=7))
    for method, b in bounds.items():
        for layer in range(net.n_layers):
            assert np.all(pre[layer] >= b.lower[layer]), (method, layer)
            assert np.all(pre[layer] <= b.upper[layer]), (method, layer)


def test_stable_units_never_flip_on_samples(computed):
    net, bounds = computed
    pre = net.preactivations(net.sample_inputs(N_SAMPLES, random_state=11))
    for method, b in bounds.items():
        for layer in net.relu_layers:
            assert np.all(pre[layer][:, b.stably_active(layer)] > 0), method
            assert np.all(pre[layer][:, b.stably_inactive(layer)] <= 0), method


def test_milp_within_lp_within_interval(computed):
    net, bounds = computed
    for tight, loose in (("milp", "lp"), ("lp", "interval")):
        for layer in range(net.n_layers):
            assert np.all(bounds[tight].lower[layer] >= bounds[loose].lower[layer])
            assert np.all(bounds[tight].upper[layer] <= bounds[loose].upper[layer])
    assert bounds["milp"].exact and bounds["milp"].method == "milp"
    assert bounds["lp"].method == "lp"


# ----------------------------------------------------------- brute-force oracle
def _exact_range(net, layer, unit):
    """min and max of g[layer][unit] over the box: one LP per pattern of the earlier units.

    For a fixed pattern of layers < layer the network is affine in x; the closed pieces
    (g >= 0 for active units, g <= 0 for inactive ones) cover the box.
    """
    widths = net.widths[:layer]
    lo_all, hi_all = np.inf, -np.inf
    box = list(zip(net.lower, net.upper, strict=True))
    for pattern in itertools.product((False, True), repeat=sum(widths)):
        a_rows, b_rows = [], []
        # h = A x + c for the current layer's input
        a, c = np.eye(net.n_inputs), np.zeros(net.n_inputs)
        start = 0
        for k, width in enumerate(widths):
            ga = net.weights[k] @ a
            gc = net.weights[k] @ c + net.biases[k]
            on = np.array(pattern[start : start + width])
            start += width
            # active: -g <= 0; inactive: g <= 0
            a_rows.append(np.where(on[:, None], -ga, ga))
            b_rows.append(np.where(on, gc, -gc))
            a, c = ga * on[:, None], gc * on
        obj_a = net.weights[layer][unit] @ a
        obj_c = net.weights[layer][unit] @ c + net.biases[layer][unit]
        a_ub = np.vstack(a_rows) if a_rows else None
        b_ub = np.concatenate(b_rows) if b_rows else None
        for sign in (1.0, -1.0):
            res = linprog(sign * obj_a, A_ub=a_ub, b_ub=b_ub, bounds=box, method="highs")
            if res.status == 2:
                break  # empty piece
            assert res.status == 0, res.message
            value = sign * res.fun + obj_c
            if sign > 0:
                lo_all = min(lo_all, value)
            else:
                hi_all = max(hi_all, value)
    return lo_all, hi_all


@pytest.mark.parametrize("seed", range(4))
def test_milp_bounds_are_attained(seed):
    net = random_network(100 + seed, 2, (3, 3, 2), output_relu=bool(seed % 2), lower=-1, upper=1.5)
    _check_attained(net)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(6))
def test_milp_bounds_are_attained_larger(seed):
    net = random_network(200 + seed, 4, (5, 5, 2), output_relu=bool(seed % 2), lower=-2, upper=1)
    _check_attained(net)


def _check_attained(net):
    milp = milp_bounds(net)
    lp = lp_bounds(net)
    assert milp.exact
    for layer in range(net.n_layers):
        for i in range(net.widths[layer]):
            lo, hi = _exact_range(net, layer, i)
            tol = 1e-6 * (1 + abs(lo) + abs(hi))
            assert milp.lower[layer][i] <= lo + 1e-9 and milp.upper[layer][i] >= hi - 1e-9
            relu = net.relu[layer]
            # the classification is exact
            assert milp.stably_inactive(layer)[i] == (relu and hi <= 0) or not relu
            assert milp.stably_active(layer)[i] == (relu and lo > 0) or not relu
            unstable = not relu or lo < 0 < hi
            if unstable:  # both big-M constants are the exact extremes
                assert milp.upper[layer][i] == pytest.approx(hi, abs=tol)
                assert milp.lower[layer][i] == pytest.approx(lo, abs=tol)
            elif lp.unstable(layer)[i] and hi <= 0:  # solved by MILP: the max is exact
                assert milp.upper[layer][i] == pytest.approx(hi, abs=tol)


# ----------------------------------------------------- independent LP oracle
def _bigm_lp_range(net, bounds, layer, unit):
    """min/max of g over the big-M model (eqs 1-4) with z in [0,1], built for linprog.

    Variables per earlier unit: g, h, hbar, z (bounds of those layers from ``bounds``).
    """
    n0 = net.n_inputs
    sizes = net.widths[:layer]
    n_vars = n0 + 4 * sum(sizes)
    a_eq, b_eq, a_ub, b_ub = [], [], [], []
    var_bounds = list(zip(net.lower, net.upper, strict=True))
    prev = list(range(n0))
    col = n0
    for k, width in enumerate(sizes):
        new_h = []
        for i in range(width):
            g, h, hb, z = col, col + 1, col + 2, col + 3
            col += 4
            big_h = max(bounds.upper[k][i], 0.0)
            big_hb = max(-bounds.lower[k][i], 0.0)
            row = np.zeros(n_vars)
            row[prev] = net.weights[k][i]
            row[g] = -1.0
            a_eq.append(row)
            b_eq.append(-net.biases[k][i])  # W h + b = g   (1)
            row = np.zeros(n_vars)
            row[[g, h, hb]] = [1.0, -1.0, 1.0]
            a_eq.append(row)
            b_eq.append(0.0)  # g = h - hbar   (2)
            row = np.zeros(n_vars)
            row[[h, z]] = [1.0, -big_h]
            a_ub.append(row)
            b_ub.append(0.0)  # h <= H z   (3)
            row = np.zeros(n_vars)
            row[[hb, z]] = [1.0, big_hb]
            a_ub.append(row)
            b_ub.append(big_hb)  # hbar <= Hbar (1 - z)   (3)
            var_bounds += [(None, None), (0, None), (0, None), (0, 1)]
            new_h.append(h)
        prev = new_h
    out = []
    for sign in (1.0, -1.0):
        c = np.zeros(n_vars)
        c[prev] = sign * net.weights[layer][unit]
        res = linprog(c, A_ub=np.array(a_ub), b_ub=b_ub, A_eq=np.array(a_eq), b_eq=b_eq,
                      bounds=var_bounds, method="highs")
        assert res.status == 0, res.message
        out.append(sign * res.fun + net.biases[layer][unit])
    return out[0], out[1]


@pytest.mark.parametrize("spec", NETWORKS[:3], ids=lambda s: f"seed{s[0]}")
def test_lp_bounds_equal_bigm_relaxation(spec):
    net = _net(spec)
    lp = lp_bounds(net)
    for layer in range(1, net.n_layers):
        for i in range(net.widths[layer]):
            lo, hi = _bigm_lp_range(net, lp, layer, i)
            tol = 1e-6 * (1 + abs(lo) + abs(hi))
            assert lp.lower[layer][i] <= lo + 1e-9 and lp.upper[layer][i] >= hi - 1e-9
            assert lp.lower[layer][i] == pytest.approx(lo, abs=tol)
            assert lp.upper[layer][i] == pytest.approx(hi, abs=tol)


# ------------------------------------------------------------ planted and options
@pytest.mark.parametrize("method", ["interval", "lp", "milp"])
def test_planted_stable_units_found(method):
    net = planted_network()
    b = tighten_bounds(net, method=method)
    assert b.stably_inactive(0).tolist()[:2] == [True, True]
    assert b.stably_active(0).tolist()[2:4] == [True, True]
    assert not b.unstable(0)[:4].any()
    assert b.unstable(0)[4:].all()  # units 4, 5 cross zero on the box
    assert b.count_stable(net)[:2] == (2, 2)


def test_sign_only_matches_full_classification():
    net = _net(NETWORKS[0])
    full = milp_bounds(net)
    quick = milp_bounds(net, sign_only=True)
    assert not quick.exact
    for layer in net.relu_layers:
        assert np.array_equal(quick.stably_active(layer), full.stably_active(layer))
        assert np.array_equal(quick.stably_inactive(layer), full.stably_inactive(layer))
        assert np.all(quick.lower[layer] <= full.lower[layer] + 1e-9)
        assert np.all(quick.upper[layer] >= full.upper[layer] - 1e-9)


def test_rebuilt_models_give_same_bounds():
    net = _net(NETWORKS[1])
    a, b = milp_bounds(net), milp_bounds(net, reuse_model=False)
    for layer in range(net.n_layers):
        np.testing.assert_allclose(a.lower[layer], b.lower[layer], atol=1e-6)
        np.testing.assert_allclose(a.upper[layer], b.upper[layer], atol=1e-6)


def test_solve_time_limit_returns_valid_looser_bounds():
    net = random_network(5, 6, (10, 10, 3), lower=-1.0, upper=1.0)
    limited = milp_bounds(net, solve_time_limit=1e-3)
    full = milp_bounds(net, solve_time_limit=None)
    lp = lp_bounds(net)
    assert not limited.exact
    pre = net.preactivations(net.sample_inputs(N_SAMPLES, random_state=3))
    for layer in range(net.n_layers):
        assert np.all(pre[layer] >= limited.lower[layer])
        assert np.all(pre[layer] <= limited.upper[layer])
        assert np.all(limited.lower[layer] >= lp.lower[layer])
        assert np.all(limited.upper[layer] <= lp.upper[layer])
        assert np.all(limited.lower[layer] <= full.lower[layer] + 1e-9)
        assert np.all(limited.upper[layer] >= full.upper[layer] - 1e-9)


def test_single_layer_and_dead_first_layer():
    one = random_network(7, 3, (4,), lower=-1.0, upper=1.0)
    ref = interval_bounds(one)
    for b in (lp_bounds(one), milp_bounds(one)):
        assert b.exact
        np.testing.assert_array_equal(b.lower[0], ref.lower[0])
        np.testing.assert_array_equal(b.upper[0], ref.upper[0])
    # every unit of layer 0 stably inactive: layer 1 sees h = 0, so g = b exactly
    w0 = np.ones((3, 2))
    b0 = np.full(3, -10.0)
    w1 = np.array([[1.0, -2.0, 3.0], [0.5, 0.5, 0.5]])
    b1 = np.array([0.25, -0.5])
    dead = ReLUNetwork([w0, w1], [b0, b1], relu=[True, False])
    for b in (lp_bounds(dead), milp_bounds(dead)):
        assert b.stably_inactive(0).all()
        np.testing.assert_allclose(b.lower[1], b1, atol=1e-6)
        np.testing.assert_allclose(b.upper[1], b1, atol=1e-6)
        assert np.all(b.lower[1] <= b1) and np.all(b.upper[1] >= b1)


@pytest.mark.parametrize("seed", range(20))
def test_small_random_networks_sound_and_nested(seed):
    net = random_small_network(seed)
    bounds = [interval_bounds(net), lp_bounds(net), milp_bounds(net)]
    assert bounds[2].exact
    pre = net.preactivations(net.sample_inputs(20_000, random_state=seed))
    for layer in range(net.n_layers):
        for b in bounds:
            assert np.all(pre[layer] >= b.lower[layer]) and np.all(pre[layer] <= b.upper[layer])
        for tight, loose in zip(bounds[1:], bounds[:-1], strict=True):
            assert np.all(tight.lower[layer] >= loose.lower[layer])
            assert np.all(tight.upper[layer] <= loose.upper[layer])


def test_lp_witnesses_are_domain_points():
    net = _net(NETWORKS[0])
    bounds, points, interrupted = lp_bounds_with_witnesses(net)
    assert not interrupted
    assert points.shape == (2 * sum(net.widths[1:]), net.n_inputs)
    assert np.all(points >= net.lower) and np.all(points <= net.upper)
    pre = net.preactivations(points)
    for layer in range(net.n_layers):
        # LP optima sit on vertices of the box, where a forward pass can differ from the
        # (unpadded, exact) first-layer interval bound in the last bits
        tol = 1e-12 * (1 + np.abs(bounds.lower[layer]) + np.abs(bounds.upper[layer]))
        assert np.all(pre[layer] >= bounds.lower[layer] - tol)
        assert np.all(pre[layer] <= bounds.upper[layer] + tol)


def test_lagrangian_bound_valid_for_any_multipliers():
    from reluscope.bounds.lp import LayerLP, _dual_bound

    net = _net(NETWORKS[0])
    ib = interval_bounds(net)
    lp = LayerLP(net, list(ib.lower), list(ib.upper), 2)
    rng = np.random.default_rng(0)
    a = lp.matrix.toarray()
    finite_lo, finite_hi = np.isfinite(lp.row_lower), np.isfinite(lp.row_upper)
    a_ub = np.vstack([a[finite_hi], -a[finite_lo]])
    b_ub = np.concatenate([lp.row_upper[finite_hi], -lp.row_lower[finite_lo]])
    col_box = list(zip(lp.col_lower, lp.col_upper, strict=True))
    for i in range(net.widths[2]):
        cost = np.zeros(lp.n_cols)
        cost[lp.objective_cols] = net.weights[2][i]
        res = linprog(cost, A_ub=a_ub, b_ub=b_ub, bounds=col_box, method="highs")
        assert res.status == 0
        assert lp.minimize(net.weights[2][i]) == pytest.approx(res.fun, abs=1e-7)
        for _ in range(20):  # arbitrary multipliers: never above the optimum
            y = rng.normal(size=lp.matrix.shape[0]) * rng.choice([0.0, 0.1, 10.0])
            assert _dual_bound(lp, cost, y) <= res.fun + 1e-9
    # HiGHS stopped after one iteration: still a valid (weaker) bound
    fresh = LayerLP(net, list(ib.lower), list(ib.upper), 2)
    fresh.highs.setOptionValue("simplex_iteration_limit", 1)
    cost = np.zeros(lp.n_cols)
    cost[lp.objective_cols] = -net.weights[2][0]
    res = linprog(cost, A_ub=a_ub, b_ub=b_ub, bounds=col_box, method="highs")
    assert fresh.minimize(-net.weights[2][0]) <= res.fun + 1e-9


def test_time_limit_is_for_the_whole_call():
    """``time_limit`` stops the MILP step (about 3 s unlimited on this network) at the
    call's deadline; the units left keep valid LP bounds."""
    net = random_network(2, 10, (20, 20, 5), lower=-1.0, upper=1.0)
    limited = milp_bounds(net, time_limit=0.3)
    assert not limited.exact and limited.seconds < 0.3 + 0.5
    lp = lp_bounds(net)
    pre = net.preactivations(net.sample_inputs(N_SAMPLES, random_state=4))
    for layer in range(net.n_layers):
        assert np.all(pre[layer] >= limited.lower[layer])
        assert np.all(pre[layer] <= limited.upper[layer])
        assert np.all(limited.lower[layer] >= lp.lower[layer])
        assert np.all(limited.upper[layer] <= lp.upper[layer])


@pytest.mark.parametrize("method", ["lp", "milp"])
def test_time_limit_zero_leaves_the_interval_bounds(method):
    """Past the deadline no LP (and no MILP) is solved: the interval bounds remain."""
    net = random_network(5, 6, (10, 10, 3), lower=-1.0, upper=1.0)
    cut = tighten_bounds(net, method=method, time_limit=0.0)
    ref = interval_bounds(net)
    assert not cut.exact
    for layer in range(net.n_layers):
        np.testing.assert_array_equal(cut.lower[layer], ref.lower[layer])
        np.testing.assert_array_equal(cut.upper[layer], ref.upper[layer])
