"""count_regions: the exact number of linear regions of a ReLU network, by five engines.

``method="auto"`` (default) picks ``"geometric"`` for networks with at most
``GEOMETRIC_MAX_INPUTS`` inputs (where it is fastest, docs/bench-count.md) unless a
checkpoint or a cluster is asked for, and ``"lp"`` otherwise.
``"geometric"`` splits the domain into the cells of the network, vertex by vertex
(:mod:`.geometric`), and also reports the cells thinner than ``REGION_EPS``.
``method="lp"`` is the depth-first search of :mod:`reluscope.regions.search` run by the
compiled kernel of :mod:`reluscope.regions.search.compiled` (its own certified dual
simplex, about one small LP per region; nodes it cannot decide safely go to HiGHS);
``"highs"`` is the same search with every LP solved by HiGHS; ``"milp"`` is the paper's
MILP enumeration with no-good cuts and ``"scip-count"`` SCIP's solution counter (both in
:mod:`.milp_enum`).
All of them count the same patterns (definition in :mod:`reluscope.tolerances`).

On a polytope domain (``network.has_polytope``) every method has the rows ``A x <= b``
(the lp and highs searches as fixed rows at the root, the MILP methods as constraints).

A search (``lp``, ``highs``) stopped early by its time limit or Ctrl-C also *estimates*
what it did not count: the tasks it left are disjoint subtrees, which
:mod:`reluscope.regions.estimate.tree_estimate` samples, so the result says "at least N
regions proven; about M (L-H, 95%)". The time limit covers both: the search gets ``1 -
ESTIMATE_SHARE`` of it.

A network with leaky or identity units is counted through its plain-ReLU form
(:mod:`reluscope.relu_form`: same regions, one to one), by every method; a patterns file
holds the original network's units.

A network with max-pooling is counted by ``"auto"`` or ``"highs"`` (the argmax search
of :mod:`.argmax`) or ``"milp"`` (the maxout MILP of :mod:`.argmax_milp`): each pooling
window is one unit with one side per input, whatever comparisons its lowering uses
(``"lp"``, ``"geometric"`` and ``"scip-count"`` refuse it).
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from reluscope import interrupts, validation
from reluscope.bounds import Bounds, tighten_bounds
from reluscope.errors import ReluscopeError
from reluscope.fileio import check_output
from reluscope.network import ReLUNetwork
from reluscope.regions.result import INTERRUPTED, TIME_LIMIT, RegionCount
from reluscope.relu_form import ReluForm, relu_form, require_no_max_pool

if TYPE_CHECKING:
    from reluscope.regions.estimate.tree_estimate import CountEstimate

COUNT_METHODS = ("auto", "lp", "highs", "geometric", "milp", "scip-count")
#: the methods that count a network with max-pooling (:mod:`reluscope.regions.count.argmax`,
#: :mod:`reluscope.regions.count.argmax_milp`)
MAX_POOL_METHODS = ("auto", "highs", "milp")
#: the methods run by the depth-first search of :mod:`reluscope.regions.search.engine`
SEARCH_METHODS = ("lp", "highs")
#: Share of a count's time limit kept for estimating what the search left.
ESTIMATE_SHARE = 0.1
#: Seconds spent estimating the rest after a Ctrl-C (a second Ctrl-C skips it).
ESTIMATE_AFTER_STOP_SECONDS = 1.5
#: Runs the estimate of the rest aims at within its seconds (sets their population).
REST_RUNS = 20
#: Population of the runs when a count left no subtrees (MILP and geometric engines).
REST_POPULATION = 16
#: ``method="auto"`` counts networks with at most this many inputs with ``"geometric"``
#: (measured crossover: docs/bench-count.md, benchmarks/bench_lowdim.py)
GEOMETRIC_MAX_INPUTS = 5
#: ``method="geometric"`` refuses more inputs than this (the box alone has 2^d corners)
GEOMETRIC_LIMIT_INPUTS = 12


def choose_method(network: ReLUNetwork, *, checkpoint: object = None,
                  cluster: object = None) -> str:
    """The engine ``method="auto"`` runs: ``"geometric"`` for few inputs, else ``"lp"``;
    ``"highs"`` (the argmax search) for a network with max-pooling."""
    if network.has_max_pool:
        return "highs"
    if network.n_inputs <= GEOMETRIC_MAX_INPUTS and checkpoint is None and cluster is None:
        return "geometric"
    return "lp"


@interrupts.entry_point
def count_regions(
    network: ReLUNetwork,
    *,
    method: str = "auto",
    bounds: Bounds | None = None,
    bounds_method: str = "lp",
    time_limit: float | None = None,
    n_jobs: int | None = None,
    checkpoint: str | Path | None = None,
    patterns_path: str | Path | None = None,
    progress: bool = False,
    cluster: Any = None,
    estimate_rest: bool = True,
    random_state: Any = None,
) -> RegionCount:
    """Count the linear regions of ``network`` over its input box, exactly.

    Parameters
    ----------
    method
        ``"auto"``, ``"lp"``, ``"highs"``, ``"geometric"``, ``"milp"`` or
        ``"scip-count"``. ``"auto"`` runs ``"geometric"`` on networks with at most
        ``GEOMETRIC_MAX_INPUTS`` inputs (without ``checkpoint`` or ``cluster``), else
        ``"lp"``. A network with max-pooling: ``"auto"`` (the argmax search), ``"highs"``
        or ``"milp"`` (module docstring).
    bounds
        Pre-activation bounds to use; default ``tighten_bounds(network,
        method=bounds_method)`` within the time limit. Their time is included in
        ``seconds`` and in ``time_limit``.
    bounds_method
        ``"interval"``, ``"lp"`` or ``"milp"`` when ``bounds`` is not given.
    time_limit
        Seconds for the whole call (bounds included); when reached, ``exact`` is False
        and ``regions`` is a proven lower bound.
    n_jobs
        Processes for ``lp``/``highs`` (``geometric`` runs in this process): None or
        -1 all cores, -2 all but one, ...; more than the cores is capped. The count
        never depends on it.
    checkpoint
        ``lp`` and ``highs`` only: file to save the search state to, and to resume from when it
        exists (a file of another network is refused).
    patterns_path
        ``.npy`` file receiving every region's bit-packed pattern (all but
        ``scip-count``);
        read it with :func:`reluscope.regions.patterns.read_patterns`.
    progress
        Show a progress bar on stderr.
    cluster
        ``lp`` and ``highs`` only: a Dask scheduler address (``tcp://host:8786``) or a
        ``distributed.Client``; the search's slices run on its workers instead of
        ``n_jobs`` local processes (same count; time limit, checkpoint and Ctrl-C as
        with ``n_jobs``). Needs ``pip install 'reluscope[cluster]'``.
    estimate_rest, random_state
        ``lp`` and ``highs``: when the search stops early, estimate the regions it did not
        count (``RegionCount.estimate``, seeded by ``random_state``), within the time
        limit (``ESTIMATE_SHARE`` of it) or, after Ctrl-C, for
        ``ESTIMATE_AFTER_STOP_SECONDS``.

    Returns
    -------
    RegionCount
        ``exact`` is True iff the search finished; Ctrl-C gives status
        ``"interrupted"`` with the regions proven so far.
    """
    method = validation.check_choice(method, COUNT_METHODS, "counting method")
    if network.has_max_pool:
        return _count_max_pool(network, method, bounds, bounds_method, time_limit,
                               checkpoint, patterns_path, cluster, n_jobs)
    if method == "auto":
        method = choose_method(network, checkpoint=checkpoint, cluster=cluster)
    n_jobs, time_limit = _checked_options(
        network, method, n_jobs, time_limit, checkpoint, patterns_path, cluster
    )
    require_no_max_pool(network, "counting regions")
    form = relu_form(network)
    if not form.is_identity:
        if checkpoint is not None and patterns_path is not None:
            raise ReluscopeError(
                "a network with leaky or identity units cannot record patterns in a "
                "checkpointed run; drop the checkpoint or the patterns file"
            )
        if bounds is not None:
            bounds = form.plain_bounds(bounds)
        network = form.network
    if checkpoint is not None:
        check_output(checkpoint, what="checkpoint")
    if patterns_path is not None:
        check_output(patterns_path, what="patterns file", inputs=[checkpoint])
    start = time.perf_counter()
    if method == "geometric":  # needs no bounds (only a degenerate network falls back)
        return _count_geometric(network, form, bounds, time_limit, patterns_path,
                                estimate_rest, random_state, start)
    if bounds is None:  # within the search's share of the time (sound if cut short)
        bounds_limit = time_limit
        if estimate_rest and time_limit is not None:
            bounds_limit = time_limit * (1.0 - ESTIMATE_SHARE)
        bounds = tighten_bounds(network, method=bounds_method, time_limit=bounds_limit)
    if interrupts.requested():  # Ctrl-C during the bounds: the whole call stops
        return RegionCount(0, False, method, INTERRUPTED, time.perf_counter() - start,
                           message="interrupted while computing the bounds")
    remaining = None if time_limit is None else max(0.0, time_limit - (time.perf_counter() - start))
    estimate: CountEstimate | None = None
    search_limit = remaining
    if estimate_rest and remaining is not None:
        search_limit = remaining * (1.0 - ESTIMATE_SHARE)
    result, left = _run_engine(
        method, network, bounds, search_limit, n_jobs=n_jobs, checkpoint=checkpoint,
        patterns_path=patterns_path, progress=progress, cluster=cluster,
    )
    if estimate_rest and result.status in (TIME_LIMIT, INTERRUPTED):
        estimate = _estimate_rest(network, bounds, result, left, time_limit, start,
                                  random_state)
    if patterns_path is not None and not form.is_identity:
        _keep_original_units(patterns_path, form)
    return RegionCount(
        regions=result.regions,
        exact=result.exact,
        method=result.method,
        status=result.status,
        seconds=time.perf_counter() - start,
        lp_solves=result.lp_solves,
        nodes=result.nodes,
        message=result.message,
        estimate=estimate,
    )


def _checked_options(
    network: ReLUNetwork, method: str, n_jobs: int | None, time_limit: float | None,
    checkpoint: object, patterns_path: object, cluster: object,
) -> tuple[int | None, float | None]:
    """Refuse options the chosen method cannot honour; ``n_jobs`` and ``time_limit``
    checked."""
    if method == "geometric" and network.n_inputs > GEOMETRIC_LIMIT_INPUTS:
        raise ReluscopeError(
            f"method='geometric' handles at most {GEOMETRIC_LIMIT_INPUTS} inputs (a cell has "
            f"about 2^d vertices; this network has {network.n_inputs}); use method='lp'"
        )
    if method == "geometric" and checkpoint is not None:
        raise ReluscopeError(
            "method='geometric' runs in one go and keeps no checkpoint; use method='lp'"
        )
    if cluster is not None and method not in SEARCH_METHODS:
        raise ReluscopeError("cluster is supported by method='lp' and 'highs' only")
    if cluster is not None and n_jobs is not None:
        raise ReluscopeError(
            "give n_jobs or cluster, not both (the cluster's workers run the search)"
        )
    n_jobs = validation.check_n_jobs(n_jobs)
    time_limit = validation.check_time_limit(time_limit)
    if checkpoint is not None and method not in SEARCH_METHODS:
        raise ReluscopeError("checkpoints are supported by method='lp' and 'highs' only")
    if patterns_path is not None and method == "scip-count":
        raise ReluscopeError(
            "method='scip-count' cannot report patterns; use method='lp' or 'milp'"
        )
    return n_jobs, time_limit


def _count_geometric(
    network: ReLUNetwork, form: ReluForm, bounds: Bounds | None, time_limit: float | None,
    patterns_path: str | Path | None, estimate_rest: bool, random_state: Any, start: float,
) -> RegionCount:
    """:func:`count_regions` by the geometric engine (it needs no bounds), with the
    estimate of the rest when it stops early."""
    from reluscope.regions.count.geometric import count_regions_geometric

    if interrupts.requested():  # a stop seen earlier in this call: run nothing
        return RegionCount(0, False, "geometric", INTERRUPTED, time.perf_counter() - start,
                           message="interrupted before the count started")

    geo_limit = time_limit
    if estimate_rest and time_limit is not None:
        geo_limit = time_limit * (1.0 - ESTIMATE_SHARE)
    result = count_regions_geometric(network, bounds, time_limit=geo_limit,
                                     patterns_path=patterns_path)
    if patterns_path is not None and not form.is_identity:
        _keep_original_units(patterns_path, form)
    if estimate_rest and result.status in (TIME_LIMIT, INTERRUPTED):
        result = replace(result, estimate=_estimate_rest(
            network, None, result, None, time_limit, start, random_state))
    return replace(result, seconds=time.perf_counter() - start)


def _run_engine(
    method: str, network: ReLUNetwork, bounds: Bounds, search_limit: float | None, *,
    n_jobs: int | None, checkpoint: str | Path | None, patterns_path: str | Path | None,
    progress: bool, cluster: Any,
) -> tuple[RegionCount, list[Any] | None]:
    """The count by the search (``lp``, ``highs``) or SCIP (``milp``, ``scip-count``),
    and the search's leftover tasks (None for SCIP's engines, which keep none)."""
    left: list[Any] | None = None
    if method in SEARCH_METHODS:
        from reluscope.regions.search.engine import count_regions_lp
        from reluscope.regions.search.searchers import ENGINE_OF_METHOD

        left = []
        result = count_regions_lp(
            network,
            bounds,
            time_limit=search_limit,
            n_jobs=n_jobs,
            checkpoint=checkpoint,
            patterns_path=patterns_path,
            progress=progress,
            engine=ENGINE_OF_METHOD[method],
            cluster=cluster,
            frontier=left,
        )
    elif method == "milp":
        from reluscope.regions.count.milp_enum import count_regions_milp

        result = count_regions_milp(
            network, bounds, time_limit=search_limit, progress=progress,
            patterns_path=patterns_path,
        )
    else:
        from reluscope.regions.count.milp_enum import count_regions_scip

        result = count_regions_scip(network, bounds, time_limit=search_limit)
    return result, left


def _count_max_pool(
    network: ReLUNetwork, method: str, bounds: Bounds | None, bounds_method: str,
    time_limit: float | None, checkpoint: object, patterns_path: object, cluster: object,
    n_jobs: int | None,
) -> RegionCount:
    """:func:`count_regions` of a network with max-pooling, a window being one unit with k
    sides: the argmax search of :mod:`.argmax` (``"auto"``, ``"highs"``) or the MILP
    enumeration of :mod:`.argmax_milp` (``"milp"``)."""
    from reluscope.regions.count.argmax import count_regions_argmax, require_windows
    from reluscope.regions.count.argmax_milp import count_regions_argmax_milp

    if method not in MAX_POOL_METHODS:
        raise ReluscopeError(
            f"method={method!r} cannot count a network with max-pooling (a window is one "
            f"unit with one side per input, its argmax); use method='auto', 'highs' or 'milp'"
        )
    extra = [name for name, value in (("checkpoint", checkpoint), ("cluster", cluster),
                                      ("patterns_path", patterns_path)) if value is not None]
    if extra:
        raise ReluscopeError(
            f"counting a network with max-pooling takes no {', '.join(extra)} (its argmax "
            "search runs in this process); drop it"
        )
    validation.check_n_jobs(n_jobs)  # checked, though the search runs in this process
    time_limit = validation.check_time_limit(time_limit)
    require_windows(network)
    start = time.perf_counter()
    if bounds is None:
        bounds = tighten_bounds(network, method=bounds_method, time_limit=time_limit)
    if interrupts.requested():
        return RegionCount(0, False, "highs", INTERRUPTED, time.perf_counter() - start,
                           message="interrupted while computing the bounds")
    remaining = None if time_limit is None else max(0.0, time_limit - (time.perf_counter() - start))
    if method == "milp":
        result = count_regions_argmax_milp(network, bounds, time_limit=remaining)
    else:
        result = count_regions_argmax(network, bounds, time_limit=remaining)
    return replace(result, seconds=time.perf_counter() - start)


def _estimate_rest(
    network: ReLUNetwork,
    bounds: Bounds | None,
    result: RegionCount,
    left: list[Any] | None,
    time_limit: float | None,
    start: float,
    random_state: Any,
) -> CountEstimate | None:
    """An estimate of the whole count after a count stopped early: the search's proven
    regions plus its leftover subtrees ``left``, or (the MILP and geometric engines keep
    no such subtrees) the whole tree, never below the regions proven."""
    from reluscope.regions.estimate.tree_estimate import DEFAULT_POPULATION, estimate_count

    if result.status == INTERRUPTED:
        seconds = ESTIMATE_AFTER_STOP_SECONDS
        interrupts.clear()  # this short step runs after the stop; the stop is noted again
    elif time_limit is not None:
        seconds = max(0.0, time_limit - (time.perf_counter() - start))
    else:
        return None
    if left is not None and result.nodes:
        # a run expands about population x depth nodes: aim at REST_RUNS runs in the time
        node_seconds = result.seconds / result.nodes
        depth = max(sum(network.widths[i] for i in network.relu_layers), 1)
        population = int(seconds / (REST_RUNS * depth * node_seconds))
        population = min(max(population, 2), DEFAULT_POPULATION)
    else:
        population = REST_POPULATION
    try:
        if left is not None:
            return estimate_count(
                network, rel_error=None, time_limit=seconds, random_state=random_state,
                n_jobs=1, bounds=bounds, population=population, frontier=None,
                start_nodes=left, proven=result.regions,
            )
        est = estimate_count(network, rel_error=None, time_limit=seconds,
                             random_state=random_state, n_jobs=1, bounds=bounds,
                             population=population, frontier=None)
        if est.estimate is None or est.ci_low is None or est.ci_high is None:
            return replace(est, proven=result.regions)
        return replace(est, proven=result.regions, estimate=max(est.estimate, result.regions),
                       ci_low=max(est.ci_low, result.regions),
                       ci_high=max(est.ci_high, result.regions))
    finally:
        if result.status == INTERRUPTED:
            interrupts.note()


def _keep_original_units(path: str | Path, form: ReluForm) -> None:
    """Rewrite a patterns file of the plain-ReLU form with the original network's units."""
    from reluscope.regions.patterns import PatternWriter, read_patterns

    rows = read_patterns(path, form.network.n_units)[:, form.unit_columns()]
    writer = PatternWriter(path, form.original.n_units)
    try:
        if len(rows):
            writer.write_packed(np.packbits(rows, axis=1).tobytes())
    finally:
        writer.close()
