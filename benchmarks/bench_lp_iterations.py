"""Dual simplex iterations and time per LP of the lp counting engine, by split.

Trains the reproduction's networks (same seeds as ``reluscope reproduce``: network
``i`` of split ``n1`` has seed ``1000 n1 + i``), counts each for a fixed time and
records, for every LP, HiGHS's iteration count and the wall time of ``run()``::

    .venv/bin/python benchmarks/bench_lp_iterations.py --splits 4-18,12-10 --seconds 8

Figures in docs/bench-count.md ("Measured in the full reproduction run").
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import reluscope
from reluscope.experiments.mnist import load_mnist
from reluscope.experiments.training import train_network
from reluscope.regions.search import highs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", default="4-18,12-10")
    parser.add_argument("--index", type=int, default=1, help="network index within a split")
    parser.add_argument("--seconds", type=float, default=8.0, help="count time per network")
    args = parser.parse_args()
    x, y = load_mnist(split="train")
    iterations: list[int] = []
    seconds: list[float] = []
    original = highs.HighsSearcher._run_lp

    def timed_run_lp(self: highs.HighsSearcher) -> int:
        start = time.perf_counter()
        status = original(self)
        seconds.append(time.perf_counter() - start)
        iterations.append(int(self.h.getInfo().simplex_iteration_count))  # per run()
        return status

    highs.HighsSearcher._run_lp = timed_run_lp  # type: ignore[method-assign]
    print("| widths | regions (s) | LPs | iterations median / mean / p90 | ms per LP |")
    print("|---|---:|---:|---:|---:|")
    for n1, n2 in (tuple(int(v) for v in s.split("-")) for s in args.splits.split(",")):
        net = train_network(x, y, (n1, n2, 10), random_state=1000 * n1 + args.index).network
        bounds = reluscope.tighten_bounds(net, method="lp")
        iterations.clear()
        seconds.clear()
        result = reluscope.count_regions(net, method="lp", bounds=bounds,
                                         time_limit=args.seconds, n_jobs=1)
        its = np.array(iterations)
        print(f"| {n1};{n2};10 | {result.regions} ({result.seconds:.0f}) | {its.size} | "
              f"{np.median(its):.0f} / {its.mean():.1f} / {np.percentile(its, 90):.0f} | "
              f"{1e3 * float(np.mean(seconds)):.2f} |", flush=True)


if __name__ == "__main__":
    main()
