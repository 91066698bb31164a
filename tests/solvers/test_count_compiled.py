"""The compiled lp engine: its LP solver against scipy, its certificates, its fallbacks.

Oracles: scipy's ``linprog`` (HiGHS through another path) on random LPs, brute force
over patterns (tests/oracles.py), and the HiGHS search (``method="highs"``) on subtrees
of MNIST-trained 784-input networks.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import linprog

import reluscope
from netgen import random_network, random_small_network
from oracles import brute_force_count
from reluscope.bounds import tighten_bounds
from reluscope.regions.search import _kernel, compiled, core, highs
from reluscope.tolerances import CERTIFICATE_RTOL, REGION_EPS

NETS = Path(__file__).resolve().parents[1] / "fixtures"  # copies of shared/nets


def _random_lp(seed: int, n: int):
    """Rows a.x >= b with a known interior point, box [l, u], random cost."""
    rng = np.random.default_rng(seed)
    m = int(rng.integers(1, 9))
    a = rng.normal(size=(m, n))
    lower = rng.choice([-1.0, 0.0], size=n)
    upper = lower + rng.choice([1.0, 2.0], size=n)
    x0 = rng.uniform(lower, upper)
    b = a @ x0 - rng.uniform(0.0, 0.3, size=m)
    slack_hi = np.maximum(a * lower, a * upper).sum(axis=1) - b + 1e-7
    cost = rng.normal(size=n)
    return m, a, b, slack_hi, lower, upper, cost


def _solve(m, a, b, slack_hi, lower, upper, cost, target):
    n = a.shape[1]
    size = m + 1
    rows = np.zeros((size, n))
    rows[:m] = a
    rb, rs = np.zeros(size), np.zeros(size)
    rb[:m], rs[:m] = b, slack_hi
    basic = np.arange(n, n + m, dtype=np.int64)
    lp = _kernel.new_lp_work(size, n)
    status = _kernel.solve_lp(
        cost, target, m, rows, rb, rs, lower, upper, basic,
        _kernel.perturbation_fractions(n + size), -1, lp,
        compiled.SETTINGS._replace(max_iterations=20000),
    )
    return status, lp.z[:n].copy()


def _sorted_crossing(t, w, slope):
    """The ratio test's reference: walk the breakpoints in increasing ratio."""
    order = np.argsort(t, kind="stable")
    for k, i in enumerate(order):
        slope -= w[i]
        if slope < 0.0:
            return set(order[:k].tolist()), int(i)
    return set(order[:-1].tolist()), int(order[-1])


@pytest.mark.parametrize("seed", range(60))
def test_crossing_ratio_equals_a_sorted_walk(seed: int) -> None:
    # the kernel's quickselect must find the ratio where a sorted walk enters and pass as
    # many breakpoints as it does
    rng = np.random.default_rng(seed)
    nc = int(rng.choice([1, 2, 5, 17, 40, 300, 900]))
    t = rng.exponential(size=nc) if seed % 3 else rng.integers(0, 4, size=nc).astype(float)
    w = rng.exponential(size=nc)
    slope = float(w.sum() * rng.choice([0.0, 0.01, 0.3, 0.7, 0.999, 1.5]))
    t_cross, ties = _kernel.crossing_ratio(t.copy(), w.copy(), nc, slope, np.empty(nc))
    passed, entering = _sorted_crossing(t, w, slope)
    if slope >= w.sum():  # the slope never turns: all pass but the largest ratio
        assert t_cross == np.inf and ties == 0
        assert len(passed) == nc - 1 and t[entering] == t.max()
        return
    assert t_cross == t[entering]
    # those below the crossing ratio pass, and ``ties`` of those at it
    assert int((t < t_cross).sum()) + ties == len(passed)
    assert ties < int((t == t_cross).sum())


