"""1-D zig-zag networks and the depth study, against hand values and dense sampling."""

from __future__ import annotations

import math

import numpy as np
import pytest

from reluscope.errors import NetworkError, ReluscopeError
from reluscope.experiments.depth_study import depth_study, plot_depth_study
from reluscope.regions.upper.analytic import configuration_ub
from reluscope.regions.upper.constructions import zigzag_network, zigzag_regions


def pieces(net, n=400_001):
    """Maximal intervals of constant pattern on a dense grid of [0, 1]."""
    x = np.linspace(0.0, 1.0, n)[:, None]
    pats = net.activation_patterns(x)
    change = np.any(pats[1:] != pats[:-1], axis=1)
    starts = np.concatenate(([0], np.flatnonzero(change) + 1))
    ends = np.concatenate((starts[1:], [n]))
    return [tuple(pats[s]) for s in starts], (ends - starts) / (n - 1)


@pytest.mark.parametrize("widths", [(3,), (3, 3), (5, 4), (3, 4, 5), (4, 4, 4), (6, 3)])
def test_zigzag_regions_are_distinct_intervals(widths):
    net = zigzag_network(widths)
    expected = math.prod(n + 1 for n in widths)
    patterns, lengths = pieces(net)
    # each pattern appears on exactly one interval of positive length (dimension one)
    assert len(patterns) == len(set(patterns)) == expected == zigzag_regions(widths)
    assert lengths.min() > 1e-4
    # and no architecture bound allows more
    assert configuration_ub(1, widths) == expected


def test_zigzag_without_output_relu():
    net = zigzag_network((3, 4), output_relu=False)
    patterns, _ = pieces(net)
    assert len(set(patterns)) == 4 == zigzag_regions((3, 4), output_relu=False)


@pytest.mark.parametrize("bad", [(), (2,), (3, 2, 3)])
def test_zigzag_needs_width_three(bad):
    with pytest.raises(NetworkError):
        zigzag_network(bad)


def test_depth_study_hand_values():
    study = depth_study([1, 60])
    assert study.depths == (1, 2, 3, 4, 5, 6)
    # n0 = 1: prod (n_l + 1)
    assert study.bounds[0] == (61, 31**2, 21**3, 16**4, 13**5, 11**6)
    assert study.best_depths()[0] == 6
    # n0 = 60: one layer of 60 reaches 2^60, every deeper split stays below
    assert study.bounds[1][0] == 2**60
    assert all(v < 2**60 for v in study.bounds[1][1:])
    assert study.best_depths()[1] == 1


def test_depth_study_best_depth_decreases_with_input_dimension():
    study = depth_study(range(1, 61))
    best = study.best_depths()
    assert best[0] == 6 and best[-1] == 1
    assert all(a >= b for a, b in zip(best, best[1:], strict=False))
    assert set(best) == {1, 2, 3, 4, 5, 6}  # every depth wins for some n0
    payload = study.to_dict()
    assert payload["best_depth"] == list(best)
    assert "best" in study.table()


def test_depth_study_rejects_uneven_depths():
    with pytest.raises(ReluscopeError):
        depth_study([1], total_units=60, depths=(7,))


def test_plot_depth_study():
    pytest.importorskip("matplotlib")
    fig = plot_depth_study(depth_study([1, 10, 30]))
    ax = fig.axes[0]
    assert len(ax.lines) == 6
    assert ax.lines[0].get_ydata()[0] == pytest.approx(math.log2(61))
