"""The tasks of the lp/highs search on a Dask cluster (``count_regions(..., cluster=...)``).

The driver (:func:`~reluscope.regions.search.engine.count_regions_lp`) keeps the task queue,
the counts, the checkpoint, the time limit and Ctrl-C exactly as with ``n_jobs``; only
the pool is replaced: each slice of search is one Dask task
(:func:`_run_slice_on_worker`) that returns a :class:`SliceResult` (the regions of the
finished part and the leftover tasks). The prepared network is scattered once to every
worker; each worker thread keeps one searcher per count, so the compiled kernel and the
HiGHS model are built once per worker thread, not once per slice.

Workers need reluscope (and numba / highspy) importable, as for ``reproduce --cluster``.
A slice that was running when the driver stopped (time limit, Ctrl-C) is not counted:
its task goes back to the frontier (and the checkpoint), so nothing is counted twice.
"""

from __future__ import annotations

import queue as queue_module
import threading
import time
import uuid
from collections import deque
from typing import Any

from reluscope.errors import ReluscopeError
from reluscope.regions.search.engine import PreparedNetwork, SliceResult, Task

#: Seconds to wait for the scheduler at ``ADDRESS``.
CONNECT_TIMEOUT = 30.0

# per worker process: (count id, thread id) -> searcher
_SEARCHERS: dict[tuple[str, int], Any] = {}
_SEARCHERS_LOCK = threading.Lock()


def connect(cluster: str | Any) -> tuple[Any, bool]:
    """A ``distributed.Client`` for ``cluster`` (an address or a Client) and whether we own it."""
    try:
        from distributed import Client
    except ImportError:
        raise ReluscopeError(
            "counting on a cluster needs Dask: pip install 'reluscope[cluster]'"
        ) from None
    if not isinstance(cluster, str):
        if not isinstance(cluster, Client):
            raise ReluscopeError(
                f"cluster must be a Dask scheduler address or a distributed.Client, "
                f"got {type(cluster).__name__}"
            )
        return cluster, False
    try:
        return Client(cluster, timeout=CONNECT_TIMEOUT), True
    except (OSError, TimeoutError, ValueError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ReluscopeError(
            f"cannot reach the Dask scheduler at {cluster} ({detail}); start one with "
            "`dask scheduler` and workers with `dask worker ADDRESS`"
        ) from None


def worker_threads(client: Any) -> int:
    """Threads of all workers of ``client``'s cluster (slices run at once)."""
    threads = sum(client.nthreads().values())
    if threads < 1:
        raise ReluscopeError(
            "the Dask cluster has no workers; start some with `dask worker ADDRESS`"
        )
    return int(threads)


def _run_slice_on_worker(
    run_id: str, prep: PreparedNetwork, record: bool, engine: str, task: Task, seconds: float
) -> SliceResult:
    """One slice of search on a Dask worker (one searcher per count and worker thread)."""
    from reluscope.regions.search.engine import _new_searcher

    key = (run_id, threading.get_ident())
    with _SEARCHERS_LOCK:
        searcher = _SEARCHERS.get(key)
        if searcher is None:
            # a new count: forget this thread's searchers of earlier counts
            for old in [k for k in _SEARCHERS if k[1] == key[1]]:
                del _SEARCHERS[old]
    if searcher is None:
        searcher = _new_searcher(prep, record, engine)
        with _SEARCHERS_LOCK:
            _SEARCHERS[key] = searcher
    begin = time.monotonic()
    res: SliceResult = searcher.run(task, slice_end=begin + seconds)
    res.busy_seconds = time.monotonic() - begin
    return res


def run_on_cluster(
    client: Any,
    prep: PreparedNetwork,
    record: bool,
    engine: str,
    tasks: deque[Task],
    in_flight: dict[int, Task],
    merge: Any,
    stop: threading.Event,
    deadline: float,
    *,
    slice_seconds: float,
    short_slice_seconds: float,
) -> None:
    """Farm tasks out to the cluster's worker threads until none is left, the deadline,
    or ``stop`` (same policy as the local pool; in-flight tasks go back to ``tasks``)."""
    jobs = worker_threads(client)
    run_id = uuid.uuid4().hex
    [prep_future] = client.scatter([prep], broadcast=True, hash=False)
    results: queue_module.Queue[tuple[int, Any]] = queue_module.Queue()
    futures: dict[int, Any] = {}
    next_id = 0

    def reporter(tid: int) -> Any:
        def report(fut: Any) -> None:
            results.put((tid, fut))

        return report

    try:
        while True:
            now = time.monotonic()
            while tasks and len(in_flight) < jobs and not stop.is_set() and now < deadline:
                task = tasks.pop() if len(tasks) > 2 * jobs else tasks.popleft()
                slice_len = short_slice_seconds if len(tasks) < 2 * jobs else slice_seconds
                slice_len = max(0.0, min(slice_len, deadline - now))
                tid = next_id
                next_id += 1
                in_flight[tid] = task
                fut = client.submit(
                    _run_slice_on_worker, run_id, prep_future, record, engine, task,
                    slice_len, pure=False, key=f"reluscope-slice-{run_id}-{tid}",
                )
                futures[tid] = fut
                fut.add_done_callback(reporter(tid))
            if not in_flight or stop.is_set():
                return
            try:
                tid, fut = results.get(timeout=0.1)
            except queue_module.Empty:
                continue
            futures.pop(tid, None)
            task = in_flight.pop(tid)
            try:
                res = fut.result()
            except Exception:
                tasks.append(task)
                raise
            merge(res)
    finally:
        for fut in futures.values():
            fut.cancel()
        prep_future.cancel()
        # slices still running were not counted: their tasks go back to the frontier
        tasks.extend(in_flight.values())
        in_flight.clear()
