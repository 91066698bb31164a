"""``reluscope estimate MODEL``: estimates of the number of linear regions.

``--method tree``: the count itself with a 95% interval
(:mod:`reluscope.regions.estimate.tree_estimate`); the JSON object has ``estimate``,
``ci_low``, ``ci_high``, ``probes``, ``seconds``, ``status`` and the other fields of
:class:`~reluscope.regions.estimate.tree_estimate.CountEstimate`.
``--method mipbound`` (default) / ``mbound``: MIPBound's probabilistic lower bound. With
one ``--xor-size`` the JSON output is one flat object (the fields of
:class:`~reluscope.regions.estimate.mipbound.RegionEstimate`); with several (``--xor-size 2,3,4,5``,
the paper's XOR-k curves in one call) it is ``{"estimates": {"2": {...}, "3": {...}},
"bounds_seconds": ...}``, keyed by the size. Bounds are computed once and shared by all
sizes. ``--time-limit`` is for the whole command; ``--size-time-limit`` limits each size
(within what is left of ``--time-limit``).
"""

from __future__ import annotations

import argparse
import time

from reluscope import validation
from reluscope.bounds import BOUNDS_METHODS, tighten_bounds
from reluscope.cli import signals
from reluscope.cli.common import add_model_arguments, emit, load_network, show_progress
from reluscope.errors import ReluscopeError
from reluscope.regions.estimate.dispatch import ESTIMATE_METHODS
from reluscope.regions.estimate.mipbound import RegionEstimate, estimate_regions
from reluscope.regions.estimate.tree_estimate import (
    AUTO_MAX_TOP,
    DEFAULT_POPULATION,
    SAMPLINGS,
    CountEstimate,
    estimate_count,
)
from reluscope.status import TIME_LIMIT


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ReluscopeError(
            f"--xor-size expects K or K1,K2,... (integers), got {text!r}"
        ) from None
    if not sizes or any(k < 1 for k in sizes):
        raise ReluscopeError(f"--xor-size needs positive integers, got {text!r}")
    return list(dict.fromkeys(sizes))


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "estimate",
        help="estimate the linear regions: the count with a 95%% interval (--method tree) "
        "or MIPBound's probabilistic lower bound",
        description="Estimates of the number of linear regions: --method tree gives the "
        "count with a confidence interval (random runs over the exact search); mipbound "
        "(default) and mbound give the probabilistic lower bound of Serra & Ramalingam "
        "2020, Algorithm 1.",
    )
    add_model_arguments(parser)
    parser.add_argument("--xor-size", default=None, metavar="K[,K...]",
                        help="mipbound/mbound: parity constraint size(s), e.g. 3 or 2,3,4,5 "
                        "(default 3)")
    parser.add_argument("--confidence", type=float, default=0.95, metavar="P",
                        help="probability the reported bound must reach (default 0.95)")
    parser.add_argument("--seed", type=int, default=None, metavar="S",
                        help="random seed: same seed, same result")
    parser.add_argument("--method", choices=ESTIMATE_METHODS, default="mipbound",
                        help="tree: the count with a confidence interval; mipbound: lower "
                        "bound, one solve per repetition (lazy cuts); mbound: the baseline, "
                        "one solve per number of constraints")
    parser.add_argument("--rel-error", type=float, default=0.05, metavar="R",
                        help="tree: stop when the interval's half-width is within R of the "
                        "estimate (default 0.05)")
    parser.add_argument("--jobs", type=int, default=None, metavar="N",
                        help="tree: processes running the runs (default 1)")
    parser.add_argument("--cluster", metavar="ADDRESS",
                        help="tree: run the runs on the Dask scheduler at ADDRESS "
                        "(tcp://host:8786) instead of --jobs processes; needs "
                        "pip install 'reluscope[cluster]'")
    parser.add_argument("--population", type=int, default=DEFAULT_POPULATION, metavar="B",
                        help=f"tree: nodes kept per level of a run (default {DEFAULT_POPULATION})")
    parser.add_argument("--frontier", default="auto", metavar="F",
                        help="tree: nodes of the top of the tree expanded exactly once "
                        "before the runs; a larger top narrows every run on large trees "
                        "(default auto: about one node per 32 regions, sized by a few "
                        "cheap runs first; or a number, e.g. 65536; docs/estimate.md)")
    parser.add_argument("--sampling", choices=SAMPLINGS, default="depth",
                        help="tree: how a run keeps nodes: depth (importance sampling by "
                        "the subtree sizes earlier runs saw; default) or uniform")
    parser.add_argument("--time-limit", type=float, default=None, metavar="S",
                        help="seconds for the whole command; returns what was done so far")
    parser.add_argument("--size-time-limit", type=float, default=None, metavar="S",
                        help="mipbound/mbound: seconds per XOR size")
    parser.add_argument("--target-probability", type=float, default=0.995, metavar="P",
                        help="repeat until this probability is reachable (default 0.995: "
                        "28 repetitions)")
    parser.add_argument("--max-repetitions", type=int, default=None, metavar="N",
                        help="cap on the repetitions")
    parser.add_argument("--bounds-method", choices=BOUNDS_METHODS, default="lp",
                        help="bounds for the MILP's constants (default lp)")
    parser.set_defaults(func=run)


def _size_limit(size_time_limit: float | None, deadline: float | None) -> float | None:
    """Seconds for the next XOR size: its own limit, cut to what is left of the command's."""
    if deadline is None:
        return size_time_limit
    left = max(0.0, deadline - time.perf_counter())
    return left if size_time_limit is None else min(size_time_limit, left)


