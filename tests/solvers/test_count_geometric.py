"""The geometric engine (few inputs) against the brute-force oracle and the lp engine.

Generic random networks at d = 1..4, degenerate ones (hyperplanes through vertices, on
the box's boundary, through one point, coinciding or parallel; dead units, zero
weights, zero biases), thin cells on hand-made networks, the automatic choice, and the
time limit / Ctrl-C contract (a lower bound of genuine regions).
"""

from __future__ import annotations

import numpy as np
import pytest

from ctrlc import sigint_after
from netgen import random_network, random_small_network
from oracles import brute_force_count, brute_force_patterns
from reluscope import ReLUNetwork, ReluscopeError, interrupts
from reluscope.cli import main
from reluscope.regions.count.dispatch import GEOMETRIC_MAX_INPUTS, count_regions
from reluscope.regions.count.geometric import best_margin, split_cells
from reluscope.regions.patterns import read_patterns
from reluscope.tolerances import REGION_EPS


def geometric(network: ReLUNetwork, **kwargs: object):  # type: ignore[no-untyped-def]
    result = count_regions(network, method="geometric", **kwargs)  # type: ignore[arg-type]
    assert result.method == "geometric"
    return result


@pytest.mark.parametrize("seed", range(60))
def test_small_random_networks_match_brute_force(seed: int) -> None:
    network = random_small_network(seed)
    result = geometric(network)
    assert result.exact and result.status == "complete"
    assert result.regions == brute_force_count(network)


@pytest.mark.parametrize("seed", range(16))
def test_random_networks_match_the_lp_engine(seed: int) -> None:
    d = 1 + seed % 4
    widths = ((9, 7, 5), (12, 6), (6, 6, 6), (8, 8))[seed % 4]
    network = random_network(100 + seed, d, widths, lower=-1.0, upper=1.0)
    result = geometric(network)
    lp = count_regions(network, method="lp", n_jobs=1)
    assert result.exact and lp.exact
    assert result.regions == lp.regions
    assert result.thin_cells is not None and result.thin_cells >= 0


def _degenerate_network(seed: int) -> ReLUNetwork:
    """Small integer weights and half-integer biases, zero biases, or a unit repeating
    (or scaling) another one's weights: hyperplanes through vertices of the complex."""
    rng = np.random.default_rng(seed)
    d = int(rng.integers(1, 5))
    widths = [int(w) for w in rng.integers(1, 5, size=int(rng.integers(1, 4)))]
    weights, biases, fan = [], [], d
    for width in widths:
        if seed % 3 == 0:
            weights.append(rng.integers(-1, 3, size=(width, fan)).astype(float))
            biases.append(rng.integers(-2, 2, size=width) * 0.5)
        elif seed % 3 == 1:
            weights.append(rng.normal(size=(width, fan)))
            biases.append(np.zeros(width))
        else:
            w = rng.normal(size=(width, fan))
            if width > 1:
                w[1] = w[0] * rng.choice([1.0, 2.0, -1.0])
            weights.append(w)
            biases.append(rng.normal(size=width) * float(rng.random() < 0.5))
        fan = width
    lower = float(rng.choice([0.0, -1.0]))
    return ReLUNetwork(weights, biases, relu=[True] * len(widths), lower=lower, upper=1.0)


@pytest.mark.parametrize("seed", range(45))
def test_degenerate_random_networks_match_brute_force(seed: int) -> None:
    network = _degenerate_network(seed)
    result = geometric(network)
    assert result.exact
    assert result.regions == brute_force_count(network)


HAND_CASES = {
    # g = x on [0, 1]: the point x = 0 is a region of its own (no cell has its pattern)
    "threshold on the box's edge": (ReLUNetwork([np.array([[1.0]])], [np.array([0.0])]), 2),
    "threshold on the far edge": (ReLUNetwork([np.array([[1.0]])], [np.array([-1.0])]), 1),
    "coinciding hyperplanes": (
        ReLUNetwork([np.array([[1.0, 1.0], [2.0, 2.0], [-1.0, -1.0]])],
                    [np.array([-0.5, -1.0, 0.7])]), 3),
    "parallel hyperplanes": (
        ReLUNetwork([np.array([[1.0, 1.0], [1.0, 1.0], [1.0, 1.0]])],
                    [np.array([-0.3, -0.9, -1.5])]), 4),
    "concurrent lines": (
        ReLUNetwork([np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, -1.0]])],
                    [np.array([-0.5, -0.5, -1.0, 0.0])]), 8),
    "dead unit and zero weights": (
        ReLUNetwork([np.array([[1.0, -1.0], [0.0, 0.0], [0.0, 0.0]]),
                     np.array([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]])],
                    [np.array([0.1, 0.0, -1.0]), np.array([-0.2, 0.0])]), 3),
    "a second-layer unit equal to a first-layer one": (
        ReLUNetwork([np.array([[1.0, -0.5]]), np.array([[1.0]])],
                    [np.array([-0.2]), np.array([0.0])]), 2),
}


