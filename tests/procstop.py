"""Stopping a reluscope process from tests: its environment, whether its SIGTERM handler
is in, its CPU time, and the exit code and status word each signal must give."""

from __future__ import annotations

import os
import signal
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[1] / "src")
EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143}
#: the status word a command prints after each signal
WORD = {signal.SIGINT: "interrupted", signal.SIGTERM: "terminated"}


def child_env() -> dict[str, str]:
    """This environment with this source tree first on the path."""
    return {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}


def handler_installed(pid: int) -> bool:
    """SIGTERM is caught: reluscope.cli.signals.install() has run."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    for line in status.splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) >> (signal.SIGTERM - 1) & 1)
    return False


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