def _line(est: RegionEstimate) -> str:
    prob = f"{est.probability:.4f}"
    return (f"XOR-{est.xor_size}: regions >= {est.lower_bound} (2^{est.log2_lower_bound}) "
            f"with probability {prob}; {est.repetitions} repetitions, {est.solver_calls} "
            f"solver calls, {est.seconds:.2f} s, {est.status}; {est.regions_found} regions seen")


def _run_tree(args: argparse.Namespace) -> int:
    if args.xor_size is not None or args.size_time_limit is not None:
        raise ReluscopeError("--xor-size and --size-time-limit are for --method "
                             "mipbound/mbound; --method tree takes --rel-error and --time-limit")
    validation.check_seed(args.seed, "--seed")
    validation.check_time_limit(args.time_limit, "--time-limit")
    if args.cluster is not None and args.jobs is not None:
        raise ReluscopeError("give --jobs or --cluster, not both (the cluster's workers run "
                             "the runs)")
    if args.jobs is not None:
        validation.check_n_jobs(args.jobs, "--jobs")
    validation.check_positive_int(args.population, "--population")
    frontier = _frontier(args.frontier)
    if not (args.rel_error > 0 and args.rel_error < float("inf")):
        raise ReluscopeError(f"--rel-error must be a number > 0, got {args.rel_error}")
    if not 0.0 < args.confidence < 1.0:
        raise ReluscopeError(f"--confidence must lie strictly between 0 and 1, got "
                             f"{args.confidence}")
    network = load_network(args)
    est = estimate_count(
        network, rel_error=args.rel_error, confidence=args.confidence,
        time_limit=args.time_limit, random_state=args.seed,
        n_jobs=None if args.cluster else (args.jobs or 1), cluster=args.cluster,
        bounds_method=args.bounds_method, population=args.population,
        sampling=args.sampling, frontier=frontier,
        progress=show_progress() and not args.json,
    )
    lines = [network.describe(), est.describe()]
    if est.estimate is not None and not est.exact:
        lines.append(f"{est.probes} runs of population {est.population} below an exact "
                     f"top of {est.frontier:,} nodes, "
                     f"{est.proven:,} regions proven on the way, half-width "
                     f"{100 * (est.rel_half_width or 0):.1f}%, {est.seconds:.2f} s, {est.status}")
    if est.message:
        lines.append(f"note: {est.message}")
    if _short_of_rel_error(est, args):
        lines.append("hint: the interval did not narrow to --rel-error in time: give more "
                     "--time-limit or --jobs; on very large trees a larger exact top "
                     f"narrows every run (--frontier {AUTO_MAX_TOP}; docs/estimate.md)")
    emit(args, est.to_dict(), "\n".join(lines))
    return 0


def _frontier(text: str) -> int | str:
    """``--frontier``: a number of nodes or ``auto``."""
    if text == "auto":
        return text
    try:
        return validation.check_positive_int(int(text), "--frontier")
    except ValueError:
        why = f"--frontier must be an integer >= 1 or 'auto', got {text!r}"
        raise ReluscopeError(why) from None


def _short_of_rel_error(est: CountEstimate, args: argparse.Namespace) -> bool:
    """A time limit stopped the estimate short of its --rel-error."""
    return (est.status == TIME_LIMIT and not est.exact
            and (est.rel_half_width is None or est.rel_half_width > args.rel_error))


def run(args: argparse.Namespace) -> int:
    if args.method == "tree":
        return _run_tree(args)
    sizes = _sizes(args.xor_size or "3")
    validation.check_seed(args.seed, "--seed")
    validation.check_time_limit(args.time_limit, "--time-limit")
    validation.check_time_limit(args.size_time_limit, "--size-time-limit")
    validation.check_probability(args.confidence, "--confidence")
    validation.check_probability(args.target_probability, "--target-probability")
    validation.check_optional_positive_int(args.max_repetitions, "--max-repetitions")
    network = load_network(args)
    start = time.perf_counter()
    deadline = None if args.time_limit is None else start + args.time_limit
    bounds = tighten_bounds(network, method=args.bounds_method, time_limit=args.time_limit)
    bounds_seconds = time.perf_counter() - start
    n_binaries = sum(int(bounds.unstable(layer).sum()) for layer in network.relu_layers)
    if n_binaries > 0 and not signals.stopped():  # every size checked before any solve
        for k in sizes:
            validation.check_xor_size(k, n_binaries, "--xor-size")
    estimates: dict[int, RegionEstimate] = {}
    for k in sizes:
        if signals.stopped():  # Ctrl-C/SIGTERM: no further XOR size
            break
        estimates[k] = estimate_regions(
            network, xor_size=k, confidence=args.confidence, random_state=args.seed,
            time_limit=_size_limit(args.size_time_limit, deadline), method=args.method,
            target_probability=args.target_probability, max_repetitions=args.max_repetitions,
            bounds=bounds, progress=show_progress(),
        )
    if len(sizes) == 1 and not estimates:  # stopped while computing the bounds
        payload = {"status": "interrupted", "bounds_seconds": bounds_seconds}
    elif len(sizes) == 1:
        payload = estimates[sizes[0]].to_dict()
        payload["bounds_seconds"] = bounds_seconds
    else:
        payload = {"estimates": {str(k): e.to_dict() for k, e in estimates.items()},
                   "bounds_seconds": bounds_seconds}
    lines = [network.describe(), f"bounds by {args.bounds_method} in {bounds_seconds:.2f} s; "
             f"method {args.method}, confidence {args.confidence}"]
    lines += [_line(e) for e in estimates.values()]
    lines += [f"XOR-{k}: not run (interrupted)" for k in sizes if k not in estimates]
    emit(args, payload, "\n".join(lines))
    return 0
