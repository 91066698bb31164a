"""Purdom's partial backtracking and Chen's heuristic sampling (benchmarks/
tree_alternatives.py), the estimators ``bench_estimate.py alternatives`` measures beside
the tree estimate's runs: unbiased against the exact count (brute force checks it in
test_tree_estimate.py) on a small network, exact where they sample nothing."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import reluscope
from netgen import dense_network
from reluscope.bounds import tighten_bounds
from reluscope.regions.estimate.probes import Prober, node_of
from reluscope.regions.estimate.tree_estimate import expand_frontier
from reluscope.regions.search.engine import prepare

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from tree_alternatives import chen_run, purdom_probe, stratifier  # noqa: E402


@pytest.fixture(scope="module")
def setup():
    net = dense_network(3, 2, (6, 6, 4))  # 179 regions
    bounds = tighten_bounds(net, method="lp")
    prep = prepare(net, bounds)
    prober = Prober(prep)
    root = node_of(prep.root_task())
    found, top = expand_frontier(prober, [root], 8, float("inf"), threading.Event())
    exact = reluscope.count_regions(net, bounds=bounds, n_jobs=1).regions
    return prep, prober, found, top, exact


def _unbiased(values: np.ndarray, exact: int) -> None:
    se = values.std(ddof=1) / np.sqrt(values.size)
    assert values.std() > 0  # the estimates are random
    assert abs(values.mean() - exact) < 4 * se, (values.mean(), se, exact)


@pytest.mark.parametrize(("q", "keep"), [(0.0, None), (0.5, None), (0.5, 3)])
def test_purdom_probes_are_unbiased(setup, q, keep):
    _, prober, found, top, exact = setup
    rng = np.random.default_rng(3)
    _unbiased(found + np.array([purdom_probe(prober, top, q, rng, keep)
                                for _ in range(400)]), exact)


def test_purdom_with_q_one_counts_exactly(setup):
    _, prober, found, top, exact = setup
    assert found + purdom_probe(prober, top, 1.0, np.random.default_rng(0)) == exact


@pytest.mark.parametrize("kind", ["counts", "pattern"])
def test_chen_runs_are_unbiased(setup, kind):
    prep, prober, found, top, exact = setup
    key = stratifier(prep, kind)
    rng = np.random.default_rng(4)
    _unbiased(found + np.array([chen_run(prober, top, key, rng)[0] for _ in range(120)]),
              exact)


def test_chen_with_a_key_per_node_counts_exactly(setup):
    _, prober, found, top, exact = setup
    value, widest = chen_run(prober, top, lambda node: tuple(node.prefix.tolist()),
                             np.random.default_rng(0))
    assert found + value == exact and widest > len(top)
