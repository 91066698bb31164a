"""Exact region counting: the lp engine against the MILP engines, in one run.

For each network: regions, seconds and status of ``lp`` (n_jobs=1), ``milp`` (the
paper's enumeration with no-good cuts) and ``scip-count``; the ratio of each MILP
engine's time to lp's (when a run hits its time limit the ratio is estimated from the
regions-per-second rates and marked ``~``); LP solves per region and search nodes of lp.
Then lp with n_jobs=2 against n_jobs=1 (throughput), and a cProfile summary of lp.

Run::

    .venv/bin/python benchmarks/bench_count.py            # about 15 minutes
    .venv/bin/python benchmarks/bench_count.py --quick    # about 3 minutes

Timings are only comparable within one run (the machine is shared).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from netgen import random_network  # noqa: E402
from reluscope.bounds import tighten_bounds  # noqa: E402
from reluscope.regions.count import count_regions  # noqa: E402
from reluscope.regions.result import RegionCount  # noqa: E402


def networks(quick: bool) -> list[tuple[str, object]]:
    nets = [
        ("12;8;7;5 [-1,1]", random_network(0, 12, (8, 7, 5), lower=-1.0, upper=1.0)),
        ("12;10;8;6 [-1,1]", random_network(4, 12, (10, 8, 6), lower=-1.0, upper=1.0)),
        ("784;6;6;4", random_network(2, 784, (6, 6, 4))),
    ]
    if not quick:
        nets += [
            ("784;11;11;10 b=0.1", random_network(0, 784, (11, 11, 10), bias_scale=0.1)),
            ("784;4;18;10 b=0.3", random_network(1, 784, (4, 18, 10), bias_scale=0.3)),
        ]
    return nets


def rate(result: RegionCount) -> float:
    return result.regions / max(result.seconds, 1e-9)


def ratio(other: RegionCount, lp: RegionCount) -> str:
    if other.exact and lp.exact:
        return f"{other.seconds / lp.seconds:.2f}"
    if other.regions == 0:
        return "n/a"
    return f"~{rate(lp) / rate(other):.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--lp-limit", type=float, default=60.0)
    parser.add_argument("--milp-limit", type=float, default=60.0)
    args = parser.parse_args()
    lp_limit = 20.0 if args.quick else args.lp_limit
    milp_limit = 20.0 if args.quick else args.milp_limit

    print(f"time limits: lp {lp_limit:g} s, milp/scip-count {milp_limit:g} s; bounds: lp")
    header = (
        f"{'network':<20} {'regions':>8} {'lp s':>7} {'milp s':>7} {'scip s':>7} "
        f"{'milp/lp':>8} {'scip/lp':>8} {'LP/reg':>7} {'nodes':>7}  status lp/milp/scip"
    )
    print(header)
    for name, net in networks(args.quick):
        bounds = tighten_bounds(net, method="lp")
        lp = count_regions(net, bounds=bounds, n_jobs=1, time_limit=lp_limit)
        milp = count_regions(net, method="milp", bounds=bounds, time_limit=milp_limit)
        scip = count_regions(net, method="scip-count", bounds=bounds, time_limit=milp_limit)
        if lp.exact and milp.exact:
            assert lp.regions == milp.regions, (name, lp.regions, milp.regions)
        if lp.exact and scip.exact:
            assert lp.regions == scip.regions, (name, lp.regions, scip.regions)
        regions = f"{lp.regions}" + ("" if lp.exact else "+")
        print(
            f"{name:<20} {regions:>8} {lp.seconds:>7.1f} {milp.seconds:>7.1f} "
            f"{scip.seconds:>7.1f} {ratio(milp, lp):>8} {ratio(scip, lp):>8} "
            f"{lp.lp_solves / max(lp.regions, 1):>7.2f} {lp.nodes:>7}  "
            f"{lp.status}/{milp.status}/{scip.status} "
            f"(milp {milp.regions}, scip {scip.regions})",
            flush=True,
        )

    # n_jobs 1 vs 2: throughput on one network, same time limit
    name, net = networks(True)[2]
    bounds = tighten_bounds(net, method="lp")
    limit = 10.0 if args.quick else 30.0
    one = count_regions(net, bounds=bounds, n_jobs=1, time_limit=limit)
    two = count_regions(net, bounds=bounds, n_jobs=2, time_limit=limit)
    print(
        f"\nn_jobs on {name} ({limit:g} s each): 1 job {rate(one):.1f} regions/s, "
        f"2 jobs {rate(two):.1f} regions/s, ratio {rate(two) / max(rate(one), 1e-9):.2f}"
        f" (counts {one.regions}/{two.regions}, {one.status}/{two.status})"
    )

    # where the lp engine's time goes
    profiler = cProfile.Profile()
    profiler.enable()
    prof = count_regions(net, bounds=bounds, n_jobs=1, time_limit=10.0)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).sort_stats("tottime")
    total = sum(v[2] for v in stats.stats.values())  # type: ignore[attr-defined]
    print(f"\ncProfile of lp on {name} (10 s, {prof.regions} regions, {prof.lp_solves} LPs):")
    rows = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])[:6]  # type: ignore[attr-defined]
    for (path, line, func), (_, ncalls, tottime, _, _) in rows:
        where = f"{Path(path).name}:{line}({func})" if path != "~" else func
        print(f"  {100 * tottime / total:5.1f}%  {ncalls:>7} calls  {where}")
    np.set_printoptions()


if __name__ == "__main__":
    main()
