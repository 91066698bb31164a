"""``reluscope bounds MODEL``: pre-activation bounds and stable units."""

from __future__ import annotations

import argparse

import numpy as np

from reluscope import validation
from reluscope.bounds import BOUNDS_METHODS, tighten_bounds
from reluscope.cli import signals
from reluscope.cli.common import add_model_arguments, emit, load_network, show_progress
from reluscope.errors import ReluscopeError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("bounds", help="bound every unit and find the stable ones")
    add_model_arguments(parser)
    parser.add_argument("--method", choices=BOUNDS_METHODS, default="lp")
    parser.add_argument(
        "--time-limit", type=float, metavar="S",
        help="seconds for the whole command; units not bounded by then keep weaker, valid "
        "bounds",
    )
    parser.add_argument(
        "--solve-time-limit", type=float, metavar="S", help="seconds per MILP solve (milp method)"
    )
    parser.add_argument(
        "--sign-only",
        action="store_true",
        help="milp: stop each solve once the sign is settled (stable units only)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    validation.check_time_limit(args.time_limit, "--time-limit")
    validation.check_time_limit(args.solve_time_limit, "--solve-time-limit")
    if args.solve_time_limit is not None and args.method != "milp":
        raise ReluscopeError(
            f"--solve-time-limit limits MILP solves: it has no effect with --method "
            f"{args.method}; drop it or use --method milp"
        )
    if args.sign_only and args.method != "milp":
        raise ReluscopeError(f"--sign-only is for --method milp, not {args.method}")
    network = load_network(args)
    bounds = tighten_bounds(
        network,
        method=args.method,
        time_limit=args.time_limit,
        solve_time_limit=args.solve_time_limit,
        sign_only=args.sign_only,
        progress=show_progress(),
    )
    payload = bounds.to_dict(network)
    lines = [network.describe(), f"bounds by {bounds.method} in {bounds.seconds:.3f} s", ""]
    lines.append(f"{'layer':>5} {'units':>5} {'active':>7} {'inactive':>8} {'unstable':>8}"
                 f" {'min lower':>11} {'max upper':>11}")
    for layer in network.relu_layers:
        active = int(bounds.stably_active(layer).sum())
        inactive = int(bounds.stably_inactive(layer).sum())
        unstable = int(bounds.unstable(layer).sum())
        low, high = float(np.min(bounds.lower[layer])), float(np.max(bounds.upper[layer]))
        lines.append(
            f"{layer:>5} {network.widths[layer]:>5} {active:>7} {inactive:>8} {unstable:>8}"
            f" {low:>11.4g} {high:>11.4g}"
        )
    active, inactive, unstable = bounds.count_stable(network)
    lines.append(f"total: {active} stably active, {inactive} stably inactive, {unstable} unstable")
    payload["status"] = signals.status_word() if signals.stopped() else "complete"
    if signals.stopped():
        lines.append(f"partial result ({signals.describe_stop()}): every bound is valid, but "
                     "not every unit was tightened; a full run may find more stable units")
    emit(args, payload, "\n".join(lines))
    return 0
