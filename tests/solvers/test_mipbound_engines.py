"""MIPBound and MBound against an exact simulation built on brute-force region sets.

Oracle: for a network whose regions are all listed by brute force (tests/oracles.py, one
LP per partial pattern, no SCIP), the number ``r`` of parity constraints that empties the
region set is computed directly from the same constraint stream: intersect the listed
patterns with ``C_1, C_2, ...`` until none is left. Each repetition's ``r`` depends on
the stream alone, so both engines must reproduce it *exactly*, repetition by repetition
(an engine that stops early, e.g. SCIP with unsafe settings, gives a smaller ``r``).
Statistical validity of the reported bound is then checked over hundreds of seeded runs.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy.stats import binom

from ctrlc import sigint_after
from netgen import random_network
from oracles import brute_force_patterns
from reluscope import interrupts
from reluscope.bounds import tighten_bounds
from reluscope.errors import ReluscopeError
from reluscope.network import ReLUNetwork
from reluscope.regions.estimate.mipbound import (
    bound_probabilities,
    estimate_regions,
    feasibility_counts,
    repetitions_for_target,
    select_bound,
)
from reluscope.regions.estimate.parity import draw_parity

# (seed, n0, widths, bias_scale, lower): exact counts 15, 6, 47, 129, 4 by brute force
NETWORKS = {
    "a15": (1, 2, (6, 4), 1.0, 0.0),
    "b6": (2, 2, (5, 5), 1.0, 0.0),
    "c47": (11, 2, (8, 4), 0.3, -1.0),
    "d129": (12, 3, (8, 5), 0.3, -1.0),
    "e4": (16, 2, (2,), 0.3, -1.0),
}


def make(name: str) -> ReLUNetwork:
    seed, n0, widths, bias_scale, lower = NETWORKS[name]
    return random_network(seed, n0, widths, bias_scale=bias_scale, lower=lower, upper=1.0)


@pytest.fixture(scope="module")
def cases():
    """name -> (network, lp bounds, region patterns on the unstable units as a 0/1 matrix)."""
    out = {}
    for name in NETWORKS:
        net = make(name)
        bounds = tighten_bounds(net, method="lp")
        unstable = np.concatenate([bounds.unstable(layer) for layer in net.relu_layers])
        patterns = np.array(sorted(brute_force_patterns(net)), dtype=np.int64)
        # stable units never change between regions (a sanity check of the bounds)
        assert np.all(patterns[:, ~unstable] == patterns[0, ~unstable])
        out[name] = (net, bounds, patterns[:, unstable])
    return out


def simulated_r(patterns: np.ndarray, rng: np.random.Generator, k: int) -> int:
    """Constraints drawn from ``rng`` until no listed region satisfies them all."""
    alive = patterns
    r = 0
    while len(alive):
        c = draw_parity(rng, patterns.shape[1], k)
        alive = alive[alive[:, list(c.indices)].sum(axis=1) % 2 == c.parity]
        r += 1
    return r


def simulated_rs(patterns: np.ndarray, seed: int, k: int, repetitions: int) -> list[int]:
    """The documented streams: repetition t uses SeedSequence(seed).spawn(...)[t]."""
    streams = np.random.SeedSequence(seed).spawn(repetitions)
    return [simulated_r(patterns, np.random.default_rng(s), k) for s in streams]


@pytest.mark.parametrize("method", ["mipbound", "mbound"])
# xor_size is at most the number of unstable binaries (e4 has 2; validation.py)
@pytest.mark.parametrize(
    "name,k", [("a15", 2), ("b6", 3), ("c47", 3), ("d129", 2), ("e4", 2), ("d129", 7)]
)
def test_engine_reproduces_exact_r_per_repetition(cases, name, k, method):
    net, bounds, patterns = cases[name]
    est = estimate_regions(net, xor_size=k, random_state=5, bounds=bounds, method=method,
                           max_repetitions=12)
    assert est.status == "complete" and est.repetitions == 12
    assert list(est.constraints) == simulated_rs(patterns, 5, k, 12)
    assert est.n_binaries == patterns.shape[1]
    assert 1 <= est.regions_found <= len(patterns)
    if method == "mipbound":
        assert est.solver_calls == 12
    else:
        assert est.solver_calls == sum(est.constraints) + 12


def test_mipbound_and_mbound_agree_and_one_call_per_repetition(cases):
    net, bounds, patterns = cases["c47"]
    a = estimate_regions(net, xor_size=3, random_state=9, bounds=bounds, method="mipbound")
    b = estimate_regions(net, xor_size=3, random_state=9, bounds=bounds, method="mbound")
    assert a.repetitions == b.repetitions == 28
    assert a.constraints == b.constraints
    assert a.probabilities == b.probabilities and a.lower_bound == b.lower_bound
    assert a.solver_calls == 28 < b.solver_calls
    assert a.lower_bound <= len(patterns)


def test_same_seed_same_result_and_different_seed_differs(cases):
    net, bounds, _ = cases["a15"]
    first = estimate_regions(net, xor_size=2, random_state=3, bounds=bounds, max_repetitions=10)
    again = estimate_regions(net, xor_size=2, random_state=3, bounds=bounds, max_repetitions=10)
    other = estimate_regions(net, xor_size=2, random_state=4, bounds=bounds, max_repetitions=10)
    strip = lambda e: {k: v for k, v in e.to_dict().items() if k != "seconds"}  # noqa: E731
    assert strip(first) == strip(again)
    assert first.constraints != other.constraints


def _validity_runs(cases, runs_per_case, engine):
    """(count, lower bound) over seeded runs: 28 repetitions each, XOR-2 and XOR-3."""
    out = []
    for net, bounds, patterns in cases.values():
        for seed in range(runs_per_case):
            k = 2 + seed % 2
            if engine == "simulation":
                rs = simulated_rs(patterns, 1000 + seed, k, repetitions_for_target(0.995))
                f = feasibility_counts(rs, patterns.shape[1])
                j, _ = select_bound(bound_probabilities(f, len(rs)), 0.95)
                lower = 2**j
            else:
                lower = estimate_regions(net, xor_size=k, random_state=1000 + seed,
                                         bounds=bounds, method=engine).lower_bound
            out.append((len(patterns), lower))
    return out


def _check_validity(results):
    n = len(results)
    wrong = sum(lower > count for count, lower in results)
    # a valid 95% bound is wrong in at most 5% of runs: allow binomial sampling error (1%)
    assert wrong <= binom.ppf(0.99, n, 0.05)
    assert all(lower <= 4 * count for count, lower in results)
    # and it is informative: above the trivial bound in most runs on counts >= 15
    informative = [lower > 1 for count, lower in results if count >= 15]
    assert np.mean(informative) > 0.5


def test_reported_bound_is_valid_over_250_seeded_runs(cases):
    # the engines' r equal the simulation's (test above), so this is their distribution
    results = _validity_runs(cases, 50, "simulation")
    assert len(results) == 250
    _check_validity(results)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["mipbound", "mbound"])
def test_reported_bound_is_valid_over_200_real_runs(cases, method):
    results = _validity_runs(cases, 40, method)
    assert len(results) == 200
    _check_validity(results)


def test_no_unstable_unit_gives_exact_count_one():
    w = np.array([[1.0, 2.0], [0.5, -0.5]])
    net = ReLUNetwork([w], [np.array([5.0, -10.0])])  # one stably active, one stably inactive
    est = estimate_regions(net, xor_size=3, random_state=0)
    assert len(brute_force_patterns(net)) == 1
    assert (est.lower_bound, est.log2_lower_bound, est.probability) == (1, 0, 1.0)
    assert est.solver_calls == 0 and est.n_binaries == 0 and est.status == "complete"


def _slow_network():
    """8 inputs, 12;10;8 units: the 144 repetitions planned below take about 15 s here, so
    a 1 s limit or SIGINT always stops the run part-way, however fast the machine."""
    return random_network(13, 8, (12, 10, 8), bias_scale=0.3, lower=-1.0, upper=1.0)


def test_time_limit_returns_the_repetitions_done(cases):
    net = _slow_network()
    bounds = tighten_bounds(net, method="lp")
    cut = estimate_regions(net, xor_size=3, random_state=2, bounds=bounds, time_limit=1.0,
                           max_repetitions=10_000, target_probability=1 - 1e-12)
    assert cut.status == "time_limit"
    assert 0 < cut.repetitions < repetitions_for_target(1 - 1e-12)
    assert cut.seconds < 10.0
    # what it returns is the prefix of the full run with the same seed
    full = estimate_regions(net, xor_size=3, random_state=2, bounds=bounds,
                            max_repetitions=cut.repetitions, target_probability=1 - 1e-12)
    assert full.constraints == cut.constraints
    assert cut.lower_bound == 2 ** cut.log2_lower_bound
    assert math.isclose(sum(cut.f[:1]), cut.repetitions)


def test_an_estimate_cut_short_continues_to_the_uncut_result():
    """Cut by a time limit, then continued from its repetitions (through to_dict and
    from_dict, as reproduce stores it): the repetitions of one uncut run."""
    from reluscope.regions.estimate.mipbound import RegionEstimate

    net = _slow_network()
    bounds = tighten_bounds(net, method="lp")
    options = dict(xor_size=3, random_state=2, bounds=bounds, max_repetitions=40,
                   target_probability=1 - 1e-9)
    cut = estimate_regions(net, time_limit=1.0, **options)
    assert cut.status == "time_limit" and 0 < cut.repetitions < 40
    stored = RegionEstimate.from_dict(json.loads(json.dumps(cut.to_dict())))
    assert stored == cut
    done = estimate_regions(net, previous=stored, **options)
    uncut = estimate_regions(net, **options)
    assert done.status == "complete" and done.repetitions == 40
    assert done.constraints == uncut.constraints and done.f == uncut.f
    assert done.lower_bound == uncut.lower_bound and done.probability == uncut.probability
    # the repetition the limit cut short was started twice: its solver calls count twice
    assert done.solver_calls >= uncut.solver_calls and done.seconds > cut.seconds


@pytest.mark.parametrize("method", ["mipbound", "mbound"])
def test_a_continued_estimate_follows_the_documented_streams(cases, method):
    """5 repetitions, then the rest of the 28: the simulated streams on brute-force patterns."""
    net, bounds, patterns = cases["c47"]
    first = estimate_regions(net, xor_size=3, random_state=7, bounds=bounds,
                             method=method, max_repetitions=5)
    rest = estimate_regions(net, xor_size=3, random_state=7, bounds=bounds,
                            method=method, previous=first)
    assert list(rest.constraints) == simulated_rs(patterns, 7, 3, 28)
    with pytest.raises(ReluscopeError, match="cannot continue an estimate with XOR-3"):
        estimate_regions(net, xor_size=2, random_state=7, bounds=bounds,
                         method=method, previous=first)


def test_ctrl_c_returns_the_repetitions_done():

    net = _slow_network()
    bounds = tighten_bounds(net, method="lp")
    with sigint_after(1.0):
        cut = estimate_regions(net, xor_size=3, random_state=2, bounds=bounds,
                               max_repetitions=100_000, target_probability=1 - 1e-12)
    assert cut.status == "interrupted"
    assert 0 < cut.repetitions < repetitions_for_target(1 - 1e-12)
    interrupts.clear()  # the stop stays pending for the next call (reluscope.interrupts)
    full = estimate_regions(net, xor_size=3, random_state=2, bounds=bounds,
                            max_repetitions=cut.repetitions, target_probability=1 - 1e-12)
    assert full.constraints == cut.constraints


def test_engines_keep_the_safe_scip_settings(cases):
    from reluscope.regions.estimate.mipbound import _MboundEngine, _MipboundEngine
    from reluscope.solvers.scip import SAFE_SCIP_PARAMS

    net, bounds, _ = cases["a15"]
    for engine in (_MipboundEngine(net, bounds, 3), _MboundEngine(net, bounds, 3)):
        for key, value in SAFE_SCIP_PARAMS.items():
            assert engine.model.getParam(key) == value
