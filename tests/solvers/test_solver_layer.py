"""The solver layer (reluscope.solvers): one HiGHS policy, honest errors, SCIP failures
that keep what was proven, and the paper's enumeration on MNIST-trained networks."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import reluscope
from reluscope.bounds import tighten_bounds
from reluscope.errors import SolverError
from reluscope.milp import build_network_model
from reluscope.regions.count import milp_enum
from reluscope.solvers.highs import LPOutcome, new_highs, run
from reluscope.solvers.scip import Stop, new_scip_model, solve
from reluscope.status import FAILED

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
#: an MNIST-trained 784;8;8;10 network (L1-regularised) on which SCIP's LP solver failed
#: with numerics/feastol = 1e-9; its regions, counted by the lp engine and by milp
MNIST_NET = FIXTURES / "mnist-784-8-8-10-a.npz"
MNIST_NET_REGIONS = 6587


def _one_column_lp(lower: float, upper: float):  # type: ignore[no-untyped-def]
    import highspy

    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = 1, 0
    lp.col_cost_ = np.array([1.0])
    lp.col_lower_, lp.col_upper_ = np.array([lower]), np.array([upper])
    return lp


def test_highs_solves_after_a_caller_started_the_scheduler_with_other_threads() -> None:
    """highspy 1.16: a first Highs run with threads=2 fixes the process's scheduler; a
    later object asking for 1 thread got kError ('Not Set'). Fresh process: the
    scheduler is global."""
    script = textwrap.dedent("""
        import highspy, numpy as np
        from reluscope.solvers.highs import new_highs, run
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = 1, 0
        lp.col_cost_ = np.array([1.0])
        lp.col_lower_, lp.col_upper_ = np.array([-2.0]), np.array([3.0])
        theirs = highspy.Highs()
        theirs.setOptionValue("output_flag", False)
        theirs.setOptionValue("threads", 2)
        theirs.passModel(lp)
        theirs.run()
        ours = new_highs()
        ours.passModel(lp)
        print(run(ours).name, ours.getSolution().col_value[0])
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[-2:] == ["OPTIMAL", "-2.0"]


def test_highs_banner_never_reaches_stdout() -> None:
    script = "from reluscope.solvers.highs import new_highs; new_highs(); new_highs()"
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0 and proc.stdout == "" and "HiGHS" not in proc.stderr


def test_highs_outcomes() -> None:
    h = new_highs()
    h.passModel(_one_column_lp(1.0, 4.0))
    assert run(h) is LPOutcome.OPTIMAL and h.getSolution().col_value[0] == 1.0
    h = new_highs()
    h.passModel(_one_column_lp(1.0, 0.0))  # empty box
    assert run(h) is LPOutcome.INFEASIBLE


def test_highs_model_that_is_no_solve_outcome_is_a_solver_error() -> None:
    """A model HiGHS refused (an infinite lower bound on a column) leaves it 'Empty': a
    configuration error with HiGHS's own words, never 'numerically too hard'."""
    import highspy

    refused = _one_column_lp(highspy.kHighsInf, highspy.kHighsInf)
    plain = highspy.Highs()
    plain.setOptionValue("output_flag", False)
    plain.setOptionValue("threads", 1)
    plain.passModel(refused)
    plain.run()
    if plain.getModelStatus() == highspy.HighsModelStatus.kOptimal:
        pytest.skip("this highspy solves a refused model as an empty one (1.7)")
    h = new_highs()
    h.passModel(refused)
    with pytest.raises(SolverError, match="HiGHS failed: .*Empty; HiGHS said: ") as info:
        run(h)
    assert "numerically" not in str(info.value)


def test_scip_outcome_of_a_finished_and_an_infeasible_solve() -> None:
    model = new_scip_model()
    x = model.addVar("x", lb=0.0, ub=2.0)
    model.setObjective(x, sense="maximize")
    outcome = solve(model)
    assert outcome.stop is Stop.FINISHED and outcome.status == "complete"
    assert model.getVal(x) == pytest.approx(2.0)
    model = new_scip_model()
    y = model.addVar("y", lb=0.0, ub=1.0, vtype="B")
    model.addCons(y >= 2)
    outcome = solve(model)
    assert outcome.finished and outcome.scip_status == "infeasible"


@pytest.mark.parametrize("engine", ["lp", "milp"])
def test_the_paper_enumeration_finishes_on_an_mnist_network(engine: str) -> None:
    """With numerics/feastol 1e-9 SCIP died here after ~2000 nodes ('error in LP
    solver'); the enumeration must finish and agree with the lp engine."""
    net = reluscope.load(MNIST_NET)
    result = reluscope.count_regions(net, method=engine)
    assert result.exact and result.status == "complete"
    assert result.regions == MNIST_NET_REGIONS


def test_a_scip_failure_returns_the_regions_proven_so_far() -> None:
    """Fault injection with the old, too tight tolerance: SCIP fails mid-search; the
    enumeration returns a partial count with status 'failed' and SCIP's message, and
    every pattern it returns is a real region (checked by the lp engine's count)."""
    net = reluscope.load(MNIST_NET)
    nm = build_network_model(net, tighten_bounds(net, method="lp"), counting=True)
    milp_enum._enumeration_search(nm.model)
    nm.model.setParam("numerics/feastol", 1e-9)
    count, patterns = milp_enum.run_enumeration(nm, time_limit=300)
    assert count.status == FAILED and not count.exact
    assert "error in LP solver" in count.message
    assert 0 < count.regions < MNIST_NET_REGIONS
    assert len({row.tobytes() for row in patterns}) == count.regions
