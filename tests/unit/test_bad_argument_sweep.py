"""A bad value to every numeric or file option of every command: refused before work.

Each case must end in one ``reluscope: error:`` line, exit 2, no traceback, and write
nothing (the sweep runs in an empty folder). Non-finite numbers (nan, inf) are refused
wherever a number is read, so no JSON output can carry NaN or Infinity.
"""

from __future__ import annotations

import json
import math

import pytest

from clitools import run_error
from reluscope.cli import main
from reluscope.cli.common import emit

M = "example"
LOCAL = ["local", M, "--points", "random"]
SLICE = ["slice", M, "--points", "random", "random", "random"]
LINE = ["line", M, "--through", "random", "random"]

#: (command prefix, option, bad values)
SWEEP = [
    (["count", M], "--time-limit", ["nan", "-1", "abc"]),
    (["count", M], "--jobs", ["0", "x"]),
    (["count", M], "--domain", ["nan,1", "0,inf", "1", "a,b"]),
    (["count", M, "--ball", "random-missing.npy"], "--radius", ["nan", "inf", "-1"]),
    (["count", M], "--patterns", ["p.txt", ".", "/nonexistent/p.npy"]),
    (["count", M], "--checkpoint", [".", "/nonexistent/ck"]),
    (["count", M], "--input-shape", ["a,b"]),
    (["bounds", M, "--method", "milp"], "--time-limit", ["nan", "-1"]),
    (["bounds", M, "--method", "milp"], "--solve-time-limit", ["nan", "-1"]),
    (["bounds", M], "--solve-time-limit", ["5"]),
    (["estimate", M], "--confidence", ["nan", "0", "1", "2"]),
    (["estimate", M], "--target-probability", ["nan", "0", "1.5"]),
    (["estimate", M], "--max-repetitions", ["0", "-3"]),
    (["estimate", M], "--time-limit", ["nan", "-1"]),
    (["estimate", M], "--seed", ["-1"]),
    (["estimate", M], "--xor-size", ["0", "x", "100"]),
    (["upper", M], "--lower-bound", ["0", "-1"]),
    (["upper", M], "--exact-coverage-limit", ["-1"]),
    (["upper", M], "--time-limit", ["nan"]),
    (["upper", M], "--solve-time-limit", ["nan", "-1"]),
    (["upper"], "--architecture", ["784", "a,b"]),
    (["upper", "--depth-study"], "--plot", ["study", "/nonexistent/s.png"]),
    (["compress", M, "-o", "out.npz"], "--n-samples", ["0", "-5"]),
    (["compress", M, "-o", "out.npz"], "--seed", ["-1"]),
    (["compress", M, "-o", "out.npz"], "--time-limit", ["nan", "-1"]),
    (["compress", M], "-o", ["out.txt", ".", "/nonexistent/o.npz"]),
    (["train", "-o", "n.npz"], "--l1", ["nan", "inf", "-1"]),
    (["train", "-o", "n.npz"], "--epochs", ["nan", "inf", "0"]),
    (["train", "-o", "n.npz"], "--seed", ["-1"]),
    (["train", "-o", "n.npz"], "--time-limit", ["nan"]),
    (["train", "-o", "n.npz"], "--widths", ["0", "a"]),
    (["train"], "-o", ["n.txt"]),
    (["reproduce", "--out", "r"], "--networks", ["0"]),
    (["reproduce", "--out", "r"], "--n-train", ["0"]),
    (["reproduce", "--out", "r"], "--epochs", ["nan"]),
    (["reproduce", "--out", "r"], "--count-time-limit", ["nan", "-1"]),
    (["reproduce", "--out", "r"], "--bounds-time-limit", ["nan"]),
    (["reproduce", "--out", "r"], "--milp-time-limit", ["-1"]),
    (["reproduce", "--out", "r"], "--estimate-time-limit", ["nan"]),
    (["reproduce", "--out", "r"], "--max-repetitions", ["0"]),
    (["reproduce", "--out", "r"], "--xor-networks", ["-1"]),
    (["reproduce", "--out", "r"], "--milp-networks", ["-1"]),
    (["reproduce", "--out", "r"], "--xor-sizes", ["0", "a"]),
    (["reproduce", "--out", "r"], "--splits", ["0-22", "x"]),
    (["reproduce", "--out", "r"], "--jobs", ["0"]),
    (["reproduce", "--out", "r"], "--time-limit", ["nan"]),
    (["info"], "--domain", ["nan,1"]),
    (LOCAL, "--radius", ["nan", "inf", "-1"]),
    (LOCAL + ["--radius", "0.1"], "--time-limit", ["nan"]),
    (LOCAL + ["--radius", "0.1"], "--point-time-limit", ["nan", "-1"]),
    (LOCAL + ["--radius", "0.1"], "--xor-size", ["0"]),
    (LOCAL + ["--radius", "0.1"], "--n", ["0"]),
    (LOCAL + ["--radius", "0.1"], "--start", ["-1"]),
    (LOCAL + ["--radius", "0.1"], "--seed", ["-1"]),
    (LOCAL + ["--radius", "0.1"], "--csv", ["rows.txt"]),
    (LOCAL + ["--radius", "0.1"], "--plot", ["h"]),
    (SLICE, "--seed", ["-1"]),
    (SLICE, "--plot", ["p.csv"]),
    (["slice", M], "--points", ["random"]),
    (LINE, "--plot", ["p"]),
    (["line", M], "--through", ["missing.npy"]),
]
CASES = [
    pytest.param([*prefix, option, value], id=f"{prefix[0]} {option} {value}")
    for prefix, option, values in SWEEP for value in values
]


@pytest.mark.parametrize("argv", CASES)
def test_bad_value_is_one_line_before_work(argv, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    if argv[:2] == ["info", "--domain"]:
        argv = ["info", M, *argv[1:]]
    run_error(capsys, argv)
    assert not any(tmp_path.iterdir()), "nothing may be written before the check"


def test_json_output_is_strict(capsys):
    """NaN/Infinity in a payload come out as null, never as invalid JSON."""
    import argparse

    emit(argparse.Namespace(json=True), {"a": math.nan, "b": [1.0, math.inf], "c": 2}, "")
    line = capsys.readouterr().out
    assert json.loads(line, parse_constant=lambda c: pytest.fail(c)) == {
        "a": None, "b": [1.0, None], "c": 2}


def test_good_values_still_pass(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["upper", M, "--lower-bound", "5", "--json"]) == 0
    assert main(["count", M, "--domain", "0,1", "--time-limit", "60", "--json"]) == 0
    outs = capsys.readouterr().out.strip().splitlines()
    assert json.loads(outs[1])["exact"] is True
