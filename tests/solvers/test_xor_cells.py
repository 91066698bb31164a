"""The cell counts behind the (epsilon, delta) counter's measurement (benchmarks/
xor_cells.py): SCIP's enumeration with dense parity rows counts exactly the regions
whose pattern satisfies them, and the ApproxMC constants match its published ones."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np
import pytest

from netgen import dense_network
from reluscope.bounds import tighten_bounds

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from xor_cells import (  # noqa: E402
    approxmc_measurements,
    approxmc_threshold,
    count_cell,
    dense_hash,
    exact_patterns,
    in_cell,
)


@pytest.fixture(scope="module")
def setup():
    net = dense_network(3, 2, (6, 6, 4))  # 179 regions
    bounds = tighten_bounds(net, method="lp")
    full, patterns = count_cell(net, bounds, np.zeros((0, 0), dtype=bool),
                                np.zeros(0, dtype=np.int64))
    return net, bounds, full, patterns


def test_the_full_enumeration_is_the_region_count(setup):
    import reluscope

    net, bounds, full, patterns = setup
    assert full.exact and full.regions == 179
    assert full.regions == reluscope.count_regions(net, bounds=bounds, n_jobs=1).regions
    assert len({row.tobytes() for row in patterns}) == 179


def test_the_exact_counts_patterns_are_the_milp_enumerations(setup):
    from reluscope.milp import build_network_model

    net, bounds, _, patterns = setup
    units = [unit for unit, _ in build_network_model(net, bounds, counting=True).binaries]
    count, found = exact_patterns(net, bounds, units, None)
    assert count.exact and count.regions == 179
    assert {r.tobytes() for r in found} == {r.tobytes() for r in patterns}


@pytest.mark.parametrize(("m", "seed"), [(1, 0), (3, 1), (5, 2)])
def test_a_cell_holds_the_regions_whose_pattern_satisfies_the_hash(setup, m, seed):
    net, bounds, full, patterns = setup
    rows, parities = dense_hash(np.random.default_rng(seed), patterns.shape[1], m)
    cell, found = count_cell(net, bounds, rows, parities)
    expected = patterns[in_cell(patterns, rows, parities)]
    assert cell.exact
    assert cell.regions == len(expected) > 0
    assert {r.tobytes() for r in found} == {r.tobytes() for r in expected}


def test_in_cell_by_hand():
    bits = np.array(list(itertools.product((0, 1), repeat=3)), dtype=bool)
    rows = np.array([[1, 1, 0], [0, 1, 1]], dtype=bool)
    # z0 xor z1 = 1 and z1 xor z2 = 0: 100 and 011
    assert bits[in_cell(bits, rows, np.array([1, 0]))].astype(int).tolist() == [[0, 1, 1],
                                                                                [1, 0, 0]]


def test_approxmc_constants_are_the_published_ones():
    # ApproxMC's defaults: epsilon 0.8 gives a threshold of 72; its table of iteration
    # confidences (0.64, 0.704512, 0.749..., 0.783..., 0.81096...) gives 9 measurements
    # for delta 0.2 and 33 for delta 0.05 (0.9509...)
    assert approxmc_threshold(0.8) == 72
    assert approxmc_measurements(0.2) == 9
    assert approxmc_measurements(0.05) == 33
    assert approxmc_measurements(0.4) == 1
