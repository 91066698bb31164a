"""The predictors of a top node's regions that benchmarks/top_predictors.py scores: the
node's hyperplanes are the network's own on its polyhedron, the Chebyshev radius is the
largest ball's (checked on a box by hand), and the variance gain is right by hand."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from netgen import dense_network
from reluscope.bounds import tighten_bounds
from reluscope.regions.estimate.probes import Prober, node_of
from reluscope.regions.estimate.tree_estimate import expand_frontier
from reluscope.regions.search.engine import prepare

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from top_predictors import (  # noqa: E402
    chebyshev_radius,
    decided_hyperplanes,
    variance_gain,
    witness_distance,
)


@pytest.fixture(scope="module")
def top():
    net = dense_network(3, 2, (6, 6, 4))
    prep = prepare(net, tighten_bounds(net, method="lp"))
    _, nodes = expand_frontier(Prober(prep), [node_of(prep.root_task())], 24,
                               float("inf"), threading.Event())
    return net, prep, nodes


def test_a_nodes_hyperplanes_are_the_networks_preactivations_on_its_polyhedron(top):
    net, prep, nodes = top
    rng = np.random.default_rng(0)
    checked = 0
    for node in nodes:
        a, c, s = decided_hyperplanes(prep, node)
        assert np.all(s * (a @ node.points[0] + c) >= -1e-9)  # the witness is inside
        # points near the witness with the same pattern of the decided units: the
        # affine maps give their pre-activations exactly
        units = node.prefix // 2
        for _ in range(20):
            x = node.points[0] + rng.normal(scale=1e-3, size=node.points.shape[1])
            pre = np.concatenate(net.preactivations(x[None, :]), axis=1)[0]
            if np.all(np.sign(pre[units]) == s):
                np.testing.assert_allclose(a @ x + c, pre[units], atol=1e-9)
                checked += 1
    assert checked > 100


def test_radius_and_distance_by_hand(top):
    _, prep, nodes = top
    node = next(n for n in nodes if n.depth >= 2)
    radius = chebyshev_radius(prep, node)
    assert 0 < witness_distance(prep, node) <= radius + 1e-9  # a ball around the witness fits
    a, c, s = decided_hyperplanes(prep, node)
    # no ball of a larger radius fits: its centre would be farther than the radius from
    # every hyperplane; sample candidate centres and check none beats the LP
    rng = np.random.default_rng(1)
    xs = rng.uniform(prep.lower, prep.upper, size=(20_000, len(prep.lower)))
    inside = np.all(s * (xs @ a.T + c) >= 0, axis=1)
    depth = np.min(s * (xs[inside] @ a.T + c) / np.linalg.norm(a, axis=1), axis=1)
    assert depth.max() <= radius + 1e-9
    assert depth.max() >= 0.5 * radius  # and sampled centres get close to it


def test_variance_gain_by_hand():
    y = np.array([1.0, 2.0, 3.0, 10.0])
    assert variance_gain(np.ones(4), y) == pytest.approx(1.0)
    assert variance_gain(y + 0.01, y) > 100  # nearly proportional: almost no spread left
    # y = (1, 3) drawn with p = (1/3, 2/3) instead of 1/2: E[y^2/p]E[p] - E[y]^2 by hand
    y2, p = np.array([1.0, 3.0]), np.array([1.0, 2.0])
    uniform = (1 + 9) / 2 - 4
    pps = (1 / 1 + 9 / 2) / 2 * 1.5 - 4
    assert variance_gain(p, y2) == pytest.approx(uniform / pps)
