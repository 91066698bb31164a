"""MIPBound vs exact counting, and MIPBound (lazy callback) vs MBound (solve per r).

Networks like the paper's: 784 inputs on [0,1]^784, 11 + 11 hidden ReLUs and 10 output
ReLUs, Gaussian weights scaled 1/sqrt(fan-in), biases N(shift, 0.5^2); a more negative
shift makes more units stably inactive and fewer regions. For each network and XOR size:

* the exact count (``count_regions``, method lp, one process) and its time;
* MIPBound's 95% lower bound, its time, and ``log2(exact) - log2(LB)``;
* MIPBound vs MBound on the same seeded repetitions (so the same parity constraints and
  the same ``r``): solver calls and wall time, ratio MBound / MIPBound; and MIPBound with
  cut-by-cut ("lazy") parity enforcement instead of whole constraints when drawn.

Usage::

    .venv/bin/python benchmarks/bench_mipbound.py            # two networks: ~8 min here
    .venv/bin/python benchmarks/bench_mipbound.py --full     # paper-like counts (hours)
    .venv/bin/python benchmarks/bench_mipbound.py --profile  # where MIPBound's time goes
    .venv/bin/python benchmarks/bench_mipbound.py --example  # bundled digits network
"""

from __future__ import annotations

import argparse
import cProfile
import math
import pstats
import time

import numpy as np

from reluscope.bounds import tighten_bounds
from reluscope.network import ReLUNetwork
from reluscope.regions.count.dispatch import count_regions
from reluscope.regions.estimate.mipbound import _MipboundEngine, estimate_regions


def mnist_like(seed: int, bias_shift: float) -> ReLUNetwork:
    rng = np.random.default_rng(seed)
    weights, biases, fan_in = [], [], 784
    for width in (11, 11, 10):
        weights.append(rng.normal(size=(width, fan_in)) / np.sqrt(fan_in))
        biases.append(rng.normal(size=width) * 0.5 + bias_shift)
        fan_in = width
    return ReLUNetwork(weights, biases)


def lazy_seconds(net: ReLUNetwork, bounds, k: int, seed: int, repetitions: int):
    """MIPBound with cut-by-cut parity enforcement (no whole constraints): time and r's."""
    start = time.perf_counter()
    engine = _MipboundEngine(net, bounds, k, eager=False)
    rs = tuple(engine.run(np.random.default_rng(s), None).r
               for s in np.random.SeedSequence(seed).spawn(repetitions))
    return time.perf_counter() - start, rs


def example() -> None:
    """The bundled digits network (64;6;6;10): exact count vs XOR-k bounds, 28 repetitions."""
    from reluscope.data import example_network

    net = example_network()
    count = count_regions(net, n_jobs=1)
    print(f"example network: {count.regions} regions (log2 {math.log2(count.regions):.2f}) "
          f"counted in {count.seconds:.1f} s")
    for k in (2, 3, 4, 5):
        est = estimate_regions(net, xor_size=k, random_state=0)
        gap = math.log2(count.regions) - est.log2_lower_bound
        print(f"  XOR-{k}: LB {est.lower_bound} (gap {gap:.2f} bits, "
              f"P={est.probability:.4f}) in {est.seconds:.1f} s = "
              f"{est.seconds / count.seconds:.2f} x count time; {est.regions_found} regions seen")


