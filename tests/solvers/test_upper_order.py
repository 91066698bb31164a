"""Order of the bounds on random networks against exact counts (LP brute-force oracle)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import reluscope
from netgen import planted_network, random_network, random_small_network
from oracles import brute_force_count, sampled_patterns
from reluscope.bounds import tighten_bounds
from reluscope.regions.upper.analytic import upper_bounds
from reluscope.regions.upper.constructions import zigzag_network, zigzag_regions

N_RANDOM = 200


def _ordered(result):
    assert result.empirical_ub <= result.configuration_ub <= result.montufar_ub
    assert result.montufar_ub <= result.zaslavsky_ub <= result.trivial_ub


def test_exact_count_below_every_bound_on_200_random_networks():
    # generic random Gaussian networks (no degenerate parallel hyperplanes): the region
    # definition then counts full-dimensional regions only, as the bounds assume
    checked = 0
    for seed in range(N_RANDOM):
        net = random_small_network(seed)
        exact = brute_force_count(net)
        for method in ("interval", "lp"):
            result = upper_bounds(net, bounds=tighten_bounds(net, method=method))
            assert exact <= result.empirical_ub, (seed, method)
            _ordered(result)
            ranked = upper_bounds(net, bounds=tighten_bounds(net, method=method), rank=True)
            assert exact <= ranked.empirical_ub <= ranked.configuration_ub
            assert ranked.configuration_ub <= result.configuration_ub
        checked += 1
    assert checked == N_RANDOM


@pytest.mark.parametrize("seed", range(4))
def test_strictly_below_configuration_with_a_narrow_layer(seed):
    # every unit of layer 1 is unstable, but after the width-1 layer only the units whose
    # weight sign lets that unit flip them can be unstable (Proposition 3)
    net = random_network(seed, 2, (6, 1, 6), bias_scale=0.05, lower=-1.0, upper=1.0)
    result = upper_bounds(net, bounds_method="interval")
    assert result.layers[0].max_unstable == (6,)
    assert result.layers[2].max_unstable[-1] < 6
    assert brute_force_count(net) <= result.empirical_ub < result.configuration_ub


def test_strictly_below_configuration_with_stable_units():
    # planted: 2 stably inactive and 2 stably active units out of 6, n0 = 3
    net = planted_network()
    result = upper_bounds(net, bounds_method="lp")
    assert result.configuration_ub == sum(math.comb(6, j) for j in range(4))  # 42
    assert result.layers[0].stably_inactive == 2 and result.layers[0].stably_active == 2
    assert result.empirical_ub == 1 + 2 + 1  # the two unstable units in R^3
    assert brute_force_count(net) <= result.empirical_ub


@pytest.mark.parametrize("seed", range(4))
def test_first_layer_stable_units_make_it_strict(seed):
    net = random_network(seed, 3, (5, 5), bias_scale=3.0)
    bounds = tighten_bounds(net, method="lp")
    assert not bounds.unstable(0).all()
    result = upper_bounds(net, bounds=bounds)
    assert brute_force_count(net) <= result.empirical_ub < result.configuration_ub


@pytest.mark.parametrize("seed", range(3))
def test_sampled_regions_below_empirical_on_larger_networks(seed):
    net = random_network(seed, 3, (8, 8, 8), bias_scale=0.3)
    found = len(sampled_patterns(net, 20_000, seed))
    result = upper_bounds(net, bounds_method="lp")
    assert found <= result.empirical_ub <= result.configuration_ub


@pytest.mark.parametrize("widths", [(3,), (3, 3), (4, 3), (3, 4, 3)])
def test_zigzag_reaches_the_configuration_bound(widths):
    net = zigzag_network(widths)
    expected = math.prod(n + 1 for n in widths)
    assert zigzag_regions(widths) == expected
    assert upper_bounds(net, bounds_method="interval").configuration_ub == expected
    if net.n_units <= 10:
        assert brute_force_count(net) == expected
    else:  # sampled patterns are a lower bound; with the upper bound, exact
        assert len(sampled_patterns(net, 100_000, 0)) == expected


def test_example_network_bounds():
    net = reluscope.example_network()
    result = upper_bounds(net, bounds_method="lp")
    _ordered(result)
    assert result.architecture == (64, 6, 6, 10)
    assert result.trivial_ub == 2**22
    found = len(sampled_patterns(net, 20_000, 0))
    assert found <= result.empirical_ub
    # the Empirical UB uses the sign structure: below the Configuration UB here
    assert result.empirical_ub < result.configuration_ub
    assert np.isclose(result.maps["trivial_ub"], 22.0)


MEDIUM_SHAPES = [(3, (6, 6, 4)), (2, (8, 3, 8)), (4, (5, 5, 5)), (5, (10, 6))]


@pytest.mark.parametrize(("n0", "widths"), MEDIUM_SHAPES)
def test_exact_engine_count_below_empirical_on_medium_networks(n0, widths):
    # a second oracle: reluscope.count_regions (the exact LP engine) on networks too
    # large for brute force, with the first layer shifted so that some units are stable
    for seed in range(5):
        net = random_network(seed, n0, widths, bias_scale=0.3)
        exact = reluscope.count_regions(net, n_jobs=1, bounds_method="lp")
        assert exact.exact
        result = upper_bounds(net, bounds_method="lp")
        assert exact.regions <= result.empirical_ub <= result.configuration_ub, seed


@pytest.mark.slow
def test_example_network_count_below_empirical():
    net = reluscope.example_network()
    exact = reluscope.count_regions(net, n_jobs=1, bounds_method="lp")
    assert exact.exact
    for method in ("lp", "milp"):
        result = upper_bounds(net, bounds_method=method)
        assert exact.regions <= result.empirical_ub <= result.configuration_ub
