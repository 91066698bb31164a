"""LEO on MNIST (CPAIOR 2020 table setting): L1-trained 2-hidden-layer networks, compressed.

For every width (n;n;10, linear output unless --output-relu) and L1 strength: train with
``--recipe`` (default: the authors' recipe, SGD for 120 epochs; networks cached under
``--out`` with their training record), find stable units with ``single`` (seeded by the
training set) and with ``per-unit`` (the LEO baseline), compress, and print test accuracy
before/after, the share of units removed and the time of both strategies (ratio
per-unit / single, same script, same machine). Both strategies must find the same units.

Quick smoke run (scikit-learn digits, seconds)::

    .venv/bin/python benchmarks/bench_leo.py --dataset digits --widths 10 --l1 0,1e-3

The table of docs/bench-leo.md::

    .venv/bin/python benchmarks/bench_leo.py --widths 25,50,100 --l1 0,1e-4,3e-4,5e-4,1e-3

``--plot PNG`` draws units removed and test accuracy against L1 per width from the
rows in ``--out``/bench_leo.jsonl (no training), beside the paper's ranges.

A row already in ``--out``/bench_leo.jsonl (same dataset, width, L1, seed, recipe, output
layer and epochs) is skipped, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from reluscope.compression import compress
from reluscope.experiments.training import DEFAULT_RECIPE, RECIPES, accuracy, train_network
from reluscope.io import load, save


def _data(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    if name == "mnist":
        from reluscope.experiments.mnist import load_mnist

        x, y = load_mnist(split="train")
        xt, yt = load_mnist(split="test")
    else:
        from reluscope.experiments.mnist import load_digits_dataset

        x, y = load_digits_dataset(split="train")
        xt, yt = load_digits_dataset(split="test")
    return x, y, xt, yt


def plot_rows(rows: list[dict], path: Path, recipe: str) -> None:
    """Units removed (%) and test accuracy against L1, one line per width."""
    from reluscope.experiments.paper import PAPER_LEO
    from reluscope.plotting import pyplot

    plt = pyplot()
    rows = [r for r in rows if r.get("recipe", "adam") == recipe]
    l1_values = sorted({r["l1"] for r in rows})
    position = {v: i for i, v in enumerate(l1_values)}  # L1 = 0 has no place on a log axis
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for width in sorted({r["width"] for r in rows}):
        mine = sorted((r for r in rows if r["width"] == width), key=lambda r: r["l1"])
        xs = [position[r["l1"]] for r in mine]
        left.plot(xs, [r["removed_percent"] for r in mine], "o-", label=f"{width};{width};10")
        right.plot(xs, [100 * r["test_accuracy_before"] for r in mine], "o-",
                   label=f"{width};{width};10")
    lo, hi = PAPER_LEO.removed_percent
    left.axhspan(lo, hi, color="0.85", zorder=0, label=f"paper, with L1: {lo:.0f}-{hi:.0f}%")
    a_lo, a_hi = PAPER_LEO.accuracy_percent
    right.axhspan(a_lo, a_hi, color="0.85", zorder=0,
                  label=f"paper, with L1: {a_lo}-{a_hi}%")
    for ax, title in ((left, "units removed by LEO (%)"), (right, "test accuracy (%)")):
        ax.set_xticks(range(len(l1_values)), [f"{v:g}" for v in l1_values])
        ax.set_xlabel("L1 weight (l1 * sum|W| added to the batch-mean loss)")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"LEO on MNIST, recipe {recipe!r}, stability proven on [0,1]^784")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=("mnist", "digits"), default="mnist")
    parser.add_argument("--widths", default="25,50,100")
    parser.add_argument("--l1", default="0,1e-4,3e-4,5e-4,1e-3")
    parser.add_argument("--recipe", choices=sorted(RECIPES), default="authors",
                        help=f"training recipe (default: authors; the library's default is "
                        f"{DEFAULT_RECIPE})")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--epochs", type=float, default=None, help="default: the recipe's")
    parser.add_argument("--time-limit", type=float, default=600.0, help="per strategy, seconds")
    parser.add_argument("--out", default="results/leo")
    parser.add_argument(
        "--output-relu", action="store_true",
        help="ReLU on the output layer too (default: linear output, softmax loss)",
    )
    parser.add_argument("--plot", metavar="PNG",
                        help="only draw the rows of --out/bench_leo.jsonl into PNG")
    args = parser.parse_args()
    out = Path(args.out)
    if args.plot:
        from reluscope.experiments.records import read_jsonl

        plot_rows(read_jsonl(out / "bench_leo.jsonl"), Path(args.plot), args.recipe)
        return
    out.mkdir(parents=True, exist_ok=True)
    x, y, xt, yt = _data(args.dataset)
    epochs = RECIPES[args.recipe].epochs if args.epochs is None else args.epochs
    done = set()
    log = out / "bench_leo.jsonl"
    if log.exists():
        for line in log.read_text().splitlines():
            r = json.loads(line)
            done.add((r.get("dataset"), r.get("width"), r.get("l1"), r.get("seed"),
                      r.get("recipe", "adam"), r.get("output_relu", False), r.get("epochs")))
    rows = []
    header = (
        f"{'width':>5} {'l1':>7} {'seed':>4} {'acc before':>10} {'acc after':>9} "
        f"{'removed':>8} {'widths after':>14} {'single s':>9} {'per-unit s':>10} "
        f"{'ratio':>6} {'same':>5} {'max|diff|':>9} {'train s':>8}"
    )
    print(header, flush=True)
    for width in [int(w) for w in args.widths.split(",")]:
        for l1 in [float(v) for v in args.l1.split(",")]:
            for seed in [int(s) for s in args.seeds.split(",")]:
                key = (args.dataset, width, l1, seed, args.recipe, bool(args.output_relu),
                       float(epochs))
                if key in done:
                    continue
                tag = "relu" if args.output_relu else "lin"
                stem = f"{args.dataset}_{width}_{l1:g}_{seed}_{tag}_{args.recipe}_{epochs:g}ep"
                path = out / f"{stem}.npz"
                if path.exists():
                    net = load(path)
                    training = json.loads((out / f"{stem}.json").read_text())
                else:
                    trained = train_network(
                        x, y, (width, width, 10), recipe=args.recipe, l1=l1,
                        random_state=seed, output_relu=args.output_relu, epochs=epochs,
                        x_test=xt, y_test=yt,
                    )
                    net = trained.network
                    save(net, path)
                    training = trained.to_dict()
                    (out / f"{stem}.json").write_text(json.dumps(training, indent=1))
                t0 = time.perf_counter()
                single = compress(
                    net,
                    strategy="single",
                    samples=x,
                    time_limit=args.time_limit,
                    verify="sample",
                    random_state=seed,
                )
                t1 = time.perf_counter()
                per_unit = compress(
                    net, strategy="per-unit", time_limit=args.time_limit, verify="none"
                )
                t2 = time.perf_counter()
                same = all(
                    np.array_equal(a, b)
                    for a, b in zip(
                        single.stable.active + single.stable.inactive,
                        per_unit.stable.active + per_unit.stable.inactive,
                        strict=True,
                    )
                )
                acc_before = accuracy(net, xt, yt)
                acc_after = accuracy(single.network, xt, yt)
                row = {
                    "dataset": args.dataset,
                    "width": width,
                    "l1": l1,
                    "seed": seed,
                    "recipe": args.recipe,
                    "output_relu": bool(args.output_relu),
                    "epochs": float(epochs),
                    "train_seconds": training["seconds"],
                    "test_accuracy_before": acc_before,
                    "test_accuracy_after": acc_after,
                    "units_before": single.units_before,
                    "units_after": single.units_after,
                    "removed_percent": 100.0 * single.removed_fraction,
                    "widths_after": list(single.widths_after),
                    "single_seconds": t1 - t0,
                    "single_stability_seconds": single.stability_seconds,
                    "single_complete": single.complete,
                    "single_milp_solves": single.stable.milp_solves,
                    "per_unit_seconds": t2 - t1,
                    "per_unit_stability_seconds": per_unit.stability_seconds,
                    "per_unit_complete": per_unit.complete,
                    "per_unit_milp_solves": per_unit.stable.milp_solves,
                    "per_unit_units_after": per_unit.units_after,
                    "same_stable_units": same,
                    "max_abs_diff": single.max_abs_diff,
                    "relative_diff": single.equivalence.relative if single.equivalence else None,
                }
                rows.append(row)
                with open(out / "bench_leo.jsonl", "a") as handle:
                    handle.write(json.dumps(row) + "\n")
                ratio = per_unit.stability_seconds / max(single.stability_seconds, 1e-9)
                flag = "" if single.complete and per_unit.complete else " (time limit)"
                print(
                    f"{width:>5} {l1:>7g} {seed:>4} {acc_before:>10.4f} {acc_after:>9.4f} "
                    f"{row['removed_percent']:>7.1f}% {str(tuple(single.widths_after)):>14} "
                    f"{single.stability_seconds:>9.1f} {per_unit.stability_seconds:>10.1f} "
                    f"{ratio:>6.1f} {str(same):>5} {single.max_abs_diff:>9.2g} "
                    f"{training['seconds']:>8.1f}{flag}",
                    flush=True,
                )
    if rows:
        ratios = [r["per_unit_stability_seconds"] / max(r["single_stability_seconds"], 1e-9)
                  for r in rows]
        print(f"median speedup of single over per-unit: {float(np.median(ratios)):.1f}x")


if __name__ == "__main__":
    main()
