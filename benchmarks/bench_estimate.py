"""The tree estimate (estimate_regions(method="tree")) against exact counts and MIPBound.

Seven subcommands, each printing a markdown table (docs/bench-estimate.md,
docs/estimate.md):

* ``coverage``: on networks of known count, ``--seeds`` estimates each; how often the
  95% interval holds the exact count, the mean and median relative error, the time.
  Exact counts are cached in ``runs/bench_estimate/counts.json`` and every estimate is
  appended to ``runs/bench_estimate/coverage.jsonl``, so a run cut short resumes.
* ``speed``: on each network, the exact count's time beside the estimate's time to a
  relative error, and MIPBound's XOR-k lower bounds (k = 2..5) with their times.
* ``table``: the coverage table from the JSONL file.
* ``variance``: the spread and CPU of single runs by population and by how a run ends
  (down to the leaves, or the last layer counted exactly): the CPU a +-10% interval
  needs, the figures behind the defaults.
* ``alternatives``: the same figures for Purdom's partial backtracking and Chen's
  heuristic sampling (benchmarks/tree_alternatives.py) beside the library's runs.
* ``sizing``: how far ``frontier="auto"``'s rough size of the tree (``sized_tree``)
  strays from a known count, over ``--repeats`` seeds, and the tops it picks.
* ``rest``: the estimate of a count cut short, with the population's top (as ``count``
  does) against ``frontier="auto"``.

    python benchmarks/bench_estimate.py coverage --set lowdim --seeds 50
    python benchmarks/bench_estimate.py coverage --set mnist --seeds 50
    python benchmarks/bench_estimate.py table
    python benchmarks/bench_estimate.py speed --net shared/nets/mnist-784-8-8-10-a.npz
    python benchmarks/bench_estimate.py variance --net dense:0:4:16,16,8 --populations 256

Networks: ``lowdim`` are tests/netgen.py's dense networks with 2-4 inputs (10^3-10^5
regions); ``mnist`` the two 784;8;8;10 fixtures, the bundled 64-input example and any
``--extra`` NPZ files (e.g. networks from ``reluscope train``).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # one BLAS thread: timings per core

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import reluscope  # noqa: E402
from netgen import dense_network  # noqa: E402
from reluscope.bounds import tighten_bounds  # noqa: E402
from reluscope.regions.estimate.tree_estimate import (  # noqa: E402
    DEFAULT_POPULATION,
    MIN_RUNS,
    SAMPLINGS,
    estimate_count,
)

OUT = ROOT / "runs" / "bench_estimate"
LOWDIM = [
    (2, (16, 16, 8)), (2, (24, 24, 12)), (2, (32, 32, 16)), (2, (16, 16, 16, 8)),
    (3, (12, 12, 6)), (3, (16, 16, 8)), (3, (20, 20, 10)), (3, (10, 10, 10, 5)),
    (4, (10, 10, 5)), (4, (12, 12, 6)), (4, (16, 16, 8)),
]


def networks(which: str, extra: list[str]) -> dict[str, reluscope.ReLUNetwork]:
    nets: dict[str, reluscope.ReLUNetwork] = {}
    if which == "lowdim":
        for seed in (0, 1):
            for d, widths in LOWDIM:
                name = f"dense{seed}-{d};{';'.join(map(str, widths))}"
                nets[name] = dense_network(seed, d, widths)
    elif which == "mnist":
        for tag in ("a", "b"):
            nets[f"mnist-784;8;8;10-{tag}"] = reluscope.load(
                ROOT / "tests" / "fixtures" / f"mnist-784-8-8-10-{tag}.npz")
        nets["example-64;6;6;10"] = reluscope.example_network()
    for path in extra:
        nets[Path(path).stem] = reluscope.load(path)
    return nets


def exact_counts(
    nets: dict[str, reluscope.ReLUNetwork], limit: float, cache_name: str = "counts.json"
) -> dict[str, int]:
    """Exact counts (cached): networks whose count does not finish are left out."""
    OUT.mkdir(parents=True, exist_ok=True)
    cache = OUT / cache_name
    known = json.loads(cache.read_text()) if cache.exists() else {}
    for name, net in nets.items():
        if name in known:
            continue
        res = reluscope.count_regions(net, n_jobs=1, time_limit=limit, estimate_rest=False)
        known[name] = {"regions": res.regions if res.exact else None,
                       "seconds": res.seconds}
        cache.write_text(json.dumps(known, indent=1))
        print(f"# exact {name}: {res.regions} ({res.status}, {res.seconds:.1f} s)",
              flush=True)
    return {k: v["regions"] for k, v in known.items() if k in nets and v["regions"]}


def coverage(args: argparse.Namespace) -> None:
    nets: dict[str, reluscope.ReLUNetwork] = {}
    counts: dict[str, int] = {}
    for which in args.set:
        these = networks(which, args.extra if which == "extra" else [])
        nets.update(these)
        counts.update(exact_counts(these, args.count_limit, f"counts-{which}.json"))
    log = OUT / "coverage.jsonl"
    counts = dict(sorted(((k, v) for k, v in counts.items() if v >= args.min_regions),
                         key=lambda item: item[1]))  # small networks first
    done = set()
    if log.exists():
        for line in log.read_text().splitlines():
            r = json.loads(line)
            done.add((r["network"], r["seed"], r["population"], r["rel_error"],
                      r.get("sampling", "uniform"), r.get("frontier")))
    bounds = {name: tighten_bounds(nets[name], method="lp") for name in counts}
    # seed-major: a run cut short has every network at about the same number of seeds
    for seed in range(args.first_seed, args.seeds):
        for name, exact in counts.items():
            key = (name, seed, args.population, args.rel_error, args.sampling, args.frontier)
            if key in done:
                continue
            est = estimate_count(nets[name], bounds=bounds[name], rel_error=args.rel_error,
                                 population=args.population, sampling=args.sampling,
                                 frontier=args.frontier, random_state=seed)
            row = {"network": name, "regions": exact, "seed": seed,
                   "population": args.population, "rel_error": args.rel_error,
                   "sampling": args.sampling, "min_runs": MIN_RUNS, **est.to_dict(),
                   "frontier": args.frontier, "top": est.frontier}
            with log.open("a") as fh:
                fh.write(json.dumps(row) + "\n")
        print(f"# seed {seed} done", flush=True)
    table(args)


def table(args: argparse.Namespace) -> None:
    """The coverage table of ``coverage.jsonl`` (``--file`` another). Estimates whose run
    met every region (``exact``: the tree was smaller than the population) are listed
    but left out of the coverage total."""
    path = Path(args.file) if getattr(args, "file", None) else OUT / "coverage.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        key = (f"{r.get('sampling', 'uniform')}, top {r.get('frontier') or r['population']}",
               r["population"], r["rel_error"], r["network"])
        groups.setdefault(key, []).append(r)
    print("| network | regions | sampling, exact top | population | rel_error | seeds | coverage "
          "| mean rel. error | median abs. rel. error | median runs | median time (s) "
          "| heavy flags |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    total = hit = 0
    exact_rows = []
    for (sampling, pop, rel, name), rs in sorted(groups.items()):
        exact = rs[0]["regions"]
        if rs[0].get("frontier") == "auto":  # the top sized by the tree: its median size
            sampling += f" ({np.median([r['top'] for r in rs]):.0f})"
        if all(r.get("exact") for r in rs):
            exact_rows.append(name)
            continue
        # ends rounded outward to whole regions, as the library does since 2026-12-07
        ok = [math.floor(r["ci_low"]) <= exact <= math.ceil(r["ci_high"]) for r in rs]
        err = np.array([r["estimate"] / exact - 1 for r in rs])
        total += len(ok)
        hit += sum(ok)
        print(f"| {name} | {exact:,} | {sampling} | {pop} | {rel} | {len(rs)} "
              f"| {np.mean(ok):.0%} "
              f"| {err.mean():+.3f} | {np.median(np.abs(err)):.3f} "
              f"| {np.median([r['probes'] for r in rs]):.0f} "
              f"| {np.median([r['seconds'] for r in rs]):.2f} "
              f"| {sum(r['heavy_tail'] for r in rs)} |")
    networks = len(groups) - len(exact_rows)
    print(f"\nall: {hit}/{total} intervals hold the exact count ({hit / max(total, 1):.1%}) "
          f"on {networks} networks")
    if exact_rows:
        print(f"counted exactly by the first run (tree smaller than the population, left "
              f"out): {', '.join(exact_rows)}")


def speed(args: argparse.Namespace) -> None:
    """Exact count, tree estimates, MIPBound XOR-k lower bounds and their APP-k, side by
    side on one network: value, interval or probability, error against the exact count
    (when it finished), seconds."""
    from reluscope.regions.upper import app_k

    net = reluscope.load(args.net) if args.net != "example" else reluscope.example_network()
    bounds = tighten_bounds(net, method="lp")
    t = time.perf_counter()
    exact = reluscope.count_regions(net, bounds=bounds, n_jobs=args.jobs,
                                    time_limit=args.count_limit, estimate_rest=False)
    t_exact = time.perf_counter() - t
    truth = exact.regions if exact.exact else None

    def error(value: float) -> str:
        return f"{value / truth - 1:+.1%}" if truth else ""

    word = "exact" if exact.exact else f"at least, {exact.status}"
    print(f"{Path(args.net).stem}, {args.jobs} process(es)\n")
    print("| method | value | interval / probability | error | seconds |")
    print("|---|---:|---:|---:|---:|")
    print(f"| exact count (lp) | {exact.regions:,} ({word}) | | | {t_exact:.1f} |")
    for rel in args.rel:
        for sampling, seed in itertools.product(args.sampling, range(args.seeds)):
            est = estimate_count(net, bounds=bounds, rel_error=rel, random_state=seed,
                                 population=args.population, n_jobs=args.jobs,
                                 sampling=sampling, frontier=args.frontier,
                                 time_limit=args.estimate_limit)
            top = f", top {args.frontier}" if args.frontier else ""
            top += f" ({est.frontier})" if args.frontier == "auto" else ""
            pop = "" if args.population == DEFAULT_POPULATION else f", population {args.population}"
            name = f"tree ({sampling}{top}{pop}), rel_error {rel}, seed {seed}"
            if est.estimate is None or est.ci_low is None or est.ci_high is None:
                print(f"| {name} | no estimate ({est.message}) | | | {est.seconds:.1f} |")
                continue
            # a count cut short: its time to the estimate, at the rate it proved regions
            full = t_exact if truth else t_exact * est.estimate / max(exact.regions, 1)
            what = "exact" if truth else "the exact count extrapolated from its rate"
            print(f"| {name} ({est.probes} runs, {est.status}) | {est.estimate:,.0f} | "
                  f"{est.ci_low:,.0f}-{est.ci_high:,.0f} | {error(est.estimate)} | "
                  f"{est.seconds:.1f} ({est.seconds / full:.3g}x {what}) |")
    ub = reluscope.upper_bounds(net, bounds=bounds)
    assert ub.empirical_ub is not None
    print(f"| Empirical UB | {ub.empirical_ub:,} | | {error(ub.empirical_ub)} "
          f"| {ub.seconds:.1f} |")
    for k in args.xor:
        r = reluscope.estimate_regions(net, method="mipbound", xor_size=k, bounds=bounds,
                                       random_state=0, time_limit=args.mipbound_limit)
        lb = max(int(r.lower_bound), 1)
        app = 2 ** app_k(lb, ub.empirical_ub)
        print(f"| MIPBound XOR-{k} (lower bound, {r.status}) | {r.lower_bound:,} | p = "
              f"{r.probability:.3f} | {error(lb)} | {r.seconds:.1f} |")
        print(f"| APP-{k} (2^mean of log2 XOR-{k} and log2 Empirical UB) | {app:,.0f} | | "
              f"{error(app)} | |")


def _network(spec: str) -> tuple[str, reluscope.ReLUNetwork]:
    """``model.npz``, ``example`` or ``dense:SEED:N0:W1,W2,...`` (tests/netgen.py)."""
    if spec == "example":
        return "example-64;6;6;10", reluscope.example_network()
    if spec.startswith("dense:"):
        _, seed, n0, widths = spec.split(":")
        ws = tuple(int(w) for w in widths.split(","))
        return (f"dense{seed}-{n0};{';'.join(map(str, ws))}",
                dense_network(int(seed), int(n0), ws))
    return Path(spec).stem, reluscope.load(spec)


def _exact_top(prep: Any, prober: Any, size: int) -> tuple[int, list[Any]]:
    """The regions met and the frontier left by expanding the top of the tree exactly
    to ``size`` nodes, as the estimate does before its runs."""
    import threading

    from reluscope.regions.estimate.probes import node_of
    from reluscope.regions.estimate.tree_estimate import expand_frontier

    return expand_frontier(prober, [node_of(prep.root_task())], size, float("inf"),
                           threading.Event())


def _pilot_predictor(prober: Any, top: list[Any], population: int) -> Any:
    """The depth predictor fitted on ``PILOT_RUNS`` uniform runs of seeds apart from the
    measured ones (their CPU not counted)."""
    from reluscope.regions.estimate.enumeration import (
        SubtreePredictor,
        SubtreeRecord,
        enumeration_run,
    )
    from reluscope.regions.estimate.tree_estimate import PILOT_RUNS

    record = SubtreeRecord.empty(prober.prep.n_units + 1)
    for i in range(PILOT_RUNS):
        pilot = enumeration_run(prober, top, population, np.random.default_rng(10**6 + i))
        assert pilot is not None
        record = record + pilot.record
    return SubtreePredictor.fit(record)


def variance(args: argparse.Namespace) -> None:
    """Per-run spread and CPU of the runs themselves (no stopping rule): for each
    population, way of ending a run (``leaves``: sampled down to the leaves, the
    default; ``last``: the last layer's subtrees counted exactly) and way of sampling
    (``uniform``; ``depth``: importance sampling by a predictor fitted on ``PILOT_RUNS``
    uniform runs of other seeds, their CPU not counted), ``--runs`` runs from the same
    exact top; ``CPU for +-10%`` is ``384 CV^2 t``, the CPU a 95% interval of +-10%
    needs (docs/estimate.md)."""
    from reluscope.regions.estimate.enumeration import enumeration_run
    from reluscope.regions.estimate.probes import Prober, last_layer_start
    from reluscope.regions.search.core import prepare

    name, net = _network(args.net)
    prep = prepare(net, tighten_bounds(net, method="lp"))
    print(f"{name}\n\n| population, top | runs end | sampling | mean | CV of a run | CPU s per run "
          f"| CPU for +-10% (s) |\n|---:|---|---|---:|---:|---:|---:|")
    for population in args.populations:
        for mode in args.modes:
            prober = Prober(prep, exact_from=last_layer_start(prep) if mode == "last" else None)
            top = args.frontier or population
            found, frontier = _exact_top(prep, prober, top)
            for sampling in args.sampling:
                predictor = (_pilot_predictor(prober, frontier, population)
                             if sampling == "depth" else None)
                begin = time.process_time()
                runs = [enumeration_run(prober, frontier, population,
                                        np.random.default_rng(args.seed + i),
                                        predictor=predictor) for i in range(args.runs)]
                seconds = (time.process_time() - begin) / args.runs
                values = found + np.array([run.value for run in runs if run is not None])
                cv = float(values.std(ddof=1) / values.mean())
                print(f"| {population}, top {top} | {mode} | {sampling} | {values.mean():,.0f} "
                      f"| {cv:.3f} "
                      f"| {seconds:.3f} | {384 * cv * cv * seconds:,.1f} |", flush=True)


def alternatives(args: argparse.Namespace) -> None:
    """Stochastic enumeration (the library's runs, uniform and by depth) beside Purdom's
    partial backtracking and Chen's heuristic sampling (benchmarks/tree_alternatives.py),
    from the same exact top of ``--frontier`` nodes: mean (and its error against
    ``--count`` when given), CV of a run, CPU per run, and ``384 CV^2 t``, the CPU a
    95% interval of +-10% needs."""
    from reluscope.regions.estimate.enumeration import SubtreePredictor, enumeration_run
    from reluscope.regions.estimate.probes import Prober
    from reluscope.regions.search.core import prepare
    from tree_alternatives import chen_run, purdom_probe, stratifier

    name, net = _network(args.net)
    prep = prepare(net, tighten_bounds(net, method="lp"))
    prober = Prober(prep)
    found, top = _exact_top(prep, prober, args.frontier)
    predictor = _pilot_predictor(prober, top, args.population)

    def se(predictor: SubtreePredictor | None) -> Callable[[np.random.Generator], float]:
        def one(rng: np.random.Generator) -> float:
            run = enumeration_run(prober, top, args.population, rng, predictor=predictor)
            assert run is not None
            return run.value
        return one

    methods: dict[str, Callable[[np.random.Generator], float]] = {
        f"stochastic enumeration, population {args.population}, uniform": se(None),
        f"stochastic enumeration, population {args.population}, by depth": se(predictor),
    }
    assert predictor is not None
    by_depth = predictor(top)
    for q in args.purdom:
        for how, sizes in (("uniform", None), ("by depth", by_depth)):
            methods[f"Purdom's partial backtracking, q = {q:g}, {args.population} top nodes "
                    f"drawn {how}"] = (
                lambda rng, q=q, sizes=sizes: purdom_probe(prober, top, q, rng,
                                                           keep=args.population, sizes=sizes))
    widest: dict[str, int] = {}
    for kind in args.chen:
        key = stratifier(prep, kind)

        def chen(rng: np.random.Generator, key: Any = key, kind: str = kind) -> float:
            value, width = chen_run(prober, top, key, rng)
            widest[kind] = max(widest.get(kind, 0), width)
            return value
        methods[f"Chen's heuristic sampling, stratifier {kind}"] = chen
    truth = f" (exact {args.count:,})" if args.count else ""
    print(f"{name}, top {len(top)} nodes{truth}\n\n| method | mean | error of the mean "
          f"| CV of a run | CPU s per run | CPU for +-10% (s) |\n|---|---:|---:|---:|---:|---:|")
    for label, one in methods.items():
        begin = time.process_time()
        values = found + np.array([one(np.random.default_rng(args.seed + i))
                                   for i in range(args.runs)])
        seconds = (time.process_time() - begin) / args.runs
        mean, cv = float(values.mean()), float(values.std(ddof=1) / values.mean())
        error = (f"{mean / args.count - 1:+.1%} +- {cv / np.sqrt(args.runs):.1%}"
                 if args.count else "")
        for kind, width in widest.items():
            if kind in label:
                label += f" (up to {width} nodes a level)"
        print(f"| {label} | {mean:,.0f} | {error} | {cv:.3f} | {seconds:.3f} "
              f"| {384 * cv * cv * seconds:,.1f} |", flush=True)


def sizing(args: argparse.Namespace) -> None:
    """``frontier="auto"``'s sizing, repeated: log2 of the rough size against log2 of
    ``--count`` (the exact count, or the estimate where it is out of reach), the CPU of
    one sizing and the tops chosen."""
    import threading

    from reluscope.regions.estimate.probes import Prober
    from reluscope.regions.estimate.tree_estimate import sized_tree, top_for
    from reluscope.regions.search.core import prepare

    name, net = _network(args.net)
    prep = prepare(net, tighten_bounds(net, method="lp"))
    prober = Prober(prep)
    found, top = _exact_top(prep, prober, DEFAULT_POPULATION)
    stop = threading.Event()
    logs, tops = [], []
    begin = time.process_time()
    for seed in range(args.repeats):
        size = sized_tree(prober, top, found, np.random.SeedSequence(seed), stop, float("inf"))
        assert size is not None
        logs.append(math.log2(size))
        tops.append(top_for(size, DEFAULT_POPULATION))
    cpu = (time.process_time() - begin) / args.repeats
    truth = math.log2(args.count)
    print(f"| {name} | {args.count:,.0f} ({truth:.2f}) | {args.repeats} | {np.median(logs):.2f} "
          f"| {min(logs):.2f}-{max(logs):.2f} | {cpu:.2f} | "
          f"{', '.join(f'{t:,}' for t in sorted(set(tops)))} |")


def rest(args: argparse.Namespace) -> None:
    """The estimate of a count cut short, with the population's top (what ``count`` does)
    and with ``frontier="auto"``: one count cut at ``--count-limit``, then ``--seeds``
    estimates of each in ``--seconds``, with the population ``count`` would pick."""
    from reluscope.regions.count.dispatch import REST_RUNS
    from reluscope.regions.search.engine import count_regions_lp

    name, net = _network(args.net)
    bounds = tighten_bounds(net, method="lp")
    left: list[Any] = []
    part = count_regions_lp(net, bounds, time_limit=args.count_limit, n_jobs=1, frontier=left)
    depth = sum(net.widths[i] for i in net.relu_layers)
    node_seconds = part.seconds / max(part.nodes, 1)
    population = min(max(int(args.seconds / (REST_RUNS * depth * node_seconds)), 2),
                     DEFAULT_POPULATION)
    print(f"{name}: {part.regions:,} regions proven in {part.seconds:.0f} s, {len(left)} "
          f"subtrees left, population {population}\n")
    print("| top | seed | top used | estimate (95% interval) | runs | half-width |")
    print("|---|---:|---:|---:|---:|---:|")
    for frontier in (None, "auto"):
        for seed in range(args.seeds):
            est = estimate_count(net, bounds=bounds, rel_error=None, time_limit=args.seconds,
                                 population=population, frontier=frontier, start_nodes=left,
                                 proven=part.regions, random_state=seed)
            value = ("none (too few runs)" if est.estimate is None else
                     f"{est.estimate:,.0f} ({est.ci_low:,.0f}-{est.ci_high:,.0f})")
            width = "" if est.rel_half_width is None else f"{est.rel_half_width:.1%}"
            print(f"| {frontier or 'population'} | {seed} | {est.frontier:,} | {value} "
                  f"| {est.probes} | {width} |", flush=True)


def top_size(text: str) -> int | str:
    """``--frontier``: a number of nodes or ``auto``."""
    return text if text == "auto" else int(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    cov = sub.add_parser("coverage")
    cov.add_argument("--set", choices=("lowdim", "mnist", "extra"), nargs="+",
                     default=["lowdim"], help="extra: the --extra NPZ files")
    cov.add_argument("--extra", nargs="*", default=[])
    cov.add_argument("--seeds", type=int, default=50, help="seeds 0..N-1")
    cov.add_argument("--first-seed", type=int, default=0,
                     help="start at this seed (a second process can take the upper seeds)")
    cov.add_argument("--population", type=int, default=DEFAULT_POPULATION)
    cov.add_argument("--rel-error", type=float, default=0.1)
    cov.add_argument("--sampling", choices=SAMPLINGS, default="depth")
    cov.add_argument("--frontier", type=top_size, default="auto",
                     help="nodes of the exactly expanded top, or auto (the library's "
                     "default since 2026-12-08; the tables before it used 256)")
    cov.add_argument("--count-limit", type=float, default=600.0)
    cov.add_argument("--min-regions", type=int, default=0,
                     help="only the networks of at least this many regions")
    tab = sub.add_parser("table")
    tab.add_argument("--file", help="a coverage JSONL file (default: runs/bench_estimate/"
                     "coverage.jsonl)")
    var = sub.add_parser("variance")
    var.add_argument("--net", required=True,
                     help="model.npz, example or dense:SEED:N0:W1,W2,... (tests/netgen.py)")
    var.add_argument("--populations", type=int, nargs="+", default=[64, 256])
    var.add_argument("--modes", nargs="+", choices=("leaves", "last"),
                     default=["leaves", "last"])
    var.add_argument("--sampling", nargs="+", choices=("uniform", "depth"),
                     default=["uniform", "depth"])
    var.add_argument("--runs", type=int, default=12)
    var.add_argument("--frontier", type=int, default=None,
                     help="nodes of the exactly expanded top (default: the population)")
    var.add_argument("--seed", type=int, default=0)
    alt = sub.add_parser("alternatives")
    alt.add_argument("--net", required=True,
                     help="model.npz, example or dense:SEED:N0:W1,W2,... (tests/netgen.py)")
    alt.add_argument("--count", type=int, default=None, help="the exact count, if known")
    alt.add_argument("--frontier", type=int, default=DEFAULT_POPULATION)
    alt.add_argument("--population", type=int, default=DEFAULT_POPULATION)
    alt.add_argument("--purdom", type=float, nargs="*", default=[0.0, 0.25, 0.5],
                     help="Purdom's q (0: Knuth's estimator from every top node)")
    alt.add_argument("--chen", nargs="*", choices=("counts", "pattern"),
                     default=["counts", "pattern"])
    alt.add_argument("--runs", type=int, default=12)
    alt.add_argument("--seed", type=int, default=0)
    sp = sub.add_parser("speed")
    sp.add_argument("--net", required=True)
    sp.add_argument("--rel", type=float, nargs="*", default=[0.1, 0.05])
    sp.add_argument("--population", type=int, default=DEFAULT_POPULATION)
    sp.add_argument("--sampling", nargs="+", choices=SAMPLINGS, default=list(SAMPLINGS))
    sp.add_argument("--frontier", type=top_size, default="auto",
                    help="nodes of the exactly expanded top, or auto (the library's "
                    "default since 2026-12-08; the tables before it used 256)")
    sp.add_argument("--seeds", type=int, default=1, help="estimates with seeds 0..N-1")
    sp.add_argument("--jobs", type=int, default=1)
    sp.add_argument("--xor", type=int, nargs="*", default=[2, 3, 4, 5])
    sp.add_argument("--mipbound-limit", type=float, default=600.0)
    sp.add_argument("--estimate-limit", type=float, default=None)
    sp.add_argument("--count-limit", type=float, default=3600.0)
    siz = sub.add_parser("sizing")
    siz.add_argument("--net", required=True)
    siz.add_argument("--count", type=float, required=True,
                     help="the exact count (or its estimate, out of exact reach)")
    siz.add_argument("--repeats", type=int, default=10)
    rst = sub.add_parser("rest")
    rst.add_argument("--net", required=True)
    rst.add_argument("--count-limit", type=float, default=90.0)
    rst.add_argument("--seconds", type=float, default=10.0,
                     help="seconds for each estimate (count gives 10%% of its time limit)")
    rst.add_argument("--seeds", type=int, default=4)
    args = parser.parse_args()
    {"coverage": coverage, "table": table, "speed": speed,
     "variance": variance, "alternatives": alternatives,
     "sizing": sizing, "rest": rest}[args.cmd](args)


if __name__ == "__main__":
    main()
