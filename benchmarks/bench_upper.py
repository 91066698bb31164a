"""Cost of the Empirical UB (Theorem 2) next to its bounds step, and its growth with width.

1. Two 784;100;100;10 MNIST networks (trained here for one epoch on 12,000 images,
   torch CPU, one thread; without and with an L1 penalty 1e-3, which makes units
   stable): time of the bounds step (the baseline) and of the Empirical UB after it,
   with the default (exact where cheap) and greedy-only coverage; the coverage choice.
2. Random 784;w;w;10 networks (interval bounds, every unit unstable: the hardest case
   for the coverage step) for w = 25..400: time of the Empirical UB, as a ratio to
   w = 25, with the default enumeration budget and greedy only. Polynomial growth shows
   as ratios near (w/25)^2 to (w/25)^3, far from 2^w.
3. The recurrence alone against listing J (the Configuration UB's sum, the closed form
   of Theorem 2 with I = A = n) on 784;n;n;10: DP vs enumeration.

Reproduce docs/bench-upper.md with::

    .venv/bin/python benchmarks/bench_upper.py [--no-train]
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from netgen import random_network  # noqa: E402
from reluscope.bounds import tighten_bounds  # noqa: E402
from reluscope.regions.upper.analytic import configuration_ub  # noqa: E402
from reluscope.regions.upper.empirical import empirical_ub  # noqa: E402


def best_of(fn, repeats: int = 3) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def trained_network(l1: float):
    import torch

    from reluscope.experiments.mnist import load_mnist
    from reluscope.experiments.training import train_network

    torch.set_num_threads(1)
    x, y = load_mnist(split="train")
    x, y = np.array(x[:12_000]), np.array(y[:12_000])
    xt, yt = load_mnist(split="test")
    return train_network(
        x, y, (100, 100, 10), epochs=1, l1=l1, random_state=0,
        x_test=np.array(xt), y_test=np.array(yt),
    )


def part_trained(args: argparse.Namespace) -> None:
    print("== 1. 784;100;100;10 after its bounds step")
    config = configuration_ub(784, (100, 100, 10))
    print(f"Configuration UB log2 = {math.log2(config):.2f}")
    for l1 in (0.0, 1e-3):
        if args.no_train:
            net = random_network(int(l1 * 1e3), 784, (100, 100, 10), bias_scale=0.3)
            print(f"\nrandom network (--no-train), seed {int(l1 * 1e3)}")
        else:
            start = time.perf_counter()
            trained = trained_network(l1)
            net = trained.network
            print(
                f"\ntrained with L1 = {l1:g} in {time.perf_counter() - start:.1f} s, test "
                f"accuracy {trained.test_accuracy:.4f}"
            )
        for method in ("interval", "lp"):
            start = time.perf_counter()
            bounds = tighten_bounds(net, method=method)
            base = time.perf_counter() - start
            t_exact, emp = best_of(lambda b=bounds, n=net: empirical_ub(n, b))
            t_greedy, emp_g = best_of(
                lambda b=bounds, n=net: empirical_ub(n, b, exact_coverage_limit=0)
            )
            act, inact, unst = bounds.count_stable(net)
            print(
                f"bounds {method:>8}: {base:8.3f} s; stably active/inactive, unstable: "
                f"{act}/{inact}, {unst}"
            )
            ratio = f" = {t_exact / base:.4f} x bounds step" if base > 0.01 else ""
            print(
                f"  Empirical UB (default, coverage {','.join(emp.coverage)}): "
                f"{t_exact:.4f} s{ratio}; log2 = {math.log2(emp.value):.2f}"
            )
            print(
                f"  Empirical UB (greedy only, coverage {','.join(emp_g.coverage)}): "
                f"{t_greedy:.4f} s; log2 = {math.log2(emp_g.value):.2f}"
            )


def part_widths() -> None:
    print("\n== 2. random 784;w;w;10, interval bounds (all units unstable)")
    print(f"{'w':>4} {'default s':>10} {'ratio':>7} {'coverage':>18} {'greedy s':>9} {'ratio':>7}"
          f" {'log2 UB':>8}")
    base_d = base_g = None
    for w in (25, 50, 100, 200, 400):
        net = random_network(0, 784, (w, w, 10))
        bounds = tighten_bounds(net, method="interval")
        t_d, emp = best_of(lambda n=net, b=bounds: empirical_ub(n, b))
        t_g, emp_g = best_of(lambda n=net, b=bounds: empirical_ub(n, b, exact_coverage_limit=0))
        base_d = base_d or t_d
        base_g = base_g or t_g
        print(
            f"{w:>4} {t_d:>10.4f} {t_d / base_d:>7.1f} {','.join(emp.coverage):>18} "
            f"{t_g:>9.4f} {t_g / base_g:>7.1f} {math.log2(emp.value):>8.1f}"
        )


def configuration_by_listing(n0, widths):
    total = 0
    for js in itertools.product(*(range(n + 1) for n in widths)):
        if all(j <= min([n0, *(widths[m] - js[m] for m in range(layer))])
               for layer, j in enumerate(js)):
            total += math.prod(math.comb(n, j) for n, j in zip(widths, js, strict=True))
    return total


def part_listing() -> None:
    print("\n== 3. Configuration UB: DP vs listing J (784;n;n;10)")
    print(f"{'n':>4} {'DP s':>9} {'listing s':>10} {'ratio':>8}")
    for n in (10, 20, 40):
        widths = (n, n, 10)
        t_dp, v_dp = best_of(lambda w=widths: configuration_ub(784, w))
        t_list, v_list = best_of(lambda w=widths: configuration_by_listing(784, w), repeats=1)
        assert v_dp == v_list
        print(f"{n:>4} {t_dp:>9.5f} {t_list:>10.4f} {t_list / t_dp:>8.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-train", action="store_true", help="use a random 784;100;100;10")
    args = parser.parse_args()
    part_trained(args)
    part_widths()
    part_listing()


if __name__ == "__main__":
    main()
