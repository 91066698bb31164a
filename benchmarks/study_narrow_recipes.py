"""Can another training recipe produce the paper's Table 1 extremes (21;1;10, 20;2;10)?

The paper closes 98.3% of the gap at 21;1;10 and 44.5% at 20;2;10. By
``reluscope.experiments.gap_analysis`` that needs stable units in the narrow layers or
before them (21;1;10: at most 83.3% with every hidden unit unstable; >= 6 stable
layer-1 units guarantee 98.3%). This script trains the two splits (ReLU on all three
layers, as in the paper) with several recipes, proves stability on ``[0,1]^784`` with
MILP bounds, and prints per network: test accuracy, stable units per layer, both upper
bounds, ``100 (C - E) / C`` (a lower bound on the gap closed that needs no count) and
the exact count the paper's value would need (``x >= C - 100 (C - E) / paper``; exact
counts of these networks are far below it unless the bound is already close)::

    .venv/bin/python benchmarks/study_narrow_recipes.py --splits 21-1,20-2 --seeds 1

Rows are appended to ``--out``/study.jsonl (one line per network, resumable) and
printed as a Markdown table. Figures in docs/reproduce.md.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import reluscope
from reluscope.experiments.mnist import load_mnist
from reluscope.experiments.paper import PAPER_TABLE1
from reluscope.experiments.records import read_jsonl
from reluscope.experiments.training import RECIPES, train_network

#: name -> train_network options (output_relu=True is added: the paper's networks)
VARIANTS: dict[str, dict[str, Any]] = {
    "adam": {"recipe": "adam"},  # the default: Adam, 20 epochs, aux loss 0.1
    "adam-noaux": {"recipe": "adam", "aux_weight": 0.0},
    "authors": {"recipe": "authors"},
    "authors-lr0.05": {"recipe": "authors", "lr": 0.05},
    "authors-wd5e-4": {"recipe": "authors", "weight_decay": 5e-4},
    "authors-l1-1e-3": {"recipe": "authors", "l1": 1e-3},
    "authors-l1-5e-3": {"recipe": "authors", "l1": 5e-3},
}


def _needed(count: int | None) -> str:
    """The count the paper's value needs; "any" when the bound alone reaches it."""
    if count is None:
        return "–"
    return "any (the bound alone)" if count <= 1 else f"{count:,}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", default="21-1,20-2")
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--variants", default=",".join(VARIANTS),
                        help="comma-separated names of VARIANTS")
    parser.add_argument("--epochs", type=float, default=None, help="default: the recipe's")
    parser.add_argument("--bounds-time-limit", type=float, default=1.0)
    parser.add_argument("--out", default="results/narrow_recipes")
    args = parser.parse_args()
    names = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in names if v not in VARIANTS]
    if unknown:
        parser.error(f"unknown variants {unknown}; known: {list(VARIANTS)}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log = out / "study.jsonl"
    done = {(r["n1"], r["n2"], r["variant"], r["seed"], r["epochs"]) for r in read_jsonl(log)}
    x, y = load_mnist(split="train")
    xt, yt = load_mnist(split="test")
    splits = [tuple(int(v) for v in s.split("-")) for s in args.splits.split(",")]
    print("| widths | recipe | seed | test acc. | stable act/inact per layer | ConfUB | EmpUB "
          "| gap closed >= | paper | count needed for the paper's value | train s |")
    print("|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|")
    for n1, n2 in splits:
        for name in names:
            for seed in range(args.seeds):
                options = dict(VARIANTS[name])
                if args.epochs is not None:
                    options["epochs"] = args.epochs
                epochs = float(options.get("epochs", RECIPES[options["recipe"]].epochs))
                if (n1, n2, name, seed, epochs) in done:
                    continue
                trained = train_network(x, y, (n1, n2, 10), output_relu=True,
                                        random_state=1000 * n1 + seed, x_test=xt, y_test=yt,
                                        **options)
                net = trained.network
                bounds = reluscope.tighten_bounds(net, method="milp",
                                                  solve_time_limit=args.bounds_time_limit)
                active = [int(bounds.stably_active(i).sum()) for i in net.relu_layers]
                inactive = [int(bounds.stably_inactive(i).sum()) for i in net.relu_layers]
                ub = reluscope.upper_bounds(net, bounds=bounds)
                conf, emp = ub.configuration_ub, ub.empirical_ub
                paper = PAPER_TABLE1.get(n1) if n1 + n2 == 22 else None
                needed = (math.ceil(conf - 100.0 * (conf - emp) / paper)
                          if paper else None)
                row = {"n1": n1, "n2": n2, "variant": name, "seed": seed, "epochs": epochs,
                       "options": options, "test_accuracy": trained.test_accuracy,
                       "stably_active": active, "stably_inactive": inactive,
                       "bounds_exact": bool(bounds.exact),
                       "configuration_ub": conf, "empirical_ub": emp,
                       "gap_closed_at_least": 100.0 * (conf - emp) / conf,
                       "paper_gap_closed": paper, "count_needed": needed,
                       "train_seconds": trained.seconds}
                with open(log, "a") as handle:
                    handle.write(json.dumps(row) + "\n")
                stable = " ".join(f"{a}/{i}" for a, i in zip(active, inactive, strict=True))
                print(f"| {n1};{n2};10 | {name} | {seed} | {trained.test_accuracy:.4f} | "
                      f"{stable} | {conf:,} | {emp:,} | {row['gap_closed_at_least']:.1f} | "
                      f"{paper} | {_needed(needed)} | "
                      f"{trained.seconds:.0f} |", flush=True)


if __name__ == "__main__":
    main()
