"""Exact slices and lines against independent oracles: count_regions on the composed
network, the brute-force pattern search (tests/oracles.py) and dense sampling."""

from __future__ import annotations

import numpy as np
import pytest

from netgen import random_network
from oracles import brute_force_count, brute_force_patterns
from reluscope.errors import DomainError
from reluscope.network import ReLUNetwork
from reluscope.regions.count.dispatch import count_regions
from reluscope.regions.views.slices import composed_network, line_regions, slice_regions
from reluscope.tolerances import REGION_EPS

SEEDS = range(16)


def _box_rows(net: ReLUNetwork, origin: np.ndarray, m: np.ndarray):
    """The input box as rows on slice coordinates: a @ p <= b."""
    a = np.vstack([m, -m])
    b = np.concatenate([net.upper - origin, origin - net.lower])
    return a, b


def _counted(result) -> set[tuple[bool, ...]]:
    return {tuple(bool(v) for v in c.pattern) for c in result.cells if c.counted}


def _check_interiors(net: ReLUNetwork, result, rng) -> None:
    """Random strict convex combinations of a cell's vertices have its pattern."""
    for cell in result.cells:
        if cell.measure < 1e-7:
            continue
        w = rng.dirichlet(np.ones(len(cell.vertices)), size=20) * 0.98 + 0.02 / len(
            cell.vertices
        )
        x = result.to_input(w @ cell.vertices)
        pats = net.activation_patterns(x)
        assert (pats == cell.pattern).all()


@pytest.mark.parametrize("seed", SEEDS)
def test_slice_inside_box_matches_count_and_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n0 = int(rng.integers(2, 6))
    widths = ((3, 3), (5, 4), (4, 3, 2), (6,))[seed % 4]
    net = random_network(seed, n0, widths, lower=-10, upper=10, output_relu=bool(seed % 2))
    pts = rng.random((3, n0)) * 4 - 2  # the parallelogram stays inside the box
    result = slice_regions(net, pts)
    comp = composed_network(net, result.origin, result.directions)
    assert result.regions == count_regions(comp, n_jobs=1).regions
    assert _counted(result) == brute_force_patterns(comp)
    assert abs(sum(c.measure for c in result.cells) - 1.0) < 1e-9
    _check_interiors(net, result, rng)


@pytest.mark.parametrize("seed", SEEDS)
def test_slice_clipped_to_box_matches_brute_force(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    net = random_network(seed, 3, (4, 3), lower=0.0, upper=1.0)
    pts = rng.random((3, 3))  # P1 + P2 - P0 is usually outside [0,1]^3
    result = slice_regions(net, pts)
    comp = composed_network(net, result.origin, result.directions)
    a, b = _box_rows(net, result.origin, result.directions)
    assert _counted(result) == brute_force_patterns(comp, a, b)
    total = sum(c.measure for c in result.cells)
    assert abs(total - result.domain_measure) < 1e-9
    # the clipped domain's area, by a fine grid of the unit square (independent)
    g = (np.arange(400) + 0.5) / 400
    s, t = np.meshgrid(g, g)
    p = np.column_stack([s.ravel(), t.ravel()])
    x = result.to_input(p)
    inside = np.all((x >= net.lower) & (x <= net.upper), axis=1).mean()
    assert abs(inside - result.domain_measure) < 0.01
    _check_interiors(net, result, rng)


def _hand(w0, b0, w1=None, b1=None) -> ReLUNetwork:
    ws, bs = [np.array(w0, float)], [np.array(b0, float)]
    if w1 is not None:
        ws.append(np.array(w1, float))
        bs.append(np.array(b1, float))
    return ReLUNetwork(ws, bs)


E = REGION_EPS
#: (network on [0,1]^2, expected count, expected number of positive-area cells)
DEGENERATE = {
    # g1 = -g2: the line s = 0.5 itself is the region (inactive, inactive)
    "opposite": (_hand([[1, 0], [-1, 0]], [-0.5, 0.5]), 3, 2),
    "duplicate": (_hand([[1, 1], [1, 1]], [-1, -1]), 2, 2),
    "diagonal": (_hand([[1, -1]], [0]), 2, 2),
    # max g = eps, reached only at the corner (1, 1): that point is the active region
    "corner-eps": (_hand([[E, E]], [-E]), 2, 2),
    # max g < eps: never active by the definition, though g > 0 on half the square
    "below-eps": (_hand([[E / 2, E / 2]], [-E / 2]), 1, 2),
    # a sliver 1e-7 wide where both are active: drawn, not counted
    "sliver": (_hand([[1, 0], [-1, 0]], [-0.5, 0.5 + 1e-7]), 2, 3),
    "constant": (_hand([[0, 0], [0, 0], [1, 0]], [0, E, -0.5]), 2, 2),
    "through-vertex": (
        _hand([[1, -1], [1, 1]], [0, -1], [[1, 1], [1, -1]], [-0.5, 0]), None, None
    ),
    "second-layer-opposite": (_hand([[1, 0]], [0], [[1], [-1]], [-0.5, 0.5]), None, None),
}


@pytest.mark.parametrize("name", DEGENERATE)
def test_degenerate_slices(name: str) -> None:
    net, expected, drawn = DEGENERATE[name]
    pts = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])  # the slice is the domain
    result = slice_regions(net, pts)
    patterns = brute_force_patterns(net)
    assert _counted(result) == patterns
    assert result.regions == count_regions(net, n_jobs=1).regions
    if expected is not None:
        assert result.regions == expected
        assert sum(1 for c in result.cells if c.measure > 0) == drawn
    assert abs(sum(c.measure for c in result.cells) - 1.0) < 1e-9