def profile(net: ReLUNetwork, k: int) -> None:
    """cProfile of MIPBound repetitions, then SCIP's own statistics for one of them."""
    bounds = tighten_bounds(net, method="lp")
    engine = _MipboundEngine(net, bounds, k)
    streams = np.random.SeedSequence(0).spawn(3)
    prof = cProfile.Profile()
    start = time.perf_counter()
    prof.enable()
    for stream in streams:
        engine.run(np.random.default_rng(stream), None)
    prof.disable()
    total = time.perf_counter() - start
    stats = pstats.Stats(prof)
    callbacks = sum(v[3] for key, v in stats.stats.items() if key[2] in ("consenfolp", "consenfops",
                                                                        "conscheck"))
    print(f"profile XOR-{k}: 3 repetitions {total:.2f} s; Python callbacks {callbacks:.3f} s "
          f"({100 * callbacks / total:.1f}%), the rest inside SCIP's optimize()")
    engine.handler.outcome = type(engine.handler.outcome)()
    engine.handler.rng = np.random.default_rng(streams[0])
    engine.handler.parities = []
    engine.model.optimize()
    lp_time = engine.model.getSolvingTime()
    print(f"  SCIP, one repetition: {lp_time:.2f} s solving, {engine.model.getNNodes()} nodes, "
          f"{engine.model.getNLPs()} LPs, {engine.model.getNLPIterations()} LP iterations")
    path = "/tmp/bench_mipbound_scip_stats.txt"
    engine.model.writeStatistics(path)
    with open(path) as handle:
        for line in handle:
            if line.startswith(("  dual LP", "  presolving")):
                print("  " + line.rstrip())
    engine.model.freeTransform()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--full", action="store_true", help="paper-like counts (slow)")
    parser.add_argument("--sizes", default="2,3,4,5")
    parser.add_argument("--repetitions", type=int, default=28,
                        help="MIPBound repetitions per size (28 as the paper; 16 is the "
                        "least for which 95%% is reachable)")
    parser.add_argument("--compare-repetitions", type=int, default=3,
                        help="repetitions of the MIPBound vs MBound comparison")
    parser.add_argument("--count-time-limit", type=float, default=120.0)
    parser.add_argument("--shifts", default=None,
                        help="bias shifts of the networks, e.g. -5,-4.5 (overrides --full)")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--example", action="store_true", help="the bundled digits network")
    args = parser.parse_args()
    sizes = [int(k) for k in args.sizes.split(",")]
    shifts = [-5.0, -4.5] if not args.full else [-5.0, -4.0, -3.0, -2.0, -1.0]
    if args.shifts:
        shifts = [float(s) for s in args.shifts.split(",")]
    if args.example:
        example()
        return
    if args.profile:
        profile(mnist_like(0, -4.5), 5)
        profile(mnist_like(0, -4.5), 3)
        return
    target = 1 - 1e-9  # run exactly --repetitions repetitions
    print(f"{'net':>8} {'k':>2} {'exact':>9} {'count s':>8} {'LB':>7} {'gap log2':>8} "
          f"{'MIP s':>7} {'MIP/count':>9} | {'calls MIP':>9} {'calls MB':>8} "
          f"{'MIP s':>7} {'MB s':>7} {'MB/MIP':>6} {'lazy s':>6} {'lazy/MIP':>8} same_r")
    for shift in shifts:
        net = mnist_like(0, shift)
        t0 = time.perf_counter()
        bounds = tighten_bounds(net, method="lp")
        bounds_s = time.perf_counter() - t0
        count = count_regions(net, bounds=bounds, method="lp", n_jobs=1,
                              time_limit=args.count_time_limit)
        exact = count.regions if count.exact else None
        shown = str(count.regions) + ("" if count.exact else "+")
        for k in sizes:
            est = estimate_regions(net, xor_size=k, random_state=0, bounds=bounds,
                                   max_repetitions=args.repetitions, target_probability=target)
            gap = (math.log2(exact) - est.log2_lower_bound) if exact else float("nan")
            mip = estimate_regions(net, xor_size=k, random_state=1, bounds=bounds,
                                   max_repetitions=args.compare_repetitions,
                                   target_probability=target)
            mb = estimate_regions(net, xor_size=k, random_state=1, bounds=bounds, method="mbound",
                                  max_repetitions=args.compare_repetitions,
                                  target_probability=target)
            lazy_s, lazy_rs = lazy_seconds(net, bounds, k, 1, args.compare_repetitions)
            same = mip.constraints == mb.constraints == lazy_rs
            print(f"{shift:>8} {k:>2} {shown:>9} {count.seconds:>8.1f} {est.lower_bound:>7} "
                  f"{gap:>8.2f} {est.seconds:>7.1f} {est.seconds / count.seconds:>9.3f} | "
                  f"{mip.solver_calls:>9} {mb.solver_calls:>8} {mip.seconds:>7.1f} "
                  f"{mb.seconds:>7.1f} {mb.seconds / mip.seconds:>6.2f} {lazy_s:>6.1f} "
                  f"{lazy_s / mip.seconds:>8.2f} {same}", flush=True)
        print(f"{'':>8} bounds {bounds_s:.1f} s, {bounds.count_stable(net)} (active, inactive, "
              f"unstable); exact count {'complete' if count.exact else 'cut at time limit'}",
              flush=True)


if __name__ == "__main__":
    main()
