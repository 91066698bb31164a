r"""The number of linear regions with a confidence interval, from random runs over the
counting search tree (``estimate_regions(network, method="tree")``).

Estimator (stochastic enumeration, Rubinstein 2013; Knuth 1975 is its population 1)
------------------------------------------------------------------------------------
The exact search (:mod:`.compiled`) walks a tree whose leaves are the linear regions.

1. **The top, exactly.** The tree is expanded shallowest node first (every node of the
   frontier decides one more unit, :meth:`~.probes.Prober.expand`) while the frontier
   holds fewer than ``frontier`` nodes (by default sized from the tree: about one node
   per ``AUTO_LEAVES_PER_TOP_NODE`` regions, :func:`auto_top`). Leaves met there are
   ``proven`` regions. No run samples the levels this top covers.
2. **One run** (:mod:`.enumeration`) starts from that frontier, every node with weight
   1, and repeats: when the current nodes number ``m > B`` (``B = population``), keep
   ``B`` of them, node ``i`` with probability ``pi_i``, dividing its weight by
   ``pi_i``; expand every kept node; a leaf adds its weight to the run's value, an
   unbiased estimate of the leaves below the frontier. ``pi_i`` is proportional to the
   weight times the subtree size that earlier runs saw at the node's depth
   (``sampling="depth"``; the first ``PILOT_RUNS`` runs, and ``sampling="uniform"``,
   use the weight alone). Keeping a population at every level averages over ``B``
   paths, which tames the heavy tail of Knuth's single path (measured in
   docs/estimate.md).
3. **Independent runs** (each with its own random stream, in any process) give the
   estimate ``proven + mean`` and Student's ``t`` interval from their spread. The run
   stops when the half-width is at most ``rel_error x`` the estimate (after
   ``MIN_RUNS`` runs), at the time limit, or on Ctrl-C, with the runs finished so far.

The estimate is unbiased (a run cut short is dropped, never half-counted); the
interval's coverage is measured on networks of known count (``benchmarks/
bench_estimate.py``, docs/estimate.md). The result says when one run dominates the
spread (``heavy_tail``): then the interval is less trustworthy.

Same seed, same result for any ``n_jobs``: run ``i`` always draws from stream ``i``,
its predictor is fitted on the runs before the last power of two at most ``i``, and the
stopping rule reads the runs in order.
"""

from __future__ import annotations

import heapq
import math
import multiprocessing
import signal
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from reluscope import interrupts, validation
from reluscope.bounds import Bounds, tighten_bounds
from reluscope.errors import ReluscopeError
from reluscope.network import ReLUNetwork
from reluscope.progress import progress_bar
from reluscope.regions.estimate.enumeration import (
    Run,
    SubtreePredictor,
    SubtreeRecord,
    enumeration_run,
)
from reluscope.regions.estimate.probes import Node, Prober, node_of
from reluscope.regions.search import distributed
from reluscope.regions.search.core import PreparedNetwork, Task, prepare
from reluscope.regions.search.engine import _sigint_to_event
from reluscope.relu_form import relu_form, require_no_max_pool
from reluscope.serialise import fields_dict
from reluscope.status import COMPLETE, INTERRUPTED, TIME_LIMIT, Status

#: Nodes kept per level of a run (``population``) by default.
DEFAULT_POPULATION = 256
#: Runs needed before the rel_error rule may stop the estimate.
MIN_RUNS = 10
#: Share of the time limit the exact expansion of the top may take at most.
FRONTIER_TIME_SHARE = 0.25
#: ``heavy_tail`` when one run carries more than this share of the runs' spread.
HEAVY_SHARE = 0.5
#: Fewer finished runs than this give no interval (their spread says too little).
MIN_INTERVAL_RUNS = 10
#: How a run picks the nodes it keeps: ``depth``, importance sampling by the subtree sizes
#: earlier runs saw per depth (:mod:`.enumeration`); ``uniform``, every node alike.
SAMPLINGS = ("depth", "uniform")
#: Runs without a predictor before the first fit; the predictor is fitted again from all
#: finished runs whenever their number doubles (4, 8, 16, ...).
PILOT_RUNS = 4
#: ``frontier="auto"``: this many runs of this population size the tree first (cheap:
#: about 0.5-1 s on MNIST networks of 10^4-10^6 regions; own random streams, dropped).
SIZING_RUNS = 8
SIZING_POPULATION = 16
#: ... then the top gets the power of two nearest ``size / AUTO_LEAVES_PER_TOP_NODE``
#: nodes, at least the population and at most ``AUTO_MAX_TOP`` (docs/estimate.md).
AUTO_LEAVES_PER_TOP_NODE = 32
AUTO_MAX_TOP = 65536


