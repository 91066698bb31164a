"""The pure arithmetic of the report: per-network rows, Table 1, summaries, regressions.

Functions of plain records and rows only (no files, no plotting), shared by the report
(:mod:`reluscope.experiments.report`) and the figures. Decisions (documented in
docs/reproduce.md):

- *Gap closed* (Table 1) is computed on counts, per network, then averaged over the
  networks of a split: ``100 * (ConfUB - EmpUB) / (ConfUB - exact)``. Only networks whose
  exact count finished (and with ``ConfUB > exact``) enter it. The same quantity on
  ``log2`` is reported alongside, for comparison.
- *APP-k* is the mean of ``log2`` of the XOR-k lower bound and of the Empirical UB
  (``reluscope.regions.upper.analytic.app_k``), i.e. a geometric mean of the counts.
- Figure 3 uses the networks "not having particularly narrow layers": both hidden
  widths at least :data:`FIG3_MIN_WIDTH`.
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from collections.abc import Collection, Sequence
from typing import Any

import numpy as np
from scipy.stats import rankdata

from reluscope.experiments.paper import PAPER_HIDDEN_UNITS, PAPER_SMALL_ETA, PAPER_TABLE1
from reluscope.regions.upper.analytic import app_k

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
    # (on log2 too: (c - e) / (c - log2 x) also grows with x)
    row["gap_closed_at_least"] = row["gap_closed"]
    row["gap_closed_at_least_log2"] = row["gap_closed_log2"]
    if (row["exact_complete"] is False and row["exact_regions"]
            and row["configuration_ub"] is not None and row["empirical_ub"]):
        row["gap_closed_at_least"] = gap_closed(
            row["configuration_ub"], row["empirical_ub"], row["exact_regions"]
        )
        row["gap_closed_at_least_log2"] = gap_closed_log2(
            row["configuration_ub"], row["empirical_ub"], row["exact_regions"]
        )
    _estimated_gap(row, record.get("tree"))
    errors = [name for name in ("bounds", "upper", "exact", "exact_milp", "tree")
              if isinstance(record.get(name), dict) and "error" in record[name]]
    errors += [f"xor{k}" for k, v in xor.items() if isinstance(v, dict) and "error" in v]
    row["errors"] = ";".join(errors)
    return row


def _estimated_gap(row: dict[str, Any], tree: Any) -> None:
    """The tree estimate of a count cut short (never below the regions it proved), and
    the gap closed at the estimate and at its interval's ends (the gap grows with the
    count, so the interval's ends bound it), in place; the exact values where the count
    finished."""
    est = lo = hi = None
    if row["exact_complete"]:
        est = lo = hi = row["exact_regions"]
    elif ok(tree) and tree.get("estimate") is not None:
        # the count lies between the regions proven and the Empirical UB
        floor = float(row["exact_regions"] or 0)
        ceiling = float(row["empirical_ub"] or math.inf)
        est, lo, hi = (min(max(float(tree[k]), floor), ceiling)
                       for k in ("estimate", "ci_low", "ci_high"))
    shown = (None, None, None) if row["exact_complete"] else (est, lo, hi)
    row["tree_estimate"], row["tree_ci_low"], row["tree_ci_high"] = shown
    row["tree_seconds"] = tree.get("seconds") if ok(tree) else None
    conf, emp = row["configuration_ub"], row["empirical_ub"]
    for suffix, fn in (("", gap_closed), ("_log2", gap_closed_log2)):
        for end, value in (("", est), ("_low", lo), ("_high", hi)):
            name = f"gap_closed_estimated{suffix}{end}"
            row[name] = (fn(conf, emp, max(int(round(value)), 1))
                         if value is not None and conf is not None and emp else None)


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
        at_least_log = [r["gap_closed_at_least_log2"] for r in group
                        if r.get("gap_closed_at_least_log2") is not None]
        # exact where the count finished, else the tree estimate: every network with one
        estimated = [r for r in group if r.get("gap_closed_estimated") is not None
                     and r.get("gap_closed_estimated_low") is not None
                     and r.get("gap_closed_estimated_high") is not None]
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
            "gap_closed_at_least_log2": mean_or_none(at_least_log),
            "networks_at_least": len(at_least),
            # the ends: the means of the networks' ends, which hold whenever every
            # network's interval holds
            **{f"gap_closed_estimated{suffix}{end}": mean_or_none(
                [r[f"gap_closed_estimated{suffix}{end}"] for r in estimated])
               for suffix in ("", "_log2") for end in ("", "_low", "_high")},
            "networks_estimated": len(estimated),
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
        item.update(_estimated_means(group))
        for k in xor_sizes:
            item[f"xor{k}_lb"] = mean_or_none([float(v) for v in col(f"xor{k}_lb")])
            item[f"xor{k}_seconds"] = mean_or_none(col(f"xor{k}_seconds"))
        out.append(item)
    return out


def _estimated_means(group: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean count of a split over its networks, each exact where its count finished,
    else its tree estimate, with the means of the interval ends (a network's exact count
    is its own interval); None where no network was estimated or any has neither."""
    if (any(count_or_estimate(r) is None for r in group)
            or all(r.get("exact_complete") for r in group)):
        return {"estimated_regions": None, "estimated_low": None, "estimated_high": None}

    def mean_of(field: str) -> float | None:
        return mean_or_none([float(count_or_estimate(r, field)) for r in group])

    return {"estimated_regions": mean_of("tree_estimate"),
            "estimated_low": mean_of("tree_ci_low"), "estimated_high": mean_of("tree_ci_high")}


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


