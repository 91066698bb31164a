"""The lp region counter against oracles that share no code with it.

Oracles: hand-counted 1-D networks, brute force over patterns with scipy's linprog
(tests/oracles.py), a dense 2-D grid of inputs, uniform sampling (a lower bound), and
the engine's own invariances (n_jobs, checkpoint/resume) compared with full counts.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import reluscope
from ctrlc import sigint_after
from netgen import random_network, random_small_network
from oracles import brute_force_count, brute_force_patterns, sampled_patterns
from reluscope import ReLUNetwork, ReluscopeError, interrupts
from reluscope.bounds import tighten_bounds
from reluscope.regions.count.dispatch import count_regions
from reluscope.regions.patterns import read_patterns
from reluscope.regions.search import engine, highs, schedule
from reluscope.tolerances import MAX_LP_ITERATIONS

#: the two engines of the depth-first search: compiled (default) and HiGHS
SEARCH_METHODS = ["lp", "highs"]


def lp_count(network: ReLUNetwork, method: str = "lp", **kwargs: object) -> int:
    result = count_regions(network, method=method, bounds_method="interval", n_jobs=1, **kwargs)
    assert result.exact and result.status == "complete" and result.method == method
    assert isinstance(result.regions, int)
    return result.regions


def thresholds_network(thresholds: list[float], lower: float = 0.0, upper: float = 1.0):
    """1-D: unit i computes g_i = x - t_i."""
    t = np.asarray(thresholds, dtype=float)
    return ReLUNetwork([np.ones((len(t), 1))], [-t], lower=lower, upper=upper)


# ------------------------------------------------------------------ hand-counted 1-D
@pytest.mark.parametrize(
    "thresholds, expected",
    [
        ([0.5], 2),
        ([0.2, 0.4, 0.6, 0.8], 5),  # n distinct interior thresholds: n + 1 regions
        ([0.9, 0.1, 0.5, 0.3, 0.7, 0.05, 0.95], 8),
        ([0.5, 0.5], 2),  # duplicate rows: the two units always agree
        ([0.0, 0.5], 3),  # threshold on the lower edge: x = 0 gives g = 0 (inactive)
        ([0.5, 1.0], 2),  # on the upper edge: g = x - 1 never reaches REGION_EPS
        ([1.5, -0.5], 1),  # outside the box: both stable
    ],
)
def test_thresholds_1d(thresholds: list[float], expected: int) -> None:
    network = thresholds_network(thresholds)
    assert lp_count(network) == expected
    assert lp_count(network, bounds=tighten_bounds(network, method="interval")) == expected


def test_zero_rows() -> None:
    # g = 0 everywhere: inactive; g = 1 everywhere: active; g = x - 0.5 splits: 2 regions
    network = ReLUNetwork([np.array([[0.0], [0.0], [1.0]])], [np.array([0.0, 1.0, -0.5])])
    assert lp_count(network) == 2


def test_tent_two_layers() -> None:
    # layer 1: x - 1/2 and 1/2 - x; layer 2: |x - 1/2| - 1/4.
    # x in [0, .25): (0,1,1); [.25, .5): (0,1,0); x = .5: (0,0,0) (both g = 0);
    # (.5, .75]: (1,0,0); (.75, 1]: (1,0,1)  -> 5 regions
    network = ReLUNetwork(
        [np.array([[1.0], [-1.0]]), np.array([[1.0, 1.0]])],
        [np.array([-0.5, 0.5]), np.array([-0.25])],
    )
    assert lp_count(network) == 5
    assert brute_force_count(network) == 5


def test_zigzag_1d() -> None:
    # each layer: max(0, x), max(0, x - 1/3), max(0, x - 2/3) folded by the next
    # layer's weights into a zig-zag of 3 pieces on [0, 1]; counted by brute force.
    w1 = np.array([[1.0], [1.0], [1.0]])
    b1 = np.array([0.0, -1 / 3, -2 / 3])
    fold = np.array([[3.0, -6.0, 6.0]])  # maps [0,1] onto [0,1] three times
    w2 = np.vstack([fold, fold, fold]) * np.ones((3, 1))
    b2 = np.array([0.0, -1 / 3, -2 / 3])
    network = ReLUNetwork([w1, w2, np.array([[1.0, -1.0, 1.0]])], [b1, b2, np.array([-0.5])])
    assert lp_count(network) == brute_force_count(network)


# ------------------------------------------------------------------ brute force
@pytest.mark.parametrize("method", SEARCH_METHODS)
@pytest.mark.parametrize("seed", range(50))
def test_matches_brute_force(seed: int, method: str) -> None:
    network = random_small_network(seed)
    expected = brute_force_count(network)
    assert lp_count(network, method) == expected
    bounds = tighten_bounds(network, method="interval")
    assert count_regions(network, method=method, bounds=bounds, n_jobs=1).regions == expected


@pytest.mark.parametrize("method", SEARCH_METHODS)
def test_patterns_equal_brute_force(tmp_path, method: str) -> None:
    for seed in (3, 11, 17, 29):
        network = random_network(seed, 3, (4, 3), lower=-1.0, upper=1.0)
        path = tmp_path / f"p{seed}.npy"
        count = lp_count(network, method, patterns_path=path)
        rows = read_patterns(path, network.n_units)
        found = {tuple(bool(v) for v in row) for row in rows}
        assert len(rows) == count == len(found)  # each region written once
        assert found == brute_force_patterns(network)


# ------------------------------------------------------------------ sampling / grid
@pytest.mark.parametrize("method", SEARCH_METHODS)
@pytest.mark.parametrize("seed", [2, 3, 4, 7, 9])
def test_grid_2d_finds_every_region(seed: int, method: str) -> None:
    network = random_network(seed, 2, (8, 6), lower=-2.0, upper=2.0, bias_scale=0.5)
    xs = np.linspace(-2.0, 2.0, 1000)
    grid = np.stack(np.meshgrid(xs, xs), axis=-1).reshape(-1, 2)
    g = np.concatenate(network.preactivations(grid), axis=1)
    clear = np.all(np.abs(g) > 1e-5, axis=1)
    patterns = network.activation_patterns(grid)[clear]
    codes = patterns.astype(np.int64) @ (1 << np.arange(patterns.shape[1], dtype=np.int64))
    assert lp_count(network, method) == len(np.unique(codes))


@pytest.mark.parametrize("method", SEARCH_METHODS)
@pytest.mark.parametrize("seed", range(4))
def test_sampled_patterns_are_found(seed: int, tmp_path, method: str) -> None:
    network = random_network(seed, 6, (7, 5), bias_scale=0.5)
    path = tmp_path / "p.npy"
    count = lp_count(network, method, patterns_path=path)
    found = {tuple(bool(v) for v in row) for row in read_patterns(path, network.n_units)}
    sampled = sampled_patterns(network, 20_000, seed)
    assert len(sampled) <= count
    assert sampled <= found


# ------------------------------------------------------------------ parallel, limits
@pytest.fixture
def pool_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start the worker pool at once (normally small counts finish in-process first)."""
    monkeypatch.setattr(engine, "SERIAL_START_SECONDS", 0.0)
    monkeypatch.setattr(schedule, "SHORT_SLICE_SECONDS", 0.01)


