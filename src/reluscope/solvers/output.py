"""Keep solver chatter off stdout: stdout carries only what reluscope means to print."""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def solver_output_to_stderr(*, discard: bool = False) -> Iterator[None]:
    """Send what a solver prints on the C-level stdout to stderr (or, with ``discard``,
    nowhere) while inside.

    Solvers write past Python's ``sys.stdout``: SCIP prints ``pressed CTRL-C`` on an
    interrupt, SoPlex an occasional tolerance warning, HiGHS 1.16 a banner when its first
    object is built. ``reluscope ... --json`` prints one JSON object on stdout, so every
    solver call runs inside this.
    """
    import ctypes

    try:
        stdout_fd = sys.__stdout__.fileno() if sys.__stdout__ is not None else 1
        saved = os.dup(stdout_fd)
    except (OSError, ValueError, io.UnsupportedOperation):
        yield  # no real stdout (embedded interpreter): nothing to protect
        return
    libc = ctypes.CDLL(None)
    sys.stdout.flush()
    libc.fflush(None)
    if discard:
        target = os.open(os.devnull, os.O_WRONLY)
    else:
        target = os.dup(sys.__stderr__.fileno() if sys.__stderr__ is not None else 2)
    os.dup2(target, stdout_fd)
    os.close(target)
    try:
        yield
    finally:
        libc.fflush(None)
        os.dup2(saved, stdout_fd)
        os.close(saved)
