"""Figures 2 and 3 of the paper from the flat rows of :mod:`reluscope.experiments.tables`.

matplotlib is imported lazily, with the non-interactive Agg backend. Files are PNG,
small enough to commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from reluscope.experiments.paper import PAPER_SMALL_ETA
from reluscope.experiments.tables import (
    ESTIMATED,
    FIG3_MIN_WIDTH,
    MIN_REGRESSION_POINTS,
    figure3_members,
    figure3_series,
    per_split_summary,
    regressions,
    timing_pairs,
    within_split,
    within_split_points,
)
from reluscope.plotting import pyplot

_COLORS = {2: "tab:blue", 3: "tab:orange", 4: "tab:green", 5: "tab:red"}


def _color(k: int) -> str:
    return _COLORS.get(k, "tab:purple")


def figure2_top(rows: list[dict[str, Any]], xor_sizes: Sequence[int], path: Path) -> None:
    """Means per split of ConfUB, EmpUB, exact count, the count exact or estimated (with
    its interval) and XOR-k LBs, log scale."""
    plt = pyplot()
    summary = per_split_summary(rows, xor_sizes)
    labels = [f"{s['n1']};{s['n2']}" for s in summary]
    x = np.arange(len(summary))
    fig, ax = plt.subplots(figsize=(10, 4.5))

    def series(name: str) -> np.ndarray:
        return np.array([np.nan if s[name] is None else s[name] for s in summary], float)

    ax.plot(x, series("configuration_ub"), "k--", marker="s", label="Configuration UB")
    ax.plot(x, series("empirical_ub"), "k-", marker="^", label="Empirical UB")
    ax.plot(x, series("exact_regions"), color="gray", lw=3, marker="o",
            label="exact count (finished networks)")
    partial = [i for i, s in enumerate(summary) if s["exact_networks"] < s["networks"]
               and s["proven_regions"] is not None]
    if partial:
        ax.scatter(x[partial], series("proven_regions")[partial], facecolors="none",
                   edgecolors="gray", marker="v", s=40,
                   label="count proven before the time limit (lower bound)")
    estimated = series("estimated_regions")
    has_estimates = not np.all(np.isnan(estimated))
    if has_estimates:
        ax.errorbar(x, estimated, yerr=[estimated - series("estimated_low"),
                                        series("estimated_high") - estimated],
                    color="tab:purple", marker="D", ms=4, lw=1.2, capsize=3,
                    label="exact or tree-estimated count\n(mean of the 95% intervals' ends)")
    for k in xor_sizes:
        if all(s[f"xor{k}_lb"] is None for s in summary):
            continue
        per_split = sorted({sum(1 for r in rows if (r["n1"], r["n2"]) == (s["n1"], s["n2"])
                                and r.get(f"xor{k}_lb") is not None) for s in summary} - {0})
        how_many = ("" if not per_split else
                    f", {per_split[0]}" + (f"-{per_split[-1]}" if len(per_split) > 1 else "")
                    + " network(s) per split")
        ax.plot(x, series(f"xor{k}_lb"), color=_color(k), marker=".",
                label=f"XOR-{k} LB (95%{how_many})")
    ax.set_yscale("log", base=2)
    ax.set_xticks(x, labels, rotation=60, fontsize=8)
    ax.set_xlabel("widths n1;n2 (output layer: 10)")
    ax.set_ylabel("linear regions (mean over networks)")
    ax.set_title("Figure 2 (top): bounds vs exact count"
                 + (" and tree estimates" if has_estimates else ""))
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(alpha=0.3)
    _save(plt, fig, path)


def _save(plt: Any, fig: Any, path: Path) -> None:
    """Lay out, write and release a figure (every figure here is saved the same way)."""
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def figure2_bottom(rows: list[dict[str, Any]], xor_sizes: Sequence[int],
                   path: Path) -> tuple[str, ...]:
    """Seconds of exact counting and of MIPBound vs the count (both include the bounds).

    Left: networks whose exact count finished, at their count, with the paper's
    small / large line (eta = log2 regions = 12). Right: networks whose count was cut
    short, at the regions proven before the limit (a lower bound on the count), and
    their tree estimates at the estimated count. A run cut short at its time limit
    (hollow) gives a lower bound on its time, not a time.
    Returns the legend's entries."""
    plt = pyplot()
    fig, (done, cut) = plt.subplots(1, 2, figsize=(12, 4.8), sharey=True)
    counted = [r for r in rows if r["exact_regions"] is not None
               and r["exact_seconds"] is not None]
    hollow = "cut short at the time limit"
    for ax, complete in ((done, True), (cut, False)):
        group = [r for r in counted if bool(r["exact_complete"]) == complete]
        ax.grid(alpha=0.3)
        if not group:
            ax.text(0.5, 0.5, "no network", ha="center", va="center",
                    transform=ax.transAxes, color="0.4")
            continue
        x = [r["exact_regions"] for r in group]

        def base(r: dict[str, Any]) -> float:
            return r["bounds_seconds"] or 0.0

        seconds = [base(r) + r["exact_seconds"] for r in group]
        if complete:
            ax.scatter(x, seconds, color="k", marker="o", s=18, label="exact, LP engine")
        else:
            ax.scatter(x, seconds, facecolors="none", edgecolors="k", marker="o", s=18,
                       label=f"exact, LP engine, {hollow}")
        for finished in (True, False):
            milp = [r for r in group if r.get("milp_seconds") is not None
                    and bool(r["milp_complete"]) == finished]
            if milp:
                ax.scatter([r["exact_regions"] for r in milp],
                           [base(r) + r["milp_seconds"] for r in milp],
                           marker="s", s=40, color="0.45" if finished else None,
                           facecolors=None if finished else "none", edgecolors="0.3",
                           linewidths=1.2,
                           label="exact, MILP (paper's method)"
                           + ("" if finished else f", {hollow}"))
        if not complete:
            _tree_estimates(ax, group)
        for k in xor_sizes:
            pts = [(r["exact_regions"], base(r) + r[f"xor{k}_seconds"])
                   for r in group if r.get(f"xor{k}_seconds") is not None]
            if pts:
                a, b = np.array(pts, float).T
                ax.scatter(a, b, color=_color(k), marker="D", s=14,
                           label=f"XOR-{k} (bounds + MIPBound)")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
    limit = 2.0 ** PAPER_SMALL_ETA
    done.axvline(limit, color="0.5", ls=":", lw=1)
    pairs = timing_pairs(rows, xor_sizes)
    n_large = sum(1 for p in pairs if p["large"])
    done.text(limit, 1.02, f"small | large (eta = {PAPER_SMALL_ETA})",
              transform=done.get_xaxis_transform(), ha="center", fontsize=8, color="0.3")
    done.set_title(f"finished counts ({sum(1 for r in counted if r['exact_complete'])} "
                   f"networks; timed both ways: {len(pairs) - n_large} small, {n_large} large)",
                   fontsize=9, pad=14)
    done.set_xlabel("number of regions (exact count)")
    done.set_ylabel("seconds (MILP bounds included)")
    cut.set_title(f"counts cut short ({sum(1 for r in counted if not r['exact_complete'])} "
                  "networks)", fontsize=9, pad=14)
    cut.set_xlabel("regions proven before the count's time limit (a lower bound)"
                   + (";\ntree estimates at their estimated count"
                      if any(r.get("tree_estimate") is not None for r in counted) else ""))
    handles: dict[str, Any] = {}
    for ax in (done, cut):
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, handle)
    order = sorted(handles, key=lambda label: (not label.startswith("exact, LP"),
                                               not label.startswith("exact"), label))
    fig.legend([handles[label] for label in order], order, fontsize=7, loc="lower center",
               ncol=3, frameon=False)
    fig.suptitle("Figure 2 (bottom): approximation vs exact counting time")
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return tuple(order)