@dataclass(frozen=True)
class CountEstimate:
    """An estimate of the number of linear regions with its confidence interval.

    Attributes
    ----------
    estimate
        The estimated number of regions (None when fewer than ``MIN_INTERVAL_RUNS`` runs
        finished before a stop: then only ``proven`` is known).
    ci_low, ci_high
        The ``confidence`` interval (``ci_low >= proven``), its ends rounded outward to
        whole regions; both equal ``estimate`` when every region was counted exactly
        (``exact``).
    confidence
        The interval's nominal coverage (0.95 by default; measured in docs/estimate.md).
    rel_half_width
        Half the interval's width over the estimate.
    probes
        Independent runs (each one unbiased estimate) behind the interval.
    population
        Nodes kept per level of a run.
    proven
        Regions counted exactly (leaves of the expanded top, or of a count cut short).
    effective_sample_size
        ``(sum v)^2 / sum v^2`` over the runs' values ``v`` (at most ``probes``).
    heavy_tail
        True when one run carries more than half of the runs' spread: the interval may
        be too narrow; run longer or with a larger population.
    seconds
        Wall time, bounds included.
    sampling
        How runs kept nodes: ``depth`` (importance sampling) or ``uniform``.
    frontier
        Nodes of the top expanded exactly, where the runs start.
    status
        ``complete`` (the interval reached ``rel_error``, or the count is exact),
        ``time_limit`` or ``interrupted`` (the estimate from the runs finished so far).
    """

    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    confidence: float
    rel_half_width: float | None
    probes: int
    population: int
    proven: int
    effective_sample_size: float
    heavy_tail: bool
    seconds: float
    status: Status
    exact: bool = False
    method: str = "tree"
    sampling: str = "depth"
    frontier: int = 0
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return fields_dict(self)

    def describe(self) -> str:
        """One line: ``about 2.1 million regions (1.9-2.4 million, 95%)``."""
        if self.exact:
            return f"{int(self.proven):,} regions (counted exactly)"
        if self.estimate is None or self.ci_low is None or self.ci_high is None:
            return f"at least {self.proven:,} regions proven; no estimate ({self.message})"
        pct = f"{100 * self.confidence:g}%"
        return (f"about {format_count(self.estimate)} regions "
                f"({format_count(self.ci_low)}-{format_count(self.ci_high)}, {pct})")


def format_count(x: float) -> str:
    """A count as a reader takes it in: 6,587 / 2.13 million / 3.4 billion."""
    for scale, word in ((1e12, "trillion"), (1e9, "billion"), (1e6, "million")):
        if x >= scale:
            return f"{x / scale:.3g} {word}"
    return f"{round(x):,}"


# ---------------------------------------------------------------------- the top
def expand_frontier(
    prober: Prober,
    nodes: Sequence[Node],
    target: int,
    deadline: float,
    stop: threading.Event,
) -> tuple[int, list[Node]]:
    """Expand the shallowest node first while the frontier holds fewer than ``target``
    nodes (and none is past the exact depth, the deadline or a stop): the regions met
    and the frontier left, in depth-first order.

    Shallowest first, the frontier's nodes end at similar depths even when they start
    at very different ones (the tasks a count cut short leaves): uniform subsampling
    then keeps nodes whose subtrees are alike in size.
    """
    proven = 0
    heap = [(node.depth, i, node) for i, node in enumerate(nodes)]
    heapq.heapify(heap)
    order = len(heap)
    while heap and len(heap) < target:
        if heap[0][0] >= prober.exact_from or time.monotonic() >= deadline or stop.is_set():
            break
        _, _, node = heapq.heappop(heap)
        found, children = prober.expand(node)
        proven += found
        for child in children:
            heapq.heappush(heap, (child.depth, order, child))
            order += 1
    return proven, sorted((item[2] for item in heap), key=lambda n: n.prefix.tolist())