@pytest.mark.parametrize("method", SEARCH_METHODS)
def test_n_jobs_do_not_change_the_count(pool_at_once: None, tmp_path, method: str) -> None:
    network = random_network(3, 5, (8, 6))
    one = count_regions(network, method=method, bounds_method="interval", n_jobs=1)
    two = count_regions(
        network, method=method, bounds_method="interval", n_jobs=2, patterns_path=tmp_path / "p"
    )
    assert one.exact and two.exact
    assert one.regions == two.regions == 118
    rows = read_patterns(tmp_path / "p", network.n_units)
    assert len({r.tobytes() for r in rows}) == 118


# limits that stop every engine well before the end: the MNIST-trained fixture has 8,622
# regions (test_count_compiled.py), about 3 s of the compiled engine on one core
LONG_NET = Path(__file__).resolve().parents[1] / "fixtures" / "mnist-784-8-8-10-b.npz"
LONG_NET_REGIONS = 8622


def test_time_limit_with_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    network = reluscope.load(LONG_NET)
    # the kernel loaded here first, and 0.2 s of search in-process before the pool starts:
    # fresh workers may spend the whole 0.5 s loading the kernel (alone, 0 regions came
    # back), and the count must still return what was proven, as a lower bound
    count_regions(network, bounds_method="interval", n_jobs=1, time_limit=0.1)
    monkeypatch.setattr(engine, "SERIAL_START_SECONDS", 0.2)
    result = count_regions(network, bounds_method="interval", n_jobs=2, time_limit=0.5)
    assert result.status == "time_limit" and not result.exact
    assert 0 < result.regions < LONG_NET_REGIONS


