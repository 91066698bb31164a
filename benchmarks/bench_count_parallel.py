"""n_jobs=1 vs n_jobs=2 vs a 2-worker Dask LocalCluster on counts of >= 50k regions.

Run: ``PYTHONPATH=src .venv/bin/python benchmarks/bench_count_parallel.py`` (about 4
minutes on a shared 2-core machine; ``--no-cluster`` skips Dask; ``--networks
"784;9;9;8 on [0,1]^784"`` adds a 784-input net of 275,777 regions, about 10 minutes
per run there). Same bounds for every run; the counts are
asserted equal. Prints regions, wall seconds, the speed-up over n_jobs=1, the CPU
seconds used (this process plus its pool children; Dask workers are not included) and
the load average (``os.getloadavg()``) before and after each run: on a shared machine a
second process only helps when a core is free, so read the speed-up with the load.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from bench_count import cpu_now  # noqa: E402
from netgen import random_network  # noqa: E402
from reluscope.bounds import tighten_bounds  # noqa: E402
from reluscope.regions.search.engine import count_regions_lp  # noqa: E402

NETWORKS = {
    "12;14;12;8 on [-1,1]^12": lambda: random_network(1, 12, (14, 12, 8), lower=-1.0, upper=1.0),
    "12;18;16;12 on [-1,1]^12": lambda: random_network(
        1, 12, (18, 16, 12), lower=-1.0, upper=1.0
    ),
    "784;9;9;8 on [0,1]^784": lambda: random_network(2, 784, (9, 9, 8)),
}


def _load() -> str:
    return "/".join(f"{v:.1f}" for v in os.getloadavg())


def _measure(name: str, net: Any, bounds: Any, kwargs: dict[str, Any]) -> tuple[int, float]:
    load_before = _load()
    cpu0, t0 = cpu_now(), time.perf_counter()
    stats: dict[str, float] = {}
    result = count_regions_lp(net, bounds, stats=stats, **kwargs)
    wall, cpu = time.perf_counter() - t0, cpu_now() - cpu0
    assert result.exact, f"{name}: {result.status}"
    busy = ""
    if stats.get("slices"):
        share = stats["busy_seconds"] / (stats["workers"] * stats["parallel_seconds"])
        busy = (f"  {int(stats['slices'])} slices, workers busy {100 * share:.0f}% of "
                f"{stats['parallel_seconds']:.1f} s")
    print(f"  {name:<15} regions {result.regions:>8}  wall {wall:7.2f} s  "
          f"CPU {cpu:7.2f} s  load {load_before} -> {_load()}{busy}", flush=True)
    return result.regions, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--networks", nargs="*", default=list(NETWORKS)[:2], choices=list(NETWORKS)
    )
    parser.add_argument("--no-cluster", action="store_true", help="skip the Dask LocalCluster")
    args = parser.parse_args()
    client = cluster = None
    if not args.no_cluster:
        import distributed

        # the workers import this source tree
        os.environ["PYTHONPATH"] = os.pathsep.join(
            [str(ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]
        )
        t0 = time.perf_counter()
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = distributed.Client(cluster)
        print(f"LocalCluster(2 workers) started in {time.perf_counter() - t0:.1f} s")
    try:
        for name in args.networks:
            net = NETWORKS[name]()
            bounds = tighten_bounds(net, method="lp")
            print(f"{name} (cores: {os.cpu_count()})", flush=True)
            counts, walls = {}, {}
            runs: dict[str, dict[str, Any]] = {"n_jobs=1": {"n_jobs": 1}, "n_jobs=2": {"n_jobs": 2}}
            if client is not None:
                runs["dask 2 workers"] = {"cluster": client}
            for label, kwargs in runs.items():
                counts[label], walls[label] = _measure(label, net, bounds, kwargs)
            assert len(set(counts.values())) == 1, f"counts differ: {counts}"
            speedups = ", ".join(
                f"{label} {walls['n_jobs=1'] / walls[label]:.2f}x" for label in walls
                if label != "n_jobs=1"
            )
            print(f"  speed-up over n_jobs=1: {speedups}", flush=True)
    finally:
        if client is not None:
            client.close()
            cluster.close()


if __name__ == "__main__":
    main()
