"""The equivalence check of compression: sampled difference and the MILP proof.

Oracles: a correct compression (MILP ~0), deliberately wrong ones (an unstable unit
dropped, a weight perturbed) whose true maximum difference on a 1-D input is found by a
dense grid (the difference is piecewise linear, so a fine grid gets within its slope
times the grid step).
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from ctrlc import sigint_after
from netgen import planted_network, random_network
from reluscope.compression import check_equivalence, compress, milp_difference
from reluscope.errors import ReluscopeError
from reluscope.network import ReLUNetwork
from reluscope.tolerances import EQUAL_RTOL


def _drop_unit(net: ReLUNetwork, layer: int, unit: int) -> ReLUNetwork:
    weights, biases = list(net.weights), list(net.biases)
    keep = np.arange(net.widths[layer]) != unit
    weights[layer], biases[layer] = weights[layer][keep], biases[layer][keep]
    weights[layer + 1] = weights[layer + 1][:, keep]
    return ReLUNetwork(weights, biases, relu=net.relu, lower=net.lower, upper=net.upper)


def test_correct_compression_is_proven() -> None:
    net = planted_network()
    result = compress(net, bounds_method="interval", verify="milp", random_state=0)
    eq = result.equivalence
    assert eq is not None and eq.n_samples >= 100_000
    assert eq.max_abs_diff <= EQUAL_RTOL * eq.output_scale
    assert eq.milp_proven is True
    assert eq.milp_max_abs_diff is not None
    assert eq.milp_max_abs_diff <= EQUAL_RTOL * eq.output_scale


def test_dropping_an_unstable_unit_is_caught() -> None:
    net = planted_network()
    wrong = _drop_unit(net, 0, 4)  # unit 4 (x0 - x2 + 0.1) is unstable
    eq = check_equivalence(net, wrong, milp=True, random_state=0)
    xs = net.sample_inputs(200_000, random_state=3)
    sampled = float(np.abs(net.forward(xs) - wrong.forward(xs)).max())
    assert sampled > 0.1
    assert eq.milp_proven is False and eq.milp_exact is True
    assert eq.milp_status == "difference found"
    # the counterexample is a real input: checked by forward passes, up to the maximum
    assert sampled - 1e-9 <= eq.milp_found_diff <= eq.milp_max_abs_diff + 1e-9
    # the MILP maximum is over the whole box: at least every sampled difference
    assert eq.milp_max_abs_diff >= sampled - 1e-9
    assert eq.max_abs_diff == pytest.approx(sampled, rel=0.05)


@pytest.mark.parametrize("seed", range(3))
def test_milp_difference_matches_dense_grid_in_one_dimension(seed: int) -> None:
    net = random_network(seed, 1, (5, 4, 2), output_relu=bool(seed % 2), lower=-1.0, upper=2.0)
    rng = np.random.default_rng(seed)
    weights = [w.copy() for w in net.weights]
    weights[1] = weights[1] + rng.normal(scale=0.3, size=weights[1].shape)
    other = ReLUNetwork(weights, net.biases, relu=net.relu, lower=-1.0, upper=2.0)
    result = milp_difference(net, other)
    grid = np.linspace(-1.0, 2.0, 300_001)[:, None]
    true_max = float(np.abs(net.forward(grid) - other.forward(grid)).max())
    assert result.exact and result.status == "complete"
    assert result.verdict in ("difference found", "proven")
    assert result.bound == pytest.approx(true_max, abs=1e-3)
    assert result.found == pytest.approx(true_max, abs=1e-3)  # an input attains it
    assert result.found <= result.bound + 1e-9


def test_incompatible_networks_are_an_error() -> None:
    a = random_network(0, 2, (3, 1))
    b = random_network(0, 3, (3, 1))
    with pytest.raises(ReluscopeError, match="inputs"):
        check_equivalence(a, b)


def _hard_pair() -> tuple[ReLUNetwork, ReLUNetwork]:
    """20 inputs -> 12;12;8 (24 units): its MILP proof takes minutes; compressed with
    sampling only (seconds)."""
    net = random_network(0, 20, (12, 12, 8), output_relu=False)
    result = compress(net, bounds_method="interval", verify="none", random_state=0)
    assert not result.unchanged
    return net, result.network


def test_proof_cut_short_is_not_proven_and_the_bound_is_an_upper_bound() -> None:
    net, small = _hard_pair()
    start = time.perf_counter()
    eq = check_equivalence(net, small, milp=True, n_samples=1000, time_limit=1.0,
                           random_state=0)
    assert time.perf_counter() - start < 15.0
    assert eq.milp_status == "time_limit"
    assert eq.milp_proven is None and eq.milp_exact is False
    assert eq.equal  # not disproven: the sampled outputs agree
    # an upper bound on the true maximum (0: the compression is lossless)
    assert eq.milp_max_abs_diff >= eq.max_abs_diff
    assert eq.milp_found_diff <= EQUAL_RTOL * max(eq.output_scale, 1.0)


def test_ctrl_c_stops_the_whole_proof(monkeypatch) -> None:
    """A KeyboardInterrupt during one solve ends the proof; no further solve starts."""
    import contextlib

    import reluscope.solvers.scip as scip_layer

    net, small = _hard_pair()
    entered = []

    @contextlib.contextmanager
    def interrupt_second_solve():
        entered.append(1)
        if len(entered) == 2:
            raise KeyboardInterrupt
        yield

    monkeypatch.setattr(scip_layer, "solver_output_to_stderr", interrupt_second_solve)
    result = milp_difference(net, small, tolerance=1e-6, time_limit=2.0)
    assert len(entered) == 2 and result.solves == 2  # the second one started, no third
    assert result.status == "interrupted" and result.verdict == "interrupted"
    assert not result.exact
    eq_bound_finite = np.isfinite(result.bound)
    assert eq_bound_finite and result.bound >= 0


def test_sigint_during_the_proof_ends_it() -> None:
    """A real Ctrl-C (SIGINT) one second into a proof that needs minutes: SCIP stops the
    running solve and no further solve starts."""
    net, small = _hard_pair()
    start = time.perf_counter()
    with sigint_after(1.0):
        result = milp_difference(net, small, tolerance=1e-6, time_limit=120.0)
    assert time.perf_counter() - start < 30.0
    assert result.status == "interrupted" and result.verdict == "interrupted"
    assert not result.exact
    assert result.solves < 2 * net.n_outputs


def test_compress_honours_time_limit_for_the_whole_call() -> None:
    net = random_network(0, 20, (12, 12, 8), output_relu=False)
    start = time.perf_counter()
    result = compress(net, verify="milp", n_samples=1000, time_limit=3.0, random_state=0)
    assert time.perf_counter() - start < 3.0 + 10.0  # bounds and sampling overhead
    assert result.milp_proven is None
    assert result.equivalence is not None and result.equivalence.milp_status == "time_limit"
    assert result.to_dict()["milp_status"] == "time_limit"


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"time_limit": -1.0}, "time_limit"),
        ({"n_samples": 0, "verify": "sample"}, "n_samples"),
        ({"n_samples": -5, "verify": "auto"}, "n_samples"),
    ],
)
def test_bad_options_are_errors(options: dict, match: str) -> None:
    with pytest.raises(ReluscopeError, match=match):
        compress(planted_network(), bounds_method="interval", **options)


def test_check_equivalence_needs_an_input() -> None:
    net = planted_network()
    with pytest.raises(ReluscopeError, match="n_samples"):
        check_equivalence(net, net, n_samples=0)
    with pytest.raises(ReluscopeError, match="time_limit"):
        milp_difference(net, net, time_limit=-1.0)


def test_ctrl_c_in_the_search_skips_the_proof(monkeypatch) -> None:
    import dataclasses

    import reluscope.compression as compression
    from reluscope.status import INTERRUPTED

    real = compression.find_stable_units

    def interrupted_search(*args, **kwargs):
        return dataclasses.replace(real(*args, **kwargs), status=INTERRUPTED)

    monkeypatch.setattr(compression, "find_stable_units", interrupted_search)
    result = compression.compress(planted_network(), bounds_method="interval",
                                  verify="milp", n_samples=1000)
    assert result.equivalence is not None and result.equivalence.milp_status is None
    assert result.equivalence.n_samples == 1000  # the sampled check still ran
    assert result.stable.to_dict()["interrupted"] is True
