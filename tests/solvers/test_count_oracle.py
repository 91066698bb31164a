"""Every counting engine against the brute-force oracle (tests/oracles.py).

The oracle decides each of the 2^n patterns with its own LPs (scipy linprog), sharing
no code with the engines. Checked: 200 random small networks with every engine's
count (lp on all of them, milp and scip-count on every third), degenerate networks
whose counts are known by hand, and Hypothesis-drawn tiny networks.
"""

from __future__ import annotations

import functools
import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reluscope
from netgen import random_network
from oracles import brute_force_count, brute_force_patterns, is_region, sampled_patterns
from reluscope.network import ReLUNetwork
from reluscope.regions.patterns import read_patterns

SWEEP = 200
#: every SOLVER_STRIDE-th sweep network is also counted by the MILP engines
SOLVER_STRIDE = 3
#: total units of a sweep network (brute force does an LP per feasible partial pattern)
SWEEP_UNITS = 8


def _have_lp_engine() -> bool:
    try:
        import reluscope.regions.search.engine  # noqa: F401
    except ImportError:
        return False
    return True


def _methods() -> list[str]:
    methods = ["milp", "scip-count"]
    return (["lp", "highs"] if _have_lp_engine() else []) + methods


def sweep_network(seed: int) -> ReLUNetwork:
    """Input dim 1-10, depth 1-4, at most SWEEP_UNITS units, boxes other than [0,1]."""
    rng = np.random.default_rng(20_000 + seed)
    n0 = int(rng.integers(1, 11))
    depth = int(rng.integers(1, 5))
    widths: list[int] = []
    for _ in range(depth):
        width = min(int(rng.integers(1, 5)), SWEEP_UNITS - sum(widths))
        if width > 0:
            widths.append(width)
    lower = rng.choice([-2.0, -1.0, -0.5, 0.25], size=n0)
    upper = lower + rng.choice([0.5, 1.0, 2.0, 3.0], size=n0)
    net = random_network(
        seed, n0, tuple(widths), output_relu=bool(rng.integers(0, 2)),
        bias_scale=float(rng.choice([0.3, 1.0])),
    )
    return net.with_domain(lower, upper)


@functools.cache
def _oracle(seed: int) -> int:
    return brute_force_count(sweep_network(seed))


def _count(net: ReLUNetwork, method: str, **kwargs: object) -> int:
    result = reluscope.count_regions(net, method=method, n_jobs=1, **kwargs)
    assert result.exact and result.status == "complete"
    assert isinstance(result.regions, int)
    return result.regions


def test_sweep_networks_are_varied():
    nets = [sweep_network(s) for s in range(SWEEP)]
    assert {n.n_inputs for n in nets} == set(range(1, 11))
    assert {n.n_layers for n in nets} == {1, 2, 3, 4}
    assert all(n.n_units <= SWEEP_UNITS for n in nets)
    assert any(n.n_units == 0 for n in nets)  # a single linear layer: one region
    assert not any(np.all(n.lower == 0) and np.all(n.upper == 1) for n in nets)
    counts = [_oracle(s) for s in range(0, SWEEP, 10)]
    assert max(counts) >= 10 and min(counts) <= 2  # trivial and rich networks both occur


@pytest.mark.parametrize("method", ["lp", "highs"])
@pytest.mark.parametrize("block", range(10))
def test_lp_matches_brute_force_on_sweep(block, method):
    if not _have_lp_engine():
        pytest.skip("the lp engine (regions/search/engine.py) is not there yet")
    for seed in range(block, SWEEP, 10):
        net = sweep_network(seed)
        assert _count(net, method) == _oracle(seed), f"seed {seed}: {net}"


@pytest.mark.parametrize("method", ["milp", "scip-count"])
def test_milp_engines_match_brute_force_on_sweep(method):
    for seed in range(0, SWEEP, SOLVER_STRIDE):
        net = sweep_network(seed)
        assert _count(net, method) == _oracle(seed), f"seed {seed}: {net}"


@pytest.mark.slow
@pytest.mark.parametrize("method", ["milp", "scip-count"])
def test_milp_engines_match_brute_force_on_full_sweep(method):
    for seed in range(SWEEP):
        net = sweep_network(seed)
        assert _count(net, method, bounds_method="interval") == _oracle(seed), f"seed {seed}"


