"""Argument checks shared by every public function (and so by the command line).

Each check returns the normalised value or raises :class:`~reluscope.errors.ReluscopeError`
with one line naming the argument, the value and what is accepted. The CLI prints that
line and exits 2.
"""

from __future__ import annotations

import logging
import math
import numbers
import os
from typing import Any

import numpy as np

from reluscope.errors import ReluscopeError

_log = logging.getLogger(__name__)


def check_seed(value: Any, name: str = "random_state") -> Any:
    """A seed as numpy accepts it: None, an int >= 0 (any size), a sequence of such ints,
    a ``SeedSequence``, ``BitGenerator`` or ``Generator``. Returned unchanged."""
    if value is None or isinstance(
        value, np.random.SeedSequence | np.random.BitGenerator | np.random.Generator
    ):
        return value
    if isinstance(value, bool):
        raise ReluscopeError(f"{name} must be None or an integer >= 0, got {value!r}")
    if isinstance(value, numbers.Integral) and value < 0:
        raise ReluscopeError(f"{name} must be None or an integer >= 0, got {value}")
    try:
        np.random.SeedSequence(value)
    except (TypeError, ValueError):
        raise ReluscopeError(f"{name} must be None or an integer >= 0, got {value!r}") from None
    return value


def seed_sequence(random_state: Any) -> np.random.SeedSequence:
    """The ``SeedSequence`` of a checked seed (see :func:`check_seed`): random streams are
    spawned from it, one per repetition or run, so results do not depend on the order."""
    if isinstance(random_state, np.random.SeedSequence):
        return random_state
    if isinstance(random_state, np.random.Generator):
        return np.random.SeedSequence(int(random_state.integers(0, 2**63)))
    return np.random.SeedSequence(random_state)


def check_time_limit(value: Any, name: str = "time_limit") -> float | None:
    """None (no limit) or a number of seconds >= 0 (inf allowed); NaN is refused."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ReluscopeError(f"{name} must be a number of seconds, got {value!r}") from None
    if math.isnan(seconds) or seconds < 0:
        raise ReluscopeError(f"{name} must be >= 0 seconds (or None for no limit), got {value}")
    return seconds


def cpu_count() -> int:
    """Cores this process may use (the affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def check_n_jobs(value: Any, name: str = "n_jobs") -> int:
    """Processes to use, as scikit-learn reads ``n_jobs``: None or -1 all cores, -2 all
    but one, ...; 0 is refused; more than the cores is capped (with a warning)."""
    cores = cpu_count()
    if value is None:
        return cores
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ReluscopeError(f"{name} must be an integer (-1: all cores), got {value!r}")
    jobs = int(value)
    if jobs == 0:
        raise ReluscopeError(f"{name} must be a positive number of processes or -1, got 0")
    if jobs < 0:
        jobs = cores + 1 + jobs
        if jobs < 1:
            raise ReluscopeError(f"{name}={value} leaves no process on {cores} cores")
    if jobs > cores:
        _log.warning("%s=%d capped at the %d cores", name, jobs, cores)
        jobs = cores
    return jobs


def check_nonnegative_int(value: Any, name: str) -> int:
    """An integer >= 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ReluscopeError(f"{name} must be an integer >= 0, got {value!r}")
    return int(value)


def check_positive_int(value: Any, name: str) -> int:
    """An integer >= 1."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ReluscopeError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def check_xor_size(value: Any, n_binaries: int, name: str = "xor_size") -> int:
    """A parity constraint size between 1 and the number of unstable binaries."""
    size = check_positive_int(value, name)
    if size > n_binaries:
        raise ReluscopeError(
            f"{name}={size} exceeds the {n_binaries} unstable binaries of this network "
            f"(maximum {n_binaries}): a parity constraint cannot use more"
        )
    return size


def check_probability(value: Any, name: str) -> float:
    """A probability strictly between 0 and 1."""
    try:
        p = float(value)
    except (TypeError, ValueError):
        raise ReluscopeError(f"{name} must be a number in (0, 1), got {value!r}") from None
    if not 0.0 < p < 1.0:
        raise ReluscopeError(f"{name} must lie strictly between 0 and 1, got {value}")
    return p


def check_real(
    value: Any,
    name: str,
    *,
    minimum: float | None = None,
    positive: bool = False,
) -> float:
    """A finite number (NaN and infinities refused: they would reach the JSON output),
    ``>= minimum`` when given, ``> 0`` with ``positive``."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ReluscopeError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise ReluscopeError(f"{name} must be a finite number, got {value}")
    if positive and not number > 0:
        raise ReluscopeError(f"{name} must be > 0, got {value}")
    if minimum is not None and number < minimum:
        raise ReluscopeError(f"{name} must be >= {minimum:g}, got {value}")
    return number


def check_optional_positive_int(value: Any, name: str) -> int | None:
    """None, or an integer >= 1."""
    return None if value is None else check_positive_int(value, name)


def check_choice(value: Any, choices: tuple[str, ...], name: str) -> str:
    """One of ``choices``."""
    if value not in choices:
        raise ReluscopeError(f"unknown {name} {value!r}; choose one of {', '.join(choices)}")
    return str(value)


__all__ = [
    "check_choice",
    "check_n_jobs",
    "check_nonnegative_int",
    "check_positive_int",
    "check_optional_positive_int",
    "check_probability",
    "check_real",
    "check_seed",
    "check_time_limit",
    "check_xor_size",
    "cpu_count",
]
