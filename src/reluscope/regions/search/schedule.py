"""One scheduling loop for slices of search, with two back ends: local processes and Dask.

:func:`run_slices` hands tasks to a :class:`Backend` (:class:`ProcessPool` here,
:class:`~reluscope.regions.search.distributed.DaskBackend` for a cluster) until none is
left, the deadline, or ``stop``. The policy is the same for both: depth first (the newest
task) while there are plenty of tasks, breadth first (the oldest, the largest subtrees)
and short slices while there are too few to keep every worker busy; every slice ends by
the deadline. A slice still running when the loop stops was not counted: its task goes
back to the frontier, so nothing is lost or counted twice.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

from reluscope.errors import SolverError
from reluscope.regions.search.core import PreparedNetwork, Searcher, SliceOutcome, Task
from reluscope.regions.search.searchers import new_searcher

#: Seconds per slice of work in a worker (between checkpoints / load balancing).
SLICE_SECONDS = 3.0
#: Shorter slices while there are too few tasks to keep every worker busy.
SHORT_SLICE_SECONDS = 0.2
#: Seconds a worker gets to exit after SIGTERM when the pool stops, before SIGKILL.
WORKER_EXIT_SECONDS = 1.0
#: Seconds the loop waits for a finished slice before it looks at the clock and ``stop``.
POLL_SECONDS = 0.1


class Backend(Protocol):
    """Where slices run: ``slots`` of them at once."""

    slots: int

    def submit(self, tid: int, task: Task, seconds: float, deadline: float) -> None:
        """Start searching ``task`` for ``seconds`` (never past ``deadline``, monotonic)."""

    def finished(self, timeout: float) -> list[tuple[int, SliceOutcome | BaseException]]:
        """The slices that ended within ``timeout`` seconds: their ids and outcomes."""
        ...

    def close(self) -> None:
        """Stop every slice still running (their outcome is dropped)."""


def run_slices(
    backend: Backend,
    tasks: deque[Task],
    in_flight: dict[int, Task],
    merge: Callable[[SliceOutcome], None],
    stop: threading.Event,
    deadline: float,
) -> None:
    """Farm ``tasks`` out to ``backend`` until none is left, the deadline, or ``stop``.

    ``merge`` receives every finished slice; ``in_flight`` holds the tasks of the slices
    running (for a checkpoint written meanwhile). On return, including by an exception,
    those tasks are back in ``tasks`` and the backend is closed.
    """
    jobs = backend.slots
    next_id = 0
    try:
        while True:
            now = time.monotonic()
            while tasks and len(in_flight) < jobs and not stop.is_set() and now < deadline:
                task = tasks.pop() if len(tasks) > 2 * jobs else tasks.popleft()
                seconds = SHORT_SLICE_SECONDS if len(tasks) < 2 * jobs else SLICE_SECONDS
                in_flight[next_id] = task
                backend.submit(next_id, task, max(0.0, min(seconds, deadline - now)), deadline)
                next_id += 1
            if not in_flight or stop.is_set():
                return  # stopped: in-flight tasks go back to the frontier (finally)
            for tid, outcome in backend.finished(POLL_SECONDS):
                task = in_flight.pop(tid)
                if isinstance(outcome, BaseException):
                    tasks.append(task)
                    raise outcome
                merge(outcome)
    finally:
        backend.close()
        # tasks still in flight were not counted: they go back to the frontier
        tasks.extend(in_flight.values())
        in_flight.clear()


def one_blas_thread() -> contextlib.AbstractContextManager[Any]:
    """Limit BLAS (OpenBLAS, MKL) to one thread in this process for the duration.

    A count runs ``n_jobs`` processes of one thread each; an idle OpenBLAS thread of
    NumPy spins on a core it was not given (measured: a count sharing its machine with
    one busy process went from 32 s to 36-218 s). Needs threadpoolctl (a dependency).
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


# ---------------------------------------------------------------- worker processes
_WORKER: Searcher | None = None


def _init_worker(prep: PreparedNetwork, record: bool, engine: str) -> None:
    global _WORKER
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the parent stops us: die at once
    one_blas_thread().__enter__()  # for the worker's whole life
    _WORKER = new_searcher(prep, record, engine)


