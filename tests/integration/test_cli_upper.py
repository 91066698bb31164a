"""``reluscope upper`` end to end: JSON output, architecture mode, errors."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from clitools import run_json
from reluscope.cli import main


def test_architecture_json(capsys):
    payload = run_json(capsys, ["upper", "--architecture", "784,11,11,10", "--json"])
    assert payload["empirical_ub"] is None
    assert payload["maps"]["empirical_ub"] is None
    assert payload["trivial_ub"] == 2**32
    # one layer of 11 in R^784 is 2^11; the Configuration UB is the sum over J
    assert payload["configuration_ub"] == 1690286436
    assert payload["montufar_ub"] == 2**32
    assert payload["maps"]["configuration_ub"] == pytest.approx(math.log2(1690286436))
    assert isinstance(payload["seconds"], float)


def test_huge_counts_are_json_integers(capsys):
    payload = run_json(capsys, ["upper", "--architecture", "784,100,100,10", "--json"])
    assert payload["trivial_ub"] == 2**210
    assert isinstance(payload["configuration_ub"], int)
    assert payload["configuration_ub"] > 2**63


def test_example_network_json(capsys):
    payload = run_json(
        capsys, ["upper", "example", "--bounds-method", "interval", "--json", "--lower-bound",
                 "1000"]
    )
    assert payload["architecture"] == [64, 6, 6, 10]
    assert payload["bounds_method"] == "interval"
    assert 1000 <= payload["empirical_ub"] <= payload["configuration_ub"]
    assert payload["configuration_ub"] <= payload["montufar_ub"] <= payload["trivial_ub"]
    assert payload["trivial_ub"] == 2**22
    assert len(payload["coverage"]) == 3 and payload["coverage"][0] == "none"
    assert payload["app_k"] == pytest.approx(
        (math.log2(1000) + math.log2(payload["empirical_ub"])) / 2
    )
    assert payload["maps"]["empirical_ub"] == pytest.approx(
        math.log2(payload["empirical_ub"])
    )


def test_text_output(capsys):
    assert main(["upper", "example", "--bounds-method", "interval"]) == 0
    out = capsys.readouterr().out
    assert "Configuration UB" in out and "Empirical UB" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["upper"],
        ["upper", "example", "--architecture", "3,4"],
        ["upper", "--architecture", "784"],
        ["upper", "--architecture", "784,a"],
        ["upper", "--architecture", "4,3", "--rank"],
    ],
)
def test_errors_exit_2(capsys, argv):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("reluscope: error:") and err.count("\n") == 1


def test_subprocess_entry_point():
    proc = subprocess.run(
        [sys.executable, "-m", "reluscope", "upper", "--architecture", "2,3,4", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["configuration_ub"] == 59


def test_depth_study_json_and_plot(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    plot = tmp_path / "depth.png"
    payload = run_json(capsys, ["upper", "--depth-study", "--json", "--plot", str(plot)])
    assert payload["n0"] == list(range(1, 61))
    assert payload["configuration_ub"][0] == [61, 31**2, 21**3, 16**4, 13**5, 11**6]
    assert payload["best_depth"][0] == 6 and payload["best_depth"][-1] == 1
    assert plot.stat().st_size > 1000


@pytest.mark.parametrize(
    "argv",
    [
        ["upper", "--depth-study", "--architecture", "3,4"],
        ["upper", "--architecture", "3,4", "--plot", "x.png"],
    ],
)
def test_depth_study_errors(capsys, argv):
    assert main(argv) == 2
    assert capsys.readouterr().err.startswith("reluscope: error:")