def sized_tree(prober: Prober, nodes: Sequence[Node], found: int,
               seeds: np.random.SeedSequence, stop: threading.Event,
               deadline: float) -> float | None:
    """A rough number of leaves below ``nodes`` plus ``found``: the mean of ``SIZING_RUNS``
    runs of population ``SIZING_POPULATION`` (on streams that are not the estimate's;
    None if stopped before the first). Its spread is in docs/estimate.md."""
    values = []
    for j in range(SIZING_RUNS):
        rng = np.random.default_rng(
            np.random.SeedSequence(seeds.entropy, spawn_key=(*seeds.spawn_key, 2**32, j)))
        run = enumeration_run(prober, nodes, SIZING_POPULATION, rng, stop, deadline)
        if run is None:
            break
        values.append(run.value)
    return found + float(np.mean(values)) if values else None


def top_for(leaves: float | None, population: int) -> int:
    """The top for a tree of about ``leaves`` leaves: the power of two nearest ``leaves``
    over ``AUTO_LEAVES_PER_TOP_NODE``, between ``population`` and ``AUTO_MAX_TOP``
    (``population`` when the size is unknown)."""
    if leaves is None:
        return population
    size = 2 ** round(math.log2(max(leaves / AUTO_LEAVES_PER_TOP_NODE, 1.0)))
    return int(min(max(size, population), AUTO_MAX_TOP))


def auto_top(prober: Prober, nodes: Sequence[Node], found: int, population: int,
             seeds: np.random.SeedSequence, stop: threading.Event, deadline: float) -> int:
    """The size of the exact top for ``frontier="auto"``: :func:`top_for` the tree that
    :func:`sized_tree` measures (``population`` if stopped first)."""
    return top_for(sized_tree(prober, nodes, found, seeds, stop, deadline), population)


_WORKER: dict[str, Any] = {}


