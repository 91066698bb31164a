"""The status words of every result: how a computation ended.

``complete``: it finished, the result is exact/proven. ``time_limit``: a time (or node)
limit stopped it, the result is what was proven so far. ``interrupted``: Ctrl-C stopped
it, likewise. ``failed``: the solver failed (its message is in the result), likewise.
"""

from __future__ import annotations

COMPLETE = "complete"
TIME_LIMIT = "time_limit"
INTERRUPTED = "interrupted"
FAILED = "failed"

#: Every status, in the order above.
STATUSES = (COMPLETE, TIME_LIMIT, INTERRUPTED, FAILED)
