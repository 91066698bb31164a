"""Network surgery of LEO (no solver): stable sets are given, true by construction.

Oracle: the original network's forward pass on many sampled inputs, and widths checked
by hand.
"""

from __future__ import annotations

import numpy as np
import pytest

from netgen import planted_network, random_network
from reluscope.bounds.interval import interval_bounds
from reluscope.compression.fold import fold_network
from reluscope.network import ReLUNetwork
from reluscope.tolerances import EQUAL_RTOL


def _true_stable(net: ReLUNetwork) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
    """Stable sets by dense sampling; only used on networks whose stable units are
    planted with a wide margin (so sampling cannot mislabel them)."""
    xs = net.sample_inputs(20_000, random_state=1)
    pre = net.preactivations(xs)
    active = tuple((g > 0).all(axis=0) & r for g, r in zip(pre, net.relu, strict=True))
    inactive = tuple((g <= 0).all(axis=0) & r for g, r in zip(pre, net.relu, strict=True))
    return active, inactive


def _assert_same_outputs(a: ReLUNetwork, b: ReLUNetwork) -> None:
    xs = a.sample_inputs(100_000, random_state=7)
    fa, fb = a.forward(xs), b.forward(xs)
    scale = max(float(np.abs(fa).max()), 1.0)
    assert float(np.abs(fa - fb).max()) <= EQUAL_RTOL * scale


def test_planted_inactive_units_are_removed() -> None:
    net = planted_network()
    active = (np.array([False, False, True, True, False, False]), np.zeros(2, dtype=bool))
    inactive = (np.array([True, True, False, False, False, False]), np.zeros(2, dtype=bool))
    small, changes = fold_network(net, active, inactive)
    # 2 inactive removed; the 2 active rows [1,1,1], [.5,0,2] are independent: kept
    assert small.widths == (4, 2)
    assert changes[0].removed_inactive == 2 and changes[0].folded_active == 0
    assert changes[0].units_after == 4
    _assert_same_outputs(net, small)


def test_all_active_layer_is_merged() -> None:
    rng = np.random.default_rng(0)
    w0 = rng.normal(size=(5, 3))
    w1 = np.abs(rng.normal(size=(4, 5)))  # positive weights on h >= 0 ...
    b1 = np.full(4, 3.0)  # ... plus a positive bias: layer 1 always active
    w2 = rng.normal(size=(2, 4))
    net = ReLUNetwork([w0, w1, w2], [rng.normal(size=5), b1, rng.normal(size=2)],
                      relu=[True, True, False])
    active, inactive = _true_stable(net)
    assert active[1].all()
    small, changes = fold_network(net, active, inactive)
    assert small.n_layers == 2
    assert changes[1].merged and changes[1].units_after == 0
    assert small.relu == (True, False)
    _assert_same_outputs(net, small)


def test_dependent_active_rows_are_folded() -> None:
    # layer 0: units 0,1 active and independent; unit 2 = 2*u0 - u1 (+ own bias), active;
    # unit 3 unstable. Unit 2 folds into the next layer through the basis {0, 1}.
    w0 = np.array([[1.0, 0.5, 0.0], [0.0, 1.0, 1.0], [2.0, 0.0, -1.0], [1.0, -1.0, 0.0]])
    b0 = np.array([1.0, 0.5, 3.0, 0.0])
    w1 = np.array([[1.0, -2.0, 0.5, 1.0], [0.3, 0.3, -1.0, 2.0]])
    net = ReLUNetwork([w0, w1], [b0, np.array([0.1, -0.2])], relu=[True, True])
    active, inactive = _true_stable(net)
    assert active[0].tolist() == [True, True, True, False]
    small, changes = fold_network(net, active, inactive)
    assert small.widths == (3, 2)
    assert changes[0].folded_active == 1
    _assert_same_outputs(net, small)


def test_zero_outgoing_units_cascade() -> None:
    # unit 1 of layer 0 only feeds unit 0 of layer 1, which is stably inactive:
    # removing it leaves unit 1 of layer 0 with zero outgoing weights.
    w0 = np.array([[1.0, -1.0], [0.5, 0.5], [-1.0, 1.0]])
    w1 = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 1.0]])
    b1 = np.array([-10.0, 0.1])
    w2 = np.array([[1.0, -1.0]])
    net = ReLUNetwork([w0, w1, w2], [np.zeros(3), b1, np.zeros(1)], relu=[True, True, False])
    active, inactive = _true_stable(net)
    assert inactive[1].tolist() == [True, False]
    small, changes = fold_network(net, active, inactive)
    assert changes[1].removed_inactive == 1
    assert changes[0].removed_no_output == 1
    # layer 1's remaining unit (0.1 + u0 + u2 > 0) is active: merged into the output
    assert small.widths == (2, 1)
    _assert_same_outputs(net, small)


