"""``reluscope local MODEL --data mnist-test --radius R --n 100``: linear regions in the
L-infinity ball around each of n data points (exact, or MIPBound past --point-time-limit)."""

from __future__ import annotations

import argparse
import csv

import numpy as np

from reluscope import validation
from reluscope.cli.common import add_model_arguments, check_outputs, emit, load_network
from reluscope.cli.points import PointReader, add_data_arguments
from reluscope.errors import ReluscopeError
from reluscope.fileio import PLOT_EXTENSIONS, atomic_output

_FIELDS = ("index", "regions", "exact", "method", "status", "seconds", "counted", "estimate",
           "estimate_probability")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "local",
        help="linear regions in small L-inf balls around data points (local complexity)",
        description="For each of --n points of --data (from --start), the exact number of "
        "linear regions in the L-infinity ball of --radius clipped to the input box; past "
        "--point-time-limit, the MIPBound lower bound instead.",
    )
    add_model_arguments(parser, ball=False)  # --radius is this command's own
    add_data_arguments(parser)
    parser.add_argument("--radius", type=float, required=True, metavar="R")
    parser.add_argument("--n", type=int, default=100, metavar="N", help="number of points")
    parser.add_argument("--start", type=int, default=0, metavar="I", help="first point's index")
    parser.add_argument("--points", nargs="+", metavar="P",
                        help="explicit points (N, FILE.npy, FILE.npy:ROW, random) instead")
    parser.add_argument("--time-limit", type=float, metavar="S",
                        help="seconds for the whole command; points not reached by then are "
                        "left out")
    parser.add_argument("--point-time-limit", type=float, metavar="S",
                        help="seconds per point for the count (and again for MIPBound)")
    parser.add_argument("--xor-size", type=int, default=3, metavar="K",
                        help="MIPBound parity size past the time limit (default 3)")
    parser.add_argument("--csv", metavar="OUT.csv", help="one row per point")
    parser.add_argument("--plot", metavar="OUT.png", help="histogram of the counts")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from reluscope.regions.views.local import local_regions

    if args.n < 1 or args.start < 0:
        raise ReluscopeError("--n must be >= 1 and --start >= 0")
    validation.check_real(args.radius, "--radius", minimum=0.0)
    validation.check_seed(args.seed, "--seed")
    validation.check_time_limit(args.time_limit, "--time-limit")
    validation.check_time_limit(args.point_time_limit, "--point-time-limit")
    validation.check_positive_int(args.xor_size, "--xor-size")
    check_outputs(args, [("--csv", args.csv, (".csv",)), ("--plot", args.plot, PLOT_EXTENSIONS)])
    network = load_network(args)
    reader = PointReader(args, network)
    if args.points:
        points, _ = reader.read_all(args.points)
        indices = np.arange(len(points))
    else:
        x, _ = reader.data()
        if args.start >= len(x):
            raise ReluscopeError(f"--start {args.start} is past the {len(x)} points of --data")
        indices = np.arange(args.start, min(len(x), args.start + args.n))
        points = x[indices]
    result = local_regions(network, points, radius=args.radius, time_limit=args.time_limit,
                           point_time_limit=args.point_time_limit, xor_size=args.xor_size,
                           random_state=args.seed, indices=indices)
    payload = result.to_dict()
    if args.csv:
        with atomic_output(args.csv) as tmp, open(tmp, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=_FIELDS)
            writer.writeheader()
            for c in result.counts:
                writer.writerow(c.to_dict())
    if args.plot and result.counts:
        from reluscope.regions.views.plots import plot_local_histogram

        with atomic_output(args.plot) as tmp:
            plot_local_histogram(result.regions, [c.exact for c in result.counts], tmp,
                                 radius=args.radius)
    lines = [network.describe(), f"L-inf radius {args.radius:g}, {len(result.counts)} points"]
    if result.counts:
        lines.append(f"regions: median {payload['median']:g}, mean {payload['mean']:.2f}, max "
                     f"{payload['max']}; exact for {payload['exact_points']} of "
                     f"{len(result.counts)}")
    lines.append(f"time: {result.seconds:.2f} s ({result.status})")
    if args.csv:
        lines.append(f"CSV written to {args.csv}")
    if args.plot:
        lines.append(f"histogram written to {args.plot}")
    emit(args, payload, "\n".join(lines))
    return 0