@pytest.mark.parametrize("name", sorted(HAND_CASES))
def test_degenerate_hand_cases(name: str) -> None:
    network, expected = HAND_CASES[name]
    assert brute_force_count(network) == expected  # the oracle agrees with the hand count
    result = geometric(network)
    assert result.exact and result.regions == expected


def _slab(width: float) -> ReLUNetwork:
    """Two units ``x_0 - 0.5`` and ``0.5 + width - x_0`` on [0,1]^2: the slab
    ``0.5 < x_0 < 0.5 + width`` has both active, its margin is ``width / 2``."""
    return ReLUNetwork([np.array([[1.0, 0.0], [-1.0, 0.0]])], [np.array([-0.5, 0.5 + width])])


def test_a_thin_cell_is_reported_not_counted() -> None:
    thin = geometric(_slab(1e-7))
    assert thin.regions == 2 == brute_force_count(_slab(1e-7))
    assert thin.thin_cells == 1  # the slab: positive volume, margin 5e-8 < REGION_EPS
    assert 0.0 < best_margin(_slab(1e-7), np.array([1, 1])) < REGION_EPS
    wide = geometric(_slab(1e-5))  # margin 5e-6: a region
    assert wide.regions == 3 == brute_force_count(_slab(1e-5)) and wide.thin_cells == 0
    # the other engines cannot see thin cells
    assert count_regions(_slab(1e-7), method="lp").thin_cells is None


def test_thin_cells_in_a_deeper_network() -> None:
    # layer 1: g_0 = x_0 - 0.5, g_1 = x_1 - 0.5; layer 2: g_2 = 3e-7 - h_0. Where
    # x_0 < 0.5 (two cells, split by g_1) g_2 = 3e-7 > 0: active but below REGION_EPS,
    # so both cells are thin; so are the two pieces of the slab 0.5 < x_0 < 0.5 + 3e-7.
    # Only the two cells beyond the slab (g_2 < 0) are regions.
    w0 = np.array([[1.0, 0.0], [0.0, 1.0]])
    w1 = np.array([[-1.0, 0.0]])
    network = ReLUNetwork([w0, w1], [np.array([-0.5, -0.5]), np.array([3e-7])],
                          relu=[True, True])
    assert brute_force_count(network) == 2
    result = geometric(network)
    assert result.regions == 2 and result.thin_cells == 4


def test_cli_prints_the_thin_cells(tmp_path, capsys) -> None:
    model = tmp_path / "slab.npz"
    _slab(1e-7).save(model)
    assert main(["count", str(model)]) == 0
    text = capsys.readouterr().out
    assert "regions: 2" in text and "(geometric)" in text
    assert "1 more cell thinner than eps" in text


def test_auto_picks_geometric_for_few_inputs() -> None:
    small = random_network(3, GEOMETRIC_MAX_INPUTS, (6, 5))
    large = random_network(3, GEOMETRIC_MAX_INPUTS + 1, (6, 5))
    assert count_regions(small).method == "geometric"
    assert count_regions(large).method == "lp"
    assert count_regions(small).regions == count_regions(small, method="lp").regions


def _pattern_set(path, n_units: int) -> set[bytes]:
    rows = read_patterns(path, n_units)
    assert len({r.tobytes() for r in rows}) == len(rows)  # no pattern twice
    return {r.tobytes() for r in rows}


@pytest.mark.parametrize("seed", range(12))
def test_patterns_file_equals_brute_force_and_lp(seed: int, tmp_path) -> None:
    """count --patterns with the geometric engine: the regions' patterns, as brute force
    and the lp engine list them (generic and degenerate networks: face regions too)."""
    network = (random_small_network(seed) if seed % 2 else _degenerate_network(seed))
    result = geometric(network, patterns_path=tmp_path / "g.npy")
    lp = count_regions(network, method="lp", n_jobs=1, patterns_path=tmp_path / "l.npy")
    found = _pattern_set(tmp_path / "g.npy", network.n_units)
    assert len(found) == result.regions == lp.regions
    assert found == _pattern_set(tmp_path / "l.npy", network.n_units)
    assert found == {np.array(p, dtype=bool).tobytes() for p in brute_force_patterns(network)}


def test_patterns_file_of_a_leaky_network_has_the_original_units(tmp_path) -> None:
    base = random_network(5, 2, (5, 4, 3))
    leaky = ReLUNetwork(base.weights, base.biases, relu=base.relu,
                        slopes=[np.full(5, 0.1), np.zeros(4), np.ones(3)])
    geometric(leaky, patterns_path=tmp_path / "g.npy")
    count_regions(leaky, method="lp", n_jobs=1, patterns_path=tmp_path / "l.npy")
    assert (_pattern_set(tmp_path / "g.npy", leaky.n_units)
            == _pattern_set(tmp_path / "l.npy", leaky.n_units))


