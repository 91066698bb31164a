"""What an (epsilon, delta) counter in the style of ApproxMC would cost here (issue 24,
item 6): the price of counting one cell of a random dense XOR hash with SCIP, against
the exact count of every region of the same network (the compiled search, one process;
``--milp`` also the paper's MILP enumeration).

ApproxMC (Chakraborty, Meel & Vardi 2013, 2016) draws ``m`` random parity constraints
over the binaries of the unstable units, each binary in each constraint with
probability 1/2 (a 2-universal hash, which its guarantee needs; MIPBound's constraints of
size ``k`` are not), and counts the regions of one cell up to a threshold: 72 for
``epsilon = 0.8``, with the median of 9 such measurements for ``delta = 0.2``, each
measurement finding the ``m`` whose cell holds fewer than 72 regions in about 3-4 cell
counts. Its answer is then within a factor ``1 + epsilon`` of the count with
probability at least ``1 - delta``, by proof.

A cell is counted here as the paper's enumeration counts regions (the counting model,
lazy no-good cuts, every pattern checked), with each parity constraint as the linear
row ``sum_{i in S} z_i - 2 t = b``, ``t`` integer (SCIP's native XOR is not used, see
docs/solvers.md). Each cell count is checked against the patterns of the exact count
that satisfy the same constraints.

    python benchmarks/xor_cells.py --net ../shared/nets/mnist-784-8-8-10-a.npz --hashes 4 7
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
from numpy.typing import NDArray

import reluscope
from reluscope.bounds import Bounds, tighten_bounds
from reluscope.milp import build_network_model
from reluscope.network import ReLUNetwork
from reluscope.regions.count import milp_enum
from reluscope.regions.result import RegionCount

#: ApproxMC's per-measurement success probability (the median of ``t`` measurements
#: is within the tolerance when more than half are)
MEASUREMENT_SUCCESS = 0.64


def approxmc_threshold(epsilon: float) -> int:
    """Cell size below which ApproxMC counts a cell:
    ``1 + 9.84 (1 + 1/eps)^2 (1 + eps/(1 + eps))``."""
    return int(1 + 9.84 * (1 + 1 / epsilon) ** 2 * (1 + epsilon / (1 + epsilon)))


def approxmc_measurements(delta: float) -> int:
    """The smallest odd ``t`` whose median of ``t`` measurements fails with probability
    at most ``delta`` (binomial tail with success probability 0.64 each)."""
    from scipy.stats import binom

    t = 1
    while binom.sf(t // 2, t, MEASUREMENT_SUCCESS) < 1 - delta:
        t += 2
    return t


Hash = tuple[NDArray[np.bool_], NDArray[np.int64]]


def dense_hash(rng: np.random.Generator, n: int, m: int) -> Hash:
    """``m`` random parity constraints on ``n`` binaries: each binary in each with
    probability 1/2, and a uniform parity bit each."""
    return rng.integers(0, 2, size=(m, n)).astype(bool), rng.integers(0, 2, size=m)


def in_cell(bits: NDArray[np.bool_], rows: NDArray[np.bool_],
            parities: NDArray[np.int64]) -> NDArray[np.bool_]:
    """Which patterns (rows of ``bits``, the unstable units' binaries) satisfy every constraint."""
    return np.all((bits.astype(np.int64) @ rows.T.astype(np.int64)) % 2 == parities, axis=1)


def count_cell(network: ReLUNetwork, bounds: Bounds, rows: NDArray[np.bool_],
               parities: NDArray[np.int64], time_limit: float | None = None,
               ) -> tuple[RegionCount, NDArray[np.bool_]]:
    """The regions whose pattern satisfies the constraints, by the paper's enumeration
    with one linear parity row per constraint; the patterns are of the unstable units."""
    from pyscipopt import quicksum

    start = time.perf_counter()
    nm = build_network_model(network, bounds, counting=True)
    milp_enum._enumeration_search(nm.model)
    z = [var for _, var in nm.binaries]
    for r, (row, parity) in enumerate(zip(rows, parities, strict=True)):
        support = np.flatnonzero(row)
        t = nm.model.addVar(f"parity{r}", vtype="I", lb=0, ub=len(support) // 2)
        nm.model.addCons(quicksum(z[i] for i in support) - 2 * t == int(parity))
    count, patterns = milp_enum.run_enumeration(nm, start=start, time_limit=time_limit)
    units = [unit for unit, _ in nm.binaries]
    return count, patterns[:, units]


def exact_patterns(network: ReLUNetwork, bounds: Bounds, units: list[int],
                   time_limit: float | None) -> tuple[RegionCount, NDArray[np.bool_]]:
    """The compiled exact count (one process) and its patterns on ``units``."""
    import tempfile
    from pathlib import Path

    from reluscope.regions.patterns import read_patterns

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "patterns.npy"
        count = reluscope.count_regions(network, bounds=bounds, method="lp", n_jobs=1,
                                        time_limit=time_limit, estimate_rest=False,
                                        patterns_path=path)
        patterns = read_patterns(path, network.n_units)[:, units]
    return count, patterns


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--net", required=True)
    parser.add_argument("--hashes", type=int, nargs="+", default=[4, 7],
                        help="numbers m of parity constraints to draw")
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--epsilon", type=float, default=0.8)
    parser.add_argument("--delta", type=float, default=0.2)
    parser.add_argument("--time-limit", type=float, default=1800.0)
    parser.add_argument("--milp", action="store_true",
                        help="also time the paper's MILP enumeration of every region")
    args = parser.parse_args()
    net = reluscope.load(args.net)
    bounds = tighten_bounds(net, method="lp")
    units = [unit for unit, _ in build_network_model(net, bounds, counting=True).binaries]
    exact, patterns = exact_patterns(net, bounds, units, args.time_limit)
    if not exact.exact:
        raise SystemExit(f"the exact count did not finish in {args.time_limit} s")
    thresh = approxmc_threshold(args.epsilon)
    t = approxmc_measurements(args.delta)
    print(f"{args.net}: {exact.regions:,} regions, {len(units)} binaries; exact count "
          f"(compiled search, one process) {exact.seconds:.1f} s")
    if args.milp:
        full, _ = count_cell(net, bounds, np.zeros((0, len(units)), dtype=bool),
                             np.zeros(0, dtype=np.int64), args.time_limit)
        print(f"the paper's MILP enumeration: {full.regions:,} regions, {full.status}, "
              f"{full.seconds:.1f} s, {full.nodes:,} nodes")
    print(f"ApproxMC, epsilon {args.epsilon}, delta {args.delta}: threshold {thresh}, "
          f"{t} measurements; the cells it counts have m near "
          f"{math.log2(max(exact.regions / thresh, 1)):.1f}")
    print("| m | seed | cell (regions) | expected 2^-m of the count | seconds "
          "| share of the exact count's time | SCIP nodes |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for m in args.hashes:
        for seed in range(args.seeds):
            rows, parities = dense_hash(np.random.default_rng([m, seed]), len(units), m)
            cell, _ = count_cell(net, bounds, rows, parities, args.time_limit)
            oracle = int(in_cell(patterns, rows, parities).sum())
            if not cell.exact or cell.regions != oracle:
                raise SystemExit(f"m={m} seed={seed}: cell count {cell.regions} ({cell.status}) "
                                 f"against {oracle} patterns of the exact count")
            print(f"| {m} | {seed} | {cell.regions} | {exact.regions / 2**m:.1f} | "
                  f"{cell.seconds:.1f} | {cell.seconds / exact.seconds:.2f} | {cell.nodes:,} |",
                  flush=True)


if __name__ == "__main__":
    main()
