"""Every SCIP model of reluscope is made, solved and read here.

- :func:`new_scip_model`: a quiet model with the safe settings (:data:`SAFE_SCIP_PARAMS`).
  Models that get constraints during the solve (lazy no-good, parity and witness cuts)
  gave wrong answers with SCIP's defaults (docs/solvers.md), so dual reductions and
  symmetry handling are off on every model.
- :func:`solve`: runs ``optimize()`` (or ``count()``) with solver output kept off stdout,
  and turns every way a solve can end into a :class:`ScipOutcome`: Ctrl-C, a time or
  node limit, and a SCIP error (pyscipopt raises a bare ``Exception`` such as ``SCIP:
  error in LP solver!``) become a stop reason, never a traceback, so the caller keeps
  what it proved so far.
- :class:`LazyConstraintHandler`: the one base of reluscope's lazy constraint handlers,
  with one priority and one lock policy.
"""

from __future__ import annotations

import enum
import logging
import threading
from dataclasses import dataclass
from typing import Any

from reluscope import interrupts
from reluscope.solvers.output import solver_output_to_stderr
from reluscope.status import COMPLETE, FAILED, INTERRUPTED, TIME_LIMIT, Status
from reluscope.tolerances import SCIP_FEASIBILITY_TOL

#: SCIP parameters that keep lazily-constrained solves correct (see module docstring).
#: The feasibility tolerance is SCIP's own default (1e-6) divided by 10, not less: at
#: 1e-9 SCIP asks SoPlex for 1e-12 when it retries an LP in numerical trouble, SoPlex
#: cannot (without GMP), and the solve dies with "error in LP solver" (seen on two
#: MNIST-trained 784;8;8;10 networks after 2-6 thousand regions).
SAFE_SCIP_PARAMS: dict[str, Any] = {
    "misc/allowstrongdualreds": False,
    "misc/allowweakdualreds": False,
    "misc/usesymmetry": 0,
    "constraints/linear/upgrade/xor": False,
    "numerics/feastol": SCIP_FEASIBILITY_TOL,
}

#: Enforcement and check priority of every lazy handler: below all of SCIP's own
#: handlers (integrality included), so a candidate reaches it only once every other
#: constraint holds, and the handler sees genuine solutions of the model.
LAZY_HANDLER_PRIORITY = -10_000_000

_log = logging.getLogger(__name__)

#: A binary variable's value above this reads as 1.
BINARY_THRESHOLD = 0.5


def new_scip_model(name: str = "reluscope", *, threads: int = 1) -> Any:
    """A quiet SCIP model with :data:`SAFE_SCIP_PARAMS` applied."""
    from pyscipopt import Model

    model = Model(name)
    model.hideOutput()
    apply_safe_params(model)
    model.setParam("parallel/maxnthreads", threads)
    return model


def apply_safe_params(model: Any) -> None:
    """(Re)apply :data:`SAFE_SCIP_PARAMS`, e.g. after a SCIP emphasis setting."""
    for key, value in SAFE_SCIP_PARAMS.items():
        model.setParam(key, value)


class Stop(enum.Enum):
    """Why a SCIP solve ended."""

    FINISHED = "finished"  # optimal or infeasible: the question is answered
    SOLUTION_LIMIT = "solution limit"  # stopped at the requested number of solutions
    NODE_LIMIT = "node limit"
    TIME_LIMIT = "time limit"
    INTERRUPTED = "interrupted"  # Ctrl-C
    FAILED = "failed"  # a SCIP error (e.g. in the LP solver), or an unexpected status


@dataclass(frozen=True)
class ScipOutcome:
    """The end of one SCIP solve: why it stopped, SCIP's own status word, and for a
    failure SCIP's message."""

    stop: Stop
    scip_status: str
    message: str = ""
    #: False when the solve raised (Ctrl-C caught by Python, a SCIP error): SCIP's
    #: bounds and statistics of this solve must not be read then
    returned: bool = True

    @property
    def status(self) -> Status:
        """The result status (:mod:`reluscope.status`) of a run that ended here: a
        finished solve is complete, any limit counts as the time limit."""
        return _RESULT_STATUS[self.stop]

    @property
    def finished(self) -> bool:
        return self.stop is Stop.FINISHED

    def describe(self) -> str:
        """One line for a user: what happened, with SCIP's message."""
        if self.stop is Stop.FAILED:
            return f"SCIP failed ({self.message or self.scip_status})"
        return f"SCIP stopped: {self.stop.value} ({self.scip_status})"