def _tree_estimates(ax: Any, rows: list[dict[str, Any]]) -> None:
    """The tree estimates among ``rows``: time (bounds + estimate) at the estimated
    count, its 95% interval as a horizontal bar."""
    trees = [r for r in rows if r.get("tree_estimate") is not None
             and r.get("tree_seconds") is not None]
    if trees:
        est = np.array([r["tree_estimate"] for r in trees], float)
        ax.errorbar(est, [(r["bounds_seconds"] or 0.0) + r["tree_seconds"] for r in trees],
                    xerr=[est - [r["tree_ci_low"] for r in trees],
                          np.array([r["tree_ci_high"] for r in trees], float) - est],
                    fmt="^", color="tab:purple", ms=5, lw=0.8, capsize=2,
                    label="tree estimate (bounds + estimate), at the estimated count "
                          "with its 95% interval")


def figure3(rows: list[dict[str, Any]], xor_sizes: Sequence[int], path: Path) -> None:
    """Test accuracy vs log2 count: exact (black) and APP-k (colours), with the report's
    regression lines (drawn from MIN_REGRESSION_POINTS networks on); left every network
    pooled, right the deviations from each split's means (architecture taken out)."""
    plt = pyplot()
    fig, (pooled, within) = plt.subplots(1, 2, figsize=(11, 4.5))
    pts = {name: values for name, values in figure3_series(rows, xor_sizes).items() if values}
    lines = regressions(rows, xor_sizes)
    members = figure3_members(rows, xor_sizes)
    extremes: list[tuple[float, float, tuple[int, int]]] = []
    for name, values in pts.items():
        color = {"exact": "k", ESTIMATED: "0.55"}.get(name) or _color(int(name.split("-")[1]))
        # the exact counts are also in the estimated series: drawn as rings around them
        style = (dict(facecolors="none", edgecolors=color, s=36) if name == ESTIMATED
                 else dict(color=color, s=12))
        line = lines.get(name)
        a, c = np.array([(acc, cnt) for acc, cnt, _ in values], float).T
        label = (f"{name}: {len(values)} networks, {len(members['splits'][name])} splits"
                 + ("" if line is None else f", r = {line['pearson_r']:.2f}, "
                    f"rho = {line['spearman_rho']:.2f}"))
        pooled.scatter(a, c, label=label, **style)
        if line is not None and line["points"] >= MIN_REGRESSION_POINTS:
            grid = np.linspace(a.min(), a.max(), 2)
            pooled.plot(grid, line["slope"] * grid + line["intercept"], color=color, lw=1)
        dev = within_split(values)
        extremes += [p for p in within_split_points(values)]
        if dev:
            da, dc = np.array(dev, float).T
            within.scatter(da, dc, **style, label=(
                name if line is None or not line["within_points"] else
                f"{name}: r = {line['within_r']:.2f}, rho = {line['within_spearman']:.2f}"))
            if line is not None and line["within_points"] >= MIN_REGRESSION_POINTS:
                grid = np.linspace(da.min(), da.max(), 2)
                within.plot(grid, line["within_slope"] * grid, color=color, lw=1)
    every = [p for values in pts.values() for p in values]
    if every:  # name the split of the least accurate network (it anchors the lines)
        acc, cnt, (n1, n2) = min(every)
        pooled.annotate(f"{n1};{n2}", (acc, cnt), textcoords="offset points", xytext=(8, -3),
                        ha="left", fontsize=8, color="0.3")
    if extremes:  # name the splits of the two points furthest out in accuracy
        for da, dc, (n1, n2) in (min(extremes), max(extremes)):
            within.annotate(f"{n1};{n2}", (da, dc), textcoords="offset points",
                            xytext=(0, 6), ha="center", fontsize=8, color="0.3")
    pooled.set_xlabel("test accuracy")
    pooled.set_ylabel("log2 number of regions")
    pooled.set_title(f"every network (hidden widths >= {FIG3_MIN_WIDTH})", fontsize=10)
    within.set_xlabel("test accuracy minus its split's mean")
    within.set_ylabel("log2 regions minus its split's mean")
    within.set_title("within splits (splits with >= 2 networks)", fontsize=10)
    for ax in (pooled, within):
        if ax.collections:
            ax.legend(fontsize=7)
        else:
            ax.text(0.5, 0.5, "no network to show" if ax is pooled
                    else "no split with 2 or more networks",
                    ha="center", va="center", transform=ax.transAxes, color="0.4")
        ax.xaxis.set_major_locator(plt.MaxNLocator(6))
        ax.grid(alpha=0.3)
    common = len(members["common"]) if members["keys"] else 0
    fig.suptitle("Figure 3: accuracy vs number of regions (exact: black; estimated: grey "
                 "rings; APP-k: colours; "
                 f"{common} networks are in every series)", fontsize=11)
    _save(plt, fig, path)


def make_figures(out_dir: Path, rows: list[dict[str, Any]],
                 xor_sizes: Sequence[int]) -> tuple[str, ...]:
    """Write the three figures into ``out_dir``; return their file names."""
    names = ("figure2_top.png", "figure2_bottom.png", "figure3.png")
    figure2_top(rows, xor_sizes, out_dir / names[0])
    figure2_bottom(rows, xor_sizes, out_dir / names[1])
    figure3(rows, xor_sizes, out_dir / names[2])
    return names


__all__ = ["figure2_bottom", "figure2_top", "figure3", "make_figures"]