#: Figure 3's series of every network's count: exact where the count finished, else the
#: tree estimate (``reproduce`` step ``tree``).
ESTIMATED = "exact or estimated"


def count_or_estimate(row: dict[str, Any], field: str = "tree_estimate") -> Any:
    """The row's exact count where it finished, else its tree ``field`` (the estimate,
    ``tree_ci_low`` or ``tree_ci_high``; None without one)."""
    return row["exact_regions"] if row.get("exact_complete") else row.get(field)


def figure3_reference(series: Collection[str]) -> str:
    """The series Figure 3's APP-k lines are compared with: the counts estimated where cut
    short when the run has them, else the exact counts."""
    return ESTIMATED if ESTIMATED in series else "exact"


def _figure3_rows(rows: list[dict[str, Any]], xor_sizes: Sequence[int], min_width: int,
                  common: bool) -> dict[str, list[tuple[dict[str, Any], float]]]:
    """(row, log2 count) per series; ``common``: only the networks in every series."""
    keep = [r for r in rows if min(r["n1"], r["n2"]) >= min_width
            and r["test_accuracy"] is not None]
    series = {"exact": [(r, _log2(r["exact_regions"]) if r["exact_complete"] else None)
                        for r in keep]}
    if any(r.get("tree_estimate") is not None for r in keep):
        series[ESTIMATED] = [(r, _log2(count_or_estimate(r))) for r in keep]
    for k in xor_sizes:
        series[f"APP-{k}"] = [(r, r[f"app{k}_log2"]) for r in keep]
    if common:  # like for like: the reference series against APP-k
        if figure3_reference(series) != "exact":
            del series["exact"]
        inside = [all(pts[i][1] is not None for pts in series.values())
                  for i in range(len(keep))]
        series = {name: [p for p, flag in zip(pts, inside, strict=True) if flag]
                  for name, pts in series.items()}
    return {name: [(r, float(c)) for r, c in pts if c is not None]
            for name, pts in series.items()}


def figure3_series(rows: list[dict[str, Any]], xor_sizes: Sequence[int],
                   min_width: int = FIG3_MIN_WIDTH, *, common: bool = False,
                   ) -> dict[str, list[tuple[float, float, tuple[int, int]]]]:
    """Figure 3's points (accuracy, log2 count, split) per series: exact (finished
    counts), exact or estimated (where any count was estimated) and APP-k, over the
    networks whose hidden layers both have ``min_width`` units; with ``common``, over
    the networks that are in every series only (see :func:`figure3_members`)."""
    return {name: [(float(r["test_accuracy"]), c, (r["n1"], r["n2"])) for r, c in pts]
            for name, pts in _figure3_rows(rows, xor_sizes, min_width, common).items()}