_RESULT_STATUS = {
    Stop.FINISHED: COMPLETE,
    Stop.SOLUTION_LIMIT: TIME_LIMIT,
    Stop.NODE_LIMIT: TIME_LIMIT,
    Stop.TIME_LIMIT: TIME_LIMIT,
    Stop.INTERRUPTED: INTERRUPTED,
    Stop.FAILED: FAILED,
}

#: SCIP's status words, by what they mean here.
_STOP_OF: dict[str, Stop] = {
    "optimal": Stop.FINISHED,
    "infeasible": Stop.FINISHED,
    "unbounded": Stop.FINISHED,
    "inforunbd": Stop.FINISHED,
    # limits/primal and limits/dual reached: the question asked (a sign) is answered
    "primallimit": Stop.FINISHED,
    "duallimit": Stop.FINISHED,
    "sollimit": Stop.SOLUTION_LIMIT,
    "bestsollimit": Stop.SOLUTION_LIMIT,
    "nodelimit": Stop.NODE_LIMIT,
    "totalnodelimit": Stop.NODE_LIMIT,
    "stallnodelimit": Stop.NODE_LIMIT,
    "restartlimit": Stop.NODE_LIMIT,
    "gaplimit": Stop.NODE_LIMIT,
    "timelimit": Stop.TIME_LIMIT,
    "userinterrupt": Stop.INTERRUPTED,
    "terminate": Stop.INTERRUPTED,
}


#: the models whose solve is running (innermost last), for interrupt_running_solve()
_SOLVING: list[Any] = []
#: seconds between two looks at a solve that runs in the helper thread (a stop that
#: came while SCIP could not yet be interrupted is passed on at the next look)
_JOIN_SECONDS = 0.05


def interrupt_running_solve() -> bool:
    """Ask the running SCIP solve, if any, to stop as Ctrl-C would; True if there was one.

    Used for SIGTERM: its Python handler runs inside a SCIP callback, where raising
    ``KeyboardInterrupt`` would be swallowed by the callback (with a traceback).
    """
    if not _SOLVING:
        return False
    try:
        _SOLVING[-1].interruptSolve()
    except Exception:  # noqa: BLE001 - not in a state to be interrupted: use SIGINT
        return False
    return True


def solve(model: Any, *, count: bool = False) -> ScipOutcome:
    """Run ``model.optimize()`` (``model.count()`` with ``count``) and say how it ended.

    Never raises for a solver failure: a SCIP error comes back as ``Stop.FAILED`` with
    SCIP's message, and a ``KeyboardInterrupt`` that reaches Python outside SCIP's own
    signal handler as ``Stop.INTERRUPTED``, so the caller can return what it proved. A
    stop (Ctrl-C, SIGTERM) that came during a solve that still finished gives
    ``Stop.INTERRUPTED`` too, with SCIP's own status word and its answer readable.
    """
    _SOLVING.append(model)
    stop_asked = False
    stopped_before = interrupts.requested()
    try:
        with solver_output_to_stderr():
            if _can_release_the_gil(model):
                if count:  # what SCIPcount does before its SCIPsolve
                    model.setParam("constraints/countsols/active", True)
                stop_asked = _solve_releasing_the_gil(model)
            elif count:
                model.count()
            else:
                model.optimize()
    except KeyboardInterrupt:
        interrupts.note()
        return ScipOutcome(Stop.INTERRUPTED, "userinterrupt", returned=False)
    except Exception as error:  # pyscipopt raises a bare Exception for a SCIP error code
        return ScipOutcome(Stop.FAILED, "error", str(error), returned=False)
    finally:
        _SOLVING.pop()
    scip_status = str(model.getStatus())
    stop = _STOP_OF.get(scip_status, Stop.FAILED)
    if stop is Stop.FAILED and scip_status == "unknown" and (stop_asked or interrupts.requested()):
        # interrupted before the solve could say so (e.g. in presolving): its bounds and
        # statistics are not to be read, as after a Ctrl-C caught by Python
        interrupts.note()
        return ScipOutcome(Stop.INTERRUPTED, scip_status, returned=False)
    if stop is Stop.INTERRUPTED:  # SCIP's own Ctrl-C handler: the whole call stops
        interrupts.note()
    elif stop is not Stop.FAILED and (
        stop_asked or (interrupts.requested() and not stopped_before)
    ):
        # a stop came while the solve ended anyway (optimal, a limit): its answer stands
        # (returned), but the caller must stop too (a Ctrl-C was lost this way in MILP
        # bounds: the next solve ran as if none had come)
        _log.debug("SCIP status %s, stopped at the end", scip_status)
        return ScipOutcome(Stop.INTERRUPTED, scip_status)
    _log.debug("SCIP status %s", scip_status)
    message = "" if stop is not Stop.FAILED else f"unexpected SCIP status {scip_status!r}"
    return ScipOutcome(stop, scip_status, message)