@pytest.mark.parametrize("seed", range(30))
def test_segment_witnesses_cover_every_piece_of_the_segment(seed: int) -> None:
    # oracle: a dense walk along the segment, which sees every sign pattern of the
    # layer's undecided units (and unit i's side) that the segment crosses
    rng = np.random.default_rng(seed)
    width, n, i = 6, 3, int(rng.integers(0, 6))
    map_a = rng.normal(size=(1, width, n))
    map_c = rng.normal(scale=0.3, size=(1, width))
    is_set = rng.random(width) < 0.3
    is_set[i] = False  # the unit being decided is not decided yet: its crossing cuts too
    p, q = rng.uniform(-1, 1, size=n), rng.uniform(-1, 1, size=n)
    g_p, g_q = map_a[0] @ p + map_c[0], map_a[0] @ q + map_c[0]
    cap = width + 2
    pts_i, pts_a = np.zeros((cap, n)), np.zeros((cap, n))
    ni, na = _kernel._segment_witnesses(
        p, g_p, q, g_q, 0, 0, width, is_set, map_a, map_c, i, REGION_EPS, pts_i, 0, cap,
        pts_a, 0, cap, np.zeros(width + 1), np.zeros(n),
    )
    free = ~is_set

    def pattern(x):
        return tuple((map_a[0][free] @ x + map_c[0][free] > 0).tolist())

    found = set()
    for pts, count, active in ((pts_i, ni, False), (pts_a, na, True)):
        for x in pts[:count]:
            g = float(map_a[0, i] @ x + map_c[0, i])
            assert (g >= REGION_EPS) if active else (g <= 0.0)
            t = np.dot(x - p, q - p) / np.dot(q - p, q - p)  # on the segment, t in (0, 1]
            assert 0.0 < t <= 1.0 and np.allclose(x, p + t * (q - p), atol=1e-12)
            found.add(pattern(x))
    walk = set()
    for t in np.linspace(0.0, 1.0, 200_001)[1:]:
        x = p + t * (q - p)
        g = float(map_a[0, i] @ x + map_c[0, i])
        if g >= 1e-3 or g <= -1e-3:  # clear of unit i's boundary: a piece's interior
            walk.add(pattern(x))
    assert walk <= found | {pattern(q)}  # q itself is the LP optimum, kept by the caller
    assert len(found) == ni + na  # one point per piece


@pytest.mark.parametrize("seed", range(40))
def test_lp_solver_against_linprog(seed: int) -> None:
    n = [3, 20, 100, 784][seed % 4]
    m, a, b, slack_hi, lower, upper, cost = _random_lp(seed, n)
    ref = linprog(cost, A_ub=-a, b_ub=-b, bounds=list(zip(lower, upper, strict=True)))
    assert ref.status == 0
    # threshold far above: the optimum itself, feasible, with linprog's value
    status, x = _solve(m, a, b, slack_hi, lower, upper, cost, 1e9)
    assert status == _kernel._NONEMPTY
    assert np.all(a @ x - b >= -1e-8) and np.all(x >= lower - 1e-9) and np.all(x <= upper + 1e-9)
    assert cost @ x == pytest.approx(ref.fun, abs=1e-6 * (1 + abs(ref.fun)))
    # threshold just below the optimum: empty, by a certificate
    status, _ = _solve(m, a, b, slack_hi, lower, upper, cost, ref.fun - 1e-4)
    assert status == _kernel._EMPTY
    # just above: a point under the threshold
    status, x = _solve(m, a, b, slack_hi, lower, upper, cost, ref.fun + 1e-4)
    assert status == _kernel._NONEMPTY and cost @ x <= ref.fun + 1e-4
    assert np.all(a @ x - b >= -1e-8)


@pytest.mark.parametrize("seed", range(20))
def test_certificate_never_exceeds_the_lp_optimum(seed: int) -> None:
    """L(y) is a lower bound for every y (negative entries are clipped): weak duality."""
    m, a, b, _, lower, upper, cost = _random_lp(seed, 30)
    ref = linprog(cost, A_ub=-a, b_ub=-b, bounds=list(zip(lower, upper, strict=True)))
    rng = np.random.default_rng(seed)
    for _ in range(50):
        y = rng.normal(size=m) * rng.choice([0.01, 1.0, 100.0])
        bound = _kernel.certified_bound(cost, m, a, b, y, lower, upper, CERTIFICATE_RTOL)
        assert bound <= ref.fun + 1e-12


