"""Every method on polytope domains ``A x <= b`` against independent oracles.

Counts: the brute-force oracle (tests/oracles.py) decides each pattern with its own
scipy LPs over the box *as given* and the rows ``A x <= b``, so it relies neither on
reluscope's engines nor on its tightening of the box. Bounds: sampled points of the
polytope never leave them, and they are within the box's bounds. Compression: the
compressed network agrees with the original on points of the polytope, and the MILP
proof says so. Slices: brute force on the slice's own coordinates with the polytope's
rows written there by hand.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linprog

import reluscope
from netgen import dense_network, random_network
from oracles import brute_force_count, brute_force_patterns
from reluscope.bounds import tighten_bounds
from reluscope.regions.views.slices import composed_network, slice_regions

KINDS = ("random", "corner", "thin", "flat")
METHODS = ("lp", "highs", "geometric", "milp", "scip-count")


def _polytope(seed: int, n0: int, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """``random``: 3 random half-spaces around the box's centre; ``corner``: the simplex
    ``sum x <= 0.3`` (cuts most of [0,1]^n0); ``thin``: a slab of width 0.02; ``flat``:
    the hyperplane ``d.x = c`` as two rows (no interior: regions of the hyperplane)."""
    rng = np.random.default_rng(seed)
    if kind == "random":
        a = rng.normal(size=(3, n0))
        return a, a @ np.full(n0, 0.5) + rng.uniform(0.05, 0.4, 3)
    if kind == "corner":
        return np.ones((1, n0)), np.array([0.3])
    d = rng.normal(size=n0)
    d /= np.linalg.norm(d)
    c = float(d @ np.full(n0, 0.5))
    width = 0.0 if kind == "flat" else 0.01
    return np.vstack([d, -d]), np.array([c + width, -c + width])


def _case(seed: int, kind: str):
    n0 = 2 + seed % 3
    net = dense_network(seed, n0, (5, 4), output_relu=seed % 2 == 0)
    a, b = _polytope(seed, n0, kind)
    return net, net.with_polytope(a, b)


_BOX = (0.0, 1.0)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("seed", range(8))
def test_count_on_a_polytope_matches_brute_force(seed, kind):
    net, p = _case(seed, kind)
    n0 = net.n_inputs
    want = brute_force_count(p, box=(np.full(n0, _BOX[0]), np.full(n0, _BOX[1])))
    for method in METHODS:
        result = reluscope.count_regions(p, method=method, n_jobs=1)
        assert result.exact and result.regions == want, (method, result)
    # the default engine for these 2-4 inputs is the geometric one (the polytope's rows
    # cut its first cell; a flat polytope goes to the lp engine)
    assert reluscope.count_regions(p, n_jobs=1).method == "geometric"


def test_the_polytope_changes_the_count():
    # guards the test above against polytopes that cut nothing: on most of these cases
    # the count on the polytope's bounding box (the network's stored box) is larger, so
    # an engine that ignored the rows A x <= b would fail there
    differ = 0
    for seed in range(8):
        for kind in KINDS:
            _, p = _case(seed, kind)
            differ += brute_force_count(p) < brute_force_count(p.with_domain(p.lower, p.upper))
    assert differ >= 26


@pytest.mark.parametrize("seed", range(6))
def test_bounds_on_a_polytope_are_valid_and_tighter(seed):
    net, p = _case(seed, "corner" if seed % 2 else "random")
    xs = p.sample_inputs(3000, random_state=seed)
    pre = p.preactivations(xs)
    box = tighten_bounds(net, method="interval")
    previous = None
    for method in ("interval", "lp", "milp"):
        bounds = tighten_bounds(p, method=method)
        for layer, g in enumerate(pre):
            assert np.all(g >= bounds.lower[layer] - 1e-9), (method, layer)
            assert np.all(g <= bounds.upper[layer] + 1e-9), (method, layer)
            assert np.all(bounds.lower[layer] >= box.lower[layer] - 1e-9)
            assert np.all(bounds.upper[layer] <= box.upper[layer] + 1e-9)
            if previous is not None:
                assert np.all(bounds.lower[layer] >= previous.lower[layer] - 1e-9)
                assert np.all(bounds.upper[layer] <= previous.upper[layer] + 1e-9)
        previous = bounds
    # layer 0 by LP is exact on the polytope: scipy's linprog over box and rows agrees
    lp0 = tighten_bounds(p, method="lp")
    assert not tighten_bounds(p, method="interval").exact
    w, bias = net.weights[0], net.biases[0]
    for i in range(w.shape[0]):
        for sign, bound in ((1.0, lp0.lower[0][i]), (-1.0, -lp0.upper[0][i])):
            res = linprog(sign * w[i], A_ub=p.domain_A, b_ub=p.domain_b,
                          bounds=[_BOX] * net.n_inputs, method="highs")
            assert res.status == 0
            exact = res.fun + sign * bias[i]
            assert bound <= exact + 1e-9 and bound >= exact - 1e-6
    # on the corner simplex the box's bounds are strictly looser somewhere
    if seed % 2:
        assert any(np.any(lp0.upper[k] < box.upper[k] - 1e-3) for k in range(p.n_layers))


@pytest.mark.parametrize("seed", range(4))
def test_estimate_and_upper_bounds_on_a_polytope(seed):
    _, p = _case(seed, "random")
    exact = brute_force_count(p)
    est = reluscope.estimate_regions(p, xor_size=1, random_state=seed, max_repetitions=4)
    assert est.regions_found <= exact
    ub = reluscope.upper_bounds(p)
    assert ub.best >= exact


@pytest.mark.parametrize("seed", range(4))
def test_compress_is_lossless_on_the_polytope(seed):
    net = random_network(seed, 3, (6, 5), output_relu=False, bias_scale=0.5)
    p = net.with_polytope(np.ones((1, 3)), [0.4])  # a corner: many units stable there
    result = reluscope.compress(p, verify="milp", n_samples=2000, random_state=seed)
    small = result.network
    assert small.has_polytope
    np.testing.assert_array_equal(small.domain_A, p.domain_A)
    xs = p.sample_inputs(5000, random_state=100 + seed)
    np.testing.assert_allclose(small.forward(xs), p.forward(xs), rtol=1e-6, atol=1e-9)
    assert result.equivalence is not None and result.equivalence.milp_proven is not False
    assert result.units_after <= reluscope.compress(net, verify="none").units_after
    # the stable units it found are stable on the polytope's points
    pre = p.preactivations(xs)
    for layer, g in enumerate(pre):
        assert np.all(g[:, result.stable.inactive[layer]] <= 1e-6)
        assert np.all(g[:, result.stable.active[layer]] >= -1e-6)


def test_compress_removes_more_on_a_small_polytope():
    net = random_network(5, 3, (8, 6), output_relu=False, bias_scale=0.5)
    p = net.with_polytope(np.ones((1, 3)), [0.2])
    assert (reluscope.compress(p, verify="sample").units_after
            < reluscope.compress(net, verify="sample").units_after)


@pytest.mark.parametrize("seed", range(6))
def test_slice_is_clipped_to_the_polytope(seed):
    rng = np.random.default_rng(seed)
    net = random_network(seed, 3, (4, 3), lower=0.0, upper=1.0)
    a = rng.normal(size=(2, 3))
    p = net.with_polytope(a, a @ np.full(3, 0.5) + 0.2)
    pts = 0.5 + 0.3 * (rng.random((3, 3)) - 0.5)
    pts[0] = p.domain_point()
    result = slice_regions(p, pts)
    comp = composed_network(net, result.origin, result.directions)
    m, o = result.directions, result.origin
    rows = np.vstack([m, -m, a @ m])  # box and polytope in slice coordinates
    rhs = np.concatenate([1.0 - o, o, p.domain_b - a @ o])
    assert {tuple(bool(v) for v in c.pattern) for c in result.cells if c.counted} == (
        brute_force_patterns(comp, rows, rhs)
    )
    for cell in result.cells:  # every cell's interior point lies in the polytope
        if cell.measure > 1e-9:
            x = result.to_input(cell.interior_point()[None, :])
            assert np.all(x @ a.T <= p.domain_b + 1e-9)


def test_local_counts_on_a_polytope():
    net, p = _case(2, "corner")  # sum x <= 0.3 on [0,1]^4
    inside, outside = np.full(4, 0.05), np.full(4, 0.9)
    local = reluscope.local_regions(p, np.vstack([inside, outside]), radius=0.1, n_jobs=1)
    first, second = local.counts
    ball = reluscope.linf_ball(p, inside, 0.1)
    assert ball.has_polytope and first.exact
    assert first.regions == brute_force_count(
        ball, box=(np.maximum(inside - 0.1, 0.0), inside + 0.1))
    assert second.exact and second.regions == 0  # the ball misses the polytope