def _can_release_the_gil(model: Any) -> bool:
    """Solve in a helper thread without the GIL: from the main thread, when PySCIPOpt
    has ``optimizeNogil``. Models with a Python constraint handler too: PySCIPOpt's
    callbacks take the GIL themselves (``with gil``), so the handlers run in the helper
    thread; between two of their calls SCIP may work for seconds (a 784-input count's
    LPs: a SIGTERM waited 8 s when these solves ran in the main thread)."""
    return (
        threading.current_thread() is threading.main_thread()
        and hasattr(model, "optimizeNogil")
    )


def _solve_releasing_the_gil(model: Any) -> bool:
    """Run SCIPsolve in a helper thread, without the GIL, while this (main) thread waits.

    Why: a solve holds the GIL while SCIP works, so Python's signal handlers (SIGTERM:
    :mod:`reluscope.cli.signals`) run only when it ends or calls back into Python; a
    SIGTERM was once ignored for 400 s by ``count --method scip-count`` (no callback),
    and for 8 s by ``count --method milp`` (lazy no-good handler, long LPs between
    calls). Here the main thread waits for the solve's end and runs them at once:
    SIGTERM interrupts the solve through :func:`interrupt_running_solve`; a
    ``KeyboardInterrupt`` (SIGINT before SCIP caught it) interrupts it too. Either way
    the solve ends as SCIP's own Ctrl-C would, with status ``userinterrupt`` and its
    statistics readable. Returns True when a stop came.
    """
    failure: list[BaseException] = []
    # SCIP's own Ctrl-C handler would swallow a SIGINT that comes as the solve ends
    # (status "optimal", the stop lost); here Python's handler sees every one
    model.setParam("misc/catchctrlc", False)

    # the solve's end, as the worker itself says it (not Thread.is_alive: on CPython
    # 3.11 a join() interrupted by Ctrl-C can mark a running thread as stopped)
    done = threading.Event()

    def run() -> None:
        try:
            model.optimizeNogil()
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            failure.append(exc)
        finally:
            done.set()

    worker = threading.Thread(target=run, name="reluscope-scip-solve", daemon=True)
    # A stop must not interrupt start() (it waits for the thread to begin: a
    # KeyboardInterrupt there left the solve running while the caller went on and freed
    # its model, a segfault in 1 of 2 stopped `estimate` runs, whose solves are short):
    # Ctrl-C and SIGTERM are held back until the thread runs, then come inside the try.
    # The worker inherits the mask, so these signals always reach this thread.
    mask = _block_stop_signals()
    try:
        worker.start()
    finally:
        if not worker.ident:  # never started (cannot start a thread): nothing to wait for
            _restore_signals(mask)
            done.set()
    stop_asked = passed_on = False
    restored = False
    raised: BaseException | None = None
    # Never leave while the solve runs: the model must outlive it (a model freed under a
    # running solve crashes the process). So every line of the loop is inside the try: a
    # stop that comes at any moment is passed on to SCIP, and then this waits for the end.
    while True:
        try:
            if not restored:
                restored = True
                _restore_signals(mask)  # a stop held back is handled here
            if done.is_set():
                break
            done.wait(_JOIN_SECONDS)
            if stop_asked and not passed_on and not done.is_set():
                try:  # once: not solving yet, it raises and the next look tries again
                    model.interruptSolve()
                    passed_on = True
                except Exception:  # noqa: BLE001
                    pass
        except KeyboardInterrupt:
            stop_asked = True
            interrupts.note()
        except BaseException as exc:  # noqa: BLE001 - e.g. SystemExit: after the solve
            stop_asked = True
            raised = raised or exc
    if raised is not None:
        raise raised
    if failure:
        raise failure[0]
    return stop_asked


_STOP_SIGNALS = ("SIGINT", "SIGTERM")