@pytest.mark.parametrize("seed", range(0, SWEEP, 25))
def test_sampled_patterns_are_regions(seed):
    """Sampling finds only genuine regions: a lower bound on (and a subset of) the count."""
    net = sweep_network(seed)
    sampled = sampled_patterns(net, 5000, seed)
    assert sampled <= brute_force_patterns(net)
    assert len(sampled) <= _oracle(seed)


@pytest.mark.parametrize("seed", [3, 12, 30, 51])
def test_milp_patterns_equal_brute_force_patterns(seed, tmp_path):
    net = sweep_network(seed)
    path = tmp_path / "patterns.npy"
    reluscope.count_regions(net, method="milp", patterns_path=path)
    rows = read_patterns(path, net.n_units)
    found = {tuple(bool(v) for v in row) for row in rows}
    assert len(found) == len(rows)  # no pattern twice
    assert found == brute_force_patterns(net)


@pytest.mark.parametrize("seed", range(0, SWEEP, 70))
def test_oracle_pruning_loses_nothing(seed):
    """The pruned depth-first oracle equals checking all 2^n patterns one by one."""
    net = sweep_network(seed)
    every = {
        p for p in itertools.product([False, True], repeat=net.n_units) if is_region(net, p)
    }
    assert every == brute_force_patterns(net)


# --------------------------------------------------------------------------- degenerate
def _net1d(weights, biases, lower=0.0, upper=1.0, relu=None):
    return ReLUNetwork(
        [np.array(w, dtype=float) for w in weights],
        [np.array(b, dtype=float) for b in biases],
        relu=relu, lower=lower, upper=upper,
    )