def _count_with_searcher(network, searcher_cls=None):
    prep = core.prepare(network, tighten_bounds(network, method="interval"))
    searcher = (searcher_cls or compiled.CompiledSearcher)(prep)
    tasks = [(np.zeros(0, dtype=np.int32), (prep.lower + prep.upper) / 2.0)]
    regions = 0
    while tasks:
        res = searcher.run(tasks.pop(), slice_end=float("inf"))
        regions += res.regions
        tasks.extend(res.remaining)
    return regions, searcher


@pytest.mark.parametrize("seed", range(12))
def test_lp_trouble_goes_to_highs(monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    """With no simplex iterations allowed every LP needing a pivot is handed to the
    HiGHS search; the count stays the brute-force count."""
    monkeypatch.setattr(compiled, "SETTINGS", compiled.SETTINGS._replace(max_iterations=0))
    network = random_small_network(seed)
    regions, searcher = _count_with_searcher(network)
    assert regions == brute_force_count(network)


def test_lp_trouble_is_used() -> None:
    network = random_network(4, 3, (5, 4), lower=-1.0, upper=1.0)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(compiled, "SETTINGS", compiled.SETTINGS._replace(max_iterations=0))
        regions, searcher = _count_with_searcher(network)
    assert searcher.fallback_nodes > 0 and searcher.stats[2] > 0
    assert regions == brute_force_count(network)


@pytest.mark.parametrize("seed", range(6))
def test_failed_witness_check_goes_to_highs(monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    """A witness that fails the forward pass is never counted by the kernel: with an
    impossible margin every region is decided by the HiGHS search instead."""
    monkeypatch.setattr(compiled, "SETTINGS", compiled.SETTINGS._replace(witness_tol=-1.0))
    network = random_network(seed, 3, (4, 3), lower=-1.0, upper=1.0)
    regions, searcher = _count_with_searcher(network)
    assert regions == brute_force_count(network)
    assert searcher.fallback_nodes >= regions > 0  # a hand-over may return leaves too
    assert searcher.ist[_kernel.I_REGIONS] == 0


def _subtree_task(network, prep, seed: int):
    """The first layer's pattern at a random input with a clear margin, as a task."""
    rng = np.random.default_rng(seed)
    w, b = prep.weights[0], prep.biases[0]
    for _ in range(1000):
        x = rng.uniform(prep.lower, prep.upper)
        g = w @ x + b
        if np.all((g >= REGION_EPS + 1e-3) | (g <= -1e-3)):
            codes = 2 * np.arange(len(g), dtype=np.int32) + (g > 0).astype(np.int32)
            return codes, x
    raise AssertionError("no clear input found")


@pytest.mark.parametrize("name", ["a", "b"])
@pytest.mark.parametrize("seed", range(2))
def test_mnist_subtrees_equal_highs(name: str, seed: int) -> None:
    """Regions under a fixed first-layer pattern of a trained 784;8;8;10 network."""
    network = reluscope.load(NETS / f"mnist-784-8-8-10-{name}.npz")
    prep = core.prepare(network, tighten_bounds(network, method="lp"))
    task = _subtree_task(network, prep, seed)
    counts = []
    for searcher in (compiled.CompiledSearcher(prep), highs.HighsSearcher(prep)):
        tasks, regions = [task], 0
        while tasks:
            res = searcher.run(tasks.pop(), slice_end=float("inf"))
            regions += res.regions
            tasks.extend(res.remaining)
        counts.append(regions)
    assert counts[0] == counts[1] > 0


@pytest.mark.slow
def test_mnist_full_count_equals_highs() -> None:
    network = reluscope.load(NETS / "mnist-784-8-8-10-a.npz")
    bounds = tighten_bounds(network, method="lp")
    lp = reluscope.count_regions(network, bounds=bounds, n_jobs=1)
    highs = reluscope.count_regions(network, method="highs", bounds=bounds, n_jobs=1)
    assert lp.exact and highs.exact
    assert lp.regions == highs.regions == 6587  # measured with both engines