@pytest.mark.parametrize("seed", SEEDS)
def test_line_matches_count_brute_force_and_sampling(seed: int) -> None:
    rng = np.random.default_rng(200 + seed)
    n0 = int(rng.integers(1, 5))
    net = random_network(seed, n0, ((6, 5), (8,), (4, 4, 3))[seed % 3], lower=-3, upper=3)
    a, b = rng.random(n0) * 4 - 2, rng.random(n0) * 4 - 2
    line = line_regions(net, np.vstack([a, b]))
    (seg,) = line.segments
    comp = composed_network(net, a, b - a)
    assert line.regions == seg.regions == count_regions(comp, n_jobs=1).regions
    assert _counted(seg) == brute_force_patterns(comp)
    cells = [c for c in seg.cells if c.measure > 0]
    assert abs(sum(c.measure for c in cells) - 1.0) < 1e-9
    # dense sampling: every sample has the pattern of the cell holding it, and
    # consecutive cells differ (each breakpoint is a real pattern change)
    s = np.linspace(0, 1, 20_001)
    pats = net.activation_patterns(a + s[:, None] * (b - a))
    ends = np.array([c.vertices[1, 0] for c in cells])
    which = np.minimum(np.searchsorted(ends, s), len(cells) - 1)
    off = np.array([np.min(np.abs(s_i - np.concatenate(seg.boundaries)), initial=1.0)
                    for s_i in s]) > 1e-9
    for i in np.flatnonzero(off):
        assert (pats[i] == cells[which[i]].pattern).all()
    for c0, c1 in zip(cells[:-1], cells[1:], strict=True):
        assert not (c0.pattern == c1.pattern).all()
    assert len(np.unique(np.round(line.breakpoints, 12))) == len(cells) - 1


def test_line_clipped_and_path() -> None:
    net = random_network(3, 2, (5, 4), lower=0.0, upper=1.0)
    pts = np.array([[-0.5, 0.2], [1.5, 0.7], [0.3, 0.9]])
    line = line_regions(net, pts)
    first = line.segments[0]
    # the first segment enters the box at s = 0.25 and leaves at s = 0.75
    assert np.allclose(sorted(first.domain[:, 0]), [0.25, 0.75])
    comp = composed_network(net, pts[0], pts[1] - pts[0])
    a, b = _box_rows(net, pts[0], (pts[1] - pts[0])[:, None])
    assert _counted(first) == brute_force_patterns(comp, a, b)
    assert line.regions == sum(s.regions for s in line.segments)
    assert line.distinct <= line.regions


@pytest.mark.parametrize("seed", range(4))
def test_slice_meeting_the_box_in_a_segment(seed: int) -> None:
    """The parallelogram leaves [0,1]^2 except along the edge x0 = 1: its domain is a
    segment, no cell has area, and the count is that of the segment."""
    net = random_network(seed, 2, (4, 3))
    result = slice_regions(net, np.array([[1.0, 0.0], [2.0, 0.0], [1.0, 1.0]]))
    assert result.domain_measure == 0.0
    assert all(c.measure == 0.0 for c in result.cells)
    seg = composed_network(net, [1.0, 0.0], [0.0, 1.0])
    assert result.regions == brute_force_count(seg)


def test_slice_outside_the_box_is_an_error() -> None:
    net = random_network(0, 2, (3,))
    with pytest.raises(DomainError):
        slice_regions(net, np.array([[2.0, 2.0], [3.0, 2.0], [2.0, 3.0]]))
