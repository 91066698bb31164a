"""``reluscope upper``: analytical upper bounds on the number of linear regions.

``reluscope upper MODEL`` gives every bound of a trained network (the Empirical UB needs
its bounds step); ``reluscope upper --architecture 784,11,11,10`` the architecture-only
bounds (input dimension first, then the ReLU layer widths); ``reluscope upper
--depth-study [--plot FILE]`` the blog's study of 60 ReLUs spread over 1..6 layers.
"""

from __future__ import annotations

import argparse

from reluscope import validation
from reluscope.bounds import BOUNDS_METHODS
from reluscope.cli import signals
from reluscope.cli.common import (
    EXAMPLE_MODEL,
    add_domain_arguments,
    check_outputs,
    emit,
    load_network,
)
from reluscope.errors import NetworkError, ReluscopeError
from reluscope.fileio import PLOT_EXTENSIONS, atomic_output
from reluscope.network import ReLUNetwork
from reluscope.regions.upper.analytic import UpperBounds, upper_bounds
from reluscope.regions.upper.empirical import DEFAULT_EXACT_COVERAGE_LIMIT

#: The default bounds step, the same as upper_bounds(): LP bounds take seconds where
#: per-unit MILPs can take minutes (``--bounds-method milp`` for the tighter bound).
CLI_BOUNDS_METHOD = "lp"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "upper",
        help="upper bounds on linear regions (Configuration UB, Empirical UB, ...)",
        description="Upper bounds on the number of linear regions of a network (MODEL) or "
        "of an architecture (--architecture N0,N1,...,NL).",
    )
    parser.add_argument(
        "model",
        metavar="MODEL",
        nargs="?",
        help=f"network file (.onnx, .pt/.pth, .npz), or '{EXAMPLE_MODEL}' for the bundled "
        "network; omit with --architecture",
    )
    parser.add_argument(
        "--architecture",
        metavar="N0,N1,...",
        help="input dimension and ReLU layer widths, e.g. 784,11,11,10 (no network needed)",
    )
    parser.add_argument(
        "--depth-study",
        action="store_true",
        help="Configuration UB of 60 ReLUs over 1..6 layers for n0 = 1..60 (no network)",
    )
    parser.add_argument(
        "--plot", metavar="FILE", help="with --depth-study: save the plot (.png, .pdf, .svg)"
    )
    add_domain_arguments(parser)
    parser.add_argument(
        "--bounds-method",
        choices=BOUNDS_METHODS,
        default=CLI_BOUNDS_METHOD,
        help=f"how to find stable units for the Empirical UB (default {CLI_BOUNDS_METHOD})",
    )
    parser.add_argument(
        "--time-limit", type=float, metavar="S",
        help="seconds for the whole command: the bounds step stops by then (its weaker "
        "bounds give a valid, larger Empirical UB)",
    )
    parser.add_argument(
        "--solve-time-limit", type=float, metavar="S", help="seconds per MILP solve (milp bounds)"
    )
    parser.add_argument(
        "--rank", action="store_true", help="cap dimensions by rank(W^l) (needs a network)"
    )
    parser.add_argument(
        "--lower-bound",
        type=int,
        metavar="N",
        help="a lower bound on the regions (e.g. MIPBound XOR-k) to report APP-k",
    )
    parser.add_argument(
        "--exact-coverage-limit",
        type=int,
        default=DEFAULT_EXACT_COVERAGE_LIMIT,
        metavar="N",
        help="subsets enumerated per maximum-coverage problem before using greedy bounds",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.set_defaults(func=run)


def parse_architecture(text: str) -> tuple[int, ...]:
    """``"784,11,11,10"`` -> ``(784, 11, 11, 10)``."""
    try:
        arch = tuple(int(part) for part in text.replace(";", ",").split(","))
    except ValueError:
        raise NetworkError(
            f"--architecture expects integers N0,N1,...,NL (e.g. 784,11,11,10); got {text!r}"
        ) from None
    if len(arch) < 2:
        raise NetworkError(
            f"--architecture needs the input dimension and at least one width; got {text!r}"
        )
    return arch


def run(args: argparse.Namespace) -> int:
    validation.check_nonnegative_int(args.exact_coverage_limit, "--exact-coverage-limit")
    validation.check_time_limit(args.time_limit, "--time-limit")
    validation.check_time_limit(args.solve_time_limit, "--solve-time-limit")
    validation.check_optional_positive_int(args.lower_bound, "--lower-bound")
    chosen = sum([args.model is not None, args.architecture is not None, args.depth_study])
    if chosen != 1:
        raise ReluscopeError(
            "give exactly one of MODEL, --architecture N0,N1,...,NL or --depth-study"
        )
    if args.plot and not args.depth_study:
        raise ReluscopeError("--plot is for --depth-study")
    check_outputs(args, [("--plot", args.plot, PLOT_EXTENSIONS)])
    if args.depth_study:
        return _depth_study(args)
    if args.architecture is not None:
        target: ReLUNetwork | tuple[int, ...] = parse_architecture(args.architecture)
        title = f"architecture {args.architecture}"
    else:
        network = load_network(args)
        target = network
        title = network.describe()
    result = upper_bounds(
        target,
        bounds_method=args.bounds_method,
        rank=args.rank,
        exact_coverage_limit=args.exact_coverage_limit,
        lower_bound=args.lower_bound,
        time_limit=args.time_limit,
        solve_time_limit=args.solve_time_limit,
    )
    payload = result.to_dict()
    text = _text(result, title)
    payload["status"] = signals.status_word() if signals.stopped() else "complete"
    if signals.stopped():
        text += (f"\npartial result ({signals.describe_stop()}): the bounds step was cut "
                 "short; every bound above is still a valid upper bound, only looser")
    emit(args, payload, text)
    return 0


def _text(result: UpperBounds, title: str) -> str:
    lines = [title, ""]
    lines.append(f"{'bound':<18} {'value':>24} {'log2':>9}")
    rows = [
        ("trivial 2^n", "trivial_ub"),
        ("Zaslavsky/layer", "zaslavsky_ub"),
        ("Montufar 2017", "montufar_ub"),
        ("Configuration UB" + (" (rank)" if result.rank else ""), "configuration_ub"),
    ]
    if result.empirical_ub is not None:
        rows.append(("Empirical UB", "empirical_ub"))
    for label, key in rows:
        value = getattr(result, key)
        shown = str(value) if len(str(value)) <= 24 else f"{float(value):.6e}"
        lines.append(f"{label:<18} {shown:>24} {result.maps[key]:>9.3f}")
    if result.empirical_ub is not None:
        lines.append("")
        lines.append(
            f"Empirical UB from {result.bounds_method} bounds "
            f"({result.bounds_seconds:.3f} s); coverage per layer: {', '.join(result.coverage)}"
        )
        for pos, lim in enumerate(result.layers, start=1):
            lines.append(
                f"  layer {pos}: width {lim.width}, stably active {lim.stably_active}, "
                f"stably inactive {lim.stably_inactive}, unstable "
                f"{lim.active_leaning + lim.inactive_leaning}, max unstable per region "
                f"{lim.max_unstable[-1]}"
            )
    if result.app_k is not None:
        lines.append(f"APP-k (log2 mean of LB {result.lower_bound} and UB): {result.app_k:.3f}")
    lines.append(f"time {result.seconds:.3f} s")
    return "\n".join(lines)



def _depth_study(args: argparse.Namespace) -> int:
    from reluscope.experiments.depth_study import depth_study, plot_depth_study

    study = depth_study()
    if args.plot:
        try:
            with atomic_output(args.plot) as tmp:
                plot_depth_study(study).savefig(tmp)
        except (OSError, ValueError) as exc:
            raise ReluscopeError(f"cannot save the plot to {args.plot!r}: {exc}") from None
    text = study.table()
    if args.plot:
        text += f"\nplot saved to {args.plot}"
    emit(args, study.to_dict(), text)
    return 0
