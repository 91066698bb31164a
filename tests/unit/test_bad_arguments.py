"""Bad values to every public function and every subcommand: one line, no traceback.

API: a :class:`ReluscopeError` whose one-line message names the argument. CLI
(in-process): exit 2, one ``reluscope: error:`` line on stderr, nothing on stdout; with
``--json`` the same line on stderr and ``{"error": ..., "type": ...}`` on stdout. Every
check runs before any solver starts (the xor_size check after the LP bounds of the
small example), so each case takes about a second at most.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import reluscope
from clitools import run_error
from reluscope import validation
from reluscope.cli import main
from reluscope.errors import ReluscopeError

NAN = math.nan
NET = reluscope.example_network()
MISSING_DIR = "/nonexistent-folder/out.npz"


def _api_cases() -> list[Any]:
    from reluscope.compression import find_stable_units
    from reluscope.experiments.reproduce import reproduce
    from reluscope.experiments.training import train_network

    x = np.zeros((4, 64))
    y = np.array([0, 1, 2, 3])
    cases = [
        ("count_regions", reluscope.count_regions, {"time_limit": NAN}, "time_limit"),
        ("count_regions", reluscope.count_regions, {"time_limit": -1.0}, "time_limit"),
        ("count_regions", reluscope.count_regions, {"n_jobs": 0}, "n_jobs"),
        ("count_regions", reluscope.count_regions, {"n_jobs": 1.5}, "n_jobs"),
        ("count_regions", reluscope.count_regions, {"method": "x"}, "method"),
        ("count_regions", reluscope.count_regions, {"checkpoint": MISSING_DIR}, "folder"),
        ("count_regions", reluscope.count_regions, {"patterns_path": MISSING_DIR}, "folder"),
        ("tighten_bounds", reluscope.tighten_bounds, {"time_limit": NAN}, "time_limit"),
        ("tighten_bounds", reluscope.tighten_bounds,
         {"solve_time_limit": -1.0}, "solve_time_limit"),
        ("tighten_bounds", reluscope.tighten_bounds,
         {"solve_time_limit": 5.0}, "solve_time_limit"),  # with method="lp"
        ("tighten_bounds", reluscope.tighten_bounds, {"method": "x"}, "bounds method"),
        ("estimate_regions", reluscope.estimate_regions, {"xor_size": 100}, "maximum 22"),
        ("estimate_regions", reluscope.estimate_regions, {"xor_size": 0}, "xor_size"),
        ("estimate_regions", reluscope.estimate_regions, {"random_state": -1}, "random_state"),
        ("estimate_regions", reluscope.estimate_regions, {"time_limit": NAN}, "time_limit"),
        ("estimate_regions", reluscope.estimate_regions, {"confidence": 1.5}, "confidence"),
        ("estimate_regions", reluscope.estimate_regions,
         {"target_probability": 0.0}, "target_probability"),
        ("upper_bounds", reluscope.upper_bounds,
         {"exact_coverage_limit": -1}, "exact_coverage_limit"),
        ("upper_bounds", reluscope.upper_bounds, {"time_limit": NAN}, "time_limit"),
        ("upper_bounds", reluscope.upper_bounds, {"solve_time_limit": NAN}, "solve_time_limit"),
        ("upper_bounds", reluscope.upper_bounds, {"lower_bound": 0}, "lower_bound"),
        ("compress", reluscope.compress, {"random_state": -1}, "random_state"),
        ("compress", reluscope.compress, {"time_limit": -1.0}, "time_limit"),
        ("compress", reluscope.compress, {"strategy": "x"}, "strategy"),
        ("find_stable_units", find_stable_units, {"time_limit": NAN}, "time_limit"),
        ("find_stable_units", find_stable_units, {"random_state": -1}, "random_state"),
    ]
    params = [pytest.param(fn, (NET,), kw, word, id=f"{name}-{next(iter(kw))}")
              for name, fn, kw, word in cases]
    params += [
        pytest.param(reproduce, (MISSING_DIR,), {"n_jobs": 0}, "n_jobs", id="reproduce-n_jobs"),
        pytest.param(reproduce, ("/proc/reluscope-out",), {}, "--out", id="reproduce-out"),
        pytest.param(reproduce, (MISSING_DIR,), {"time_limit": NAN}, "time_limit",
                     id="reproduce-time_limit"),
        pytest.param(reluscope.load, ("missing.npz",), {}, "missing.npz", id="load"),
        pytest.param(reluscope.save, (NET, "net.unknown"), {}, "", id="save"),
    ]
    if "torch" in sys.modules or _has("torch"):
        params.append(pytest.param(train_network, (x, y, [8, 4]), {"random_state": -1},
                                   "random_state", id="train_network-random_state"))
    return params


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


@pytest.mark.parametrize(("fn", "args", "kwargs", "word"), _api_cases())
def test_api_refuses_with_one_line(fn, args, kwargs, word, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ReluscopeError) as info:
        fn(*args, **kwargs)
    message = str(info.value)
    assert "\n" not in message and message
    assert word in message


MODEL = "example"
CLI_CASES = [
    ["count", MODEL, "--time-limit", "nan"],
    ["count", MODEL, "--time-limit", "-1"],
    ["count", MODEL, "--jobs", "0"],
    ["count", MODEL, "--checkpoint", MISSING_DIR],
    ["count", MODEL, "--patterns", MISSING_DIR],
    ["count", MODEL, "--checkpoint", "ck.npz", "--patterns", "ck.npz"],
    ["count", MODEL, "--method", "nope"],
    ["count", MODEL, "--domain", "1"],
    ["count", "missing.npz"],
    ["estimate", MODEL, "--xor-size", "100"],
    ["estimate", MODEL, "--xor-size", "2,3,30"],
    ["estimate", MODEL, "--xor-size", "x"],
    ["estimate", MODEL, "--seed", "-1"],
    ["estimate", MODEL, "--seed", "abc"],
    ["estimate", MODEL, "--time-limit", "nan"],
    ["estimate", MODEL, "--confidence", "2"],
    ["upper", MODEL, "--exact-coverage-limit", "-1"],
    ["upper", MODEL, "--time-limit", "nan"],
    ["upper", "--architecture", "784"],
    ["bounds", MODEL, "--solve-time-limit", "5"],
    ["bounds", MODEL, "--time-limit", "nan", "--method", "milp"],
    ["bounds", MODEL, "--sign-only"],
    ["compress", MODEL, "-o", MISSING_DIR],
    ["compress", MODEL, "-o", "/proc/out.npz"],
    ["compress", MODEL, "-o", "."],
    ["compress", MODEL, "-o", "out.npz", "--seed", "-1"],
    ["compress", MODEL, "-o", "out.npz", "--time-limit", "nan"],
    ["train", "--seed", "-1", "-o", "net.npz"],
    ["train", "--widths", "0", "-o", "net.npz"],
    ["train", "-o", MISSING_DIR],
    ["train", "--recipe", "nope", "-o", "net.npz"],
    ["train", "--l1", "-1", "-o", "net.npz"],
    ["train", "--epochs", "0", "-o", "net.npz"],
    ["reproduce", "--out", "/proc/reluscope-out"],
    ["reproduce", "--out", "r", "--time-limit", "nan"],
    ["reproduce", "--out", "r", "--jobs", "0"],
    ["info", "missing.npz"],
    ["local", MODEL, "--radius", "0.1", "--points", "random", "--time-limit", "nan"],
    ["local", MODEL, "--radius", "0.1", "--points", "random", "--point-time-limit", "-1"],
    ["local", MODEL, "--radius", "0.1", "--points", "random", "--csv", MISSING_DIR],
    ["local", MODEL, "--radius", "0.1", "--points", "random", "--plot", "/proc/x.png"],
    ["local", MODEL, "--radius", "-1", "--points", "random"],
    ["slice", MODEL, "--points", "random", "random", "random", "--plot", MISSING_DIR],
    ["slice", MODEL, "--points", "random", "random", "random", "--seed", "-1"],
    ["line", MODEL, "--through", "random", "random", "--plot", MISSING_DIR],
    ["nosuchcommand"],
]


@pytest.mark.parametrize("argv", CLI_CASES, ids=" ".join)
def test_cli_refuses_with_one_line(argv, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run_error(capsys, argv)
    assert not any(tmp_path.iterdir()), "nothing may be written before the check"


def test_compress_refuses_to_overwrite_its_input(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    reluscope.save(NET, "g.npz")
    before = Path("g.npz").read_bytes()
    assert "is the input file" in run_error(capsys, ["compress", "g.npz", "-o", "g.npz"])
    assert "is the input file" in run_error(capsys, ["compress", "example", "-o",
                                                     str(reluscope.data.example_path())])
    assert Path("g.npz").read_bytes() == before


@pytest.mark.parametrize("content", [b"", b"garbage, not a zip file"], ids=["empty", "garbled"])
def test_unreadable_checkpoint_is_one_line(content, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("ck.npz").write_bytes(content)
    line = run_error(capsys, ["count", "example", "--checkpoint", "ck.npz"])
    assert "cannot read the checkpoint ck.npz" in line and "another --checkpoint path" in line


@pytest.mark.parametrize("argv", [
    ["estimate", MODEL, "--seed", "-1", "--json"],
    ["count", MODEL, "--method", "nope", "--json"],
    ["count", "missing.npz", "--json"],
])
def test_json_error_object(argv, capsys):
    assert main(argv) == 2
    out, err = capsys.readouterr()
    payload = json.loads(out)
    assert set(payload) == {"error", "type"} and payload["error"] in err
    assert len(err.strip().splitlines()) == 1


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"reluscope {reluscope.__version__}"


@pytest.mark.parametrize("seed", [None, 0, 2**70, [1, 2], np.random.SeedSequence(3)])
def test_seeds_numpy_accepts_are_accepted(seed):
    assert validation.check_seed(seed) is seed


def test_n_jobs_as_scikit_learn():
    cores = validation.cpu_count()
    assert validation.check_n_jobs(None) == cores
    assert validation.check_n_jobs(-1) == cores
    assert validation.check_n_jobs(10_000) == cores
    assert validation.check_n_jobs(1) == 1
    assert validation.check_n_jobs(-cores) == 1


def test_upper_defaults_agree():
    import inspect

    from reluscope.cli import build_parser

    api = inspect.signature(reluscope.upper_bounds).parameters["bounds_method"].default
    args = build_parser().parse_args(["upper", "example"])
    assert args.bounds_method == api == "lp"
