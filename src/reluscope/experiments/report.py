"""From per-network records to the paper's tables: CSV, Table 1, summaries, report.md.

Decisions (documented in docs/reproduce.md):

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
import json
import math
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

#: Table 1 of the paper: gap (%) closed by the Empirical UB, by n1 (n2 = 22 - n1)
PAPER_TABLE1: dict[int, float] = {
    1: 73.1, 2: 17.8, 3: 10.4, 4: 3.1, 5: 3.9, 6: 2.0, 7: 1.1, 8: 0.0, 9: 0.0, 10: 1.0,
    11: 0.0, 12: 0.0, 13: 0.1, 14: 0.2, 15: 0.5, 16: 1.0, 17: 1.8, 18: 3.4, 19: 9.5,
    20: 44.5, 21: 98.3,
}
#: Figure 3 keeps networks whose hidden layers both have at least this many units
FIG3_MIN_WIDTH = 4
#: fewest networks behind a regression line before the report draws a verdict from it
MIN_REGRESSION_POINTS = 5


# ----------------------------------------------------------------------------- helpers
def _ok(entry: Any) -> bool:
    return isinstance(entry, dict) and "error" not in entry


def _log2(value: Any) -> float | None:
    if value is None:
        return None
    value = int(value)
    return math.log2(value) if value > 0 else None


def app_log2(lower_bound: int, upper_bound: int) -> float:
    """APP-k as log2: ``(log2 LB + log2 UB) / 2`` (see module doc)."""
    try:
        from reluscope.regions.upper import app_k
    except ImportError:  # pragma: no cover - the module ships with reluscope
        return (math.log2(lower_bound) + math.log2(upper_bound)) / 2.0
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
        "bounds_seconds": bounds.get("seconds") if _ok(bounds) else None,
        "stably_active": bounds.get("stably_active"),
        "stably_inactive": bounds.get("stably_inactive"),
        "unstable": bounds.get("unstable"),
        "configuration_ub": upper.get("configuration_ub") if _ok(upper) else None,
        "empirical_ub": upper.get("empirical_ub") if _ok(upper) else None,
        "upper_seconds": upper.get("seconds") if _ok(upper) else None,
        "exact_regions": exact.get("regions") if _ok(exact) else None,
        "exact_complete": bool(exact.get("exact")) if _ok(exact) else None,
        "exact_seconds": exact.get("seconds") if _ok(exact) else None,
        "milp_regions": milp.get("regions") if _ok(milp) else None,
        "milp_complete": bool(milp.get("exact")) if _ok(milp) else None,
        "milp_seconds": milp.get("seconds") if _ok(milp) else None,
    }
    xor = record.get("xor") or {}
    for k in xor_sizes:
        est = xor.get(str(k)) or {}
        good = _ok(est)
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
    if not rows:
        return ""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return buffer.getvalue()


def _mean(values: list[float]) -> float | None:
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
            "gap_closed": _mean(gaps),
            "gap_closed_log2": _mean(gaps_log),
            # every network: exact where the count finished, else a lower bound
            "gap_closed_at_least": _mean(at_least),
            "networks_at_least": len(at_least),
            "paper_gap_closed": PAPER_TABLE1.get(n1) if n1 + n2 == 22 else None,
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
            "test_accuracy": _mean(col("test_accuracy")),
            "configuration_ub": _mean([float(v) for v in col("configuration_ub")]),
            "empirical_ub": _mean([float(v) for v in col("empirical_ub")]),
            "exact_regions": _mean([float(v) for v in exact]),
            "exact_networks": len(exact),
            # proven counts of all networks, finished or cut short (a lower bound)
            "proven_regions": _mean([float(v) for v in col("exact_regions")]),
            "exact_seconds": _mean(col("exact_seconds")),
            "milp_seconds": _mean(col("milp_seconds")),
            "bounds_seconds": _mean(col("bounds_seconds")),
        }
        for k in xor_sizes:
            item[f"xor{k}_lb"] = _mean([float(v) for v in col(f"xor{k}_lb")])
            item[f"xor{k}_seconds"] = _mean(col(f"xor{k}_seconds"))
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
                   min_width: int = FIG3_MIN_WIDTH) -> dict[str, list[tuple[float, float]]]:
    """Figure 3's points (accuracy, log2 count) per series: exact (finished counts) and
    APP-k, over the networks whose hidden layers both have ``min_width`` units."""
    keep = [r for r in rows if min(r["n1"], r["n2"]) >= min_width
            and r["test_accuracy"] is not None]
    series = {"exact": [(r["test_accuracy"], _log2(r["exact_regions"]))
                        for r in keep if r["exact_complete"]]}
    for k in xor_sizes:
        series[f"APP-{k}"] = [(r["test_accuracy"], r[f"app{k}_log2"]) for r in keep
                              if r[f"app{k}_log2"] is not None]
    return {name: [(a, c) for a, c in pts if c is not None] for name, pts in series.items()}


def regressions(rows: list[dict[str, Any]], xor_sizes: Sequence[int],
                min_width: int = FIG3_MIN_WIDTH) -> dict[str, dict[str, float]]:
    """Least-squares lines log2(count) = a * accuracy + b for Figure 3 (exact, APP-k)."""
    out = {}
    for name, pts in figure3_series(rows, xor_sizes, min_width).items():
        if len(pts) < 2 or len({a for a, _ in pts}) < 2:
            continue
        acc, cnt = np.array(pts, dtype=float).T
        slope, intercept = np.polyfit(acc, cnt, 1)
        corr = float(np.corrcoef(acc, cnt)[0, 1]) if np.std(cnt) > 0 else float("nan")
        out[name] = {"slope": float(slope), "intercept": float(intercept),
                     "pearson_r": corr, "points": len(pts)}
    return out


def time_totals(records: list[dict[str, Any]]) -> dict[str, float]:
    """Seconds spent per method, summed over the records (where the time went)."""
    totals: dict[str, float] = defaultdict(float)
    for rec in records:
        for name in ("train", "bounds", "upper", "exact", "exact_milp"):
            entry = rec.get(name)
            if isinstance(entry, dict) and _ok(entry) and entry.get("seconds") is not None:
                totals[name] += float(entry["seconds"])
        for k, est in (rec.get("xor") or {}).items():
            if _ok(est):
                totals[f"xor{k}"] += float(est["seconds"])
    return dict(totals)


# ----------------------------------------------------------------------------- report
def _fmt(value: Any, spec: str = ".1f") -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    return format(value, spec)


def _leo_rows(path: Path | None) -> list[dict[str, Any]]:
    if path is None or not path.is_file():
        return []
    rows = []
    for line in path.read_text().splitlines():
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return rows


def render_report(
    settings: dict[str, Any],
    records: list[dict[str, Any]],
    rows: list[dict[str, Any]],
    *,
    figures: Sequence[str] = (),
    leo: list[dict[str, Any]] | None = None,
    depth: list[dict[str, Any]] | None = None,
    run_info: dict[str, Any] | None = None,
) -> str:
    """report.md: what was run, Table 1 beside the paper, orderings, timings, regressions."""
    xor_sizes = [int(k) for k in settings.get("xor_sizes", [])]
    t1 = table1(rows)
    checks = check_orderings(rows, xor_sizes)
    totals = time_totals(records)
    regs = regressions(rows, xor_sizes)
    lines = ["# Reproduction of Serra & Ramalingam (AAAI 2020), section 6", ""]
    lines += ["Generated by `reluscope reproduce` from the per-network records in this "
              "directory; every number below is recomputed from them.", ""]
    # --- what was run
    splits = sorted({(r["n1"], r["n2"]) for r in rows})
    complete = sum(1 for r in rows if r["exact_complete"])
    lines += ["## Summary: what matched the paper and what did not", ""]
    lines += verdicts(t1, checks, regs, rows, xor_sizes)
    if leo:
        plain = [r.get("removed_percent") or 0.0 for r in leo if not r.get("l1")]
        with_l1 = [r for r in leo if r.get("l1")]
        if with_l1:
            top = max(with_l1, key=lambda r: r.get("removed_percent") or 0.0)
            lines.insert(len(lines) - 1, (
                f"- LEO (paper: nothing removable without L1; 15-31% of the units with L1 at "
                f"95.8-98.1% accuracy): without L1 {max(plain, default=0.0):.1f}% removed; "
                f"with L1 at most {top.get('removed_percent', 0.0):.1f}% (width "
                f"{top.get('width')}, L1 {top.get('l1')}, accuracy "
                f"{_fmt(top.get('test_accuracy_before'), '.4f')}); largest output "
                f"difference after compression on the checked inputs "
                f"{max(float(r.get('max_abs_diff') or 0.0) for r in leo):.2g}."
            ))
    lines += ["## What was run", ""]
    lines.append(f"- Networks analysed: {len(rows)} (the paper: 210 = 21 splits x 10), over "
                 f"{len(splits)} splits: " + ", ".join(f"{a};{b};10" for a, b in splits) + ".")
    lines.append(f"- Networks per split requested: {settings.get('networks_per_split')}; "
                 f"data: {settings.get('dataset')}"
                 + (f" (first {settings['n_train']} training images)"
                    if settings.get("n_train") else " (60,000 training images)") + ".")
    lines.append(f"- Training: Adam lr {settings.get('lr')}, batch {settings.get('batch_size')}, "
                 f"{settings.get('epochs')} epochs, L1 {settings.get('l1')}, ReLU on all "
                 "three layers (paper: 20 epochs).")
    recipes = {json.dumps((r.get("train") or {}).get("recipe", {}).get("loss"))
               for r in records if r.get("train")}
    if recipes:
        lines.append("- Loss: " + ", ".join(sorted(json.loads(v) or "?" for v in recipes))
                     + " (aux_weight 0.1 keeps ReLU outputs from dying; see docs/reproduce.md).")
    lines.append(
        "- Time limits (s): bounds per MILP solve "
        f"{settings.get('bounds_time_limit')}, exact count (LP engine) "
        f"{settings.get('count_time_limit')}, MILP engine {settings.get('milp_time_limit')} "
        f"on the first {settings.get('milp_networks')} network(s) per split, each XOR-k "
        f"estimate {settings.get('estimate_time_limit')} (paper: no limits, runs of hours)."
    )
    lines.append(f"- XOR sizes {xor_sizes}, confidence {settings.get('confidence')}, "
                 f"repetitions capped at {settings.get('max_repetitions')} "
                 "(None: as many as a 99.5% bound needs, 28), on "
                 + (f"the first {settings['xor_networks']} network(s) per split"
                    if settings.get("xor_networks") is not None else "every network")
                 + f"; MIPBound results for {sum(1 for r in records if r.get('xor'))} networks.")
    lines.append(f"- Exact counts finished: {complete} of {len(rows)} networks.")
    n_err = sum(1 for r in rows if r["errors"])
    if n_err:
        lines.append(f"- Networks with a failed step (recorded, retried on the next run): "
                     f"{n_err}.")
    if run_info:
        lines.append(f"- Last run: status {run_info.get('status')}, "
                     f"{_fmt(run_info.get('seconds'), '.0f')} s wall time, "
                     f"{run_info.get('jobs', 1)} worker(s).")
    lines.append("")
    # --- time
    lines += ["## Where the time went", "", "| step | total s | share |", "|---|---:|---:|"]
    grand = sum(totals.values()) or 1.0
    for name, secs in sorted(totals.items(), key=lambda kv: -kv[1]):
        lines.append(f"| {name} | {secs:.1f} | {100 * secs / grand:.1f}% |")
    lines.append("")
    # --- Table 1
    lines += ["## Table 1: gap (%) closed by the Empirical UB", "",
              "Per network `100 (ConfUB - EmpUB) / (ConfUB - exact)` on counts, averaged over "
              "the networks of a split whose exact count finished; the same on log2 for "
              "comparison. Column *>=*: every network, with the count proven before the time "
              "limit in place of the exact count where counting was cut short; the gap grows "
              "with the count, so this is a valid lower bound on the gap closed.", "",
              "| widths | networks (finished) | gap, counts | gap, log2 | gap >= (networks) "
              "| paper |",
              "|---|---:|---:|---:|---:|---:|"]
    for t in t1:
        lines.append(f"| {t['widths']} | {t['networks']} ({t['networks_in_gap']}) | "
                     f"{_fmt(t['gap_closed'])} | {_fmt(t['gap_closed_log2'])} | "
                     f"{_fmt(t.get('gap_closed_at_least'), '.2f')} "
                     f"({t.get('networks_at_least', 0)}) | {_fmt(t['paper_gap_closed'])} |")
    lines.append("")
    lines += _table1_verdict(t1)
    # --- bounds per split
    summary = per_split_summary(rows, xor_sizes)
    lines += ["## Figure 2 (top): bounds and exact counts, means per split", "",
              "| widths | acc. | ConfUB | EmpUB | exact (n) | "
              + " | ".join(f"XOR-{k} LB" for k in xor_sizes) + " |",
              "|---|---:|---:|---:|---:|" + "---:|" * len(xor_sizes)]
    for s in summary:
        lines.append(
            f"| {s['n1']};{s['n2']};10 | {_fmt(s['test_accuracy'], '.4f')} | "
            f"{_fmt(s['configuration_ub'], '.3g')} | {_fmt(s['empirical_ub'], '.3g')} | "
            f"{_fmt(s['exact_regions'], '.3g')} ({s['exact_networks']}) | "
            + " | ".join(_fmt(s[f"xor{k}_lb"], ".3g") for k in xor_sizes) + " |")
    lines.append("")
    # --- orderings
    lines += ["## Checks", ""]
    for name, v in checks.items():
        total = v["hold"] + v["fail"]
        if total:
            lines.append(f"- {name}: holds on {v['hold']} of {total} networks"
                         + (f" (**{v['fail']} violations**)" if v["fail"] else "") + ".")
    lines.append("- XOR-k LB <= exact is a 95% statement per network: a few failures in "
                 "many networks are expected, many are not.")
    lines.append("")
    # --- timing: MIPBound vs exact
    lines += ["## Figure 2 (bottom): time of approximation vs exact counting", ""]
    lines += _timing_lines(rows, xor_sizes)
    # --- Figure 3
    lines += ["## Figure 3: accuracy vs number of regions", "",
              f"Networks with both hidden layers of at least {FIG3_MIN_WIDTH} units; "
              "least-squares lines log2(count) = slope x accuracy + intercept.", "",
              "| series | points | slope | intercept | Pearson r |", "|---|---:|---:|---:|---:|"]
    for name, reg in regs.items():
        lines.append(f"| {name} | {reg['points']} | {reg['slope']:.1f} | "
                     f"{reg['intercept']:.1f} | {_fmt(reg['pearson_r'], '.2f')} |")
    if not regs:
        lines.append("| (too few networks with distinct accuracies) | | | | |")
    lines.append("")
    lines.append("The paper reports a negative correlation between accuracy and the number "
                 "of regions for these networks, and APP-k lines that become more parallel "
                 "to the exact line as k grows.")
    lines.append("")
    # --- LEO and depth study
    lines += ["## LEO (CPAIOR 2020): lossless compression of L1-trained networks", ""]
    if leo:
        lines += ["From benchmarks/bench_leo.py (another run, its own settings); `*`: a "
                  "strategy hit its time limit (units it could not prove stable are kept).", "",
                  "| width | L1 | acc. before | acc. after | removed | widths after "
                  "| single s | per-unit s |",
                  "|---:|---:|---:|---:|---:|---|---:|---:|"]
        for r in leo:
            def star(flag: Any) -> str:
                return "" if flag in (True, None) else "*"

            after = ";".join(str(w) for w in r.get("widths_after") or [])
            lines.append(
                f"| {r.get('width')} | {r.get('l1')} | "
                f"{_fmt(r.get('test_accuracy_before'), '.4f')} | "
                f"{_fmt(r.get('test_accuracy_after'), '.4f')} | "
                f"{_fmt(r.get('removed_percent'))}% | {after} | "
                f"{_fmt(r.get('single_seconds'))}{star(r.get('single_complete'))} | "
                f"{_fmt(r.get('per_unit_seconds'))}{star(r.get('per_unit_complete'))} |")
        lines.append("")
        lines.append("Paper (CPAIOR 2020): 22% (width 25) to 31% (width 100) of the units "
                     "removed at 95.8-97.1% accuracy with L1; none without L1.")
    else:
        lines.append("No LEO results in this directory (run benchmarks/bench_leo.py and "
                     "pass its bench_leo.jsonl with --leo).")
    lines.append("")
    lines += ["## Depth study (blog): 60 ReLUs over 1..6 layers", ""]
    if depth:
        keys = list(depth[0])
        lines += ["Configuration UB (log2) of 60 ReLUs spread evenly over L layers, by input "
                  "dimension n0 (reluscope.regions.depth_study).", "",
                  "| " + " | ".join(keys) + " |", "|" + "---:|" * len(keys)]
        for d in depth:
            lines.append("| " + " | ".join(_fmt(d[k], ".1f") if isinstance(d[k], float)
                                           else str(d[k]) for k in keys) + " |")
        lines.append("")
        lines.append("The blog: small inputs favour depth, large inputs favour shallow "
                     "networks; the best depth falls from 6 to 1 as n0 grows.")
    else:
        lines.append("Not available (reluscope.regions.depth_study missing or failed).")
    lines.append("")
    if figures:
        lines += ["## Figures", ""] + [f"![{f}]({f})" for f in figures] + [""]
    return "\n".join(lines) + "\n"


def verdicts(
    t1: list[dict[str, Any]],
    checks: dict[str, Any],
    regs: dict[str, dict[str, float]],
    rows: list[dict[str, Any]],
    xor_sizes: Sequence[int],
) -> list[str]:
    """Bullet points comparing this run's numbers with the paper's claims."""
    out = []
    # Table 1 shape: large at the extremes, near zero in the middle
    ext = [t["gap_closed"] for t in t1 if t["gap_closed"] is not None
           and min(t["n1"], t["n2"]) <= 3]
    mid = [t["gap_closed"] for t in t1 if t["gap_closed"] is not None
           and min(t["n1"], t["n2"]) >= 6]
    if ext and mid:
        same = float(np.mean(ext)) > float(np.mean(mid))
        out.append(f"- Table 1 shape (paper: the Empirical UB closes most of the gap when a "
                   f"layer is narrow, little in the middle): extremes (a layer <= 3 units) "
                   f"{np.mean(ext):.1f}% vs middle (both >= 6) {np.mean(mid):.1f}% on counts: "
                   + ("**matches**." if same else "**does not match**."))
    elif ext:
        out.append(f"- Table 1: only narrow splits have finished exact counts "
                   f"(mean gap closed {np.mean(ext):.1f}% on counts); the middle splits' "
                   "counts hit the time limit, so the shape cannot be compared.")
    else:
        out.append("- Table 1: too few finished exact counts to compare with the paper.")
    lb_rows = [t for t in t1 if t.get("gap_closed_at_least") is not None
               and t["paper_gap_closed"] is not None]
    ext_lb = [t for t in lb_rows if min(t["n1"], t["n2"]) <= 3]
    mid_lb = [t for t in lb_rows if min(t["n1"], t["n2"]) >= 6]
    if ext_lb and mid_lb:
        def mean_of(group: list[dict[str, Any]], key: str) -> float:
            return float(np.mean([t[key] for t in group]))

        out.append(
            "- Table 1 with the >= column (every network; proven counts where counting was "
            "cut short, a lower bound on the gap): extremes "
            f"{mean_of(ext_lb, 'gap_closed_at_least'):.1f}% vs middle "
            f"{mean_of(mid_lb, 'gap_closed_at_least'):.1f}%; paper "
            f"{mean_of(ext_lb, 'paper_gap_closed'):.1f}% vs "
            f"{mean_of(mid_lb, 'paper_gap_closed'):.1f}% on the same splits."
        )
    for name, text in (("exact_le_emp", "exact <= Empirical UB"),
                       ("emp_le_conf", "Empirical UB <= Configuration UB"),
                       ("lp_eq_milp", "LP engine == MILP engine (paper's method)")):
        c = checks.get(name, {"hold": 0, "fail": 0})
        if c["hold"] + c["fail"]:
            out.append(f"- {text}: {c['hold']} of {c['hold'] + c['fail']} networks"
                       + (" (as proven)." if not c["fail"] else " (**violations**)."))
    lbs = [(r, k) for r in rows for k in xor_sizes
           if r["exact_complete"] and r.get(f"xor{k}_lb") is not None]
    if lbs:
        bad = sum(1 for r, k in lbs if r[f"xor{k}_lb"] > r["exact_regions"])
        trivial = sum(1 for r, k in lbs if r[f"xor{k}_lb"] <= 1)
        out.append(f"- XOR-k lower bounds vs exact counts: {len(lbs) - bad} of {len(lbs)} "
                   f"(network, k) pairs below the count (95% each); {trivial} are the "
                   "trivial bound 1 (too few repetitions within the time limit).")
    speed = [((r["bounds_seconds"] or 0.0) + r["exact_seconds"],
              (r["bounds_seconds"] or 0.0) + r[f"xor{k}_seconds"])
             for r in rows for k in xor_sizes
             if r["exact_complete"] and r.get(f"xor{k}_seconds") is not None
             and r.get(f"xor{k}_lb") is not None and r[f"xor{k}_lb"] > 1]
    if speed:
        ratio = float(np.median([e / a for e, a in speed]))
        out.append(f"- Speed (paper: MIPBound orders of magnitude faster than exact counting "
                   f"on networks with many regions): median exact / MIPBound time "
                   f"{ratio:.2g} over {len(speed)} (network, k) pairs with a non-trivial "
                   "bound, all of them small networks (the paper too finds counting faster "
                   "for small counts, eta < 12); the exact engine here is the fast LP engine.")
    cut = [(r, k) for r in rows for k in xor_sizes
           if r["exact_complete"] is False and r.get(f"xor{k}_lb") is not None]
    if cut:
        beyond = [(r, k) for r, k in cut if r[f"xor{k}_lb"] > r["exact_regions"]]
        best = max(cut, key=lambda rk: rk[0][f"xor{rk[1]}_lb"])
        r, k = best
        out.append(
            f"- Where exact counting hit its time limit, MIPBound's 95% lower bound exceeded "
            f"the count proven so far in {len(beyond)} of {len(cut)} (network, k) pairs; "
            f"largest: {r['n1']};{r['n2']};10, XOR-{k} LB 2^{math.log2(r[f'xor{k}_lb']):.0f} "
            f"in {(r['bounds_seconds'] or 0) + r[f'xor{k}_seconds']:.0f} s vs "
            f"{r['exact_regions']} regions proven in "
            f"{(r['bounds_seconds'] or 0) + r['exact_seconds']:.0f} s (bounds included)."
        )
    apps = {name: reg for name, reg in regs.items()
            if name.startswith("APP-") and reg["points"] >= MIN_REGRESSION_POINTS}
    if apps:
        signs = ", ".join(f"{name} {reg['slope']:+.0f} (r = {_fmt(reg['pearson_r'], '.2f')})"
                          for name, reg in apps.items())
        negative = all(reg["slope"] < 0 for reg in apps.values())
        out.append(
            "- Figure 3, APP-k against accuracy (paper: negative correlation even for the "
            f"weakest approximation): slopes {signs} over "
            f"{max(reg['points'] for reg in apps.values())} networks: "
            + ("**matches** (negative)." if negative else
               "**does not match** (not all negative; with trivial XOR-k bounds APP-k is "
               "log2(EmpUB)/2, which follows the architecture more than the training).")
        )
    if "exact" in regs and regs["exact"]["points"] < MIN_REGRESSION_POINTS:
        out.append(f"- Figure 3 against exact counts: only {regs['exact']['points']} network(s) "
                   "with a finished count and both widths >= 4: too few for a slope.")
    elif "exact" in regs:
        r_exact = regs["exact"]
        sign = "negative" if r_exact["slope"] < 0 else "positive"
        out.append(f"- Figure 3 (ICML 2018 / paper: fewer regions with higher accuracy for "
                   f"these networks, i.e. a negative slope): slope {r_exact['slope']:.1f} "
                   f"({sign}, r = {_fmt(r_exact['pearson_r'], '.2f')}, "
                   f"{r_exact['points']} networks).")
    out.append("")
    return out


def _table1_verdict(t1: list[dict[str, Any]]) -> list[str]:
    pairs = [(t["gap_closed"], t["paper_gap_closed"], t["n1"]) for t in t1
             if t["gap_closed"] is not None and t["paper_gap_closed"] is not None]
    if not pairs:
        return ["No split has a finished exact count yet: Table 1 cannot be compared.", ""]
    ours = np.array([p[0] for p in pairs])
    paper = np.array([p[1] for p in pairs])
    lines = [f"Compared on {len(pairs)} splits: mean absolute difference "
             f"{float(np.mean(np.abs(ours - paper))):.1f} points."]
    extremes = [p for p in pairs if p[2] in (1, 2, 20, 21)]
    middle = [p for p in pairs if 5 <= p[2] <= 17]
    if extremes:
        lines.append("Extreme splits (n1 or n2 <= 2): ours "
                     + ", ".join(f"{p[2]};{22 - p[2]}: {p[0]:.1f}" for p in extremes)
                     + "; paper " + ", ".join(f"{p[1]:.1f}" for p in extremes) + ".")
    if middle:
        lines.append(f"Middle splits (5 <= n1 <= 17): ours mean "
                     f"{np.mean([p[0] for p in middle]):.1f}, paper mean "
                     f"{np.mean([p[1] for p in middle]):.1f}.")
    if len(pairs) >= 3 and np.std(ours) > 0 and np.std(paper) > 0:
        lines.append(f"Pearson correlation with the paper's column: "
                     f"{float(np.corrcoef(ours, paper)[0, 1]):.2f}.")
    return lines + [""]


def _timing_lines(rows: list[dict[str, Any]], xor_sizes: Sequence[int]) -> list[str]:
    good = [r for r in rows if r["exact_complete"] and r["exact_seconds"] is not None]
    if not good:
        return ["No finished exact count: no timing comparison.", ""]
    lines = ["Both include the MILP bound tightening they need: MIPBound time = bounds + "
             "estimate; exact time = bounds + count, by the LP engine and, where run, the "
             "MILP engine (the paper's method).", "",
             "| regions (log2 range) | networks | exact LP s | exact MILP s | "
             + " | ".join(f"XOR-{k} s" for k in xor_sizes) + " |",
             "|---|---:|---:|---:|" + "---:|" * len(xor_sizes)]
    bins: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for r in good:
        bins[int(math.log2(max(1, r["exact_regions"])) // 4)].append(r)
    for b, group in sorted(bins.items()):
        def mean(name: str, group: list[dict[str, Any]] = group) -> float | None:
            return _mean([r[name] for r in group if r.get(name) is not None])

        bseconds = mean("bounds_seconds") or 0.0
        xs = [mean(f"xor{k}_seconds") for k in xor_sizes]
        ex, mi = mean("exact_seconds"), mean("milp_seconds")
        lines.append(f"| {4 * b}-{4 * b + 4} | {len(group)} | "
                     f"{_fmt(None if ex is None else ex + bseconds)} | "
                     f"{_fmt(None if mi is None else mi + bseconds)} | "
                     + " | ".join(_fmt(None if x is None else x + bseconds) for x in xs) + " |")
    lines.append("")
    return lines


def write_report(
    out_dir: str | Path,
    *,
    leo_path: str | Path | None = None,
    depth: bool = True,
    figures: bool = True,
    run_info: dict[str, Any] | None = None,
) -> tuple[str, ...]:
    """Write results.csv, records.json, table1.csv, summary.json, figures and report.md."""
    from reluscope.experiments.reproduce import dump_json, read_records

    out = Path(out_dir)
    settings_path = out / "settings.json"
    settings = json.loads(settings_path.read_text()) if settings_path.is_file() else {}
    records = read_records(out)
    xor_sizes = [int(k) for k in settings.get("xor_sizes", [2, 3, 4, 5])]
    # a task that failed before training (noted with task_error) has no numbers yet
    unfinished = [r["key"] for r in records if not _ok(r.get("train"))]
    records = [r for r in records if _ok(r.get("train"))]
    rows = [flat_row(r, xor_sizes) for r in records]
    files: list[str] = []
    (out / "results.csv").write_text(rows_to_csv(rows))
    (out / "table1.csv").write_text(rows_to_csv(table1(rows)))
    files += ["results.csv", "table1.csv"]
    leo_file = Path(leo_path) if leo_path else out / "bench_leo.jsonl"
    leo = _leo_rows(leo_file)
    depth_rows = _depth_rows() if depth else None
    summary = {
        "settings": settings,
        "table1": table1(rows),
        "per_split": per_split_summary(rows, xor_sizes),
        "checks": check_orderings(rows, xor_sizes),
        "regressions": regressions(rows, xor_sizes),
        "time_totals": time_totals(records),
        "depth_study": depth_rows,
        "run": run_info,
    }
    dump_json(out / "summary.json", summary)
    files.append("summary.json")
    figure_files: list[str] = []
    if figures and rows:
        from reluscope.experiments.figures import make_figures

        figure_files = list(make_figures(out, rows, xor_sizes))
        if depth and depth_figure(out / "depth_study.png"):
            figure_files.append("depth_study.png")
        files += figure_files
    text = render_report(settings, records, rows, figures=figure_files, leo=leo,
                         depth=depth_rows, run_info=run_info)
    if unfinished:
        text += (f"\nTasks without results yet (failed or interrupted before training ended; "
                 f"retried by the next run): {', '.join(unfinished)}.\n")
    (out / "report.md").write_text(text)
    files.append("report.md")
    return tuple(files)


#: input dimensions shown in the report's depth-study table
DEPTH_N0 = (1, 2, 3, 5, 10, 20, 30, 40, 50, 60)


def _depth_rows() -> list[dict[str, Any]] | None:
    """The blog's depth study (log2 of the Configuration UB per depth; formulas only)."""
    try:
        from reluscope.regions.depth_study import depth_study
    except ImportError:
        return None
    try:
        study = depth_study(DEPTH_N0)
    except Exception:  # another module's failure must not lose the report
        return None
    rows = []
    for n0, bounds, best in zip(study.n0_values, study.bounds, study.best_depths(),
                                strict=True):
        row: dict[str, Any] = {"n0": n0}
        for depth, value in zip(study.depths, bounds, strict=True):
            row[f"log2 UB, {depth} layer(s)"] = math.log2(value)
        row["best depth"] = best
        rows.append(row)
    return rows


def depth_figure(path: Path) -> bool:
    """The depth study's plot (n0 = 1..60), if available; True when written."""
    try:
        from reluscope.regions.depth_study import depth_study, plot_depth_study
    except ImportError:
        return False
    fig = plot_depth_study(depth_study())
    fig.savefig(path, dpi=110)
    return True


__all__ = [
    "FIG3_MIN_WIDTH",
    "PAPER_TABLE1",
    "app_log2",
    "check_orderings",
    "flat_row",
    "gap_closed",
    "gap_closed_log2",
    "per_split_summary",
    "regressions",
    "render_report",
    "table1",
    "time_totals",
    "write_report",
]
