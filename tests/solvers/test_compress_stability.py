"""Stable units by MILP (LEO): both strategies agree, are sound, and find planted units.

Oracles: the two strategies against each other (different MILPs: one feasibility solve
per side vs one lazily constrained MILP per layer), dense input sampling (a unit called
stable never flips), hand-planted units, and a 1-D network whose stable units are
known in closed form.
"""

from __future__ import annotations

import numpy as np
import pytest

from netgen import planted_network, random_network, random_small_network
from reluscope.compression import compress, find_stable_units
from reluscope.errors import ReluscopeError
from reluscope.network import ReLUNetwork
from reluscope.tolerances import EQUAL_RTOL, STABLE_MARGIN


def _sets(stable) -> list[list[int]]:
    return [np.flatnonzero(a).tolist() for a in stable.active + stable.inactive]


def test_planted_units_found_by_both_strategies() -> None:
    net = planted_network()
    for strategy in ("per-unit", "single"):
        stable = find_stable_units(net, strategy=strategy, bounds_method="interval")
        assert np.flatnonzero(stable.active[0]).tolist() == [2, 3]
        assert np.flatnonzero(stable.inactive[0]).tolist() == [0, 1]
        assert stable.complete


def test_one_dimensional_network_known_stability() -> None:
    # x in [0, 1]; layer 0: g = x - 0.5 (unstable), g = x + 1 (active), g = -x - 0.2
    # (inactive); layer 1 sees h0 = relu(x - .5) in [0, .5], h1 = x + 1 in [1, 2]:
    # g = h0 - h1 + 0.8 in [-1.2, 0.3] is unstable only because h0 and h1 move together:
    # at x = 1: 0.5 - 2 + 0.8 = -0.7; at x = 0: 0 - 1 + 0.8 = -0.2; max at x=0 -> -0.2,
    # so it is stably inactive although interval arithmetic says [-1.2, 0.3].
    w0 = np.array([[1.0], [1.0], [-1.0]])
    b0 = np.array([-0.5, 1.0, -0.2])
    w1 = np.array([[1.0, -1.0, 5.0], [1.0, 0.0, 0.0]])
    b1 = np.array([0.8, -0.1])
    net = ReLUNetwork([w0, w1], [b0, b1], relu=[True, True])
    for strategy in ("per-unit", "single"):
        stable = find_stable_units(net, strategy=strategy, bounds_method="interval")
        assert stable.active[0].tolist() == [False, True, False]
        assert stable.inactive[0].tolist() == [False, False, True]
        assert stable.inactive[1].tolist() == [True, False]  # needs the MILP
        assert stable.active[1].tolist() == [False, False]


@pytest.mark.parametrize("seed", range(10))
def test_strategies_agree_and_are_sound(seed: int) -> None:
    net = random_network(seed, 4, (8, 6, 3), bias_scale=1.5, output_relu=bool(seed % 2))
    per_unit = find_stable_units(net, strategy="per-unit", bounds_method="interval")
    # few samples, so the witness MILP has work to do
    single = find_stable_units(
        net, strategy="single", bounds_method="interval", samples=net.sample_inputs(3, seed)
    )
    assert _sets(per_unit) == _sets(single)
    xs = net.sample_inputs(30_000, random_state=seed + 100)
    for layer, g in enumerate(net.preactivations(xs)):
        assert np.all(g[:, per_unit.inactive[layer]] < STABLE_MARGIN)
        assert np.all(g[:, per_unit.active[layer]] > -STABLE_MARGIN)


@pytest.mark.parametrize("seed", range(4))
def test_lp_bounds_give_the_same_units(seed: int) -> None:
    net = random_network(seed, 3, (6, 6, 2), bias_scale=1.5, output_relu=False)
    a = find_stable_units(net, strategy="single", bounds_method="lp", random_state=0)
    b = find_stable_units(net, strategy="per-unit", bounds_method="interval")
    assert _sets(a) == _sets(b)


@pytest.mark.parametrize("seed", range(6))
def test_compressed_random_network_keeps_outputs(seed: int) -> None:
    net = random_network(seed, 3, (8, 8, 3), bias_scale=2.0, output_relu=bool(seed % 2))
    result = compress(net, bounds_method="interval", random_state=seed, verify="milp")
    assert result.units_after <= result.units_before
    xs = net.sample_inputs(100_000, random_state=seed + 7)
    fa, fb = net.forward(xs), result.network.forward(xs)
    scale = max(float(np.abs(fa).max()), 1.0)
    assert float(np.abs(fa - fb).max()) <= EQUAL_RTOL * scale
    assert result.milp_proven is True


