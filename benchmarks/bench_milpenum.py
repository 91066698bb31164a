"""Exact counting engines compared: the paper's MILP enumeration vs SCIP's counter vs lp.

For each network: wall time of ``count_regions`` with method="lp" (baseline, one
process), "scip-count", "milp", "milp" with the valid inequalities (8)-(9), "milp" with
SCIP's default search (heuristics, cutting planes, best-estimate node selection) but
the safe settings, and "milp" with SCIP's defaults throughout (dual reductions and
symmetry on: unsafe in general, see docs/solvers.md, but correct on these asymmetric
random networks; it also uses the default search), all on the same precomputed LP
bounds. Prints times, ratios to lp, and the counts (which must agree).

    .venv/bin/python benchmarks/bench_milpenum.py           # three random networks
    .venv/bin/python benchmarks/bench_milpenum.py --example # + the bundled 64;6;6;10 net
"""

from __future__ import annotations

import argparse
import time

import reluscope
from reluscope.milp import build_network_model
from reluscope.network import ReLUNetwork
from reluscope.regions.count.milp_enum import (
    count_regions_milp,
    count_regions_scip,
    run_enumeration,
)
from reluscope.tolerances import SOLVER_FEASIBILITY_TOL


def random_net(seed: int, n0: int, widths: tuple[int, ...]) -> ReLUNetwork:
    import numpy as np

    rng = np.random.default_rng(seed)
    weights, biases, fan_in = [], [], n0
    for width in widths:
        weights.append(rng.normal(size=(width, fan_in)) / np.sqrt(fan_in))
        biases.append(rng.normal(size=width) * 0.2)
        fan_in = width
    return ReLUNetwork(weights, biases, lower=-1.0, upper=1.0)


def default_settings_milp(network: ReLUNetwork, bounds, time_limit: float) -> int:
    from pyscipopt import Model

    model = Model()
    model.hideOutput()
    model.setParam("numerics/feastol", SOLVER_FEASIBILITY_TOL)
    model.setParam("parallel/maxnthreads", 1)
    nm = build_network_model(network, bounds, counting=True, model=model)
    count, _ = run_enumeration(nm, time_limit=time_limit)
    return count.regions


def engines(net: ReLUNetwork, bounds, tl: float) -> dict:
    """Name -> zero-argument callable returning the region count."""
    return {
        "lp (baseline)": lambda: reluscope.count_regions(
            net, method="lp", bounds=bounds, n_jobs=1, time_limit=tl).regions,
        "scip-count": lambda: count_regions_scip(net, bounds, time_limit=tl).regions,
        "milp": lambda: count_regions_milp(net, bounds, time_limit=tl).regions,
        "milp + ineq (8)-(9)": lambda: count_regions_milp(
            net, bounds, time_limit=tl, valid_inequalities=True).regions,
        "milp, default search": lambda: run_enumeration(
            build_network_model(net, bounds, counting=True), time_limit=tl)[0].regions,
        "milp, SCIP defaults": lambda: default_settings_milp(net, bounds, tl),
    }


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--example", action="store_true", help="add the bundled network")
    parser.add_argument("--time-limit", type=float, default=300.0)
    args = parser.parse_args()
    nets = [
        ("random 3;8;8", random_net(0, 3, (8, 8))),
        ("random 4;10;10", random_net(0, 4, (10, 10))),
        ("random 2;6;6;6", random_net(1, 2, (6, 6, 6))),
    ]
    if args.example:
        nets.append(("example 64;6;6;10", reluscope.example_network()))
    tl = args.time_limit
    print(f"{'network':20s} {'engine':22s} {'regions':>8s} {'seconds':>9s} {'x lp':>7s}")
    for name, net in nets:
        bounds = reluscope.tighten_bounds(net, method="lp")
        runs = engines(net, bounds, tl)
        base = None
        for engine, run in runs.items():
            regions, seconds = timed(run)
            base = seconds if base is None else base
            print(f"{name:20s} {engine:22s} {regions:8d} {seconds:9.2f} {seconds / base:7.1f}",
                  flush=True)


if __name__ == "__main__":
    main()
