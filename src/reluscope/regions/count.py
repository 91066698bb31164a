"""count_regions: the exact number of linear regions of a ReLU network, by four engines.

``method="lp"`` (default) is the depth-first search of :mod:`.lp_engine` run by the
compiled kernel of :mod:`.compiled` (its own certified dual simplex, about one small
LP per region; nodes it cannot decide safely go to HiGHS); ``"highs"`` is the same
search with every LP solved by HiGHS; ``"milp"`` is the paper's MILP enumeration with
no-good cuts and ``"scip-count"`` SCIP's solution counter (both in :mod:`.milp_enum`).
All of them count the same patterns (definition in :mod:`reluscope.tolerances`).

On a polytope domain (``network.has_polytope``) every method has the rows ``A x <= b``
(the lp and highs searches as fixed rows at the root, the MILP methods as constraints).

A network with leaky or identity units is counted through its plain-ReLU form
(:mod:`reluscope.relu_form`: same regions, one to one), by every method; a patterns file
holds the original network's units.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from reluscope import interrupts, validation
from reluscope.bounds import Bounds, tighten_bounds
from reluscope.errors import ReluscopeError
from reluscope.fileio import check_output
from reluscope.network import ReLUNetwork
from reluscope.regions.result import INTERRUPTED, RegionCount
from reluscope.relu_form import ReluForm, relu_form, require_no_max_pool

COUNT_METHODS = ("lp", "highs", "milp", "scip-count")
#: the methods run by the depth-first search of :mod:`.lp_engine`
SEARCH_METHODS = ("lp", "highs")


@interrupts.entry_point
def count_regions(
    network: ReLUNetwork,
    *,
    method: str = "lp",
    bounds: Bounds | None = None,
    bounds_method: str = "lp",
    time_limit: float | None = None,
    n_jobs: int | None = None,
    checkpoint: str | Path | None = None,
    patterns_path: str | Path | None = None,
    progress: bool = False,
    cluster: Any = None,
) -> RegionCount:
    """Count the linear regions of ``network`` over its input box, exactly.

    Parameters
    ----------
    method
        ``"lp"``, ``"highs"``, ``"milp"`` or ``"scip-count"``.
    bounds
        Pre-activation bounds to use; default ``tighten_bounds(network,
        method=bounds_method)``. Their time is included in ``seconds``.
    bounds_method
        ``"interval"``, ``"lp"`` or ``"milp"`` when ``bounds`` is not given.
    time_limit
        Seconds for the count; when reached, ``exact`` is False and ``regions`` is a
        proven lower bound.
    n_jobs
        Processes for ``lp``/``highs``: None or -1 all cores, -2 all but one, ...; more
        than the cores is capped. The count never depends on it.
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

    Returns
    -------
    RegionCount
        ``exact`` is True iff the search finished; Ctrl-C gives status
        ``"interrupted"`` with the regions proven so far.
    """
    if method not in COUNT_METHODS:
        raise ReluscopeError(f"unknown counting method {method!r}; choose one of {COUNT_METHODS}")
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
    if bounds is None:
        bounds = tighten_bounds(network, method=bounds_method)
    if interrupts.requested():  # Ctrl-C during the bounds: the whole call stops
        return RegionCount(0, False, method, INTERRUPTED, time.perf_counter() - start,
                           message="interrupted while computing the bounds")
    remaining = None if time_limit is None else max(0.0, time_limit - (time.perf_counter() - start))
    if method in SEARCH_METHODS:
        from reluscope.regions.lp_engine import count_regions_lp

        result = count_regions_lp(
            network,
            bounds,
            time_limit=remaining,
            n_jobs=n_jobs,
            checkpoint=checkpoint,
            patterns_path=patterns_path,
            progress=progress,
            engine="compiled" if method == "lp" else "highs",
            cluster=cluster,
        )
    elif method == "milp":
        from reluscope.regions.milp_enum import count_regions_milp

        result = count_regions_milp(
            network, bounds, time_limit=remaining, progress=progress, patterns_path=patterns_path
        )
    else:
        from reluscope.regions.milp_enum import count_regions_scip

        result = count_regions_scip(network, bounds, time_limit=remaining)
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
    )


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
