"""A real Ctrl-C for tests: SIGINT sent by another process, as a terminal sends it.

A ``threading.Timer`` calling ``os.kill`` is not one: the timer's thread needs the GIL to
send the signal, and the main thread holds the GIL through a whole SCIP solve that calls
no Python code, so the signal left only when that solve ended. Measured on the 20-input
equivalence proof of test_compress_equivalence.py: sent at 4.9 s instead of 1 s, and at
90 s in one ordering of the full suite; from another process it stops the solve at 1.0 s.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator

_SENDER = (
    "import os, sys, time; time.sleep(float(sys.argv[1])); "
    "os.kill(int(sys.argv[2]), int(sys.argv[3]))"
)


@contextlib.contextmanager
def sigint_after(seconds: float, sig: int = signal.SIGINT) -> Iterator[None]:
    """Send ``sig`` to this process ``seconds`` after entering (unless the block ended
    first: then none is sent, so no stray signal reaches a later test)."""
    sender = subprocess.Popen(
        [sys.executable, "-c", _SENDER, str(seconds), str(os.getpid()), str(int(sig))]
    )
    try:
        yield
    finally:
        sender.kill()
        sender.wait()
