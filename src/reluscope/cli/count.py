"""``reluscope count MODEL``: the exact number of linear regions."""

from __future__ import annotations

import argparse
import os

from reluscope import validation
from reluscope.bounds import BOUNDS_METHODS
from reluscope.cli import signals
from reluscope.cli.common import (
    add_model_arguments,
    announce_compile,
    check_outputs,
    emit,
    load_network,
    show_progress,
)
from reluscope.regions.count.dispatch import COUNT_METHODS, choose_method, count_regions
from reluscope.regions.count.geometric import kernel_is_cached as geometric_kernel_is_cached
from reluscope.regions.result import FAILED, INTERRUPTED, TIME_LIMIT
from reluscope.regions.search.compiled import kernel_is_cached
from reluscope.tolerances import REGION_EPS


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "count",
        help="count the linear regions exactly",
        description="Exact number of linear regions of a ReLU network over its input box. "
        "With --time-limit or Ctrl-C the count found so far is printed as a lower bound.",
    )
    add_model_arguments(parser)
    parser.add_argument(
        "--method", choices=COUNT_METHODS, default="auto",
        help="auto (default): geometric for up to 5 inputs, else lp; lp: compiled LP "
        "search; highs: the same search with HiGHS LPs; geometric: split the input space "
        "cell by cell (few inputs; also counts cells thinner than REGION_EPS); "
        "milp: the paper's MILP enumeration; scip-count: SCIP's solution counter",
    )
    parser.add_argument("--time-limit", type=float, metavar="S", help="seconds for the count")
    parser.add_argument(
        "--jobs", type=int, metavar="N", help="processes for --method lp/highs (default: all cores)"
    )
    parser.add_argument(
        "--cluster", metavar="ADDRESS",
        help="lp/highs: run the search on the Dask scheduler at ADDRESS (tcp://host:8786) "
        "instead of local processes; needs pip install 'reluscope[cluster]'",
    )
    parser.add_argument(
        "--bounds-method", choices=BOUNDS_METHODS, default="lp",
        help="how to bound the units first (stable units need no search)",
    )
    parser.add_argument(
        "--checkpoint", metavar="PATH",
        help="lp/highs: save the search state here every few seconds; resume from it if it exists",
    )
    parser.add_argument(
        "--patterns", metavar="OUT.npy",
        help="write every region's bit-packed activation pattern (uint8 rows, np.packbits)",
    )
    parser.set_defaults(func=run)


#: how the text output names a count cut short, by RegionCount.status
_STOPPED: dict[str, str] = {
    TIME_LIMIT: "stopped by the time limit",
    INTERRUPTED: "interrupted (Ctrl-C)",
    FAILED: "the solver failed",
}

#: exit code of a count that the solver could not finish (the partial count is printed)
EXIT_SOLVER_FAILED = 1


def run(args: argparse.Namespace) -> int:
    validation.check_time_limit(args.time_limit, "--time-limit")
    if args.jobs is not None:
        validation.check_n_jobs(args.jobs, "--jobs")
    check_outputs(args, [("--checkpoint", args.checkpoint, None),
                         ("--patterns", args.patterns, (".npy",))])
    network = load_network(args)
    resumed = bool(args.checkpoint) and os.path.exists(args.checkpoint)
    method = args.method
    if method == "auto":
        method = choose_method(network, checkpoint=args.checkpoint, cluster=args.cluster)
    cached = geometric_kernel_is_cached if method == "geometric" else kernel_is_cached
    if method in ("lp", "geometric"):
        announce_compile(method, cached())
    result = count_regions(
        network,
        method=args.method,
        bounds_method=args.bounds_method,
        time_limit=args.time_limit,
        n_jobs=args.jobs,
        checkpoint=args.checkpoint,
        patterns_path=args.patterns,
        progress=show_progress() and not args.json,
        cluster=args.cluster,
    )
    payload = result.to_dict()
    payload["log2"] = result.log2 if result.regions > 0 else None
    per_region = result.lp_solves / result.regions if result.regions else 0.0
    stop = signals.describe_stop() if result.status == INTERRUPTED else _STOPPED.get(result.status)
    bound = "" if result.exact else f"  (lower bound: {stop or result.status})"
    lines = [
        network.describe(),
        f"regions: {result.regions}{bound}",
        f"log2: {result.log2:.3f}" if result.regions > 0 else "log2: -",
        f"time: {result.seconds:.3f} s ({result.method})",
        f"LP solves: {result.lp_solves} ({per_region:.2f} per region), nodes: {result.nodes}",
    ]
    if result.estimate is not None:
        lines.append(f"estimate of the whole count: {result.estimate.describe()}")
    if result.thin_cells:
        plural = "s" if result.thin_cells != 1 else ""
        lines.append(f"{result.thin_cells} more cell{plural} thinner than eps (positive volume, "
                     f"no point where the active units reach REGION_EPS = {REGION_EPS:g}; "
                     "not regions by reluscope's definition, counted by some other tools)")
    if resumed:
        lines.append(f"resumed from the checkpoint {args.checkpoint} (regions and LP "
                     "solves include the earlier runs)")
    if result.message:
        lines.append(f"note: {result.message}")
    if args.patterns:
        lines.append(f"patterns written to {args.patterns}")
    emit(args, payload, "\n".join(lines))
    return EXIT_SOLVER_FAILED if result.status == FAILED else 0
