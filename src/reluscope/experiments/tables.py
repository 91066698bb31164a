"""The pure arithmetic of the report: per-network rows, Table 1, summaries, regressions.

Functions of plain records and rows only (no files, no plotting), shared by the report
(:mod:`reluscope.experiments.report`) and the figures. Decisions (documented in
docs/reproduce.md):

- *Gap closed* (Table 1) is computed on counts, per network, then averaged over the
  networks of a split: ``100 * (ConfUB - EmpUB) / (ConfUB - exact)``. Only networks whose
  exact count finished (and with ``ConfUB > exact``) enter it. The same quantity on
  ``log2`` is reported alongside, for comparison.
- *APP-k* is the mean of ``log2`` of the XOR-k lower bound and of the Empirical UB
  (``reluscope.regions.upper.app_k``), i.e. a geometric mean of the counts.
- Figure 3 uses the networks "not having particularly narrow layers": both hidden
  widths at least :data:`FIG3_MIN_WIDTH`.
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from reluscope.experiments.paper import PAPER_HIDDEN_UNITS, PAPER_TABLE1
from reluscope.regions.upper import app_k

#: Figure 3 keeps networks whose hidden layers both have at least this many units
FIG3_MIN_WIDTH = 4
#: input dimension of the networks of each data set (the analysis needs n0)
N_INPUTS = {"mnist": 784, "digits": 64}
#: Table 1's narrow splits, explained in the report: a hidden layer of at most this many
NARROW_WIDTH = 3
#: fewest networks behind a regression line before the report draws a verdict from it
MIN_REGRESSION_POINTS = 5


# ----------------------------------------------------------------------------- helpers
def ok(entry: Any) -> bool:
    """A record entry that holds numbers (a dict without an ``error``)."""
    return isinstance(entry, dict) and "error" not in entry


def _log2(value: Any) -> float | None:
    if value is None:
        return None
    value = int(value)
    return math.log2(value) if value > 0 else None


def app_log2(lower_bound: int, upper_bound: int) -> float:
    """APP-k as log2: ``(log2 LB + log2 UB) / 2`` (see module doc)."""
    return float(app_k(int(lower_bound), int(upper_bound)))


def gap_closed(configuration: int, empirical: int, exact: int) -> float | None:
    """``100 (Conf - Emp) / (Conf - exact)`` on counts; None when Conf == exact."""
    configuration, empirical, exact = int(configuration), int(empirical), int(exact)
    if configuration <= exact:
        return None
    return 100.0 * (configuration - empirical) / (configuration - exact)


def gap_closed_log2(configuration: int, empirical: int, exact: int) -> float | None:
    """The same gap on log2 of the three counts."""
    c, e, x = (math.log2(int(v)) for v in (configuration, empirical, exact))
    if c <= x:
        return None
    return 100.0 * (c - e) / (c - x)


def _per_layer(values: Any, test: Any) -> str | None:
    """``"c1;c2;..."``: per layer, how many recorded bounds pass ``test`` (the rules of
    :class:`reluscope.bounds.Bounds`: stably active iff lower > 0, inactive iff upper <= 0)."""
    if not values:
        return None
    return ";".join(str(sum(1 for v in layer if test(float(v)))) for layer in values)


def layer_counts(text: str | None) -> list[int] | None:
    """The per-layer counts of :func:`flat_row` (``"3;0;1"``) as integers."""
    return None if not text else [int(v) for v in str(text).split(";")]


# ----------------------------------------------------------------------------- rows
def flat_row(record: dict[str, Any], xor_sizes: Sequence[int]) -> dict[str, Any]:
    """One CSV row per network: every number of its record (None where missing)."""
    train = record.get("train") or {}
    bounds = record.get("bounds") or {}
    upper = record.get("upper") or {}
    exact = record.get("exact") or {}
    milp = record.get("exact_milp") or {}
    row: dict[str, Any] = {
        "key": record.get("key"),
        "n1": record.get("n1"),
        "n2": record.get("n2"),
        "index": record.get("index"),
        "seed": record.get("seed"),
        "train_accuracy": train.get("train_accuracy"),
        "test_accuracy": train.get("test_accuracy"),
        "train_seconds": train.get("seconds"),
        "bounds_seconds": bounds.get("seconds") if ok(bounds) else None,
        "stably_active": bounds.get("stably_active"),
        "stably_inactive": bounds.get("stably_inactive"),
        "unstable": bounds.get("unstable"),
        # per ReLU layer, "n1;n2;n3" (from the recorded bounds; None in older records)
        "stably_active_per_layer": _per_layer(bounds.get("lower"), lambda v: v > 0),
        "stably_inactive_per_layer": _per_layer(bounds.get("upper"), lambda v: v <= 0),
        "configuration_ub": upper.get("configuration_ub") if ok(upper) else None,
        "empirical_ub": upper.get("empirical_ub") if ok(upper) else None,
        "upper_seconds": upper.get("seconds") if ok(upper) else None,
        "exact_regions": exact.get("regions") if ok(exact) else None,
        "exact_complete": bool(exact.get("exact")) if ok(exact) else None,
        "exact_seconds": exact.get("seconds") if ok(exact) else None,
        "milp_regions": milp.get("regions") if ok(milp) else None,
        "milp_complete": bool(milp.get("exact")) if ok(milp) else None,
        "milp_seconds": milp.get("seconds") if ok(milp) else None,
    }
    xor = record.get("xor") or {}
    for k in xor_sizes:
        est = xor.get(str(k)) or {}
        good = ok(est)
        lb = est.get("lower_bound") if good else None
        row[f"xor{k}_lb"] = lb
        row[f"xor{k}_log2"] = est.get("log2_lower_bound") if good else None
        row[f"xor{k}_probability"] = est.get("probability") if good else None
        row[f"xor{k}_repetitions"] = est.get("repetitions") if good else None
        row[f"xor{k}_status"] = est.get("status") if good else None
        row[f"xor{k}_seconds"] = est.get("seconds") if good else None
        emp = row["empirical_ub"]
        row[f"app{k}_log2"] = (
            app_log2(lb, emp) if lb is not None and emp is not None and lb <= emp else None
        )
    if row["exact_complete"] and row["configuration_ub"] is not None and row["empirical_ub"]:
        row["gap_closed"] = gap_closed(
            row["configuration_ub"], row["empirical_ub"], row["exact_regions"]
        )
        row["gap_closed_log2"] = gap_closed_log2(
            row["configuration_ub"], row["empirical_ub"], row["exact_regions"]
        )
    else:
        row["gap_closed"] = row["gap_closed_log2"] = None
    # a count cut short is a lower bound L on the count x, and the gap closed
    # (C - E) / (C - x) grows with x: (C - E) / (C - L) is a valid lower bound on it
    row["gap_closed_at_least"] = row["gap_closed"]
    if (row["exact_complete"] is False and row["exact_regions"]
            and row["configuration_ub"] is not None and row["empirical_ub"]):
        row["gap_closed_at_least"] = gap_closed(
            row["configuration_ub"], row["empirical_ub"], row["exact_regions"]
        )
    errors = [name for name in ("bounds", "upper", "exact", "exact_milp")
              if isinstance(record.get(name), dict) and "error" in record[name]]
    errors += [f"xor{k}" for k, v in xor.items() if isinstance(v, dict) and "error" in v]
    row["errors"] = ";".join(errors)
    return row


def rows_to_csv(rows: list[dict[str, Any]]) -> str:
    """The rows as CSV text (header from the first row; None as an empty cell)."""
    if not rows:
        return ""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return buffer.getvalue()


def mean_or_none(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None


# ----------------------------------------------------------------------------- Table 1
def table1(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Gap closed by the Empirical UB per split, averaged over networks, with the paper's."""
    by_split: dict[tuple[int, int], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_split[(int(row["n1"]), int(row["n2"]))].append(row)
    table = []
    for (n1, n2), group in sorted(by_split.items()):
        gaps = [r["gap_closed"] for r in group if r["gap_closed"] is not None]
        gaps_log = [r["gap_closed_log2"] for r in group if r["gap_closed_log2"] is not None]
        at_least = [r["gap_closed_at_least"] for r in group
                    if r.get("gap_closed_at_least") is not None]
        table.append({
            "widths": f"{n1};{n2};10",
            "n1": n1,
            "n2": n2,
            "networks": len(group),
            "networks_in_gap": len(gaps),
            "gap_closed": mean_or_none(gaps),
            "gap_closed_log2": mean_or_none(gaps_log),
            # every network: exact where the count finished, else a lower bound
            "gap_closed_at_least": mean_or_none(at_least),
            "networks_at_least": len(at_least),
            "paper_gap_closed": (PAPER_TABLE1.get(n1) if n1 + n2 == PAPER_HIDDEN_UNITS
                                 else None),
        })
    return table


def per_split_summary(rows: list[dict[str, Any]], xor_sizes: Sequence[int]) -> list[dict]:
    """Means per split (counts, log2 of counts, accuracies, seconds) for Figure 2 and text."""
    by_split: dict[tuple[int, int], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_split[(int(row["n1"]), int(row["n2"]))].append(row)
    out = []
    for (n1, n2), group in sorted(by_split.items()):
        def col(name: str, group: list[dict[str, Any]] = group) -> list[Any]:
            return [r[name] for r in group if r.get(name) is not None]

        exact = [r["exact_regions"] for r in group if r.get("exact_complete")]
        item: dict[str, Any] = {
            "n1": n1, "n2": n2, "networks": len(group),
            "test_accuracy": mean_or_none(col("test_accuracy")),
            "configuration_ub": mean_or_none([float(v) for v in col("configuration_ub")]),
            "empirical_ub": mean_or_none([float(v) for v in col("empirical_ub")]),
            "exact_regions": mean_or_none([float(v) for v in exact]),
            "exact_networks": len(exact),
            # proven counts of all networks, finished or cut short (a lower bound)
            "proven_regions": mean_or_none([float(v) for v in col("exact_regions")]),
            "exact_seconds": mean_or_none(col("exact_seconds")),
            "milp_seconds": mean_or_none(col("milp_seconds")),
            "bounds_seconds": mean_or_none(col("bounds_seconds")),
        }
        for k in xor_sizes:
            item[f"xor{k}_lb"] = mean_or_none([float(v) for v in col(f"xor{k}_lb")])
            item[f"xor{k}_seconds"] = mean_or_none(col(f"xor{k}_seconds"))
        out.append(item)
    return out


def check_orderings(rows: list[dict[str, Any]], xor_sizes: Sequence[int]) -> dict[str, Any]:
    """Counts of networks where a proven ordering holds / fails.

    Deterministic: exact <= EmpUB <= ConfUB. Probabilistic (95% each): XOR-k LB <= exact.
    Cross-engine: the MILP engine's complete count equals the LP engine's.
    """
    out: dict[str, Any] = {"exact_le_emp": [0, 0], "emp_le_conf": [0, 0],
                           "lp_eq_milp": [0, 0]}
    for k in xor_sizes:
        out[f"xor{k}_le_exact"] = [0, 0]
    for r in rows:
        conf, emp, ex = r["configuration_ub"], r["empirical_ub"], r["exact_regions"]
        if conf is not None and emp is not None:
            out["emp_le_conf"][0 if emp <= conf else 1] += 1
        if r["exact_complete"] and emp is not None:
            out["exact_le_emp"][0 if ex <= emp else 1] += 1
        if r["exact_complete"] and r["milp_complete"]:
            out["lp_eq_milp"][0 if r["milp_regions"] == ex else 1] += 1
        for k in xor_sizes:
            lb = r[f"xor{k}_lb"]
            if lb is not None and r["exact_complete"]:
                out[f"xor{k}_le_exact"][0 if lb <= ex else 1] += 1
    return {name: {"hold": v[0], "fail": v[1]} for name, v in out.items()}


def figure3_series(rows: list[dict[str, Any]], xor_sizes: Sequence[int],
                   min_width: int = FIG3_MIN_WIDTH,
                   ) -> dict[str, list[tuple[float, float, tuple[int, int]]]]:
    """Figure 3's points (accuracy, log2 count, split) per series: exact (finished
    counts) and APP-k, over the networks whose hidden layers both have ``min_width``
    units."""
    keep = [r for r in rows if min(r["n1"], r["n2"]) >= min_width
            and r["test_accuracy"] is not None]
    series = {"exact": [(r, _log2(r["exact_regions"])) for r in keep if r["exact_complete"]]}
    for k in xor_sizes:
        series[f"APP-{k}"] = [(r, r[f"app{k}_log2"]) for r in keep]
    return {name: [(float(r["test_accuracy"]), float(c), (r["n1"], r["n2"]))
                   for r, c in pts if c is not None] for name, pts in series.items()}


def within_split(pts: list[tuple[float, float, tuple[int, int]]]) -> list[tuple[float, float]]:
    """Each point minus the mean of its split, over splits with at least two points:
    what is left once the architecture is taken out (Figure 3's within-split view)."""
    groups: dict[tuple[int, int], list[tuple[float, float]]] = defaultdict(list)
    for acc, count, split in pts:
        groups[split].append((acc, count))
    out = []
    for group in groups.values():
        if len(group) >= 2:
            acc_mean = float(np.mean([a for a, _ in group]))
            count_mean = float(np.mean([c for _, c in group]))
            out += [(a - acc_mean, c - count_mean) for a, c in group]
    return out


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.corrcoef(x, y)[0, 1]) if np.std(x) > 0 and np.std(y) > 0 else float("nan")


def regressions(rows: list[dict[str, Any]], xor_sizes: Sequence[int],
                min_width: int = FIG3_MIN_WIDTH) -> dict[str, dict[str, float]]:
    """Least-squares lines log2(count) = a * accuracy + b for Figure 3 (exact, APP-k).

    ``slope``/``pearson_r`` pool every network; ``within_slope``/``within_r`` use the
    deviations from each split's means (:func:`within_split`), so that differences
    between architectures, which move accuracy and count together, do not count.
    """
    out: dict[str, dict[str, float]] = {}
    for name, pts in figure3_series(rows, xor_sizes, min_width).items():
        if len(pts) < 2 or len({a for a, _, _ in pts}) < 2:
            continue
        acc, cnt = np.array([(a, c) for a, c, _ in pts], dtype=float).T
        slope, intercept = np.polyfit(acc, cnt, 1)
        out[name] = {"slope": float(slope), "intercept": float(intercept),
                     "pearson_r": _pearson(acc, cnt), "points": len(pts),
                     "within_slope": float("nan"), "within_r": float("nan"),
                     "within_points": 0}
        dev = within_split(pts)
        if dev:
            da, dc = np.array(dev, dtype=float).T
            if float(np.sum(da * da)) > 0:
                out[name].update(within_slope=float(np.sum(da * dc) / np.sum(da * da)),
                                 within_r=_pearson(da, dc), within_points=len(dev))
    return out


def time_totals(records: list[dict[str, Any]]) -> dict[str, float]:
    """Seconds spent per method, summed over the records (where the time went)."""
    totals: dict[str, float] = defaultdict(float)
    for rec in records:
        for name in ("train", "bounds", "upper", "exact", "exact_milp"):
            entry = rec.get(name)
            if isinstance(entry, dict) and ok(entry) and entry.get("seconds") is not None:
                totals[name] += float(entry["seconds"])
        for k, est in (rec.get("xor") or {}).items():
            if ok(est):
                totals[f"xor{k}"] += float(est["seconds"])
    return dict(totals)


__all__ = [
    "FIG3_MIN_WIDTH",
    "MIN_REGRESSION_POINTS",
    "NARROW_WIDTH",
    "N_INPUTS",
    "app_log2",
    "check_orderings",
    "figure3_series",
    "flat_row",
    "gap_closed",
    "gap_closed_log2",
    "layer_counts",
    "mean_or_none",
    "ok",
    "per_split_summary",
    "regressions",
    "rows_to_csv",
    "table1",
    "time_totals",
    "within_split",
]