def _init_worker(prep: PreparedNetwork, frontier: list[Node], population: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    _WORKER.update(prober=Prober(prep), frontier=frontier, population=population)


def _run_in_worker(seed: np.random.SeedSequence, seconds: float,
                   predictor: SubtreePredictor | None) -> Run | None:
    return enumeration_run(_WORKER["prober"], _WORKER["frontier"], _WORKER["population"],
                           np.random.default_rng(seed), deadline=time.monotonic() + seconds,
                           predictor=predictor)


# per Dask worker process: (estimate id, thread id) -> prober
_PROBERS: dict[tuple[str, int], Prober] = {}
_PROBERS_LOCK = threading.Lock()


def _run_on_dask_worker(
    run_id: str, prep: PreparedNetwork, frontier: list[Node], population: int,
    seed: np.random.SeedSequence, seconds: float, predictor: SubtreePredictor | None,
) -> Run | None:
    """One run on a Dask worker thread (one prober per estimate and thread)."""
    key = (run_id, threading.get_ident())
    with _PROBERS_LOCK:
        prober = _PROBERS.get(key)
        if prober is None:
            for old in [k for k in _PROBERS if k[1] == key[1]]:
                del _PROBERS[old]  # an earlier estimate's
            prober = _PROBERS[key] = Prober(prep)
    return enumeration_run(prober, frontier, population, np.random.default_rng(seed),
                           deadline=time.monotonic() + seconds, predictor=predictor)


# ---------------------------------------------------------------------- the estimate
@dataclass(frozen=True)
class _Summary:
    estimate: float
    half_width: float
    ess: float
    heavy: bool


def summarise(values: Sequence[float], proven: int, confidence: float) -> _Summary:
    """Estimate, Student-t half-width, effective sample size and the heavy-tail flag of
    ``proven`` plus the mean of independent runs (at least two)."""
    from scipy import stats as sps

    v = np.asarray(values, dtype=float)
    r = v.size
    mean = float(v.mean())
    dev2 = (v - mean) ** 2
    spread = float(dev2.sum())
    se = math.sqrt(spread / (r - 1) / r)
    half = float(sps.t.ppf(0.5 + confidence / 2, r - 1)) * se
    squares = float((v**2).sum())
    ess = float(v.sum()) ** 2 / squares if squares > 0 else float(r)
    heavy = spread > 0 and float(dev2.max()) > HEAVY_SHARE * spread
    return _Summary(proven + mean, half, ess, heavy)


@interrupts.entry_point
def estimate_count(
    network: ReLUNetwork,
    *,
    rel_error: float | None = 0.05,
    confidence: float = 0.95,
    time_limit: float | None = None,
    random_state: Any = None,
    n_jobs: int | None = 1,
    bounds: Bounds | None = None,
    bounds_method: str = "lp",
    population: int = DEFAULT_POPULATION,
    sampling: str = "depth",
    frontier: int | str | None = "auto",
    progress: bool = False,
    start_nodes: Sequence[Task] | None = None,
    proven: int = 0,
    cluster: Any = None,
) -> CountEstimate:
    """Estimate the number of linear regions with a ``confidence`` interval.

    Parameters
    ----------
    rel_error
        Stop once the interval's half-width is at most this share of the estimate
        (None: run to the time limit or Ctrl-C).
    time_limit
        Seconds for the whole call, bounds included.
    random_state
        Seed: same seed, same runs.
    n_jobs
        Processes running runs (None: all cores). The result does not depend on it.
    population
        Nodes kept per level of a run: larger runs cost more and vary less.
    sampling
        ``depth`` (importance sampling by the subtree sizes earlier runs saw, about 2x
        less CPU for the same interval: docs/estimate.md) or ``uniform``.
    frontier
        Nodes of the top of the tree expanded exactly, once, before the runs. A larger
        top costs once and narrows every run: on MNIST networks of 10^6-10^8 regions a
        top of 16,384-65,536 nodes needs 3-10x less CPU for the same interval
        (docs/estimate.md). ``"auto"`` (the default): sized from the tree, first
        measured by ``SIZING_RUNS`` cheap runs (:func:`auto_top`); an integer: that many
        nodes; None: the population. At most ``FRONTIER_TIME_SHARE`` of the time limit
        goes to the top.
    start_nodes, proven
        Estimate the regions below these search tasks (disjoint subtrees, e.g. what a
        count cut short left) plus ``proven``; default: the whole tree, 0.
    cluster
        A Dask scheduler address (``tcp://host:8786``) or a ``distributed.Client``: the
        runs go to its worker threads instead of ``n_jobs`` processes (same result).
    """
    begin = time.monotonic()
    if rel_error is not None:
        rel_error = float(rel_error)
        if not (rel_error > 0 and math.isfinite(rel_error)):
            raise ReluscopeError(f"rel_error must be a number > 0 (or None), got {rel_error}")
    confidence = float(confidence)
    if not 0.0 < confidence < 1.0:
        raise ReluscopeError(f"confidence must lie strictly between 0 and 1, got {confidence}")
    time_limit = validation.check_time_limit(time_limit)
    random_state = validation.check_seed(random_state)
    if cluster is not None and n_jobs not in (None, 1):
        raise ReluscopeError("give n_jobs or cluster, not both (the cluster's workers run "
                             "the runs)")
    jobs = validation.check_n_jobs(n_jobs)
    population = validation.check_positive_int(population, "population")
    sampling = validation.check_choice(sampling, SAMPLINGS, "sampling")
    if frontier is not None and frontier != "auto":
        if isinstance(frontier, str):
            raise ReluscopeError(f"frontier must be an integer >= 1 or 'auto', got {frontier!r}")
        frontier = validation.check_positive_int(frontier, "frontier")
    top = frontier if isinstance(frontier, int) else population
    deadline = begin + time_limit if time_limit is not None else float("inf")
    require_no_max_pool(network, "the tree estimate")
    with distributed.dask_client(cluster) as (client, threads):
        if client is not None:
            jobs = threads
        form = relu_form(network)  # leaky and identity units: same regions, plain ReLU
        if bounds is None:
            bounds = tighten_bounds(network, method=bounds_method)
        if not form.is_identity:
            network, bounds = form.network, form.plain_bounds(bounds)
        prep = prepare(network, bounds)
        if start_nodes is None:
            start_nodes = [prep.root_task()]
        stop = threading.Event()
        if interrupts.requested():
            stop.set()
        with _sigint_to_event(stop):
            prober = Prober(prep)
            top_end = begin + FRONTIER_TIME_SHARE * (deadline - begin)
            found, top_nodes = expand_frontier(
                prober, [node_of(t) for t in start_nodes], top, top_end, stop
            )
            seeds = validation.seed_sequence(random_state)
            if frontier == "auto" and top_nodes and not stop.is_set():
                size = auto_top(prober, top_nodes, found, population, seeds, stop, top_end)
                more, top_nodes = expand_frontier(prober, top_nodes, size, top_end, stop)
                found += more
            runs = _Runs(prober, prep, top_nodes, population, jobs, seeds, stop, deadline,
                         client, sampling)
            if top_nodes and not stop.is_set() and time.monotonic() < deadline:
                runs.collect(rel_error, confidence, proven + found, progress)
    return runs.result(proven + found, confidence, time.monotonic() - begin)


@dataclass(frozen=True)
class _LocalFuture:
    """A pool's result under a Dask future's names."""

    result_of: Any

    def done(self) -> bool:
        return bool(self.result_of.ready())

    def result(self) -> Any:
        return self.result_of.get()


class _Runs:
    """Independent runs over a fixed frontier, in this process or a pool."""

    def __init__(
        self, prober: Prober, prep: PreparedNetwork, frontier: list[Node], population: int,
        jobs: int, seed: np.random.SeedSequence, stop: threading.Event, deadline: float,
        client: Any = None, sampling: str = "depth",
    ) -> None:
        self.client = client
        self.prober = prober
        self.prep = prep
        self.frontier = frontier
        self.population = population
        self.jobs = jobs
        self.seeds = seed
        self.stop = stop
        self.deadline = deadline
        self.values: list[float] = []
        self.sampling = sampling
        self.record = SubtreeRecord.empty(prep.n_units + 1)  # of the runs up to a refit
        self.predictors: dict[int, SubtreePredictor | None] = {0: None}
        self.exact = False  # a run that sampled nothing counted every region
        self.stopped_by: Status | None = None

    def _add(self, run: Run) -> bool:
        """Keep a run's value; True when it sampled nothing (then it is the exact count)."""
        self.values.append(run.value)
        if self.learn:
            self.record = self.record + run.record
            done = len(self.values)
            if self._fitted_before(done) == done:  # 4, 8, 16, ...: refit
                self.predictors[done] = SubtreePredictor.fit(self.record)
        self.exact = not run.sampled
        return self.exact

    @property
    def learn(self) -> bool:
        """Whether runs learn a predictor (importance sampling by depth)."""
        return self.sampling == "depth"

    @staticmethod
    def _fitted_before(i: int) -> int:
        """The runs whose records fit the predictor of run ``i``: the largest of 0, 4,
        8, 16, ... at most ``i`` (so the same seed gives the same runs for any n_jobs)."""
        return 0 if i < PILOT_RUNS else 1 << (i.bit_length() - 1)

    def _predictor(self, i: int) -> SubtreePredictor | None:
        return self.predictors[self._fitted_before(i)] if self.learn else None

    def _ready(self, i: int) -> bool:
        """Whether run ``i`` can start: the runs its predictor is fitted on are in."""
        return not self.learn or len(self.values) >= self._fitted_before(i)

    def _seed(self, i: int) -> np.random.SeedSequence:
        return np.random.SeedSequence(self.seeds.entropy,
                                      spawn_key=(*self.seeds.spawn_key, i))

    def _halted(self) -> bool:
        if self.stop.is_set():
            self.stopped_by = INTERRUPTED
        elif time.monotonic() >= self.deadline:
            self.stopped_by = TIME_LIMIT
        return self.stopped_by is not None

    def _done(self, rel_error: float | None, confidence: float, proven: int, bar: Any) -> bool:
        """Whether the runs so far meet ``rel_error`` (and update the bar)."""
        if bar is not None:
            bar.update(1)
        if len(self.values) < 2:
            return False
        s = summarise(self.values, proven, confidence)
        if bar is not None:
            bar.set_postfix(estimate=f"{s.estimate:.4g}",
                            rel=f"{s.half_width / max(s.estimate, 1.0):.3f}", refresh=False)
        return (rel_error is not None and len(self.values) >= MIN_RUNS
                and s.half_width <= rel_error * s.estimate)

    def collect(self, rel_error: float | None, confidence: float, proven: int,
                progress: bool) -> None:
        bar = progress_bar(progress, total=None, unit=" runs")
        try:
            if self.jobs == 1 and self.client is None:
                self._serial(rel_error, confidence, proven, bar)
            else:
                self._parallel(rel_error, confidence, proven, bar)
        finally:
            if bar is not None:
                bar.close()

    def _serial(self, rel_error: float | None, confidence: float, proven: int,
                bar: Any) -> None:
        while not self._halted():
            rng = np.random.default_rng(self._seed(len(self.values)))
            run = enumeration_run(self.prober, self.frontier, self.population, rng,
                                  self.stop, self.deadline,
                                  self._predictor(len(self.values)))
            if run is None:
                continue  # _halted() says why
            if self._add(run) or self._done(rel_error, confidence, proven, bar):
                return

    def _submitter(self) -> tuple[Callable[[int], Any], Callable[[], None]]:
        """``submit(i)`` starting run ``i`` on the pool or the cluster (a future with
        ``done()`` and ``result()``), and the function that shuts it down."""
        def left() -> float:
            return self.deadline - time.monotonic()

        if self.client is not None:
            run_id = uuid.uuid4().hex
            [prep] = self.client.scatter([self.prep], broadcast=True, hash=False)
            [frontier] = self.client.scatter([self.frontier], broadcast=True, hash=False)
            futures: list[Any] = []

            def submit_dask(i: int) -> Any:
                fut = self.client.submit(
                    _run_on_dask_worker, run_id, prep, frontier, self.population,
                    self._seed(i), left(), self._predictor(i), pure=False,
                    key=f"reluscope-tree-{run_id}-{i}")
                futures.append(fut)
                return fut

            def close_dask() -> None:
                for fut in futures:
                    fut.cancel()
                prep.cancel()
                frontier.cancel()

            return submit_dask, close_dask
        ctx = multiprocessing.get_context("fork")
        pool = ctx.Pool(self.jobs, initializer=_init_worker,
                        initargs=(self.prep, self.frontier, self.population))

        def submit_local(i: int) -> Any:
            return _LocalFuture(pool.apply_async(
                _run_in_worker, (self._seed(i), left(), self._predictor(i))))

        def close_local() -> None:
            pool.terminate()
            pool.join()

        return submit_local, close_local

    def _parallel(self, rel_error: float | None, confidence: float, proven: int,
                  bar: Any) -> None:
        submit, close = self._submitter()
        try:
            pending: dict[int, Any] = {}
            finished: dict[int, Run] = {}
            nxt = 0
            while not self._halted():
                while len(pending) < self.jobs + 1 and self._ready(nxt):
                    pending[nxt] = submit(nxt)
                    nxt += 1
                i = len(self.values)  # the next run in order
                res = pending[i]
                if not res.done():
                    time.sleep(0.02)
                    continue
                del pending[i]
                run = res.result()
                if run is None:  # a worker reached the deadline
                    self.stopped_by = TIME_LIMIT
                    return
                finished[i] = run
                while len(self.values) in finished:
                    if self._add(finished.pop(len(self.values))) or self._done(
                        rel_error, confidence, proven, bar
                    ):
                        return
        finally:
            close()

    def result(self, proven: int, confidence: float, seconds: float) -> CountEstimate:
        if not self.frontier or self.exact:  # every region met: counted exactly
            proven += int(round(self.values[-1])) if self.exact else 0
            total = float(proven)
            return CountEstimate(total, total, total, confidence, 0.0, len(self.values),
                                 self.population, proven, 0.0, False, seconds, COMPLETE,
                                 exact=True, sampling=self.sampling,
                                 frontier=len(self.frontier))
        status = self.stopped_by or COMPLETE
        if status == COMPLETE and not self.values:
            status = INTERRUPTED if self.stop.is_set() else TIME_LIMIT
        r = len(self.values)
        if r < MIN_INTERVAL_RUNS:
            why = (f"{r} runs finished before the stop, fewer than the {MIN_INTERVAL_RUNS} an "
                   "interval needs; give it more time or a smaller population")
            return CountEstimate(None, None, None, confidence, None, r, self.population,
                                 proven, float(r), False, seconds, status,
                                 sampling=self.sampling, frontier=len(self.frontier),
                                 message=why)
        s = summarise(self.values, proven, confidence)
        # the count is a whole number: the interval's ends rounded outward (a zero spread
        # would otherwise give an interval of width 0 off the count by rounding error)
        low = float(max(math.floor(s.estimate - s.half_width), proven))
        high = float(math.ceil(s.estimate + s.half_width))
        rel = s.half_width / s.estimate if s.estimate > 0 else 0.0
        message = ("one run carries most of the spread: the interval may be too narrow; "
                   "run longer or with a larger population") if s.heavy else ""
        return CountEstimate(s.estimate, low, high, confidence, rel, r,
                             self.population, proven, s.ess, s.heavy, seconds, status,
                             sampling=self.sampling, frontier=len(self.frontier),
                             message=message)
