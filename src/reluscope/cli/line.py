"""``reluscope line MODEL --from A --to B`` (or ``--through P0 P1 ...``): exact
breakpoints and linear regions along a segment or a path."""

from __future__ import annotations

import argparse

from reluscope.cli.common import (
    add_model_arguments,
    announce_compile,
    check_outputs,
    emit,
    load_network,
)
from reluscope.cli.points import PointReader, add_data_arguments
from reluscope.errors import ReluscopeError
from reluscope.fileio import PLOT_EXTENSIONS, atomic_output


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "line",
        help="exact breakpoints and linear regions along a segment or a path of points",
        description="Exact linear regions along A + s (B - A), s in [0, 1] (clipped to the "
        "input box), or along the path through several points. Points: N (row of --data), "
        "FILE.npy, FILE.npy:ROW or 'random'.",
    )
    add_model_arguments(parser)
    parser.add_argument("--from", dest="start", metavar="A", help="first end of the segment")
    parser.add_argument("--to", dest="end", metavar="B", help="second end of the segment")
    parser.add_argument("--through", nargs="+", metavar="P",
                        help="a path through these points instead of --from/--to")
    add_data_arguments(parser)
    parser.add_argument("--plot", metavar="OUT.png",
                        help="draw every output along the path, breakpoints marked")
    parser.add_argument("--no-cells", action="store_true",
                        help="--json: leave the intervals out (counts and breakpoints only)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from reluscope.regions.count.geometric import kernel_is_cached
    from reluscope.regions.views.slices import line_regions

    check_outputs(args, [("--plot", args.plot, PLOT_EXTENSIONS)])
    if args.through and (args.start or args.end):
        raise ReluscopeError("give either --from A --to B or --through P0 P1 ..., not both")
    if not args.through and not (args.start and args.end):
        raise ReluscopeError("give --from A --to B, or --through P0 P1 ...")
    network = load_network(args)
    tokens = args.through or [args.start, args.end]
    points, labels = PointReader(args, network).read_all(tokens)
    announce_compile("geometric", kernel_is_cached())
    result = line_regions(network, points)
    payload = result.to_dict(cells=not args.no_cells)
    payload["points"] = labels
    lines = [network.describe(), "path through " + " -> ".join(labels)]
    for i, seg in enumerate(result.segments):
        cuts = ", ".join(str(len(b)) for b in seg.boundaries)
        lines.append(f"segment {i}: {seg.regions} regions, breakpoints per layer {cuts}")
    lines += [
        f"regions along the path: {result.regions} ({result.distinct} distinct patterns)",
        f"time: {result.seconds:.3f} s",
    ]
    if args.plot:
        from reluscope.regions.views.plots import plot_line

        with atomic_output(args.plot) as tmp:
            plot_line(result, network, tmp)
        lines.append(f"picture written to {args.plot}")
    emit(args, payload, "\n".join(lines))
    return 0