def figure3_members(rows: list[dict[str, Any]], xor_sizes: Sequence[int],
                    min_width: int = FIG3_MIN_WIDTH) -> dict[str, Any]:
    """Which networks each Figure 3 series holds: per series its keys and splits, and
    the keys that are in every series (the like-for-like set; where counts were
    estimated, the exact-only series does not restrict it)."""
    series = {name: [r for r, _ in pts]
              for name, pts in _figure3_rows(rows, xor_sizes, min_width, False).items()}
    keys = {name: sorted(str(r["key"]) for r in group) for name, group in series.items()}
    splits = {name: sorted({(int(r["n1"]), int(r["n2"])) for r in group})
              for name, group in series.items()}
    reference = [name for name in keys if name != "exact" or figure3_reference(keys) == "exact"]
    both = set.intersection(*(set(keys[name]) for name in reference)) if keys else set()
    return {"keys": keys, "splits": splits, "common": sorted(both)}


def within_split_points(pts: list[tuple[float, float, tuple[int, int]]],
                        ) -> list[tuple[float, float, tuple[int, int]]]:
    """Each point minus the mean of its split, over splits with at least two points:
    what is left once the architecture is taken out (Figure 3's within-split view)."""
    groups: dict[tuple[int, int], list[tuple[float, float]]] = defaultdict(list)
    for acc, count, split in pts:
        groups[split].append((acc, count))
    out = []
    for split, group in groups.items():
        if len(group) >= 2:
            acc_mean = float(np.mean([a for a, _ in group]))
            count_mean = float(np.mean([c for _, c in group]))
            out += [(a - acc_mean, c - count_mean, split) for a, c in group]
    return out


def within_split(pts: list[tuple[float, float, tuple[int, int]]]) -> list[tuple[float, float]]:
    """:func:`within_split_points` without the splits."""
    return [(a, c) for a, c, _ in within_split_points(pts)]


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.corrcoef(x, y)[0, 1]) if np.std(x) > 0 and np.std(y) > 0 else float("nan")


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman's rank correlation (ties share their mean rank); nan when a side is flat."""
    return _pearson(rankdata(np.asarray(x, float)), rankdata(np.asarray(y, float)))


def regressions(rows: list[dict[str, Any]], xor_sizes: Sequence[int],
                min_width: int = FIG3_MIN_WIDTH, *,
                common: bool = False) -> dict[str, dict[str, float]]:
    """Least-squares lines log2(count) = a * accuracy + b for Figure 3 (exact, APP-k).

    ``slope``/``pearson_r``/``spearman_rho`` pool every network;
    ``within_slope``/``within_r``/``within_spearman`` use the deviations from each
    split's means (:func:`within_split`), so that differences between architectures,
    which move accuracy and count together, do not count. ``common``: only the
    networks that are in every series (like for like).
    """
    out: dict[str, dict[str, float]] = {}
    for name, pts in figure3_series(rows, xor_sizes, min_width, common=common).items():
        if len(pts) < 2 or len({a for a, _, _ in pts}) < 2:
            continue
        acc, cnt = np.array([(a, c) for a, c, _ in pts], dtype=float).T
        slope, intercept = np.polyfit(acc, cnt, 1)
        out[name] = {"slope": float(slope), "intercept": float(intercept),
                     "pearson_r": _pearson(acc, cnt), "spearman_rho": spearman(acc, cnt),
                     "points": len(pts), "splits": len({s for _, _, s in pts}),
                     "within_slope": float("nan"), "within_r": float("nan"),
                     "within_spearman": float("nan"), "within_points": 0}
        dev = within_split(pts)
        if dev:
            da, dc = np.array(dev, dtype=float).T
            if float(np.sum(da * da)) > 0:
                out[name].update(within_slope=float(np.sum(da * dc) / np.sum(da * da)),
                                 within_r=_pearson(da, dc), within_spearman=spearman(da, dc),
                                 within_points=len(dev))
    return out


