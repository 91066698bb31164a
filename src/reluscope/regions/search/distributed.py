"""Dask: connecting to a cluster, and the slices of search as Dask tasks.

:func:`dask_client` is the one way reluscope connects to Dask (``count_regions``,
``estimate_regions`` and ``reproduce`` with ``cluster=``): an address, a
``distributed.Client`` or a cluster object such as ``LocalCluster``; it reports the
workers' threads and closes what it opened.

:class:`DaskBackend` is the cluster back end of
:func:`~reluscope.regions.search.schedule.run_slices`: the driver
(:func:`~reluscope.regions.search.engine.count_regions_lp`) keeps the task queue, the
counts, the checkpoint, the time limit and Ctrl-C exactly as with ``n_jobs``; each slice
of search is one Dask task (:func:`_run_slice_on_worker`) that returns a
:class:`~reluscope.regions.search.core.SliceOutcome`. The prepared network is scattered
once to every worker; each worker thread keeps one searcher per count, so the compiled
kernel and the HiGHS model are built once per worker thread, not once per slice.

Workers need reluscope (and numba / highspy) importable, as for ``reproduce --cluster``.
"""

from __future__ import annotations

import contextlib
import queue as queue_module
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

from reluscope.errors import ReluscopeError
from reluscope.regions.search.core import PreparedNetwork, Searcher, SliceOutcome, Task
from reluscope.regions.search.searchers import new_searcher

#: Seconds to wait for the scheduler at ``ADDRESS``.
CONNECT_TIMEOUT = 30.0

# per worker process: (count id, thread id) -> searcher
_SEARCHERS: dict[tuple[str, int], Searcher] = {}
_SEARCHERS_LOCK = threading.Lock()


def connect(cluster: str | Any) -> tuple[Any, bool]:
    """A ``distributed.Client`` for ``cluster`` (an address, a Client, or a cluster object
    such as ``LocalCluster``) and whether we made it (then we close it)."""
    try:
        from distributed import Client
        from distributed.deploy import Cluster
    except ImportError:
        raise ReluscopeError(
            "a Dask cluster needs Dask: pip install 'reluscope[cluster]'"
        ) from None
    if isinstance(cluster, Client):
        return cluster, False
    if isinstance(cluster, Cluster):
        return Client(cluster), True
    if not isinstance(cluster, str):
        raise ReluscopeError(
            f"cluster must be a Dask scheduler address or a distributed.Client (or a Dask "
            f"cluster object such as LocalCluster), got {type(cluster).__name__}"
        )
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


@contextlib.contextmanager
def dask_client(
    cluster: str | Any | None, *, need_workers: bool = True
) -> Iterator[tuple[Any, int]]:
    """``(client, worker threads)`` for ``cluster``, ``(None, 0)`` when it is None.

    With ``need_workers`` a cluster without workers is an error; without, its thread
    count may be 0 (workers may join later). A client made here is closed on exit.
    """
    if cluster is None:
        yield None, 0
        return
    client, own = connect(cluster)
    try:
        yield client, (worker_threads(client) if need_workers
                       else int(sum(client.nthreads().values())))
    finally:
        if own:
            client.close()


def _run_slice_on_worker(
    run_id: str, prep: PreparedNetwork, record: bool, engine: str, task: Task, seconds: float
) -> SliceOutcome:
    """One slice of search on a Dask worker (one searcher per count and worker thread)."""
    key = (run_id, threading.get_ident())
    with _SEARCHERS_LOCK:
        searcher = _SEARCHERS.get(key)
        if searcher is None:
            # a new count: forget this thread's searchers of earlier counts
            for old in [k for k in _SEARCHERS if k[1] == key[1]]:
                del _SEARCHERS[old]
    if searcher is None:
        searcher = new_searcher(prep, record, engine)
        with _SEARCHERS_LOCK:
            _SEARCHERS[key] = searcher
    begin = time.monotonic()
    res = searcher.run(task, slice_end=begin + seconds)
    res.busy_seconds = time.monotonic() - begin
    return res


class DaskBackend:
    """The slices of one count as Dask tasks on ``client``'s worker threads."""

    def __init__(self, client: Any, prep: PreparedNetwork, record: bool, engine: str) -> None:
        self.client = client
        self.slots = worker_threads(client)
        self.record = record
        self.engine = engine
        self.run_id = uuid.uuid4().hex
        [self.prep_future] = client.scatter([prep], broadcast=True, hash=False)
        self.results: queue_module.Queue[tuple[int, Any]] = queue_module.Queue()
        self.futures: dict[int, Any] = {}

    def submit(self, tid: int, task: Task, seconds: float, deadline: float) -> None:
        fut = self.client.submit(
            _run_slice_on_worker, self.run_id, self.prep_future, self.record, self.engine,
            task, seconds, pure=False, key=f"reluscope-slice-{self.run_id}-{tid}",
        )
        self.futures[tid] = fut
        fut.add_done_callback(lambda done: self.results.put((tid, done)))

    def finished(self, timeout: float) -> list[tuple[int, SliceOutcome | BaseException]]:
        try:
            tid, fut = self.results.get(timeout=timeout)
        except queue_module.Empty:
            return []
        self.futures.pop(tid, None)
        try:
            outcome: SliceOutcome | BaseException = fut.result()
        except Exception as exc:  # noqa: BLE001 - the loop raises it
            outcome = exc
        return [(tid, outcome)]

    def close(self) -> None:
        for fut in self.futures.values():
            fut.cancel()
        self.prep_future.cancel()
