"""``reluscope estimate MODEL``: MIPBound probabilistic lower bound on the linear regions.

With one ``--xor-size`` the JSON output is one flat object (the fields of
:class:`~reluscope.regions.mipbound.RegionEstimate`); with several (``--xor-size 2,3,4,5``,
the paper's XOR-k curves in one call) it is ``{"estimates": {"2": {...}, "3": {...}},
"bounds_seconds": ...}``, keyed by the size. Bounds are computed once and shared by all
sizes; ``--time-limit`` applies to each size separately.
"""

from __future__ import annotations

import argparse
import time

from reluscope import validation
from reluscope.bounds import BOUNDS_METHODS, tighten_bounds
from reluscope.cli import signals
from reluscope.cli.common import add_model_arguments, emit, load_network, show_progress
from reluscope.errors import ReluscopeError
from reluscope.regions.mipbound import METHODS, RegionEstimate, estimate_regions


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
        help="probabilistic lower bound on linear regions (MIPBound, random parity constraints)",
        description="Probabilistic lower bound on the number of linear regions "
        "(Serra & Ramalingam 2020, Algorithm 1).",
    )
    add_model_arguments(parser)
    parser.add_argument("--xor-size", default="3", metavar="K[,K...]",
                        help="parity constraint size(s), e.g. 3 or 2,3,4,5 (default 3)")
    parser.add_argument("--confidence", type=float, default=0.95, metavar="P",
                        help="probability the reported bound must reach (default 0.95)")
    parser.add_argument("--seed", type=int, default=None, metavar="S",
                        help="random seed: same seed, same result")
    parser.add_argument("--method", choices=METHODS, default="mipbound",
                        help="mipbound: one solve per repetition (lazy cuts); mbound: the "
                        "baseline, one solve per number of constraints")
    parser.add_argument("--time-limit", type=float, default=None, metavar="S",
                        help="seconds per XOR size; returns the repetitions done so far")
    parser.add_argument("--target-probability", type=float, default=0.995, metavar="P",
                        help="repeat until this probability is reachable (default 0.995: "
                        "28 repetitions)")
    parser.add_argument("--max-repetitions", type=int, default=None, metavar="N",
                        help="cap on the repetitions")
    parser.add_argument("--bounds-method", choices=BOUNDS_METHODS, default="lp",
                        help="bounds for the MILP's constants (default lp)")
    parser.set_defaults(func=run)


def _line(est: RegionEstimate) -> str:
    prob = f"{est.probability:.4f}"
    return (f"XOR-{est.xor_size}: regions >= {est.lower_bound} (2^{est.log2_lower_bound}) "
            f"with probability {prob}; {est.repetitions} repetitions, {est.solver_calls} "
            f"solver calls, {est.seconds:.2f} s, {est.status}; {est.regions_found} regions seen")


def run(args: argparse.Namespace) -> int:
    sizes = _sizes(args.xor_size)
    validation.check_seed(args.seed, "--seed")
    validation.check_time_limit(args.time_limit, "--time-limit")
    validation.check_probability(args.confidence, "--confidence")
    validation.check_probability(args.target_probability, "--target-probability")
    validation.check_optional_positive_int(args.max_repetitions, "--max-repetitions")
    network = load_network(args)
    start = time.perf_counter()
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
            time_limit=args.time_limit, method=args.method,
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