def sign_flips(rows: list[dict[str, Any]], xor_sizes: Sequence[int],
               min_width: int = FIG3_MIN_WIDTH) -> dict[str, dict[str, list[str]]]:
    """Per series, the splits whose removal alone flips the sign of the pooled or the
    within-split slope (how much a line rests on one architecture)."""
    full = regressions(rows, xor_sizes, min_width)
    splits = sorted({(int(r["n1"]), int(r["n2"])) for r in rows
                     if min(r["n1"], r["n2"]) >= min_width})
    out: dict[str, dict[str, list[str]]] = {name: {"slope": [], "within_slope": []}
                                            for name in full}
    for n1, n2 in splits:
        rest = [r for r in rows if (int(r["n1"]), int(r["n2"])) != (n1, n2)]
        fewer = regressions(rest, xor_sizes, min_width)
        for name, reg in full.items():
            for field in ("slope", "within_slope"):
                before, after = reg[field], fewer.get(name, {}).get(field, float("nan"))
                if not (math.isnan(before) or math.isnan(after)) and before * after < 0:
                    out[name][field].append(f"{n1};{n2}")
    return out


# ----------------------------------------------------------------------------- timing
def is_large(regions: int) -> bool:
    """The paper's large network: eta = log2(regions) >= 12 (section 6)."""
    return math.log2(max(1, int(regions))) >= PAPER_SMALL_ETA


def timing_pairs(rows: list[dict[str, Any]], xor_sizes: Sequence[int]) -> list[dict[str, Any]]:
    """Networks timed both ways: a finished exact count and a non-trivial XOR-k bound.

    Per network: eta = log2 of its count, the exact (LP engine) seconds and, per k,
    MIPBound's seconds, both with the MILP bound tightening (as the paper measures)."""
    out = []
    for r in rows:
        if not r["exact_complete"] or r.get("exact_seconds") is None:
            continue
        ks = [k for k in xor_sizes if r.get(f"xor{k}_seconds") is not None
              and r.get(f"xor{k}_lb") is not None and r[f"xor{k}_lb"] > 1]
        if not ks:
            continue
        base = r["bounds_seconds"] or 0.0
        out.append({"key": r["key"], "n1": r["n1"], "n2": r["n2"],
                    "regions": int(r["exact_regions"]),
                    "eta": math.log2(max(1, int(r["exact_regions"]))),
                    "large": is_large(r["exact_regions"]),
                    "exact_seconds": base + r["exact_seconds"],
                    "xor_seconds": {k: base + r[f"xor{k}_seconds"] for k in ks}})
    return out


def milp_runs(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The MILP engine's runs (the paper's method): finished or cut short at its limit,
    with the LP engine's count of the same network (None where that was cut short too)."""
    return [{"key": r["key"], "n1": r["n1"], "n2": r["n2"],
             "complete": bool(r["milp_complete"]), "proven": r["milp_regions"],
             "seconds": (r["bounds_seconds"] or 0.0) + r["milp_seconds"],
             "regions": r["exact_regions"] if r["exact_complete"] else None,
             "regions_proven": r["exact_regions"]}
            for r in rows if r.get("milp_seconds") is not None]


