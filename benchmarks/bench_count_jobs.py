"""Throughput of the lp counting engine with 1 and 2 processes, same networks, one script.

Run on an otherwise idle machine: `.venv/bin/python benchmarks/bench_count_jobs.py`.
Prints regions, wall seconds per n_jobs and the speedup; the counts must agree.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from netgen import random_network  # noqa: E402
from reluscope import count_regions, example_network  # noqa: E402
from reluscope.bounds import tighten_bounds  # noqa: E402

NETWORKS = {
    "bundled example 64;6;6;10": example_network(),
    "784;6;6;4 on [0,1]^784": random_network(3, 784, (6, 6, 4)),
    "12;10;8;6 on [-1,1]^12": random_network(1, 12, (10, 8, 6), lower=-1.0, upper=1.0),
}


def main() -> None:
    print(f"{'network':<28} {'regions':>8} {'1 job s':>8} {'2 jobs s':>9} {'speedup':>8}")
    for name, net in NETWORKS.items():
        bounds = tighten_bounds(net, method="lp")
        seconds = {}
        counts = set()
        for jobs in (1, 2):
            start = time.perf_counter()
            result = count_regions(net, bounds=bounds, n_jobs=jobs)
            seconds[jobs] = time.perf_counter() - start
            counts.add(result.regions)
        assert len(counts) == 1, f"counts differ between n_jobs: {counts}"
        print(
            f"{name:<28} {counts.pop():>8} {seconds[1]:>8.2f} {seconds[2]:>9.2f}"
            f" {seconds[1] / seconds[2]:>8.2f}"
        )


if __name__ == "__main__":
    main()
