"""``reluscope slice MODEL --points P0 P1 P2``: exact linear regions of a 2-D slice."""

from __future__ import annotations

import argparse
import time

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
        "slice",
        help="exact linear regions of the 2-D slice through three inputs, with a picture",
        description="Exact linear regions on the parallelogram P0 + s (P1 - P0) + t (P2 - P0), "
        "s, t in [0, 1], clipped to the model's input box (exact: the cells of the geometric "
        "engine, same region definition as `count`). Points: N (row of --data), FILE.npy, "
        "FILE.npy:ROW or 'random'.",
    )
    add_model_arguments(parser)
    parser.add_argument("--points", nargs="+", required=True, metavar="P",
                        help="three points (or tokens giving three rows in all)")
    add_data_arguments(parser)
    parser.add_argument("--plot", metavar="OUT.png", help="draw the regions to this file")
    parser.add_argument("--color", choices=("region", "class"), default="region",
                        help="colour the regions one by one, or by the output's argmax")
    parser.add_argument("--no-cells", action="store_true",
                        help="--json: leave the polygons out (count and summary only)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from reluscope.regions.count.geometric import kernel_is_cached
    from reluscope.regions.views.slices import slice_regions

    check_outputs(args, [("--plot", args.plot, PLOT_EXTENSIONS)])
    network = load_network(args)
    points, labels = PointReader(args, network).read_all(args.points)
    if len(points) != 3:
        raise ReluscopeError(f"--points must give exactly 3 points, got {len(points)}")
    announce_compile("geometric", kernel_is_cached())
    result = slice_regions(network, points)
    payload = result.to_dict(cells=not args.no_cells)
    payload["points"] = labels
    lines = [
        network.describe(),
        "slice through " + ", ".join(labels),
        f"regions: {result.regions} (exact)",
        f"cells drawn: {payload['cells_drawn']}, uncounted slivers: {payload['slivers']}",
        f"slice area inside the domain: {result.domain_measure:.6g} of the unit square",
        "boundary cuts per layer: " + ", ".join(str(len(b)) for b in result.boundaries),
        f"time: {result.seconds:.3f} s",
    ]
    if args.plot:
        from reluscope.regions.views.plots import plot_slice

        start = time.perf_counter()
        with atomic_output(args.plot) as tmp:
            plot_slice(result, network, tmp, color=args.color, labels=labels)
        payload["plot_seconds"] = time.perf_counter() - start
        lines.append(f"picture written to {args.plot} ({payload['plot_seconds']:.2f} s)")
    emit(args, payload, "\n".join(lines))
    return 0
