"""method="milp" and "scip-count" on networks whose regions are counted by hand."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import reluscope
from netgen import planted_network, random_network
from oracles import brute_force_count, brute_force_patterns
from reluscope.bounds import interval_bounds, tighten_bounds
from reluscope.network import ReLUNetwork
from reluscope.regions.count.milp_enum import (
    count_regions_milp,
    count_regions_scip,
    enumerate_regions_milp,
)
from reluscope.regions.upper.constructions import zigzag_network

ENGINES = [count_regions_milp, count_regions_scip]


def _count(net: ReLUNetwork, engine=count_regions_milp, bounds=None, **kwargs) -> int:
    result = engine(net, interval_bounds(net) if bounds is None else bounds, **kwargs)
    assert result.exact and result.status == "complete"
    return result.regions


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("n", [1, 2, 5, 9])
def test_one_layer_with_breakpoints_inside(engine, n):
    """n rightward units x - t_j with distinct t_j in (0, 1): n + 1 intervals."""
    t = (np.arange(n) + 1) / (n + 1)
    net = ReLUNetwork([np.ones((n, 1))], [-t])
    assert _count(net, engine) == n + 1


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("k", [1, 3, 6])
def test_second_layer_splits_the_active_piece(engine, k):
    """h = relu(x - 1/2), then k units h - t_j, t_j in (0, 1/2): x <= 1/2 is one
    region, (1/2, 1] is cut into k + 1: k + 2 in all."""
    t = (np.arange(k) + 1) / (2 * (k + 1))
    net = ReLUNetwork([np.ones((1, 1)), np.ones((k, 1))], [np.array([-0.5]), -t])
    assert _count(net, engine) == k + 2


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("widths", [(3,), (3, 3), (4, 3), (3, 4, 3)])
def test_zigzag_reaches_product_formula(engine, widths):
    """The 1-D maximum prod_l (n_l + 1) (ICML 2018 construction)."""
    net = zigzag_network(widths)
    expected = math.prod(n + 1 for n in widths)
    assert _count(net, engine, bounds=tighten_bounds(net, method="lp")) == expected


def test_zigzag_patterns_equal_brute_force():
    net = zigzag_network((3, 3))
    count, patterns = enumerate_regions_milp(net, tighten_bounds(net, method="lp"))
    assert {tuple(bool(v) for v in row) for row in patterns} == brute_force_patterns(net)


@pytest.mark.parametrize("seed", range(6))
def test_valid_inequalities_change_no_count(seed):
    net = random_network(seed, 2 + seed % 3, (4, 4, 3), lower=-1, upper=1, bias_scale=0.3)
    bounds = interval_bounds(net)
    expected = brute_force_count(net)
    plain = count_regions_milp(net, bounds)
    with_vi = count_regions_milp(net, bounds, valid_inequalities=True)
    assert plain.regions == with_vi.regions == expected


@pytest.mark.parametrize("engine", ENGINES)
def test_no_unstable_units_gives_one_region(engine):
    net = ReLUNetwork([np.array([[1.0], [0.0]])], [np.array([2.0, -1.0])])  # x+2 > 0, -1 < 0
    bounds = interval_bounds(net)
    assert not bounds.unstable(0).any()
    assert _count(net, engine) == 1 == brute_force_count(net)


@pytest.mark.parametrize("engine", ENGINES)
def test_stable_unit_below_eps_gives_no_region(engine):
    """g = x + 1e-7 on [0, 1e-7]: positive everywhere (stably active), yet never
    >= REGION_EPS and never <= 0, so no pattern qualifies: zero regions."""
    net = ReLUNetwork([np.array([[1.0]])], [np.array([1e-7])], lower=0.0, upper=1e-7)
    assert interval_bounds(net).stably_active(0).all()
    assert brute_force_count(net) == 0
    assert _count(net, engine) == 0


def test_linear_network_without_units_has_one_region():
    net = ReLUNetwork([np.array([[1.0, -2.0]])], [np.array([0.5])], relu=[False])
    assert _count(net) == 1 == _count(net, count_regions_scip)


def test_planted_network_patterns_keep_stable_units():
    """Stable units are filled in: stably active 1, stably inactive 0, in every row."""
    net = planted_network()
    count, patterns = enumerate_regions_milp(net, interval_bounds(net))
    assert patterns.shape == (count.regions, net.n_units)
    assert patterns[:, 2].all() and patterns[:, 3].all()
    assert not patterns[:, 0].any() and not patterns[:, 1].any()
    assert {tuple(bool(v) for v in row) for row in patterns} == brute_force_patterns(net)


def test_result_fields_and_json():
    net = random_network(3, 2, (4, 3), lower=-1, upper=1)
    result = count_regions_milp(net, interval_bounds(net))
    assert type(result.regions) is int and result.method == "milp"
    assert result.lp_solves > 0 and result.nodes > 0 and result.seconds > 0
    data = json.loads(json.dumps(result.to_dict()))
    assert data["regions"] == brute_force_count(net) and data["exact"] is True


def test_progress_bar_does_not_change_the_count(capsys):
    net = random_network(5, 2, (4, 3), lower=-1, upper=1)
    quiet = count_regions_milp(net, interval_bounds(net))
    shown = count_regions_milp(net, interval_bounds(net), progress=True)
    assert shown.regions == quiet.regions
    captured = capsys.readouterr()
    assert captured.out == "" and "regions" in captured.err


def test_count_regions_dispatches_to_both_engines():
    net = random_network(7, 3, (4, 4), lower=-2, upper=1)
    expected = brute_force_count(net)
    for method in ("milp", "scip-count"):
        result = reluscope.count_regions(net, method=method)
        assert result.method == method and result.regions == expected