@pytest.mark.parametrize("output_relu", [True, False])
def test_empty_layer_gives_constant_network(output_relu: bool) -> None:
    w0 = np.array([[1.0, 1.0], [0.5, -0.5]])
    b0 = np.array([-5.0, -3.0])  # both units always inactive on [0,1]^2
    w1 = np.array([[1.0, 2.0], [-1.0, 0.0]])
    b1 = np.array([0.7, -0.4])
    net = ReLUNetwork([w0, w1], [b0, b1], relu=[True, output_relu])
    active, inactive = _true_stable(net)
    small, changes = fold_network(net, active, inactive)
    assert small.n_layers == 1 and small.relu == (output_relu,)
    assert np.all(small.weights[0] == 0)
    expected = [0.7, 0.0] if output_relu else [0.7, -0.4]
    assert small.biases[0].tolist() == pytest.approx(expected)
    assert changes[0].units_after == 0
    _assert_accounted(net, small, changes)
    _assert_same_outputs(net, small)


def test_inactive_output_units_are_zeroed_and_feed_removal() -> None:
    w0 = np.array([[1.0, -1.0], [-1.0, 1.0], [1.0, 1.0]])
    w1 = np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    b1 = np.array([0.0, -5.0])  # output 1 never positive: zeroed, so hidden unit 2 goes
    net = ReLUNetwork([w0, w1], [np.zeros(3), b1], relu=[True, True])
    active, inactive = _true_stable(net)
    assert inactive[1].tolist() == [False, True]
    small, changes = fold_network(net, active, inactive)
    assert small.widths == (2, 2) and small.relu == (True, True)
    assert changes[1].zeroed_outputs == 1 and changes[0].removed_no_output == 1
    _assert_same_outputs(net, small)


@pytest.mark.parametrize("seed", range(8))
def test_random_networks_with_interval_stable_sets(seed: int) -> None:
    # large biases make many units stable; interval bounds give sound stable sets
    net = random_network(seed, 3, (8, 8, 3), bias_scale=3.0, output_relu=bool(seed % 2))
    bounds = interval_bounds(net)
    active = tuple(bounds.stably_active(l) & net.relu[l] for l in range(net.n_layers))
    inactive = tuple(bounds.stably_inactive(l) & net.relu[l] for l in range(net.n_layers))
    small, changes = fold_network(net, active, inactive)
    assert small.n_units <= net.n_units
    _assert_accounted(net, small, changes)
    _assert_same_outputs(net, small)


def _assert_accounted(net: ReLUNetwork, small: ReLUNetwork, changes: list) -> None:
    """Every unit of every original layer is left, removed, folded/merged or dropped
    with an emptied layer, and what is left is what the compressed network has."""
    assert [c.layer for c in changes] == list(range(net.n_layers))
    for change, width in zip(changes, net.widths, strict=True):
        assert change.units_before == width
        assert change.units_before == (
            change.units_after + change.removed_inactive + change.removed_no_output
            + change.folded_active + change.removed_constant
        ) == change.units_after + change.removed
        assert change.to_dict()["removed_constant"] == change.removed_constant
    assert changes[-1].units_after == net.n_outputs == small.n_outputs
    assert sum(c.units_after for c in changes) == sum(small.widths)


def test_empty_hidden_layer_accounts_for_every_unit() -> None:
    """Seed 105, 2 -> 2;3;2 with large biases: layer 1 ends up empty, so layer 0's two
    units go too (before the fix they were in no count: 2 before, 0 after, all reasons 0)."""
    net = random_network(105, 2, (2, 3, 2), bias_scale=3.0, output_relu=True)
    bounds = interval_bounds(net)
    active = tuple(bounds.stably_active(l) & net.relu[l] for l in range(net.n_layers))
    inactive = tuple(bounds.stably_inactive(l) & net.relu[l] for l in range(net.n_layers))
    small, changes = fold_network(net, active, inactive)
    assert small.n_layers == 1  # constant output
    assert changes[0].units_after == 0 and changes[0].removed_constant > 0
    _assert_accounted(net, small, changes)
    _assert_same_outputs(net, small)


@pytest.mark.parametrize("seed", range(100, 131))
@pytest.mark.parametrize("widths", [(2, 3, 2), (3, 3, 3, 2), (4, 2, 3, 1)])
def test_layer_changes_add_up(seed: int, widths: tuple[int, ...]) -> None:
    net = random_network(seed, 2, widths, bias_scale=3.0, output_relu=bool(seed % 2))
    bounds = interval_bounds(net)
    active = tuple(bounds.stably_active(l) & net.relu[l] for l in range(net.n_layers))
    inactive = tuple(bounds.stably_inactive(l) & net.relu[l] for l in range(net.n_layers))
    small, changes = fold_network(net, active, inactive)
    _assert_accounted(net, small, changes)
    _assert_same_outputs(net, small)
