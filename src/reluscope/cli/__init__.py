"""The ``reluscope`` command line: a thin layer over the public functions.

Each subcommand lives in its own module of this package, exposing ``register(subparsers)``
which adds its parser and sets ``func`` to the function that runs it. Errors a user can
cause print one line on stderr and exit with status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import signal
import sys
from typing import NoReturn

from reluscope import __version__
from reluscope.cli import signals
from reluscope.errors import ReluscopeError

#: subcommand modules, in the order of ``reluscope --help``
COMMANDS = (
    "info", "bounds", "reproduce", "upper", "count", "compress", "train", "estimate",
    "slice", "line", "local",
)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="reluscope",
        description="Look inside trained ReLU networks: linear regions, stable units, "
        "lossless compression.",
    )
    parser.add_argument("--version", action="version", version=f"reluscope {__version__}")
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


class _Parser(argparse.ArgumentParser):
    """argparse, remembering its error message (for the --json error object)."""

    last_error: str | None = None

    def error(self, message: str) -> NoReturn:
        """One line on stderr (not argparse's usage block), exit 2."""
        _Parser.last_error = message
        self.exit(2, f"reluscope: error: {message} (see '{self.prog} --help')\n")


def _report_error(argv: list[str], message: str, kind: str) -> None:
    """One line on stderr; with --json also ``{"error": ..., "type": ...}`` on stdout."""
    print(f"reluscope: error: {message}", file=sys.stderr)
    if "--json" in argv:
        json.dump({"error": message, "type": kind}, sys.stdout)
        sys.stdout.write("\n")
        sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    """Run one command. Exit status: 0 done; 1 the solver failed (partial result
    printed); 2 a usage or input error (one line on stderr); 130 after Ctrl-C and 143
    after SIGTERM (what was proven is printed/saved, marked ``interrupted`` or
    ``terminated``)."""
    try:
        code = _main(argv)
    except KeyboardInterrupt:  # a stop that came while the command was ending
        code = signals.exit_code()
    if argv is None and code in (signals.EXIT_SIGINT, signals.EXIT_SIGTERM):
        # a stopped process (console script, python -m reluscope) ends here, with its
        # status: its results are written and flushed, and the interpreter's own exit
        # could turn a stop caught during an import into a death by SIGINT (exit -2,
        # seen in the stop stress test)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        with contextlib.suppress(OSError, ValueError):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)
    return code


def _main(argv: list[str] | None) -> int:
    args_list = _join_negative_values(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:
        if exc.code == 2 and _Parser.last_error is not None and "--json" in args_list:
            json.dump({"error": _Parser.last_error, "type": "UsageError"}, sys.stdout)
            sys.stdout.write("\n")
        _Parser.last_error = None
        return int(exc.code or 0) if isinstance(exc.code, int) else 2
    previous_sigterm = signals.install()
    try:
        result = args.func(args)
    except ReluscopeError as exc:
        _report_error(args_list, str(exc), type(exc).__name__)
        return 2
    except OSError as exc:  # a file the user named cannot be read or written
        if isinstance(exc, BrokenPipeError):  # output piped into e.g. `head`: stop quietly
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115
            return 0
        where = f"{exc.filename}: " if exc.filename else ""
        _report_error(args_list, f"{where}{exc.strerror or exc}", type(exc).__name__)
        return 2
    except KeyboardInterrupt:
        print(f"reluscope: {signals.describe_stop()} before a result was ready",
              file=sys.stderr)
        return signals.exit_code()
    except Exception as exc:
        if not _caused_by_stop(exc):
            raise
        # a library turned the stop into its own error (an import interrupted by Ctrl-C
        # re-raised as ImportError): it is the stop, not a bug
        print(f"reluscope: {signals.describe_stop()} before a result was ready",
              file=sys.stderr)
        return signals.exit_code()
    else:
        return signals.exit_status(int(result or 0))
    finally:
        signals.restore(previous_sigterm)  # the command consumed the stop


def _caused_by_stop(exc: BaseException) -> bool:
    """True when ``exc`` comes from a KeyboardInterrupt (its cause or context chain)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


if __name__ == "__main__":
    sys.exit(main())