# ----------------------------------------------------------------------------- Table 1 scale
def scale_fit(t1: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Which scale of the gap closed (counts or log2) the paper's Table 1 is nearer to,
    over the splits with finished counts: mean absolute differences, and per split the
    nearer scale."""
    pairs = [t for t in t1 if t["gap_closed"] is not None and t["gap_closed_log2"] is not None
             and t["paper_gap_closed"] is not None]
    if not pairs:
        return None
    counts = [abs(t["gap_closed"] - t["paper_gap_closed"]) for t in pairs]
    logs = [abs(t["gap_closed_log2"] - t["paper_gap_closed"]) for t in pairs]
    nearer_log = [t["widths"] for t, c, lg in zip(pairs, counts, logs, strict=True) if lg < c]
    return {"splits": [t["widths"] for t in pairs],
            "mean_abs_counts": float(np.mean(counts)), "mean_abs_log2": float(np.mean(logs)),
            "max_abs_counts": float(np.max(counts)), "max_abs_log2": float(np.max(logs)),
            "nearer_log2": nearer_log,
            "nearer_counts": [t["widths"] for t in pairs if t["widths"] not in nearer_log]}


# ----------------------------------------------------------------------------- cost
def finishing_work(rows: list[dict[str, Any]], xor_sizes: Sequence[int]) -> list[dict[str, Any]]:
    """What exact counting costs per split, measured from the records (one core each).

    Seconds per region = counting seconds / regions, over the finished counts of the
    split, else over its counts cut short (regions proven so far); the work of a count is
    taken as that rate times its regions (the rate rises slowly with the count, so this
    is likely low beyond the counts measured). For the unfinished networks the count is
    bracketed:
    at most the Empirical UB (proven), and, as a typical lower value, the median over the
    split's networks with MIPBound of their largest XOR-k lower bound (95% per network;
    applied to every unfinished network of the split, an extrapolation). Where the
    networks have tree estimates, the work at the estimated counts too (a network
    without one taken at its split's median estimate)."""
    by_split: dict[tuple[int, int], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        if r.get("exact_seconds") is not None and r.get("exact_regions") is not None:
            by_split[(int(r["n1"]), int(r["n2"]))].append(r)
    out = []
    for (n1, n2), group in sorted(by_split.items()):
        done = [r for r in group if r["exact_complete"]]
        cut = [r for r in group if not r["exact_complete"]]
        basis = done or cut
        rate = (sum(float(r["exact_seconds"]) for r in basis)
                / max(1, sum(int(r["exact_regions"]) for r in basis)))
        best_lbs = [max(int(r[f"xor{k}_lb"]) for k in xor_sizes if r.get(f"xor{k}_lb"))
                    for r in group if any(r.get(f"xor{k}_lb") for k in xor_sizes)]
        xor_median = float(np.median(best_lbs)) if best_lbs else None
        low = sum(rate * max(int(r["exact_regions"]), xor_median or 0) for r in cut)
        high = sum(rate * max(int(r["exact_regions"]), int(r["empirical_ub"] or 0))
                   for r in cut)
        estimates = [float(r["tree_estimate"]) for r in cut
                     if r.get("tree_estimate") is not None]
        tree_median = float(np.median(estimates)) if estimates else None
        at_estimate = sum(rate * max(int(r["exact_regions"]), float(
            r["tree_estimate"] if r.get("tree_estimate") is not None else tree_median or 0))
            for r in cut)
        out.append({
            "widths": f"{n1};{n2};10", "n1": n1, "n2": n2, "networks": len(group),
            "finished": len(done), "unfinished": len(cut),
            "seconds_per_region": rate, "rate_from": "finished" if done else "cut short",
            "regions_counted": sum(int(r["exact_regions"]) for r in group),
            "seconds_spent": sum(float(r["exact_seconds"]) for r in group),
            "largest_finished": max((int(r["exact_regions"]) for r in done), default=None),
            "longest_finished_seconds": max((float(r["exact_seconds"]) for r in done),
                                            default=None),
            "xor_lb_median": xor_median, "xor_networks": len(best_lbs),
            "empirical_ub_median": (float(np.median([float(r["empirical_ub"]) for r in cut]))
                                    if cut else None),
            # seconds on one core to count the unfinished networks from scratch
            "left_typical_low": low if cut and xor_median is not None else None,
            "left_at_most": high if cut else None,
            "tree_median": tree_median, "tree_networks": len(estimates),
            # the same at each network's tree estimate (the split's median where missing)
            "left_at_estimate": at_estimate if cut and estimates else None,
        })
    return out


def time_totals(records: list[dict[str, Any]]) -> dict[str, float]:
    """Seconds spent per method, summed over the records (where the time went)."""
    totals: dict[str, float] = defaultdict(float)
    for rec in records:
        for name in ("train", "bounds", "upper", "exact", "exact_milp", "tree"):
            entry = rec.get(name)
            if isinstance(entry, dict) and ok(entry) and entry.get("seconds") is not None:
                totals[name] += float(entry["seconds"])
        for k, est in (rec.get("xor") or {}).items():
            if ok(est):
                totals[f"xor{k}"] += float(est["seconds"])
    return dict(totals)


__all__ = [
    "ESTIMATED",
    "FIG3_MIN_WIDTH",
    "count_or_estimate",
    "figure3_reference",
    "figure3_members",
    "finishing_work",
    "is_large",
    "milp_runs",
    "scale_fit",
    "sign_flips",
    "spearman",
    "timing_pairs",
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
    "within_split_points",
]
