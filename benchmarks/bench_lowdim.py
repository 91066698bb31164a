"""Low input dimension: reluscope's geometric and lp engines against edge subdivision.

Usage::

    PYTHONPATH=src python benchmarks/bench_lowdim.py [--edge-subdivision DIR] [--repeats 3]
        [--only 3;32;32;16 | --only none] [--lp-limit 120] [--no-lp] [--mnist-slices N]

``DIR`` is a checkout of https://github.com/arturs-berzins/relu_edge_subdivision (the
files ``edge_subdivision.py``, ``NN.py``, ``utils.py``); without it that column is
skipped with a message. Edge subdivision is never a dependency of reluscope: the script
imports it from ``DIR`` only. Every network is a ``NN.Net``-style MLP with PyTorch's
default initialisation (seeded), every layer (the last included) cutting the input
space, on the box ``[-1, 1]^d``: the object both tools enumerate. Tools alternate
within each repetition; times are wall seconds of the call (reluscope: the whole
``count_regions``; edge subdivision: ``skeletal_subdivision`` in float32, its default,
on the CPU). Edge subdivision returns vertices and edges; its regions are counted
afterwards (the distinct sign vectors of the cells around each vertex), untimed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from reluscope import ReLUNetwork, count_regions

NETWORKS = [
    "2;16;16;8", "2;32;32;16", "2;64;64;32",
    "3;16;16;8", "3;32;32;16", "3;64;32",
    "4;16;16;8", "4;32;32;16",
    "5;16;16;8", "6;16;16;8",
]


def torch_layers(spec: str, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Weights and biases of ``torch.nn.Linear`` layers with their default init."""
    import torch

    sizes = [int(v) for v in spec.split(";")]
    torch.manual_seed(seed)
    layers = [torch.nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
    return [(lin.weight.detach().double().numpy(), lin.bias.detach().double().numpy())
            for lin in layers]


def to_reluscope(layers: list[tuple[np.ndarray, np.ndarray]]) -> ReLUNetwork:
    weights = [w for w, _ in layers]
    biases = [b for _, b in layers]
    return ReLUNetwork(weights, biases, relu=[True] * len(layers), lower=-1.0, upper=1.0)


def load_edge_subdivision(path: str | None):  # type: ignore[no-untyped-def]
    if path is None:
        print("edge subdivision: skipped (give --edge-subdivision DIR, a checkout of "
              "arturs-berzins/relu_edge_subdivision)")
        return None
    root = Path(path)
    if not (root / "edge_subdivision.py").exists():
        print(f"edge subdivision: skipped ({root}/edge_subdivision.py not found)")
        return None
    sys.path.insert(0, str(root))
    import edge_subdivision  # type: ignore[import-not-found]
    import NN  # type: ignore[import-not-found]

    return edge_subdivision, NN


def es_net(NN, layers):  # type: ignore[no-untyped-def]
    import torch

    sizes = [layers[0][0].shape[1]] + [w.shape[0] for w, _ in layers]
    net = NN.Net(ks=sizes)
    with torch.no_grad():
        for lin, (w, b) in zip(net.fcs, layers, strict=True):
            lin.weight.copy_(torch.tensor(w, dtype=torch.float32))
            lin.bias.copy_(torch.tensor(b, dtype=torch.float32))
    return net


def es_regions(v_sv, d: int) -> int:  # type: ignore[no-untyped-def]
    """Cells of the complex: the sign vectors around every vertex, deduplicated."""
    units = v_sv[:, 2 * d:].numpy().astype(np.int8)
    zero = units == 0
    order = np.argsort(~zero, axis=1, kind="stable")[:, :d]
    nzero = zero.sum(axis=1)
    keys = []
    for combo in range(1 << d):
        signs = units.copy()
        for j in range(d):
            rows = np.flatnonzero(nzero > j)
            signs[rows, order[rows, j]] = 1 if (combo >> j) & 1 else -1
        keys.append(np.packbits(signs > 0, axis=1))
    packed = np.ascontiguousarray(np.vstack(keys))
    return int(np.unique(packed.view(np.dtype((np.void, packed.shape[1])))).shape[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--edge-subdivision", metavar="DIR")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", action="append", help="network spec(s) to run")
    parser.add_argument("--lp-limit", type=float, default=120.0,
                        help="time limit of each lp count (s)")
    parser.add_argument("--no-lp", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--mnist-slices", type=int, default=0, metavar="N",
                        help="also N 2-D slices of an MNIST 784;100;100;10 network")
    parser.add_argument("--torch-threads", type=int, default=1,
                        help="threads of edge subdivision (reluscope counts in one)")
    args = parser.parse_args()
    es = load_edge_subdivision(args.edge_subdivision)
    if es is not None:
        import torch

        torch.set_num_threads(args.torch_threads)
    warm = to_reluscope(torch_layers("2;4;4", 0))
    count_regions(warm, method="geometric")  # load (or compile) the kernels first
    count_regions(warm, method="lp", n_jobs=1)
    print("| network | geometric regions (+thin) | lp regions | edge subdivision cells |"
          " geometric s | lp s | edge subdivision s | ES / geometric |")
    print("|---|---|---|---|---:|---:|---:|---:|")
    for spec in [] if args.only == ["none"] else args.only or NETWORKS:
        layers = torch_layers(spec, args.seed)
        net = to_reluscope(layers)
        d = net.n_inputs
        t_geo, t_lp, t_es = [], [], []
        geo = lp = None
        es_count = None
        for rep in range(args.repeats):
            t = time.perf_counter()
            geo = count_regions(net, method="geometric")
            t_geo.append(time.perf_counter() - t)
            if es is not None:
                import torch

                f = es_net(es[1], layers)
                with torch.no_grad():
                    t = time.perf_counter()
                    _, _, v_sv = es[0].skeletal_subdivision(f, bbox=(-1, 1), device="cpu",
                                                            verbose=False)
                    t_es.append(time.perf_counter() - t)
                if rep == 0:
                    es_count = es_regions(v_sv, d)
            if not args.no_lp and rep == 0:
                t = time.perf_counter()
                lp = count_regions(net, method="lp", n_jobs=1, time_limit=args.lp_limit)
                t_lp.append(time.perf_counter() - t)
        assert geo is not None
        lp_txt = "-" if lp is None else f"{lp.regions:,}" + ("" if lp.exact else " (limit)")
        es_txt = "-" if es_count is None else f"{es_count:,}"
        ratio = f"{min(t_es) / min(t_geo):.1f}x" if t_es else "-"
        print(f"| {spec} | {geo.regions:,} (+{geo.thin_cells}) | {lp_txt} | {es_txt} | "
              f"{_span(t_geo)} | {_span(t_lp)} | {_span(t_es)} | {ratio} |", flush=True)
    if args.mnist_slices:
        mnist_slices(args, es)


def mnist_slices(args: argparse.Namespace, es) -> None:  # type: ignore[no-untyped-def]
    """2-D slices of a 784;100;100;10 MNIST network (ReLU on every layer, trained here
    for one epoch with reluscope's default recipe): the slice through ``c/4``,
    ``c/4 + a/4``, ``c/4 + b/4`` for test images ``a, b, c`` lies inside ``[0, 1]^784``,
    so the 2-input composed network on ``[0, 1]^2`` is the same object for every tool.
    ``slice_regions`` runs the same geometric engine and also returns every cell's
    polygon and pattern (what ``reluscope slice`` draws and writes)."""
    from reluscope.experiments.mnist import load_mnist
    from reluscope.experiments.training import train_network
    from reluscope.regions.views.slices import composed_network, slice_regions

    (x_train, y_train), (x_test, y_test) = load_mnist(split="train"), load_mnist(split="test")
    t = time.perf_counter()
    trained = train_network(x_train, y_train, (100, 100, 10), output_relu=True, epochs=1,
                            random_state=args.seed, x_test=x_test, y_test=y_test)
    net = trained.network
    print(f"\nMNIST 784;100;100;10 trained in {time.perf_counter() - t:.0f} s, "
          f"test accuracy {trained.test_accuracy}")
    print("| slice | geometric regions (+thin) | slice_regions regions | edge subdivision cells |"
          " geometric s | slice_regions s | edge subdivision s | ES / geometric |"
          " ES / slice_regions |")
    print("|---|---|---|---|---:|---:|---:|---:|---:|")
    rng = np.random.default_rng(args.seed)
    for k in range(args.mnist_slices):
        a, b, c = x_test[rng.choice(len(x_test), 3, replace=False)]
        origin, directions = c / 4, np.column_stack([a / 4, b / 4])
        points = np.vstack([origin, origin + a / 4, origin + b / 4])
        comp = composed_network(net, origin, directions)
        layers = [(w, bb) for w, bb in zip(comp.weights, comp.biases, strict=True)]
        t_geo, t_sl, t_es = [], [], []
        geo = sl = None
        es_count = None
        for rep in range(args.repeats):
            t = time.perf_counter()
            geo = count_regions(comp, method="geometric")
            t_geo.append(time.perf_counter() - t)
            t = time.perf_counter()
            sl = slice_regions(net, points)
            t_sl.append(time.perf_counter() - t)
            if es is not None:
                import torch

                f = es_net(es[1], layers)
                with torch.no_grad():
                    t = time.perf_counter()
                    _, _, v_sv = es[0].skeletal_subdivision(f, bbox=(0, 1), device="cpu",
                                                            verbose=False)
                    t_es.append(time.perf_counter() - t)
                if rep == 0:
                    es_count = es_regions(v_sv, 2)
        assert geo is not None and sl is not None
        es_txt = "-" if es_count is None else f"{es_count:,}"
        ratio = f"{min(t_es) / min(t_geo):.1f}x" if t_es else "-"
        ratio_sl = f"{min(t_es) / min(t_sl):.1f}x" if t_es else "-"
        print(f"| {k} | {geo.regions:,} (+{geo.thin_cells}) | {sl.regions:,} | {es_txt} | "
              f"{_span(t_geo)} | {_span(t_sl)} | {_span(t_es)} | {ratio} | {ratio_sl} |",
              flush=True)


def _span(times: list[float]) -> str:
    if not times:
        return "-"
    lo, hi = min(times), max(times)
    return f"{lo:.3f}" if hi < 1.1 * lo else f"{lo:.3f}-{hi:.3f}"


if __name__ == "__main__":
    main()
