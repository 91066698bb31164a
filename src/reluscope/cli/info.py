"""``reluscope info MODEL``: architecture, domain and parameter counts."""

from __future__ import annotations

import argparse

from reluscope.cli.common import add_model_arguments, emit, load_network


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("info", help="describe a network file")
    add_model_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    network = load_network(args)
    payload = {
        "inputs": network.n_inputs,
        "widths": list(network.widths),
        "relu": list(network.relu),
        "units": network.n_units,
        "parameters": sum(int(w.size) for w in network.weights)
        + sum(int(b.size) for b in network.biases),
        "lower": network.lower.tolist(),
        "upper": network.upper.tolist(),
        # the polytope A x <= b cutting the box (no rows for a box domain)
        "domain_A": network.domain_A.tolist(),
        "domain_b": network.domain_b.tolist(),
    }
    emit(args, payload, network.describe())
    return 0
