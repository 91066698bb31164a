"""Pieces shared by the subcommands: the model argument, --domain, output, errors."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from reluscope.errors import DomainError
from reluscope.network import ReLUNetwork

#: MODEL argument naming the network bundled with reluscope (see reluscope.data)
EXAMPLE_MODEL = "example"


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """MODEL, --domain and --json, common to the commands that analyse one network."""
    parser.add_argument(
        "model",
        metavar="MODEL",
        help="network file (.onnx, .pt/.pth, .npz), or 'example' for the bundled network",
    )
    parser.add_argument(
        "--domain",
        metavar="LO,HI",
        help="input box [LO,HI]^n0, overriding the domain stored in the file",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def parse_domain(text: str) -> tuple[float, float]:
    parts = text.split(",")
    try:
        lo, hi = (float(p) for p in parts)
    except ValueError:
        raise DomainError(f"--domain expects LO,HI (two numbers), got {text!r}") from None
    return lo, hi


def load_network(args: argparse.Namespace) -> ReLUNetwork:
    """The network named by MODEL, on the --domain box when given."""
    from reluscope.io import load

    if args.model == EXAMPLE_MODEL:
        from reluscope.data import example_path

        network = load(example_path())
    else:
        network = load(args.model)
    if getattr(args, "domain", None):
        lo, hi = parse_domain(args.domain)
        network = network.with_domain(lo, hi)
    return network


def emit(args: argparse.Namespace, payload: dict[str, Any], text: str) -> None:
    """Print ``payload`` as one JSON object with --json, else the readable ``text``."""
    if getattr(args, "json", False):
        json.dump(payload, sys.stdout)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(text.rstrip("\n") + "\n")


def show_progress() -> bool:
    """Progress bars only on an interactive terminal (quiet in pipes and tests)."""
    return sys.stderr.isatty()
