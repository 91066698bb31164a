"""The ``reluscope`` command line: a thin layer over the public functions.

Each subcommand lives in its own module of this package, exposing ``register(subparsers)``
which adds its parser and sets ``func`` to the function that runs it. Errors a user can
cause print one line on stderr and exit with status 2.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from reluscope.errors import ReluscopeError

#: subcommand modules, in the order of ``reluscope --help``
COMMANDS = (
    "info", "bounds", "reproduce", "upper", "count", "compress", "train", "estimate",
    "slice", "line", "local",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reluscope",
        description="Look inside trained ReLU networks: linear regions, stable units, "
        "lossless compression.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f"reluscope.cli.{name}").register(subparsers)
    return parser


def _join_negative_values(argv: list[str]) -> list[str]:
    """Let ``--domain -1,1`` (and ``--radius -1``, an error) through: argparse would read
    ``-1,1`` as an option."""
    joined: list[str] = []
    for arg in argv:
        if joined and joined[-1] in ("--domain", "--radius") and arg.startswith("-"):
            joined[-1] = f"{joined[-1]}={arg}"
        else:
            joined.append(arg)
    return joined


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(_join_negative_values(sys.argv[1:] if argv is None else argv))
    try:
        result = args.func(args)
    except ReluscopeError as exc:
        print(f"reluscope: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("reluscope: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into e.g. `head`: stop quietly
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        return 0
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
