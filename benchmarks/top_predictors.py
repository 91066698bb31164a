"""Which cheap feature of a top node predicts the regions below it (issue 24: below a
large exact top, most of a run's spread comes from which top nodes it draws)?

Expands the top of the tree exactly (as ``estimate_count(frontier=F)`` does), counts the
regions below a random sample of its nodes exactly, and scores predictors of those
counts by the variance they leave when top nodes are drawn with probability
proportional to the prediction (with replacement), against drawing them uniformly:

    gain = Var_uniform / Var_pps = (E[y^2] - E[y]^2) / (E[y^2 / p] E[p] - E[y]^2)

Predictors, fitted on 4/5 of the sample and scored on the rest (5 folds, median over
5 shuffles): the library's depth predictor (the geometric mean of the subtree sizes
per depth), and depth plus the log of a radius of the node's polyhedron, either the
distance from its witness point to the nearest hyperplane of its decided units (free),
or its Chebyshev radius (one LP per node) within the input box.

    python benchmarks/top_predictors.py --net runs/est/mnist-9-9-s0.npz --frontier 16384 \
        --sample 800
"""

from __future__ import annotations

import argparse
import threading
import time

import numpy as np
from numpy.typing import NDArray

import reluscope
from reluscope.bounds import tighten_bounds
from reluscope.regions.estimate.probes import Node, Prober, node_of
from reluscope.regions.estimate.tree_estimate import expand_frontier
from reluscope.regions.search.core import PreparedNetwork
from reluscope.regions.search.engine import prepare


def decided_hyperplanes(prep: PreparedNetwork, node: Node) -> tuple[NDArray, NDArray, NDArray]:
    """``(A, c, s)``: the node's decided units as affine functions ``A x + c`` of the input
    on its polyhedron (the local maps at its witness point) and their sides ``s`` (+1
    active, -1 inactive): the polyhedron is ``{x in box: s (A x + c) >= 0}``."""
    x0 = node.points[0]
    h, jac = x0, None  # the input's own map is the identity: layer 1's map is w
    maps, values = [], []
    for w, b in zip(prep.weights, prep.biases, strict=True):
        g, jg = w @ h + b, (w if jac is None else w @ jac)
        maps.append(jg)
        values.append(g)
        active = g > 0
        h, jac = np.where(active, g, 0.0), jg * active[:, None]
    units = node.prefix // 2
    a = np.vstack(maps)[units]
    c = np.concatenate(values)[units] - a @ x0
    return a, c, np.where(node.prefix % 2 == 1, 1.0, -1.0)


def witness_distance(prep: PreparedNetwork, node: Node) -> float:
    """Distance from the witness point to the nearest decided hyperplane."""
    a, c, _ = decided_hyperplanes(prep, node)
    if not len(c):
        return 1.0
    return float(np.min(np.abs(a @ node.points[0] + c) / np.linalg.norm(a, axis=1)))


def chebyshev_radius(prep: PreparedNetwork, node: Node) -> float:
    """The largest ball (centre in the box) on the right side of every decided
    hyperplane: ``max rho`` s.t. ``s (a x + c) >= rho |a|``."""
    from scipy.optimize import linprog

    a, c, s = decided_hyperplanes(prep, node)
    n = a.shape[1]
    a_ub = np.hstack([-s[:, None] * a, np.linalg.norm(a, axis=1)[:, None]])
    cost = np.zeros(n + 1)
    cost[-1] = -1.0
    res = linprog(cost, A_ub=a_ub, b_ub=s * c, method="highs",
                  bounds=[*zip(prep.lower, prep.upper, strict=True), (0, None)])
    return float(res.x[-1]) if res.status == 0 else float("nan")


def variance_gain(prediction: NDArray, y: NDArray) -> float:
    """Var of a uniform draw over Var of a draw proportional to ``prediction``."""
    uniform = np.mean(y**2) - y.mean() ** 2
    return float(uniform / (np.mean(y**2 / prediction) * np.mean(prediction) - y.mean() ** 2))


def depth_predictions(depth: NDArray, log_y: NDArray, extra: NDArray | None,
                      train: NDArray, test: NDArray) -> NDArray:
    """Per-depth geometric mean of the training sizes, plus (with ``extra``) a slope on
    the feature centred per depth."""
    base = np.full(len(log_y), log_y[train].mean())
    feature = None if extra is None else extra.copy()
    for d in np.unique(depth):
        same = train[depth[train] == d]
        if len(same):
            base[depth == d] = log_y[same].mean()
            if feature is not None:
                feature[depth == d] -= extra[same].mean()
    if feature is None:
        return np.exp(base[test])
    slope = float(np.dot(feature[train], log_y[train] - base[train])
                  / max(np.dot(feature[train], feature[train]), 1e-300))
    return np.exp(base[test] + slope * feature[test])


def cross_validated_gain(depth: NDArray, y: NDArray, extra: NDArray | None,
                         folds: int = 5, shuffles: int = 5) -> float:
    log_y = np.log(np.maximum(y, 1.0))
    gains = []
    for seed in range(shuffles):
        order = np.random.default_rng(seed).permutation(len(y))
        prediction = np.empty(len(y))
        for fold in range(folds):
            test = order[fold::folds]
            train = np.setdiff1d(order, test)
            prediction[test] = depth_predictions(depth, log_y, extra, train, test)
        gains.append(variance_gain(prediction, y))
    return float(np.median(gains))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--net", required=True)
    parser.add_argument("--frontier", type=int, default=16384)
    parser.add_argument("--sample", type=int, default=800)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    net = reluscope.load(args.net)
    prep = prepare(net, tighten_bounds(net, method="lp"))
    prober = Prober(prep)
    start = time.perf_counter()
    found, top = expand_frontier(prober, [node_of(prep.root_task())], args.frontier,
                                 float("inf"), threading.Event())
    t_top = time.perf_counter() - start
    picks = np.random.default_rng(args.seed).choice(len(top), min(args.sample, len(top)),
                                                    replace=False)
    sample = [top[i] for i in picks]
    y = np.zeros(len(sample))
    for k, node in enumerate(sample):
        pending = [node]
        while pending:
            regions, rest = prober.count(pending.pop())
            y[k] += regions
            pending.extend(rest)
    depth = np.array([node.depth for node in sample], dtype=float)
    start = time.perf_counter()
    witness = np.log(np.maximum([witness_distance(prep, n) for n in sample], 1e-12))
    t_witness = (time.perf_counter() - start) / len(sample)
    start = time.perf_counter()
    radius = np.log(np.maximum([chebyshev_radius(prep, n) for n in sample], 1e-12))
    t_radius = (time.perf_counter() - start) / len(sample)
    print(f"{args.net}: top of {len(top):,} nodes in {t_top:.1f} s; {len(sample)} sampled, "
          f"regions below each: mean {y.mean():.1f}, CV {y.std() / y.mean():.2f}, "
          f"max {y.max():.0f}; top total about {found + y.mean() * len(top):,.0f}")
    print("| predictor of a top node's regions | variance gain over uniform | cost per node |")
    print("|---|---:|---:|")
    print(f"| depth (the library's) | {cross_validated_gain(depth, y, None):.2f} | none |")
    print(f"| depth + distance of the witness to its nearest hyperplane | "
          f"{cross_validated_gain(depth, y, witness):.2f} | {1e3 * t_witness:.2f} ms |")
    print(f"| depth + Chebyshev radius (LP) | {cross_validated_gain(depth, y, radius):.2f} | "
          f"{1e3 * t_radius:.1f} ms |")


if __name__ == "__main__":
    main()
