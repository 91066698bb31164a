"""``count_regions_lp``: the exact count by the depth-first search (methods lp and highs).

The driver keeps the frontier of tasks (:mod:`reluscope.regions.search.core`), the
counts, the checkpoint, the pattern file, the progress bar, the time limit and Ctrl-C.
It searches in this process first (small networks finish before a pool would start),
then hands the tasks to :func:`~reluscope.regions.search.schedule.run_slices` with local
worker processes or a Dask cluster. The searcher of each method comes from
:mod:`reluscope.regions.search.searchers`: the compiled kernel for ``lp``
(:mod:`reluscope.regions.search.compiled`), HiGHS for ``highs``
(:mod:`reluscope.regions.search.highs`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reluscope import interrupts
from reluscope.bounds.result import Bounds
from reluscope.errors import ReluscopeError
from reluscope.network import ReLUNetwork
from reluscope.progress import progress_bar
from reluscope.regions.patterns import PatternWriter
from reluscope.regions.result import COMPLETE, INTERRUPTED, TIME_LIMIT, RegionCount
from reluscope.regions.search import distributed
from reluscope.regions.search.checkpoint import (
    CheckpointState,
    load_checkpoint,
    network_hash,
    save_checkpoint,
)
from reluscope.regions.search.core import PreparedNetwork, Searcher, SliceOutcome, Task, prepare
from reluscope.regions.search.schedule import ProcessPool, one_blas_thread, run_slices
from reluscope.regions.search.searchers import METHOD_OF_ENGINE, new_searcher

#: With n_jobs > 1, seconds searched in the calling process before starting the pool.
SERIAL_START_SECONDS = 0.5
#: Seconds between progress bar updates (in-process search).
PROGRESS_SECONDS = 0.5
#: Seconds between checkpoint writes.
CHECKPOINT_SECONDS = 5.0


@dataclass
class _Progress:
    regions: int = 0
    lp_solves: int = 0
    nodes: int = 0
    slices: int = 0
    busy_seconds: float = 0.0


@contextlib.contextmanager
def _sigint_to_event(stop: threading.Event) -> Iterator[None]:
    """Turn Ctrl-C into ``stop.set()`` for the duration (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        interrupts.note()  # the whole call stops (reluscope.interrupts)
        stop.set()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def count_regions_lp(
    network: ReLUNetwork,
    bounds: Bounds | None,
    *,
    time_limit: float | None = None,
    n_jobs: int | None = None,
    checkpoint: str | Path | None = None,
    patterns_path: str | Path | None = None,
    progress: bool = False,
    engine: str = "compiled",
    cluster: Any = None,
    stats: dict[str, float] | None = None,
    frontier: list[Task] | None = None,
) -> RegionCount:
    """Count the linear regions of ``network`` exactly with the LP search engine.

    Parameters
    ----------
    bounds
        Global pre-activation bounds (stable units need no LP); None uses only the
        per-node box ranges.
    time_limit
        Seconds; when reached, the result has ``exact=False`` and the regions proven.
    n_jobs
        Worker processes (None: all cores). The count does not depend on it.
    checkpoint
        File to save the search frontier to (every few seconds and at the end) and to
        resume from if it exists.
    patterns_path
        ``.npy`` file receiving every region's bit-packed pattern (see
        :mod:`reluscope.regions.patterns`).
    progress
        Show a tqdm bar on stderr.
    engine
        ``"compiled"`` (method ``lp``: the numba kernel of :mod:`.compiled`, handing
        nodes it cannot decide safely to HiGHS) or ``"highs"`` (method ``highs``:
        :mod:`.highs`); :mod:`.searchers` maps one to the other. Same tasks, so
        checkpoints of one resume in the other.
    cluster
        A Dask scheduler address (``tcp://host:8786``), a ``distributed.Client`` or a
        Dask cluster object: the slices run on its workers (:mod:`.distributed`) instead
        of ``n_jobs`` local processes; this process keeps the tasks, counts and
        checkpoint.
    stats
        A dict that receives ``slices`` (slices run in workers), ``busy_seconds`` (their
        summed wall time), ``workers`` and ``parallel_seconds`` (wall time from the
        pool's start to its end): ``busy / (workers * parallel)`` is the share of the
        workers' time spent searching (benchmarks/bench_count_parallel.py).
    frontier
        A list that receives the tasks left when the count stops early (the disjoint
        subtrees not yet counted: what :mod:`reluscope.regions.estimate.tree_estimate`
        estimates).
    """
    start = time.monotonic()
    deadline = start + time_limit if time_limit is not None else float("inf")
    jobs = n_jobs if n_jobs is not None else (os.cpu_count() or 1)
    jobs = max(1, int(jobs))
    with distributed.dask_client(cluster) as (client, threads):
        return _count(
            network, bounds, start=start, deadline=deadline,
            jobs=threads if client is not None else jobs, client=client,
            checkpoint=checkpoint, patterns_path=patterns_path, progress=progress,
            engine=engine, stats=stats, frontier=frontier,
        )


class _Run:
    """One count's state: the tasks left and those in flight, the counts so far, the
    pattern file, the checkpoint and the progress bar. Starts from the checkpoint when
    it holds this network, else from the root task; :meth:`merge` takes in a slice's
    outcome (and saves the checkpoint every ``CHECKPOINT_SECONDS``)."""

    def __init__(
        self,
        prep: PreparedNetwork,
        digest: str,
        checkpoint: str | Path | None,
        patterns_path: str | Path | None,
        progress: bool,
    ) -> None:
        self.prep, self.digest, self.checkpoint = prep, digest, checkpoint
        self.done = _Progress()
        self.tasks: deque[Task] = deque()
        self.in_flight: dict[int, Task] = {}
        self.writer: PatternWriter | None = None
        state = load_checkpoint(checkpoint, digest) if checkpoint is not None else None
        if state is not None:
            self.done = _Progress(state.regions, state.lp_solves, state.nodes)
            self.tasks.extend(state.tasks)
            if patterns_path is not None:
                if state.pattern_rows < 0:
                    raise ReluscopeError(
                        "the checkpointed run did not record patterns, so the pattern file "
                        "would miss regions; resume without patterns_path or start afresh"
                    )
                self.writer = PatternWriter(
                    patterns_path, prep.n_units, keep_rows=state.pattern_rows
                )
        else:
            self.tasks.append(prep.root_task())
            if patterns_path is not None:
                self.writer = PatternWriter(patterns_path, prep.n_units)
        self.bar = progress_bar(progress, total=None, unit=" regions", initial=self.done.regions)
        self.last_save = time.monotonic()

    def save(self) -> None:
        """Write the checkpoint (the tasks left and in flight), if there is one."""
        if self.checkpoint is None:
            return
        if self.writer is not None:
            self.writer.flush()
        done = self.done
        save_checkpoint(
            self.checkpoint,
            CheckpointState(
                network_hash=self.digest,
                n_units=self.prep.n_units,
                n_inputs=self.prep.n_inputs,
                regions=done.regions,
                lp_solves=done.lp_solves,
                nodes=done.nodes,
                pattern_rows=self.writer.rows if self.writer is not None else -1,
                tasks=list(self.tasks) + list(self.in_flight.values()),
            ),
        )

    def merge(self, res: SliceOutcome) -> None:
        """Add a slice's regions, work and remaining tasks."""
        done = self.done
        done.regions += res.regions
        done.lp_solves += res.lp_solves
        done.nodes += res.nodes
        if res.busy_seconds:
            done.slices += 1
            done.busy_seconds += res.busy_seconds
        self.tasks.extend(res.remaining)
        if self.writer is not None and res.packed:
            self.writer.write_packed(res.packed)
        if self.bar is not None:
            self.bar.update(res.regions)
            self.bar.set_postfix(nodes=done.nodes, lp=done.lp_solves, refresh=False)
        if time.monotonic() - self.last_save >= CHECKPOINT_SECONDS:
            self.save()
            self.last_save = time.monotonic()

    def close(self) -> None:
        """Save the checkpoint a last time, close the pattern file and the bar."""
        self.save()
        if self.writer is not None:
            self.writer.close()
        if self.bar is not None:
            self.bar.close()


def _search_here(
    searcher: Searcher, run: _Run, stop: threading.Event, slice_long: float, end: float
) -> None:
    """Search in this process until ``end``: one task at a time, in slices of at most
    ``slice_long`` seconds (short enough for checkpoints and the bar)."""
    while run.tasks and not stop.is_set() and time.monotonic() < end:
        task = run.tasks.pop()
        run.in_flight[0] = task
        res = searcher.run(task, slice_end=min(time.monotonic() + slice_long, end), stop=stop)
        del run.in_flight[0]
        run.merge(res)


def _count(
    network: ReLUNetwork,
    bounds: Bounds | None,
    *,
    start: float,
    deadline: float,
    jobs: int,
    client: Any,
    checkpoint: str | Path | None,
    patterns_path: str | Path | None,
    progress: bool,
    engine: str,
    stats: dict[str, float] | None = None,
    frontier: list[Task] | None = None,
) -> RegionCount:
    """:func:`count_regions_lp` once the workers are known."""
    prep = prepare(network, bounds)
    record = patterns_path is not None
    run = _Run(prep, network_hash(network), checkpoint, patterns_path, progress)
    stop = threading.Event()
    blas = one_blas_thread()
    blas.__enter__()  # one BLAS thread here too while counting (left in the finally below)
    # in-process slices: as long as possible, but short enough for checkpoints and the bar
    slice_long = CHECKPOINT_SECONDS if checkpoint is not None else float("inf")
    if progress:
        slice_long = min(slice_long, PROGRESS_SECONDS)
    try:
        with _sigint_to_event(stop):
            # in this process first: small networks finish before a pool would start
            alone = jobs == 1 and client is None
            serial_end = deadline if alone else min(deadline, start + SERIAL_START_SECONDS)
            _search_here(new_searcher(prep, record, engine), run, stop, slice_long, serial_end)
            parallel_start = time.monotonic()
            if run.tasks and not alone and not stop.is_set() and time.monotonic() < deadline:
                backend = (distributed.DaskBackend(client, prep, record, engine)
                           if client is not None else ProcessPool(prep, record, engine, jobs))
                run_slices(backend, run.tasks, run.in_flight, run.merge, stop, deadline)
            if stats is not None:
                stats.update(
                    slices=run.done.slices, busy_seconds=run.done.busy_seconds,
                    workers=jobs, parallel_seconds=time.monotonic() - parallel_start,
                )
    finally:
        blas.__exit__(None, None, None)
        run.close()

    if frontier is not None:
        frontier.extend(run.tasks)
    if not run.tasks:
        status = COMPLETE
    elif stop.is_set():
        status = INTERRUPTED
    else:
        status = TIME_LIMIT
    done = run.done
    return RegionCount(
        regions=int(done.regions),
        exact=status == COMPLETE,
        method=METHOD_OF_ENGINE[engine],
        status=status,
        seconds=time.monotonic() - start,
        lp_solves=int(done.lp_solves),
        nodes=int(done.nodes),
    )