#: (name, network, regions counted by hand)
DEGENERATE = [
    # g = x - 1 on [0,1]: the active side needs x >= 1 + eps, outside the box
    ("hyperplane on upper edge", _net1d([[[1.0]]], [[-1.0]]), 1),
    # g = x on [0,1]: x = 0 gives g <= 0 and x >= eps gives g >= eps: both sides count
    ("hyperplane on lower edge", _net1d([[[1.0]]], [[0.0]]), 2),
    # g = 1 - x on [0,1]: inactive only at x = 1, still a region
    ("hyperplane through a corner, leftward", _net1d([[[-1.0]]], [[1.0]]), 2),
    # two identical units switch together: 2 regions, not 4
    ("duplicate rows", _net1d([[[1.0], [1.0]]], [[-0.5, -0.5]]), 2),
    # a zero row with zero bias has g = 0 everywhere: always inactive
    ("zero row", _net1d([[[1.0], [0.0]]], [[-0.5, 0.0]]), 2),
    # constant units: stably active (bias 2) and stably inactive (bias -2)
    ("constant units", _net1d([[[0.0], [0.0], [1.0]]], [[2.0, -2.0, -0.5]]), 2),
    # x - 0.3 and x - 0.6: parallel, same direction, 3 intervals
    ("parallel same direction", _net1d([[[1.0], [1.0]]], [[-0.3, -0.6]]), 3),
    # x - 0.3 and 0.6 - x: patterns 01, 11, 10
    ("parallel opposite", _net1d([[[1.0], [-1.0]]], [[-0.3, 0.6]]), 3),
    # 0.3 - x and x - 0.6: patterns 10, 00, 01 (the middle interval has both off)
    ("parallel opposite, gap", _net1d([[[-1.0], [1.0]]], [[0.3, -0.6]]), 3),
    # units stable on the whole box [2, 3]: x - 1 > 0 and x - 5 < 0
    ("stable on box", _net1d([[[1.0], [1.0]]], [[-1.0, -5.0]], lower=2.0, upper=3.0), 1),
    # 2-D: x1 + x2 = 0.5 and x1 + x2 = 1.2 are parallel lines across [0,1]^2
    ("parallel lines 2-D", ReLUNetwork([np.array([[1.0, 1.0], [1.0, 1.0]])],
                                       [np.array([-0.5, -1.2])]), 3),
    # 2-D: two lines crossing inside the box: 4 regions
    ("crossing lines 2-D", ReLUNetwork([np.array([[1.0, -1.0], [1.0, 1.0]])],
                                       [np.array([0.0, -1.0])]), 4),
    # 2-D: lines x2 = 0.2 + 0.1 x1 and x2 = 0.8 - 0.1 x1 cross at x1 = 3, outside the box
    ("crossing outside 2-D", ReLUNetwork([np.array([[-0.1, 1.0], [0.1, 1.0]])],
                                         [np.array([-0.2, -0.8])]), 3),
    # 2-D: a line touching the box only at the corner (1, -1): stably inactive
    ("touching a corner 2-D", ReLUNetwork([np.array([[1.0, -1.0], [1.0, 1.0]])],
                                          [np.array([-2.0, -2.0])])
     .with_domain([0.0, -1.0], [1.0, 3.0]), 2),
    # layer 2 unit duplicates layer 1's: h = relu(x - .5); g2 = h - 0 switches with it
    ("second layer copies first", _net1d([[[1.0]], [[1.0]]], [[-0.5], [0.0]]), 2),
    # second-layer unit whose hyperplane is bent by the first: relu(x-.5) - .25 on [0,1]
    ("bent hyperplane", _net1d([[[1.0]], [[1.0]]], [[-0.5], [-0.25]]), 3),
    # x - .5 and .5 - x: both are 0 at x = .5, so 00 counts too; then a second layer
    # with all-zero weights and zero bias is always inactive: 01, 00, 10
    ("dead second layer", _net1d([[[1.0], [-1.0]], [[0.0, 0.0]]], [[-0.5, 0.5], [0.0]]), 3),
    # final linear layer contributes no units
    ("linear output", _net1d([[[1.0]], [[3.0]]], [[-0.5], [1.0]], relu=[True, False]), 2),
    # a region of width 1e-7 (< REGION_EPS) is still a region if some x gives g >= eps:
    # g1 = x - 0.5, g2 = 0.5 + 1e-7 - x: both active needs x in [0.5+eps, 0.5+1e-7-eps]: empty
    ("sliver below eps", _net1d([[[1.0], [-1.0]]], [[-0.5, 0.5 + 1e-7]]), 2),
    # with a gap of 1e-5 the same sliver is a region
    ("sliver above eps", _net1d([[[1.0], [-1.0]]], [[-0.5, 0.5 + 1e-5]]), 3),
    # g = x + 1e-7 on [0, 1e-7]: stably positive but never >= eps, never <= 0: no region
    ("stable below eps", _net1d([[[1.0]]], [[1e-7]], upper=1e-7), 0),
]


@pytest.mark.parametrize("name,net,expected", DEGENERATE, ids=[d[0] for d in DEGENERATE])
def test_degenerate_networks(name, net, expected):
    assert brute_force_count(net) == expected
    for method in _methods():
        for bounds_method in ("interval", "lp"):
            got = _count(net, method, bounds_method=bounds_method)
            assert got == expected, f"{method} with {bounds_method} bounds"


# --------------------------------------------------------------------------- hypothesis
@st.composite
def tiny_networks(draw):
    n0 = draw(st.integers(1, 3))
    widths = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    # small integer weights make ties, parallel and duplicate hyperplanes likely
    weight = st.integers(-2, 2).map(float)
    weights, biases, fan_in = [], [], n0
    for width in widths:
        weights.append(np.array(draw(st.lists(st.lists(weight, min_size=fan_in,
                                                       max_size=fan_in),
                                              min_size=width, max_size=width))))
        biases.append(np.array(draw(st.lists(weight, min_size=width, max_size=width))) / 2)
        fan_in = width
    lower = draw(st.sampled_from([-1.0, 0.0, 0.5]))
    span = draw(st.sampled_from([0.5, 1.0, 2.0]))
    relu = [True] * (len(widths) - 1) + [draw(st.booleans())]
    return ReLUNetwork(weights, biases, relu=relu, lower=lower, upper=lower + span)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(net=tiny_networks())
def test_hypothesis_tiny_networks(net):
    expected = brute_force_count(net)
    for method in _methods():
        assert _count(net, method, bounds_method="interval") == expected, method
