"""A count on a loaded machine: does it use only the threads it was given?

Runs ``count_regions(method="lp", n_jobs=1)`` on a network while another process keeps
one core busy (a Python busy loop), and prints each run's wall time, the CPU time of
this process (all its threads) and their ratio. A count of one process that stays on
its one thread has wall time close to its CPU time (target: wall <= 1.2 x CPU); an
idle OpenBLAS thread spinning on the busy core (issue 29: 32 s became 36-218 s) shows
as CPU time above the work, and wall time far above both. ``--blas-threads default``
runs the same count without the one-thread limit, for comparison.

Usage::

    .venv/bin/python benchmarks/bench_load.py                      # tests' MNIST net a
    .venv/bin/python benchmarks/bench_load.py --model net.npz --repeat 5
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

_BUSY = "while True: pass"
_DEFAULT_MODEL = Path(__file__).resolve().parents[1] / "tests/fixtures/mnist-784-8-8-10-a.npz"


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(_DEFAULT_MODEL))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--blas-threads", choices=("one", "default"), default="one",
                        help="one: as reluscope counts; default: without the limit")
    parser.add_argument("--no-load", action="store_true", help="no busy process")
    args = parser.parse_args()

    from reluscope import count_regions, load
    from reluscope.regions.search import engine, schedule

    if args.blas_threads == "default":  # the driver's limit and the pool workers'
        engine.one_blas_thread = contextlib.nullcontext  # type: ignore[assignment]
        schedule.one_blas_thread = contextlib.nullcontext  # type: ignore[assignment]
    network = load(args.model)
    count_regions(network, n_jobs=1, time_limit=1.0)  # compile / warm the kernel first
    busy = None if args.no_load else subprocess.Popen([sys.executable, "-c", _BUSY])
    try:
        print(f"{network.describe()}; load: {'none' if busy is None else '1 busy process'}; "
              f"BLAS threads: {args.blas_threads}; cores here: {len(os.sched_getaffinity(0))}")
        print(f"{'run':>3} {'regions':>9} {'wall s':>8} {'CPU s':>8} {'wall/CPU':>9}")
        for run in range(args.repeat):
            cpu0, wall0 = _cpu_seconds(), time.perf_counter()
            result = count_regions(network, n_jobs=1)
            wall, cpu = time.perf_counter() - wall0, _cpu_seconds() - cpu0
            print(f"{run:>3} {result.regions:>9} {wall:>8.2f} {cpu:>8.2f} {wall / cpu:>9.2f}")
    finally:
        if busy is not None:
            busy.kill()
            busy.wait()


if __name__ == "__main__":
    main()