def _worker_main(conn: Any, prep: PreparedNetwork, record: bool, engine: str) -> None:
    """A pool worker: run the slices sent on ``conn``, send back each result (or the
    exception), until ``None`` or the parent closes its end."""
    _init_worker(prep, record, engine)
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        try:
            outcome: Any = _run_in_worker(*message)
        except Exception as exc:  # noqa: BLE001 - the parent raises it
            outcome = exc
        try:
            conn.send(outcome)
        except Exception as exc:  # noqa: BLE001 - e.g. an exception that cannot be pickled
            conn.send(SolverError(f"a worker failed: {type(exc).__name__}: {exc}"))


def _run_in_worker(task: Task, seconds: float, deadline: float) -> SliceOutcome:
    assert _WORKER is not None
    begin = time.monotonic()
    res = _WORKER.run(task, slice_end=min(begin + seconds, deadline))
    res.busy_seconds = time.monotonic() - begin
    return res


class ProcessPool:
    """``jobs`` forked worker processes, one searcher each.

    Each worker has its own pipe (no lock shared between processes), so stopping the
    pool cannot deadlock: :func:`_stop_workers` sends SIGTERM, waits
    :data:`WORKER_EXIT_SECONDS`, then SIGKILLs whatever still runs. (The
    ``multiprocessing.Pool`` used before hung once in 37 SIGTERM runs: its shutdown
    waited on a queue lock held by a worker that had died.)
    """

    def __init__(self, prep: PreparedNetwork, record: bool, engine: str, jobs: int) -> None:
        ctx = multiprocessing.get_context("fork")
        self.slots = jobs
        self.conns: list[Any] = []
        self.workers: list[Any] = []
        self.idle: list[int] = []
        self.busy: dict[int, int] = {}  # worker -> slice id
        try:
            for index in range(jobs):
                parent_end, child_end = ctx.Pipe()
                worker = ctx.Process(
                    target=_worker_main, args=(child_end, prep, record, engine), daemon=True
                )
                worker.start()
                child_end.close()
                self.conns.append(parent_end)
                self.workers.append(worker)
                self.idle.append(index)
        except BaseException:
            self.close()
            raise

    def submit(self, tid: int, task: Task, seconds: float, deadline: float) -> None:
        worker_index = self.idle.pop()
        self.busy[worker_index] = tid
        self.conns[worker_index].send((task, seconds, deadline))

    def finished(self, timeout: float) -> list[tuple[int, SliceOutcome | BaseException]]:
        from multiprocessing.connection import wait

        done: list[tuple[int, SliceOutcome | BaseException]] = []
        for ready in wait([self.conns[i] for i in self.busy], timeout=timeout):
            worker_index = self.conns.index(ready)
            try:
                outcome = self.conns[worker_index].recv()
            except (EOFError, OSError):
                outcome = SolverError(
                    f"a counting worker process died (exit code "
                    f"{self.workers[worker_index].exitcode}); the checkpoint, if any, is kept"
                )
            done.append((self.busy.pop(worker_index), outcome))
            self.idle.append(worker_index)
            if isinstance(outcome, BaseException):
                break  # the loop raises it
        return done

    def close(self) -> None:
        _stop_workers(self.workers, self.conns)


def _stop_workers(workers: list[Any], conns: list[Any]) -> None:
    """End every worker within about :data:`WORKER_EXIT_SECONDS` (the watchdog):
    SIGTERM (a worker dies at once), then SIGKILL for any that did not."""
    for worker in workers:
        if worker.exitcode is None:
            with contextlib.suppress(OSError):
                worker.terminate()
    give_up = time.monotonic() + WORKER_EXIT_SECONDS
    for worker in workers:
        worker.join(max(0.0, give_up - time.monotonic()))
    for worker in workers:
        if worker.exitcode is None:
            with contextlib.suppress(OSError):
                worker.kill()
            worker.join(WORKER_EXIT_SECONDS)
    for conn in conns:
        conn.close()
