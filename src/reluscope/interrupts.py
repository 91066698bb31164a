"""One interrupt policy: the first Ctrl-C stops the whole call, and the next call too.

Policy (the same for the API and the CLI)
-----------------------------------------
* A Ctrl-C (SIGINT; in the CLI also SIGTERM) inside a public function is turned into
  its partial result: the function **returns** what it proved so far with status
  ``"interrupted"`` (a count is a lower bound, a checkpoint is flushed, ...).
* The whole call stops, not only the solve in progress: a function made of several
  steps (bounds then search, stable units then the MILP proof, several XOR sizes,
  several networks of ``reproduce``) runs no further step once it has seen the stop.
* The stop stays *pending* after the call returns. The next public call made from
  outside reluscope (e.g. the next iteration of a Python loop over ``count_regions``)
  raises ``KeyboardInterrupt`` at once and clears it, so a loop stops after the
  interrupted result was returned and stored, as a Python user expects from Ctrl-C.
  Call :func:`clear` to go on anyway.

Code that turns a ``KeyboardInterrupt`` (or SCIP's own Ctrl-C handling) into a partial
result calls :func:`note`; multi-step code asks :func:`requested` between steps; public
entry points are wrapped with :func:`entry_point`.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

_pending = threading.Event()
_depth = threading.local()


def note() -> None:
    """Record that a Ctrl-C (or SIGTERM) was turned into a partial result."""
    _pending.set()


def requested() -> bool:
    """True when a stop was seen and not yet cleared: run no further step."""
    return _pending.is_set()


def clear() -> None:
    """Forget a pending stop (the next public call then runs normally)."""
    _pending.clear()


def entry_point(func: F) -> F:
    """Wrap a public function: raise a pending stop on entry from outside reluscope.

    Nested calls (one public function calling another) never raise here: they see the
    stop through :func:`requested` and return their partial result.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        depth = getattr(_depth, "value", 0)
        if depth == 0 and _pending.is_set():
            _pending.clear()
            raise KeyboardInterrupt("a previous reluscope call was interrupted (Ctrl-C)")
        _depth.value = depth + 1
        try:
            return func(*args, **kwargs)
        except KeyboardInterrupt:
            _pending.set()
            raise
        finally:
            _depth.value = depth

    return wrapper  # type: ignore[return-value]


__all__ = ["clear", "entry_point", "note", "requested"]