def test_time_limit_gives_lower_bound() -> None:
    network = reluscope.load(LONG_NET)
    result = count_regions(network, bounds_method="interval", n_jobs=1, time_limit=0.5)
    assert not result.exact
    assert result.status == "time_limit"
    assert 0 < result.regions < LONG_NET_REGIONS
    assert result.seconds < 10


def test_interrupt_returns_partial_count() -> None:
    network = reluscope.load(LONG_NET)
    with sigint_after(0.5):
        result = count_regions(network, bounds_method="interval", n_jobs=1, time_limit=30)
    assert result.status == "interrupted"
    assert not result.exact
    assert 0 <= result.regions < LONG_NET_REGIONS


@pytest.mark.parametrize("method", SEARCH_METHODS)
@pytest.mark.parametrize("n_jobs", [1, 2])
def test_checkpoint_resume_is_exact(tmp_path, n_jobs: int, pool_at_once: None, method) -> None:
    # a 0.05 s limit must stop each engine well before the end: highs gets the 296-region
    # net; the compiled engine counts 1710 regions in 0.09 s, so it gets 7473 (about 1 s)
    network = random_network(1, 8, (10, 8, 6)) if method == "highs" else random_network(
        4, 14, (16, 16, 10)
    )
    bounds = tighten_bounds(network, method="interval")
    full_path = tmp_path / "full.npy"
    full = count_regions(network, bounds=bounds, n_jobs=1, patterns_path=full_path)
    ckpt = tmp_path / "state.ckpt"
    part_path = tmp_path / "part.npy"
    first = count_regions(
        network, method=method, bounds=bounds, n_jobs=n_jobs, time_limit=0.05, checkpoint=ckpt,
        patterns_path=part_path,
    )
    assert ckpt.exists()
    assert first.regions < full.regions and first.status == "time_limit"
    resumed = count_regions(
        network, method=method, bounds=bounds, n_jobs=n_jobs, checkpoint=ckpt,
        patterns_path=part_path,
    )
    assert resumed.exact and resumed.regions == full.regions
    a = read_patterns(full_path, network.n_units)
    b = read_patterns(part_path, network.n_units)
    assert len(b) == full.regions
    assert {r.tobytes() for r in a} == {r.tobytes() for r in b}
    # a finished checkpoint answers at once
    again = count_regions(network, bounds=bounds, n_jobs=1, checkpoint=ckpt)
    assert again.exact and again.regions == full.regions


def test_checkpoint_of_another_network_is_refused(tmp_path) -> None:
    ckpt = tmp_path / "state.ckpt"
    network = random_network(1, 4, (5, 4))
    count_regions(network, bounds_method="interval", n_jobs=1, checkpoint=ckpt)
    other = network.with_domain(-1.0, 1.0)
    with pytest.raises(ReluscopeError, match="different network"):
        count_regions(other, bounds_method="interval", n_jobs=1, checkpoint=ckpt)