def test_planted_all_active_layer_is_merged() -> None:
    rng = np.random.default_rng(3)
    w0 = rng.normal(size=(6, 4))
    w1 = np.abs(rng.normal(size=(5, 6)))
    b1 = np.full(5, 2.0)  # positive weights on h >= 0 plus positive bias: always active
    net = ReLUNetwork(
        [w0, w1, rng.normal(size=(3, 5))], [rng.normal(size=6), b1, np.zeros(3)],
        relu=[True, True, False],
    )
    result = compress(net, bounds_method="interval", verify="milp", random_state=0)
    assert result.layers_before == 3 and result.layers_after == 2
    assert result.layers[1].merged
    assert result.milp_proven is True and result.max_abs_diff <= 1e-12 * 10


def test_network_without_stable_units_is_unchanged() -> None:
    # every unit crosses zero inside [0,1]^2
    w0 = np.array([[1.0, -1.0], [-1.0, 1.0], [1.0, 1.0]])
    b0 = np.array([0.0, 0.1, -1.0])
    w1 = np.array([[1.0, 1.0, -1.0]])
    net = ReLUNetwork([w0, w1], [b0, np.array([-0.3])], relu=[True, True])
    result = compress(net, bounds_method="interval", random_state=0)
    assert result.unchanged and result.network is net
    assert result.units_after == result.units_before == 4
    assert result.to_dict()["unchanged"] is True


def test_time_limit_returns_a_sound_partial_result() -> None:
    net = random_network(5, 4, (8, 6, 3), bias_scale=1.5)
    stable = find_stable_units(net, strategy="per-unit", bounds_method="interval",
                               time_limit=1e-9)
    assert not stable.complete
    full = find_stable_units(net, strategy="per-unit", bounds_method="interval")
    for part, whole in zip(stable.inactive + stable.active, full.inactive + full.active,
                           strict=True):
        assert not np.any(part & ~whole)  # a partial answer claims nothing extra


def test_unknown_strategy_is_an_error() -> None:
    with pytest.raises(ReluscopeError, match="strategy"):
        find_stable_units(planted_network(), strategy="fast")


@pytest.mark.parametrize("seed", range(12))
def test_small_random_networks_any_box(seed: int) -> None:
    # random boxes (negative inputs too), depth 1-3, linear or ReLU output
    net = random_small_network(seed)
    per_unit = find_stable_units(net, strategy="per-unit", bounds_method="interval")
    single = find_stable_units(net, strategy="single", bounds_method="lp", random_state=seed)
    assert _sets(per_unit) == _sets(single)
    result = compress(net, bounds_method="interval", verify="sample", n_samples=20_000,
                      random_state=seed)
    assert result.equivalence is not None
    assert result.equivalence.relative <= EQUAL_RTOL
    assert result.network.relu[-1] == net.relu[-1]
    assert result.network.n_outputs == net.n_outputs


def test_single_fallback_after_node_limit_gives_same_units(monkeypatch) -> None:
    from reluscope.compression import stability

    monkeypatch.setattr(stability, "SINGLE_NODE_LIMIT", 1)
    stalled = 0
    for seed in range(4):
        net = random_network(seed, 5, (10, 8, 3), bias_scale=1.5)
        few = net.sample_inputs(2, seed)
        single = find_stable_units(net, strategy="single", bounds_method="interval",
                                   samples=few)
        per_unit = find_stable_units(net, strategy="per-unit", bounds_method="interval")
        assert _sets(single) == _sets(per_unit)
        stalled += single.stalled_layers
    assert stalled > 0  # the fallback path was exercised


def test_compress_function_survives_submodule_import() -> None:
    """``reluscope.compress`` is the function even after the subpackage's modules load
    (the subpackage is ``reluscope.compression``, so importing it never shadows it)."""
    import importlib

    import reluscope

    importlib.import_module("reluscope.compression.fold")
    import reluscope.compression.stability  # noqa: F401

    assert callable(reluscope.compress) and not isinstance(reluscope.compress, type(reluscope))
    result = reluscope.compress(planted_network(), bounds_method="interval", verify="none")
    assert isinstance(result, reluscope.CompressionResult)
    assert result.units_after == 4
