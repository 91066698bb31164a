"""The "what it would take" analysis of Table 1 (reluscope.experiments.gap_analysis):
the issue's hand-derived numbers, and its range around reluscope's Empirical UB."""

from __future__ import annotations

import numpy as np
import pytest

from netgen import random_network
from reluscope.bounds import tighten_bounds
from reluscope.errors import ReluscopeError
from reluscope.experiments.gap_analysis import analyse_gap, empirical_ub_range, gap_percent
from reluscope.regions.upper.analytic import upper_bounds


def test_21_1_10_by_hand():
    analysis = analyse_gap(784, (21, 1, 10), 98.3)
    assert analysis.configuration_ub == 12 * (2**21 - 1) + 1 == 25_165_813
    # every hidden unit unstable: E >= 2 (2^21 - 1) + 1 (outputs all stable, the layer-2
    # unit flipping with one layer-1 unit), so at most 83.3% of the gap closes
    assert analysis.lowest_empirical_all_unstable == 2 * (2**21 - 1) + 1
    assert round(analysis.highest_all_unstable, 1) == 83.3
    # ... at a count x far below C: the cap 100 (C - E) / (C - x) grows with x and passes
    # the paper's 98.3% from x = 3,831,622 on (still below E, so such a count can exist)
    needed = analysis.exact_needed_all_unstable
    assert needed == 3_831_622 < analysis.lowest_empirical_all_unstable
    assert gap_percent(25_165_813, 2 * (2**21 - 1) + 1, needed) >= 98.3
    assert gap_percent(25_165_813, 2 * (2**21 - 1) + 1, needed - 1) < 98.3
    assert analyse_gap(784, (20, 2, 10), 44.5).exact_needed_all_unstable is None
    layer1, layer2 = analysis.requirements
    # each stable layer-1 unit halves the bound: E <= 12 (2^(21-s) - 1) + 1; 98.3% needs s >= 6
    assert layer1.stable_units == 6 and layer1.guaranteed_percent == pytest.approx(
        gap_percent(25_165_813, 12 * (2**15 - 1) + 1, 1))
    assert gap_percent(25_165_813, 12 * (2**16 - 1) + 1, 1) < 98.3  # five are not enough
    # the layer-2 unit stably inactive leaves E = 2^21 (91.7% at x = 1): 98.3% then needs
    # an exact count of at least 1,698,203 of those 2^21 layer-1 patterns
    assert layer2.stable_units is None
    assert empirical_ub_range(784, (21, 1, 10), [21, 0, None]) == (2**21, 2**21)
    assert layer2.exact_needed_all_stable == 1_698_203
    assert gap_percent(25_165_813, 2**21, 1_698_203) >= 98.3
    assert gap_percent(25_165_813, 2**21, 1_698_202) < 98.3


def test_20_2_10_one_stable_layer2_unit():
    analysis = analyse_gap(784, (20, 2, 10), 44.5)
    _, largest = empirical_ub_range(784, (20, 2, 10), [20, 1, None])
    assert largest == 12 * (2**20 - 1) + 1  # as for 20;1;10
    layer2 = analysis.requirements[1]
    assert layer2.stable_units == 1 and round(layer2.guaranteed_percent, 1) == 84.8
    assert analysis.requirements[0].stable_units == 1  # one layer-1 unit: 50.0%


def test_bad_counts():
    with pytest.raises(ReluscopeError, match="one unstable count per ReLU layer"):
        empirical_ub_range(3, (2, 2), [1])
    with pytest.raises(ReluscopeError, match="unstable"):
        empirical_ub_range(3, (2, 2), [3, 1])
    with pytest.raises(ReluscopeError, match="empty"):
        gap_percent(5, 5, 5)


@pytest.mark.parametrize("seed", range(24))
def test_range_brackets_reluscopes_empirical_ub(seed):
    rng = np.random.default_rng(seed)
    n0 = int(rng.integers(1, 4))
    widths = tuple(int(w) for w in rng.integers(1, 5, size=int(rng.integers(2, 4))))
    net = random_network(seed, n0, widths, bias_scale=float(rng.choice([0.3, 1.0, 2.0])))
    bounds = tighten_bounds(net, method="milp")  # exact classification
    assert bounds.exact
    unstable = [int(bounds.unstable(i).sum()) for i in net.relu_layers]
    active = [int(bounds.stably_active(i).sum()) for i in net.relu_layers]
    smallest, largest = empirical_ub_range(n0, widths, unstable, active)
    empirical = upper_bounds(net, bounds=bounds).empirical_ub
    assert smallest <= empirical <= largest, (unstable, active)
