"""Exact region counting: the lp engine against the MILP engines, in one run.

For each network: regions, seconds and status of ``lp`` (n_jobs=1), ``milp`` (the
paper's enumeration with no-good cuts) and ``scip-count``; the ratio of each MILP
engine's time to lp's (when a run hits its time limit the ratio is estimated from the
regions-per-second rates and marked ``~``); LP solves per region and search nodes of lp.
Then lp with n_jobs=2 against n_jobs=1 (throughput), and a cProfile summary of lp.

Run::

    .venv/bin/python benchmarks/bench_count.py            # about 15 minutes
    .venv/bin/python benchmarks/bench_count.py --quick    # about 3 minutes

Timings are only comparable within one run. On a shared machine wall time depends on
the load, so every engine's CPU time (this process plus finished worker processes) is
measured too, and the ratios and rates use CPU seconds.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import resource
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from netgen import random_network  # noqa: E402
from reluscope.bounds import tighten_bounds  # noqa: E402
from reluscope.regions.count.dispatch import count_regions  # noqa: E402
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


@dataclass
class Run:
    result: RegionCount
    cpu: float  # CPU seconds of this process and its finished children

    @property
    def rate(self) -> float:
        """Regions per CPU second."""
        return self.result.regions / max(self.cpu, 1e-9)


def cpu_now() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def timed(net: object, **kwargs: object) -> Run:
    start = cpu_now()
    result = count_regions(net, **kwargs)  # type: ignore[arg-type]
    return Run(result, cpu_now() - start)


def ratio(other: Run, lp: Run) -> str:
    if other.result.exact and lp.result.exact:
        return f"{other.cpu / lp.cpu:.2f}"
    if other.result.regions == 0:
        return "n/a"
    return f"~{lp.rate / other.rate:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--lp-limit", type=float, default=60.0)
    parser.add_argument("--milp-limit", type=float, default=60.0)
    args = parser.parse_args()
    lp_limit = 20.0 if args.quick else args.lp_limit
    milp_limit = 20.0 if args.quick else args.milp_limit

    print(f"time limits (wall): lp {lp_limit:g} s, milp/scip-count {milp_limit:g} s; bounds: lp")
    print("times are CPU seconds (wall seconds in brackets); ratios: CPU time, or CPU rate (~)")
    header = (
        f"{'network':<20} {'regions':>8} {'lp':>13} {'milp':>13} {'scip-count':>13} "
        f"{'milp/lp':>8} {'scip/lp':>8} {'LP/reg':>7} {'nodes':>7}  status lp/milp/scip"
    )
    print(header)
    for name, net in networks(args.quick):
        bounds = tighten_bounds(net, method="lp")
        lp = timed(net, bounds=bounds, n_jobs=1, time_limit=lp_limit)
        milp = timed(net, method="milp", bounds=bounds, time_limit=milp_limit)
        scip = timed(net, method="scip-count", bounds=bounds, time_limit=milp_limit)
        for other in (milp, scip):
            if lp.result.exact and other.result.exact:
                assert lp.result.regions == other.result.regions, (name, lp, other)
        r = lp.result
        regions = f"{r.regions}" + ("" if r.exact else "+")

        def cell(run: Run) -> str:
            return f"{run.cpu:.1f} ({run.result.seconds:.0f})"

        print(
            f"{name:<20} {regions:>8} {cell(lp):>13} {cell(milp):>13} {cell(scip):>13} "
            f"{ratio(milp, lp):>8} {ratio(scip, lp):>8} "
            f"{r.lp_solves / max(r.regions, 1):>7.2f} {r.nodes:>7}  "
            f"{r.status}/{milp.result.status}/{scip.result.status} "
            f"(regions/CPU-s lp {lp.rate:.0f}, milp {milp.rate:.0f}, scip {scip.rate:.0f})",
            flush=True,
        )

    # n_jobs 1 vs 2: throughput on one network, same time limit
    name, net = networks(True)[2]
    bounds = tighten_bounds(net, method="lp")
    limit = 10.0 if args.quick else 30.0
    one = timed(net, bounds=bounds, n_jobs=1, time_limit=limit)
    two = timed(net, bounds=bounds, n_jobs=2, time_limit=limit)
    wall_one = one.result.regions / one.result.seconds
    wall_two = two.result.regions / two.result.seconds
    print(
        f"\nn_jobs on {name} ({limit:g} s wall each): regions per wall second "
        f"1 job {wall_one:.1f}, 2 jobs {wall_two:.1f} "
        f"(ratio {wall_two / max(wall_one, 1e-9):.2f}); "
        f"regions per CPU second {one.rate:.0f} / {two.rate:.0f}; counts "
        f"{one.result.regions}/{two.result.regions} ({one.result.status}/{two.result.status})"
    )

    # where the lp engine's time goes
    profiler = cProfile.Profile()
    profiler.enable()
    prof = count_regions(net, bounds=bounds, n_jobs=1, time_limit=20.0)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).sort_stats("tottime")
    total = sum(v[2] for v in stats.stats.values())  # type: ignore[attr-defined]
    print(f"\ncProfile of lp on {name} (20 s, {prof.regions} regions, {prof.lp_solves} LPs):")
    rows = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])[:6]  # type: ignore[attr-defined]
    for (path, line, func), (_, ncalls, tottime, _, _) in rows:
        where = f"{Path(path).name}:{line}({func})" if path != "~" else func
        print(f"  {100 * tottime / total:5.1f}%  {ncalls:>7} calls  {where}")


if __name__ == "__main__":
    main()
