"""The status of every result: how a computation ended.

``complete``: it finished, the result is exact/proven. ``time_limit``: a time (or node)
limit stopped it, the result is what was proven so far. ``interrupted``: Ctrl-C (or,
through the API, SIGTERM) stopped it, likewise. ``terminated``: SIGTERM stopped a
command of the command line (``timeout``, SLURM, ``docker stop``), likewise; the library
itself says ``interrupted`` for both and the command line tells them apart.
``failed``: the solver failed (its message is in the result), likewise.
``worker_crashed``: a worker process of a parallel run died (``reproduce``); the tasks
not yet started were left for the next run, likewise.
:class:`Status` is a ``StrEnum``: each member equals its word, and JSON output carries
the word.
"""

from __future__ import annotations

import enum


class Status(enum.StrEnum):
    """How a computation ended (see the module docstring)."""

    COMPLETE = "complete"
    TIME_LIMIT = "time_limit"
    INTERRUPTED = "interrupted"
    TERMINATED = "terminated"
    FAILED = "failed"
    WORKER_CRASHED = "worker_crashed"


#: The members under the names the modules import.
COMPLETE = Status.COMPLETE
TIME_LIMIT = Status.TIME_LIMIT
INTERRUPTED = Status.INTERRUPTED
TERMINATED = Status.TERMINATED
FAILED = Status.FAILED
WORKER_CRASHED = Status.WORKER_CRASHED

#: Every status, in the order above.
STATUSES = tuple(Status)
