"""``reluscope compress MODEL -o OUT``: LEO lossless compression of a network file."""

from __future__ import annotations

import argparse

from reluscope import validation
from reluscope.bounds import BOUNDS_METHODS
from reluscope.cli import signals
from reluscope.cli.common import (
    MODEL_EXTENSIONS,
    add_model_arguments,
    check_outputs,
    emit,
    load_network,
    show_progress,
)
from reluscope.compression import STRATEGIES, VERIFY_MODES, Equivalence, compress
from reluscope.fileio import atomic_output


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "compress",
        help="remove and fold stable units (LEO): a smaller network with the same outputs",
    )
    add_model_arguments(parser)
    parser.add_argument(
        "-o", "--output", required=True, metavar="OUT",
        help="compressed network file; format from its extension (.onnx, .pt, .npz)",
    )
    parser.add_argument("--strategy", choices=STRATEGIES, default="single",
                        help="how stable units are found (default: single)")
    parser.add_argument("--bounds-method", choices=BOUNDS_METHODS, default="lp",
                        help="cheap bounds computed before the MILPs (default: lp)")
    parser.add_argument("--verify", choices=VERIFY_MODES, default="auto",
                        help="equivalence check: sampling, plus a MILP proof for small "
                        "networks with auto (at most 5 s; default: auto)")
    parser.add_argument("--n-samples", type=int, default=100_000, metavar="N",
                        help="inputs sampled for the equivalence check (default: 100000)")
    parser.add_argument("--time-limit", type=float, metavar="S",
                        help="seconds for the whole run: stable-unit search (undecided "
                        "units are kept), then the MILP proof in what is left")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the sampling")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from reluscope.io import save

    validation.check_seed(args.seed, "--seed")
    validation.check_time_limit(args.time_limit, "--time-limit")
    if args.verify != "none":
        validation.check_positive_int(args.n_samples, "--n-samples")
    check_outputs(args, [("-o", args.output, MODEL_EXTENSIONS)])
    network = load_network(args)
    result = compress(
        network,
        strategy=args.strategy,
        bounds_method=args.bounds_method,
        time_limit=args.time_limit,
        verify=args.verify,
        n_samples=args.n_samples,
        random_state=args.seed,
        progress=show_progress() and not args.json,
    )
    with atomic_output(args.output) as tmp:
        save(result.network, tmp)
    payload = result.to_dict()
    payload["output"] = str(args.output)
    stopped = signals.stopped()
    if stopped:  # the result is partial: say so in the keys a script reads
        payload["status"] = signals.status_word()
        payload["complete"] = False
    lines = [
        f"before: {network.describe()}",
        f"after:  {result.network.describe()}",
        f"units {result.units_before} -> {result.units_after} "
        f"({100 * result.removed_fraction:.1f}% removed), layers {result.layers_before} -> "
        f"{result.layers_after}" + (" (unchanged: no stable unit to remove)" if result.unchanged
                                    else ""),
        f"stable units ({result.stable.strategy}): {result.stable.n_active} stably active, "
        f"{result.stable.n_inactive} stably inactive, {result.stable.milp_solves} MILPs"
        + ("" if result.complete else
           f" ({signals.describe_stop() if result.stable.interrupted else 'time limit'}: "
           "search incomplete, result still exact)"),
    ]
    eq = result.equivalence
    if eq is not None:
        lines.append(
            f"max |f - f'| on {eq.n_samples} sampled inputs: {eq.max_abs_diff:.3g} "
            f"(relative {eq.relative:.3g})"
        )
        if eq.milp_status is not None:
            lines.append(_milp_line(eq))
    elif stopped and not result.verification_interrupted:
        lines.append(f"equivalence check not run: {signals.describe_stop()}")
    if result.verification_interrupted:
        lines.append(f"equivalence check cut short: {signals.describe_stop()}")
    if stopped:
        lines.append("partial result: the compressed network is exact (every removed unit "
                     "is proven stable) but may keep units a full run would remove")
    lines.append(f"wrote {args.output} in {result.seconds:.2f} s")
    emit(args, payload, "\n".join(lines))
    return 0


def _milp_line(eq: Equivalence) -> str:
    bound = eq.milp_max_abs_diff
    if eq.milp_status == "proven":
        return f"MILP over the whole domain: max |f - f'| <= {bound:.3g} (proven equal)"
    if eq.milp_status == "difference found":
        return (
            f"MILP over the whole domain: NOT equal, an input gives |f - f'| = "
            f"{eq.milp_found_diff:.3g} (max <= {bound:.3g})"
        )
    if eq.milp_status in ("interrupted", "terminated"):
        return "MILP cross-check: stopped before it settled (exactness does not depend on it)"
    why = str(eq.milp_status).replace("_", " ")
    return (
        f"MILP cross-check: not finished ({why}; bound so far {bound:.3g}); no difference "
        "found, and the compression is exact by construction (every removed unit proven "
        "stable)"
    )
