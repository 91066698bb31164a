"""Polytope domains ``A x <= b`` inside the box: checks, the bounding box, membership,
sampling and the save/load round trip. Oracles: ``scipy.optimize.linprog`` for the
bounding box, hand-computed centroids for the sampler, forward passes for the files."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linprog

import reluscope
from netgen import random_network
from reluscope import domains
from reluscope.errors import DomainError
from reluscope.tolerances import DOMAIN_BOX_PADDING


def _net(n0: int = 3, seed: int = 0):
    return random_network(seed, n0, (4, 3), output_relu=False, lower=-1.0, upper=1.0)


def _linprog_box(lo, hi, a, b):
    """Bounding box of {lo <= x <= hi, a x <= b} by scipy's linprog (2 n0 LPs)."""
    n = len(lo)
    out_lo, out_hi = np.empty(n), np.empty(n)
    for j in range(n):
        for sign, out in ((1.0, out_lo), (-1.0, out_hi)):
            c = np.zeros(n)
            c[j] = sign
            res = linprog(c, A_ub=a, b_ub=b, bounds=list(zip(lo, hi, strict=True)),
                          method="highs")
            assert res.status == 0
            out[j] = sign * res.fun
    return out_lo, out_hi


@pytest.mark.parametrize("seed", range(6))
def test_bounding_box_matches_linprog_and_contains_the_domain(seed):
    rng = np.random.default_rng(seed)
    n0 = 2 + seed % 3
    net = _net(n0, seed)
    a = rng.normal(size=(4, n0))
    b = a @ rng.uniform(-0.5, 0.5, n0) + rng.uniform(0.05, 0.5, 4)
    p = net.with_polytope(a, b)
    want_lo, want_hi = _linprog_box(net.lower, net.upper, a, b)
    pad = 2 * DOMAIN_BOX_PADDING * (1 + np.abs(want_lo))
    assert np.all(p.lower <= want_lo + 1e-12) and np.all(p.lower >= want_lo - pad - 1e-9)
    pad = 2 * DOMAIN_BOX_PADDING * (1 + np.abs(want_hi))
    assert np.all(p.upper >= want_hi - 1e-12) and np.all(p.upper <= want_hi + pad + 1e-9)
    assert np.all(p.lower >= net.lower) and np.all(p.upper <= net.upper)
    xs = p.sample_inputs(500, random_state=seed)
    assert np.all(xs @ a.T <= b + 1e-12)
    assert np.all(p.contains(xs))
    # rebuilding from the stored box gives the same box (the tightening is idempotent)
    again = net.with_domain(p.lower, p.upper, a, b)
    np.testing.assert_array_equal(again.lower, p.lower)
    np.testing.assert_array_equal(again.upper, p.upper)


def test_bad_polytopes_are_one_line_domain_errors():
    net = _net()
    cases = [
        (np.ones((1, 4)), [1.0], "must have shape \\(m, 3\\)"),
        (np.ones((2, 3)), [1.0], "one entry per row of A \\(2\\)"),
        ([[1.0, np.nan, 0.0]], [1.0], "NaN or infinite"),
        ([[1.0, 0.0, 0.0]], [np.inf], "NaN or infinite"),
        ([[0.0, 0.0, 0.0]], [1.0], "row 0 of the polytope's A is all zeros"),
        ([[1.0, 1.0, 1.0]], [-3.5], "the input domain is empty"),  # below the box's min -3
        ([[1.0, 0.0, 0.0], [-1.0, 0.0, 0.0]], [0.2, -0.3], "the input domain is empty"),
    ]
    for a, b, message in cases:
        with pytest.raises(DomainError, match=message) as info:
            net.with_polytope(a, b)
        assert "\n" not in str(info.value)
    with pytest.raises(DomainError, match="both A and b"):
        reluscope.ReLUNetwork(net.weights, net.biases, domain_A=np.ones((1, 3)))


def test_hit_and_run_is_uniform_on_a_small_corner():
    # x + y <= 0.3 in [0,1]^2: 4.5% of the box, so rejection falls short and hit-and-run
    # draws the rest; the triangle's centroid is (0.1, 0.1), its x-variance 0.3^2/18
    net = random_network(1, 2, (3,)).with_polytope([[1.0, 1.0]], [0.3])
    np.testing.assert_allclose(net.upper, [0.3, 0.3], atol=1e-8)
    xs = net.sample_inputs(4000, random_state=0)
    assert xs.shape == (4000, 2) and np.all(xs.sum(axis=1) <= 0.3 + 1e-12)
    assert np.all(xs >= 0)
    np.testing.assert_allclose(xs.mean(axis=0), [0.1, 0.1], atol=0.01)
    np.testing.assert_allclose(xs.var(axis=0), [0.09 / 18] * 2, rtol=0.15)
    # share of the triangle with x < 0.1: (0.3^2 - 0.2^2) / 0.3^2
    assert abs(np.mean(xs[:, 0] < 0.1) - 5 / 9) < 0.03
    # the walk alone (no rejection points), from a corner-near start
    from reluscope.polytope import _hit_and_run

    walk = _hit_and_run(np.array([0.01, 0.01]), net.lower, net.upper, net.domain_A,
                        net.domain_b, 3000, np.random.default_rng(1))
    assert np.all(walk.sum(axis=1) <= 0.3 + 1e-9) and np.all(walk >= 0)
    np.testing.assert_allclose(walk.mean(axis=0), [0.1, 0.1], atol=0.01)
    assert abs(np.mean(walk[:, 0] < 0.1) - 5 / 9) < 0.03