def _block_stop_signals() -> Any:
    """Hold back Ctrl-C and SIGTERM in this thread (POSIX); returns the mask to restore."""
    import signal

    if not hasattr(signal, "pthread_sigmask"):
        return None
    return signal.pthread_sigmask(signal.SIG_BLOCK,
                                  {getattr(signal, name) for name in _STOP_SIGNALS})


def _restore_signals(mask: Any) -> None:
    import signal

    if mask is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def best_solution_values(model: Any, variables: list[Any]) -> Any:
    """Values of ``variables`` in the best solution found (a float array). Works after a
    solve stopped by any limit (``getVal`` does not on PySCIPOpt < 6)."""
    import numpy as np

    best = model.getBestSol()
    return np.array([model.getSolVal(best, v) for v in variables], dtype=float)


class LazyConstraintHandler:
    """Base of reluscope's lazy constraint handlers (no-good, parity, witness cuts).

    A subclass implements :meth:`enforce` (at an LP or pseudo solution: add cuts and
    return ``"CONSADDED"``, or ``"FEASIBLE"``/``"INFEASIBLE"``) and :meth:`check` (at a
    proposed solution: ``"FEASIBLE"`` or ``"INFEASIBLE"``), returning SCIP_RESULT names.
    Lock policy: every variable in :attr:`locked_variables` is locked both ways (a lazy
    cut may forbid moving it in either direction); dual reductions are off anyway.
    Install with :func:`add_lazy_handler`.
    """

    model: Any  # set by SCIP's includeConshdlr
    locked_variables: list[Any] = []

    def enforce(self, solinfeasible: bool) -> str:
        raise NotImplementedError

    def check(self, solution: Any, completely: bool) -> str:
        raise NotImplementedError

    # ---- SCIP callbacks
    def consenfolp(self, constraints: Any, nusefulconss: Any, solinfeasible: Any) -> Any:
        return _result(self.enforce(bool(solinfeasible)))

    def consenfops(
        self, constraints: Any, nusefulconss: Any, solinfeasible: Any, objinfeasible: Any
    ) -> Any:
        return _result(self.enforce(bool(solinfeasible)))

    def conscheck(
        self, constraints: Any, solution: Any, checkintegrality: Any, checklprows: Any,
        printreason: Any, completely: Any,
    ) -> Any:
        return _result(self.check(solution, bool(completely)))

    def conslock(self, constraint: Any, locktype: Any, nlockspos: Any, nlocksneg: Any) -> None:
        both = nlockspos + nlocksneg
        try:
            self.model.getStage()
        except ReferenceError:  # PySCIPOpt < 6 unlocks while the model is freed: nothing to do
            return
        for var in self.locked_variables:
            target = var
            try:
                target = self.model.getTransformedVar(var)
            except Exception:  # not transformed yet: lock the original
                target = var
            if hasattr(self.model, "addVarLocksType"):
                self.model.addVarLocksType(target, locktype, both, both)
            elif int(locktype) == _MODEL_LOCKS:  # PySCIPOpt < 5.7: model locks only
                self.model.addVarLocks(target, both, both)


#: SCIP_LOCKTYPE_MODEL: the locks of the model's constraints (the other type, conflict
#: locks, only matters to conflict analysis)
_MODEL_LOCKS = 0


def _result(name: str) -> dict[str, Any]:
    from pyscipopt import SCIP_RESULT

    return {"result": getattr(SCIP_RESULT, name)}


_HANDLER_TYPES: dict[type, type] = {}


def add_lazy_handler(
    model: Any, handler_class: type, *args: Any, name: str, description: str, **kwargs: Any
) -> Any:
    """Build a ``handler_class`` (a :class:`LazyConstraintHandler` subclass) as a SCIP
    constraint handler and include it in ``model`` at :data:`LAZY_HANDLER_PRIORITY`."""
    concrete = _HANDLER_TYPES.get(handler_class)
    if concrete is None:
        from pyscipopt import Conshdlr

        concrete = type(handler_class.__name__, (handler_class, Conshdlr), {})
        _HANDLER_TYPES[handler_class] = concrete
    handler = concrete(*args, **kwargs)
    model.includeConshdlr(
        handler, name, description,
        sepapriority=0, enfopriority=LAZY_HANDLER_PRIORITY, chckpriority=LAZY_HANDLER_PRIORITY,
        sepafreq=-1, propfreq=-1, eagerfreq=-1, maxprerounds=0,
        delaysepa=False, delayprop=False, needscons=False,
    )
    return handler