def test_auto_keeps_geometric_for_pattern_files_not_checkpoints(tmp_path) -> None:
    network = random_network(3, 2, (4, 3))
    result = count_regions(network, patterns_path=tmp_path / "p.npy")
    assert result.method == "geometric" and result.regions == brute_force_count(network)
    assert len(read_patterns(tmp_path / "p.npy", network.n_units)) == result.regions
    assert count_regions(network, checkpoint=tmp_path / "c.npz").method == "lp"
    with pytest.raises(ReluscopeError, match="checkpoint"):
        count_regions(network, method="geometric", checkpoint=tmp_path / "q.npz")


def test_patterns_of_a_stopped_count_are_genuine_regions(tmp_path) -> None:
    network = random_network(2, 3, (24, 24, 12), lower=-1.0, upper=1.0)
    cut = count_regions(network, method="geometric", time_limit=1e-9,  # one kernel call
                        patterns_path=tmp_path / "cut.npy", estimate_rest=False)
    count_regions(network, method="lp", n_jobs=1, patterns_path=tmp_path / "all.npy")
    partial = _pattern_set(tmp_path / "cut.npy", network.n_units)
    assert cut.status == "time_limit" and 0 < len(partial) == cut.regions
    assert partial < _pattern_set(tmp_path / "all.npy", network.n_units)


def test_cli_count_writes_patterns_with_geometric(tmp_path, capsys) -> None:
    from reluscope.io import save

    network = random_network(4, 3, (6, 5))
    save(network, tmp_path / "m.npz")
    assert main(["count", str(tmp_path / "m.npz"), "--method", "geometric",
                 "--patterns", str(tmp_path / "p.npy")]) == 0
    assert "patterns written" in capsys.readouterr().out
    assert (_pattern_set(tmp_path / "p.npy", network.n_units)
            == {np.array(p, dtype=bool).tobytes() for p in brute_force_patterns(network)})


def test_too_many_inputs_is_a_clear_error() -> None:
    with pytest.raises(ReluscopeError, match="at most 12 inputs"):
        count_regions(random_network(0, 13, (3,)), method="geometric")


def _cells_by_interior(network: ReLUNetwork) -> int:
    """Cells of positive volume, independently: the patterns ``S`` (depth-first over the
    units, layer by layer) whose set ``g_i >= s`` (i in S), ``g_i <= -s`` (others) is
    non-empty for some ``s > 1e-9`` (scipy's HiGHS, one LP per node)."""
    from scipy.optimize import linprog

    d = network.n_inputs
    bounds = list(zip(network.lower, network.upper, strict=True)) + [(None, 1.0)]

    def interior(rows: list[np.ndarray], rhs: list[float]) -> bool:
        res = linprog(np.r_[np.zeros(d), -1.0], A_ub=np.array(rows), b_ub=np.array(rhs),
                      bounds=bounds, method="highs")
        return res.status == 0 and -res.fun > 1e-9

    def visit(layer: int, unit: int, a: np.ndarray, c: np.ndarray, on: list[bool],
              rows: list[np.ndarray], rhs: list[float]) -> int:
        if unit == a.shape[0]:
            if layer + 1 == network.n_layers or not network.relu[layer + 1]:
                return 1
            mask = np.array(on[-a.shape[0]:], dtype=float)
            w, b = network.weights[layer + 1], network.biases[layer + 1]
            return visit(layer + 1, 0, w @ (a * mask[:, None]), w @ (c * mask) + b, on,
                         rows, rhs)
        total = 0
        for active in (True, False):
            sign = -1.0 if active else 1.0  # active: -g + s <= 0; inactive: g + s <= 0
            row = np.r_[sign * a[unit], 1.0]
            if interior(rows + [row], rhs + [-sign * c[unit]]):
                total += visit(layer, unit + 1, a, c, [*on, active], rows + [row],
                               rhs + [-sign * c[unit]])
        return total

    if not network.relu[0]:
        return 1  # no ReLU unit: the whole box is one cell
    return visit(0, 0, network.weights[0], network.biases[0], [], [], [])


@pytest.mark.parametrize("seed", range(12))
def test_regions_plus_thin_cells_are_the_cells_of_positive_volume(seed: int) -> None:
    network = random_small_network(200 + seed) if seed < 8 else _slab(1e-7 * seed)
    result = geometric(network)
    assert result.thin_cells is not None
    assert result.regions + result.thin_cells == _cells_by_interior(network)


#: about 3 s of geometric counting on a 2-core machine
LONG_NET = random_network(7, 4, (48, 48, 24), lower=-1.0, upper=1.0)


def test_time_limit_gives_a_lower_bound_of_genuine_regions() -> None:
    network = random_network(2, 3, (24, 24, 12), lower=-1.0, upper=1.0)
    full = geometric(network)
    cut = split_cells(network, deadline=0.0)  # stops after the first kernel call
    assert cut.status == "time_limit"
    assert 0 < cut.regions < full.regions
    limited = geometric(network, time_limit=1e-9)
    assert limited.status == "time_limit" and not limited.exact
    assert limited.regions <= full.regions


@pytest.mark.slow
def test_ctrl_c_returns_the_regions_found_so_far() -> None:
    with sigint_after(0.5):
        result = geometric(LONG_NET, time_limit=60)
    assert result.status == "interrupted" and not result.exact
    interrupts.clear()
    assert result.regions > 0
