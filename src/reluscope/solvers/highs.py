"""Every HiGHS object of reluscope is made and run here, with one settings policy.

Policy (the same for the LP bounds, the lp counting engine and anything else):

- **One thread.** HiGHS keeps one task scheduler per process, started by the first
  ``run()`` with that object's ``threads``; a later object asking for another number gets
  ``kError`` ("the scheduler has already been initialized", highspy 1.16). reluscope's
  LPs are small and warm-started, so parallelism is across processes, never inside
  HiGHS: every object asks for :data:`HIGHS_THREADS`. Should a caller's own HiGHS use
  have started the scheduler with another count, :func:`run` joins it (uses that
  count for this object) rather than restarting a scheduler others are using.
- **Silent.** ``output_flag`` is off, and the banner HiGHS 1.16 prints on the C-level
  stdout when the first object of a process is built is discarded: stdout carries
  only what reluscope means to print, stderr only its own messages.
- **No presolve**, so the basis survives between warm-started solves, and an iteration
  cap (:data:`~reluscope.tolerances.MAX_LP_ITERATIONS`) that turns a cycling solve into a
  retry from scratch.

:func:`run` maps HiGHS's outcome to an :class:`LPOutcome`: a solve outcome, a numerical
outcome (worth one retry from scratch), or a solver error raised as
:class:`~reluscope.errors.SolverError` with HiGHS's own log lines.
"""

from __future__ import annotations

import enum
import os
import re
import tempfile
from typing import Any

from reluscope.errors import SolverError
from reluscope.solvers.output import solver_output_to_stderr
from reluscope.tolerances import MAX_LP_ITERATIONS, SOLVER_FEASIBILITY_TOL

#: Threads of every HiGHS object (see module docstring).
HIGHS_THREADS = 1

#: Options every HiGHS object gets.
HIGHS_OPTIONS: dict[str, Any] = {
    "output_flag": False,
    "threads": HIGHS_THREADS,
    "presolve": "off",
    "simplex_iteration_limit": MAX_LP_ITERATIONS,
    "primal_feasibility_tolerance": SOLVER_FEASIBILITY_TOL,
    "dual_feasibility_tolerance": SOLVER_FEASIBILITY_TOL,
}


class LPOutcome(enum.Enum):
    """What a HiGHS solve ended with, as reluscope reads it."""

    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"
    #: the dual bound reached ``objective_bound``: the optimum is at least that
    BOUND_STOP = "objective bound reached"
    #: a numerical outcome (iteration cap, unknown, unbounded on a boxed LP, ...):
    #: no usable answer; solving again from scratch may give one
    NUMERICAL = "numerical trouble"


def new_highs(**options: Any) -> Any:
    """A ``highspy.Highs`` with :data:`HIGHS_OPTIONS` and then ``options`` applied."""
    import highspy

    with solver_output_to_stderr(discard=True):  # HiGHS 1.16's banner, nothing else
        highs = highspy.Highs()
    for name, value in {**HIGHS_OPTIONS, **options}.items():
        _set_option(highs, name, value)
    return highs


def set_option(highs: Any, name: str, value: Any) -> None:
    """Set one option, raising :class:`SolverError` if HiGHS refuses it."""
    _set_option(highs, name, value)


def _set_option(highs: Any, name: str, value: Any) -> None:
    import highspy

    if highs.setOptionValue(name, value) == highspy.HighsStatus.kError:
        raise SolverError(f"HiGHS refused option {name}={value!r}; please report this")


def run(highs: Any) -> LPOutcome:
    """Run ``highs`` and classify the outcome (see :class:`LPOutcome`).

    A run that returns ``kError`` is run once more with HiGHS's log captured: if the
    log says the process's scheduler was started with another thread count (by a
    caller's own HiGHS), this object joins that count and runs again; an error that
    goes away on the second run (seen with highspy 1.7) is not reported.

    Raises
    ------
    SolverError
        HiGHS reported an error (run status ``kError`` or a model status that is not a
        solve outcome, such as a load, model or solve error): a solver or configuration
        problem, not a hard network. The message carries HiGHS's own log lines.
    """
    import highspy

    status, log = highs.run(), ""
    if status == highspy.HighsStatus.kError:
        status, log = _run_logged(highs)
        threads = _scheduler_threads(log)
        if status == highspy.HighsStatus.kError and threads is not None:
            _set_option(highs, "threads", threads)
            status, log = _run_logged(highs)
    model_status = highs.getModelStatus()
    outcome = _OUTCOMES.get(model_status.name)
    if status != highspy.HighsStatus.kError and outcome is not None:
        return outcome
    raise SolverError(
        f"HiGHS failed: run status {status.name}, model status "
        f"{highs.modelStatusToString(model_status)}; HiGHS said: "
        f"{_summary(log or _run_logged(highs)[1])}"
    )


def retry_from_scratch(highs: Any) -> None:
    """Forget the basis, so that the next :func:`run` starts from scratch."""
    highs.clearSolver()


#: HiGHS model statuses that are solve outcomes, by name.
_OUTCOMES: dict[str, LPOutcome] = {
    "kOptimal": LPOutcome.OPTIMAL,
    "kInfeasible": LPOutcome.INFEASIBLE,
    "kObjectiveBound": LPOutcome.BOUND_STOP,
    "kIterationLimit": LPOutcome.NUMERICAL,
    "kUnknown": LPOutcome.NUMERICAL,
    "kUnbounded": LPOutcome.NUMERICAL,  # every reluscope LP is boxed
    "kUnboundedOrInfeasible": LPOutcome.NUMERICAL,
    "kTimeLimit": LPOutcome.NUMERICAL,
}


def _scheduler_threads(log: str) -> int | None:
    """The thread count of the process's HiGHS scheduler, if ``log`` says it refused
    another."""
    found = re.search(r"scheduler has already been initialized to use (\d+) threads", log)
    return int(found.group(1)) if found else None


def _run_logged(highs: Any) -> tuple[Any, str]:
    """Run once more with HiGHS's log going to a temporary file: the run status and
    the log."""
    fd, path = tempfile.mkstemp(suffix=".log", prefix="reluscope-highs-")
    os.close(fd)
    try:
        highs.setOptionValue("log_file", path)
        highs.setOptionValue("log_to_console", False)
        highs.setOptionValue("output_flag", True)
        with solver_output_to_stderr():
            status = highs.run()
        highs.setOptionValue("output_flag", False)
        highs.setOptionValue("log_file", "")
        with open(path, encoding="utf-8", errors="replace") as log:
            text = log.read()
    finally:
        os.unlink(path)
    return status, text


def _summary(log: str) -> str:
    """HiGHS's error and warning lines (else its last lines), as one line."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    wanted = [line for line in lines if "rror" in line or "arning" in line] or lines[-3:]
    return " | ".join(wanted) or "(nothing)"
