"""10^6 regions of a 784-input network within 10 minutes on 2 cores? Measured, not extrapolated.

Trains the reproduction's MNIST 784;11;11;10 network (task 11;11 #0 of
``reluscope reproduce``: Adam, 20 epochs, seed 11000; cached under ``runs/``, which git
ignores), tightens its bounds with LPs, then counts its regions with the compiled engine
on ``--jobs`` worker processes for at most ``--limit`` wall seconds, and prints the
regions proven, the wall and CPU seconds and the regions per wall second. The network
has well over 10^6 regions (1,408,702 were proven in 600 s on 2 cores, 2026-12-02), so
the count is cut short by the limit: the target is met when the regions proven reach
10^6 within 600 s.

Run: ``.venv/bin/python benchmarks/bench_million.py`` (about 11 minutes; the machine
should be otherwise idle, as every core is used).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from bench_count import cpu_now
from reluscope.bounds import tighten_bounds
from reluscope.io import load, save
from reluscope.regions.count.dispatch import count_regions

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "runs" / "bench_million_784-11-11-10.npz"
TARGET = 10**6


def network():
    """The reproduction's 11;11 network #0, trained once and cached."""
    if CACHE.is_file():
        return load(CACHE)
    from reluscope.experiments.reproduce import ExperimentSettings, Task, train_task

    trained = train_task(Task(11, 11, 0), ExperimentSettings())
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    save(trained.network, CACHE)
    print(f"trained 784;11;11;10, test accuracy {trained.test_accuracy:.4f}", flush=True)
    return trained.network


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--limit", type=float, default=600.0, help="wall seconds")
    args = parser.parse_args()
    net = network()
    bounds = tighten_bounds(net, method="lp")
    count_regions(net, method="lp", bounds=bounds, n_jobs=1, time_limit=2.0)  # compile
    load_before = os.getloadavg()[0]
    cpu, wall = cpu_now(), time.perf_counter()
    res = count_regions(net, method="lp", bounds=bounds, n_jobs=args.jobs,
                        time_limit=args.limit)
    wall = time.perf_counter() - wall
    cpu = cpu_now() - cpu
    print(f"784;11;11;10, n_jobs={args.jobs}, limit {args.limit:.0f} s: {res.regions:,} "
          f"regions ({'finished' if res.exact else 'proven, cut short'}) in {wall:.0f} s "
          f"wall, {cpu:.0f} CPU s; {res.regions / wall:,.0f} regions per wall second; "
          f"load average before {load_before:.2f}")
    reached = "yes" if res.regions >= TARGET else "no"
    print(f"10^6 regions within {args.limit:.0f} s wall: {reached}")


if __name__ == "__main__":
    main()