def test_bad_arguments() -> None:
    network = random_network(1, 2, (3,))
    with pytest.raises(ReluscopeError):
        count_regions(network, method="nope")
    with pytest.raises(ReluscopeError):
        count_regions(network, n_jobs=0)


# ------------------------------------------------------------------ second engine
@pytest.mark.parametrize("method", SEARCH_METHODS)
@pytest.mark.parametrize("seed", range(3))
def test_lp_equals_milp_enumeration(seed: int, method: str) -> None:
    network = random_network(seed, 6, (6, 5, 3), lower=-1.0, upper=1.0)
    bounds = tighten_bounds(network, method="interval")
    lp = count_regions(network, method=method, bounds=bounds, n_jobs=1)
    milp = count_regions(network, method="milp", bounds=bounds)
    assert lp.exact and milp.exact
    assert lp.regions == milp.regions


@pytest.mark.slow
def test_interrupt_with_pool_then_resume(tmp_path, pool_at_once: None) -> None:
    network = random_network(2, 784, (6, 6, 4))
    ckpt = tmp_path / "state.ckpt"
    with sigint_after(1.5):
        first = count_regions(
            network, bounds_method="interval", n_jobs=2, checkpoint=ckpt, time_limit=60
        )
    assert first.status == "interrupted" and first.regions < 2649
    interrupts.clear()  # the stop stays pending for the next call (reluscope.interrupts)
    resumed = count_regions(network, bounds_method="interval", n_jobs=2, checkpoint=ckpt)
    assert resumed.exact and resumed.regions == 2649


@pytest.mark.slow
def test_bundled_example_network() -> None:
    # 64;6;6;10 trained on sklearn digits: 6752 regions, also found by scip-count
    from reluscope.data import example_network

    network = example_network()
    bounds = tighten_bounds(network, method="lp")
    lp = count_regions(network, bounds=bounds, n_jobs=1)
    scip = count_regions(network, method="scip-count", bounds=bounds)
    assert lp.exact and scip.exact
    assert lp.regions == scip.regions == 6752


def test_network_without_relu_units_has_one_region(tmp_path) -> None:
    network = ReLUNetwork([np.ones((2, 3))], [np.zeros(2)], relu=[False])
    assert lp_count(network, patterns_path=tmp_path / "p.npy") == 1
    assert read_patterns(tmp_path / "p.npy", 0).shape == (1, 0)


class _CyclingHighs:
    """A real Highs whose every 5th solve ends as if its simplex had cycled into the
    iteration cap (status kIterationLimit), as one MNIST network made HiGHS do."""

    def __init__(self, highs) -> None:
        import highspy

        self._highs = highs
        self._runs = 0
        self._limit = highspy.HighsModelStatus.kIterationLimit
        self.capped = 0

    def run(self):
        self._runs += 1
        return self._highs.run()

    def getModelStatus(self):
        if self._runs % 5 == 0:
            self.capped += 1
            return self._limit
        return self._highs.getModelStatus()

    def __getattr__(self, name):
        return getattr(self._highs, name)


def test_lp_stopped_by_the_iteration_cap_is_solved_again(monkeypatch) -> None:
    """An LP stopped by MAX_LP_ITERATIONS is solved again from scratch and the count is
    unchanged; the cap is set on every searcher (a cycling LP cannot hang a count)."""
    net = random_network(seed=1, n0=2, widths=(4, 4), lower=-1, upper=1, bias_scale=0.3)
    expected = brute_force_count(net)  # 25 regions, about 40 LPs
    searchers = []
    original = highs.HighsSearcher.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        assert self.h.getOptionValue("simplex_iteration_limit")[1] == MAX_LP_ITERATIONS
        self.h = _CyclingHighs(self.h)
        searchers.append(self)

    monkeypatch.setattr(highs.HighsSearcher, "__init__", init)
    result = count_regions(net, method="highs", n_jobs=1)
    assert result.exact and result.regions == expected
    assert sum(s.h.capped for s in searchers) > 0