def test_thin_and_flat_polytopes():
    net = _net(2)
    thin = net.with_polytope([[1.0, 1.0], [-1.0, -1.0]], [0.01, 0.01])  # |x + y| <= 0.01
    xs = thin.sample_inputs(300, random_state=1)
    assert np.all(np.abs(xs.sum(axis=1)) <= 0.01 + 1e-12)
    assert xs[:, 0].max() - xs[:, 0].min() > 1.0  # spread along the slab
    flat = net.with_polytope([[1.0, 1.0], [-1.0, -1.0]], [0.0, 0.0])  # the line x + y = 0
    with pytest.raises(DomainError, match="flat"):
        flat.sample_inputs(10, random_state=0)
    seeds = flat.seed_inputs(10, random_state=0)
    assert seeds.shape == (1, 2) and abs(seeds[0].sum()) <= 1e-9


def test_with_domain_replaces_and_linf_ball_keeps_the_polytope():
    net = _net()
    p = net.with_polytope([[1.0, 1.0, 1.0]], [0.0])
    assert p.has_polytope and not p.with_domain(-1, 1).has_polytope
    ball = domains.linf_ball(p, [0.9, 0.9, -0.9], 0.5)
    assert ball.has_polytope
    np.testing.assert_array_equal(ball.domain_A, p.domain_A)
    # the ball's box [0.4, 1] x [0.4, 1] x [-1, -0.4] cut by x + y + z <= 0:
    # x <= -y - z <= -0.4 + 1, z <= -x - y <= -0.8
    np.testing.assert_allclose(ball.upper, [0.6, 0.6, -0.8], atol=1e-8)
    both = p.with_polytope([[-1.0, 0.0, 0.0]], [0.0])  # and x >= 0
    assert both.domain_A.shape == (2, 3) and both.lower[0] >= -2 * DOMAIN_BOX_PADDING


@pytest.mark.parametrize("ext", ["npz", "onnx", "pt"])
def test_polytope_round_trip(tmp_path, ext):
    if ext == "onnx":
        pytest.importorskip("onnx")
    if ext == "pt":
        pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    net = _net(3, 3)
    a = rng.normal(size=(3, 3))
    p = net.with_polytope(a, a @ np.zeros(3) + 0.4)
    path = tmp_path / f"net.{ext}"
    p.save(path)
    back = reluscope.load(path)
    np.testing.assert_array_equal(back.domain_A, p.domain_A)
    np.testing.assert_array_equal(back.domain_b, p.domain_b)
    np.testing.assert_array_equal(back.lower, p.lower)
    np.testing.assert_array_equal(back.upper, p.upper)
    xs = p.sample_inputs(50, random_state=0)
    np.testing.assert_allclose(back.forward(xs), p.forward(xs), rtol=1e-6, atol=1e-6)
    # a box network writes no polytope
    net.save(tmp_path / f"box.{ext}")
    assert not reluscope.load(tmp_path / f"box.{ext}").has_polytope


@pytest.mark.parametrize("kind", ["npz", "json", "npy", "csv"])
def test_polytope_files(tmp_path, kind):
    net = _net()
    a = np.array([[1.0, 2.0, -1.0], [0.0, -1.0, 0.5]])
    b = np.array([0.5, 0.25])
    path = tmp_path / f"poly.{kind}"
    if kind == "npz":
        np.savez(path, A=a, b=b)
    elif kind == "json":
        import json

        path.write_text(json.dumps({"A": a.tolist(), "b": b.tolist()}))
    elif kind == "npy":
        np.save(path, np.hstack([a, b[:, None]]))
    else:
        np.savetxt(path, np.hstack([a, b[:, None]]), delimiter=",")
    p = domains.with_polytope_file(net, path)
    np.testing.assert_array_equal(p.domain_A, a)
    np.testing.assert_array_equal(p.domain_b, b)
    np.testing.assert_array_equal(net.lower, -1.0)  # the original is unchanged


def test_polytope_file_with_its_own_box(tmp_path):
    net = _net()
    path = tmp_path / "poly.npz"
    np.savez(path, A=[[1.0, 1.0, 1.0]], b=[0.5], lower=[0.0, 0.0, 0.0], upper=[1.0, 1.0, 1.0])
    p = domains.with_polytope_file(net, path)
    np.testing.assert_allclose(p.lower, 0.0)
    np.testing.assert_allclose(p.upper, 0.5, atol=1e-8)
