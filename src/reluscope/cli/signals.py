"""How the command line ends after Ctrl-C or SIGTERM: partial result, then 130 / 143.

SIGTERM (sent by ``timeout``, SLURM, ``docker stop``) takes the Ctrl-C path: the
handler records it, asks a running SCIP solve to stop, or else does what the SIGINT
handler in force would do (the LP engine's sets its stop event and flushes its
checkpoint; Python's raises ``KeyboardInterrupt``). The command then prints/saves what
was proven, marked ``interrupted`` (``terminated`` after SIGTERM), and exits with 128 +
the signal number: 130 for SIGINT, 143 for SIGTERM.
"""

from __future__ import annotations

import os
import signal
from typing import Any

from reluscope import interrupts

EXIT_SIGINT = 128 + int(signal.SIGINT)  # 130
EXIT_SIGTERM = 128 + int(signal.SIGTERM)  # 143

_state: dict[str, Any] = {"pid": None, "sigterm": False}


def _on_sigterm(signum: int, frame: Any) -> None:
    if os.getpid() != _state["pid"]:  # a forked worker: die as SIGTERM asks
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
        return
    _state["sigterm"] = True
    interrupts.note()
    import sys

    scip = sys.modules.get("reluscope.solvers.scip")
    if scip is not None and scip.interrupt_running_solve():
        return  # SCIP stops with status "userinterrupt", as after Ctrl-C
    if scip is not None and scip._SOLVING:
        # a solve not yet able to take the request (SCIP's init stage): a real SIGINT
        # reaches SCIP's own handler, or the waiting main thread (never a Python
        # KeyboardInterrupt raised inside a SCIP callback, which SCIP would print)
        os.kill(os.getpid(), signal.SIGINT)
        return
    # what Ctrl-C would do now: the Python SIGINT handler in force (the LP engine's sets
    # its stop event; Python's raises KeyboardInterrupt), called here directly so that a
    # process started with SIGINT ignored (nohup, a background job) still stops
    handler = signal.getsignal(signal.SIGINT)
    if callable(handler):
        handler(signal.SIGINT, frame)
    else:
        raise KeyboardInterrupt


def install() -> Any:
    """Route SIGTERM through the Ctrl-C path for this process (call from main).

    Returns the previous SIGTERM handler, for :func:`restore`.
    """
    _state["pid"] = os.getpid()
    _state["sigterm"] = False
    interrupts.clear()
    return signal.signal(signal.SIGTERM, _on_sigterm)


def restore(previous: Any) -> None:
    """Put back the SIGTERM handler that :func:`install` replaced; forget the stop
    (main() calls it last, when the exit status is known)."""
    signal.signal(signal.SIGTERM, previous)
    interrupts.clear()


def stopped() -> bool:
    """True once Ctrl-C or SIGTERM stopped (part of) the command."""
    return interrupts.requested() or bool(_state["sigterm"])


def status_word() -> str:
    """How the command line names a stop: ``"terminated"`` after SIGTERM, else
    ``"interrupted"`` (the status words of :mod:`reluscope.status`)."""
    from reluscope.status import INTERRUPTED, TERMINATED

    return str(TERMINATED if _state["sigterm"] else INTERRUPTED)


def describe_stop() -> str:
    """The stop in words for the text output: ``interrupted (Ctrl-C)`` or
    ``terminated (SIGTERM)``."""
    return "terminated (SIGTERM)" if _state["sigterm"] else "interrupted (Ctrl-C)"


def truthful(payload: object) -> object:
    """``payload`` with every ``"status": "interrupted"`` read as :func:`status_word`
    (the library reports SIGTERM as interrupted; the command line knows better)."""
    if not _state["sigterm"]:
        return payload
    if isinstance(payload, dict):
        return {
            key: ("terminated" if key == "status" and value == "interrupted"
                  else truthful(value))
            for key, value in payload.items()
        }
    if isinstance(payload, list):
        return [truthful(item) for item in payload]
    return payload


def exit_code() -> int:
    """130 after Ctrl-C, 143 after SIGTERM."""
    return EXIT_SIGTERM if _state["sigterm"] else EXIT_SIGINT


def exit_status(default: int = 0) -> int:
    """The command's exit status: 130/143 if it was stopped, else ``default``."""
    return exit_code() if stopped() else default


__all__ = [
    "EXIT_SIGINT",
    "EXIT_SIGTERM",
    "describe_stop",
    "exit_code",
    "exit_status",
    "install",
    "status_word",
    "stopped",
    "truthful",
]
