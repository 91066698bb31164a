"""``reluscope bounds`` end to end on the bundled example network.

Oracles: the library's interval arithmetic (an exact match for ``--method interval``),
pre-activations of sampled inputs (every reported bound must contain them, every unit
reported stable must keep its sign), and the order milp within lp within interval.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from clitools import run_error, run_json
from reluscope.bounds import interval_bounds
from reluscope.cli import main
from reluscope.data import example_network, example_path

LAYER_KEYS = {"layer", "lower", "upper", "stably_active", "stably_inactive", "unstable"}


@pytest.fixture(scope="module")
def payloads():
    """One run of each method, through main() (capturing stdout by hand)."""
    import contextlib
    import io

    out = {}
    for method in ("interval", "lp", "milp"):
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            assert main(["bounds", example_path(), "--method", method, "--json"]) == 0
        out[method] = json.loads(buffer.getvalue())
    return out


def test_json_layout(payloads):
    net = example_network()
    for method, payload in payloads.items():
        assert set(payload) == {"method", "layers", "seconds", "status"}
        assert payload["status"] == "complete"
        assert payload["method"] == method
        assert payload["seconds"] >= 0
        assert [layer["layer"] for layer in payload["layers"]] == list(net.relu_layers)
        for layer in payload["layers"]:
            assert set(layer) == LAYER_KEYS
            width = net.widths[layer["layer"]]
            assert len(layer["lower"]) == len(layer["upper"]) == width
            classes = layer["stably_active"] + layer["stably_inactive"] + layer["unstable"]
            assert sorted(classes) == list(range(width))
            lower, upper = np.array(layer["lower"]), np.array(layer["upper"])
            assert np.flatnonzero(lower > 0).tolist() == layer["stably_active"]
            assert np.flatnonzero(upper <= 0).tolist() == layer["stably_inactive"]


def test_interval_matches_library(payloads):
    net = example_network()
    expected = interval_bounds(net)
    for layer in payloads["interval"]["layers"]:
        np.testing.assert_array_equal(layer["lower"], expected.lower[layer["layer"]])
        np.testing.assert_array_equal(layer["upper"], expected.upper[layer["layer"]])


def test_bounds_contain_samples_and_nest(payloads):
    net = example_network()
    pre = net.preactivations(net.sample_inputs(20_000, random_state=5))
    for payload in payloads.values():
        for layer in payload["layers"]:
            g = pre[layer["layer"]]
            assert np.all(g >= np.array(layer["lower"]))
            assert np.all(g <= np.array(layer["upper"]))
            assert np.all(g[:, layer["stably_active"]] > 0)
            assert np.all(g[:, layer["stably_inactive"]] <= 0)
    for tight, loose in (("milp", "lp"), ("lp", "interval")):
        for a, b in zip(payloads[tight]["layers"], payloads[loose]["layers"], strict=True):
            assert np.all(np.array(a["lower"]) >= np.array(b["lower"]))
            assert np.all(np.array(a["upper"]) <= np.array(b["upper"]))
    # the stronger methods are strictly tighter somewhere on this network
    widths = [np.subtract(L["upper"], L["lower"]).sum() for L in payloads["lp"]["layers"]]
    assert sum(widths) < sum(
        np.subtract(L["upper"], L["lower"]).sum() for L in payloads["interval"]["layers"]
    )


def test_domain_override(capsys):
    payload = run_json(capsys, ["bounds", example_path(), "--method", "interval",
                                "--domain=-1,2", "--json"])
    expected = interval_bounds(example_network().with_domain(-1.0, 2.0))
    first = payload["layers"][0]
    np.testing.assert_array_equal(first["lower"], expected.lower[0])
    np.testing.assert_array_equal(first["upper"], expected.upper[0])
    default = interval_bounds(example_network())
    assert not np.allclose(first["upper"], default.upper[0])


@pytest.mark.parametrize("flag", ["--time-limit", "--solve-time-limit"])
def test_milp_with_time_limit_is_valid(capsys, flag):
    payload = run_json(capsys, ["bounds", example_path(), "--method", "milp",
                                flag, "0.01", "--domain", "0,0.5", "--json"])
    net = example_network().with_domain(0.0, 0.5)
    pre = net.preactivations(net.sample_inputs(20_000, random_state=9))
    for layer in payload["layers"]:
        g = pre[layer["layer"]]
        assert np.all(g >= np.array(layer["lower"]))
        assert np.all(g <= np.array(layer["upper"]))


def test_missing_file(capsys, tmp_path):
    line = run_error(capsys, ["bounds", str(tmp_path / "nope.npz"), "--json"])
    assert "nope.npz" in line


@pytest.mark.parametrize("domain", ["abc", "1,0", "0,inf"])
def test_bad_domain(capsys, domain):
    run_error(capsys, ["bounds", example_path(), f"--domain={domain}", "--json"])


def test_nan_weights(capsys, tmp_path):
    path = tmp_path / "nan.npz"
    w = np.ones((2, 3))
    w[0, 1] = np.nan
    np.savez(path, W0=w, b0=np.zeros(2))
    line = run_error(capsys, ["bounds", str(path), "--method", "lp"])
    assert "NaN" in line


def test_subprocess_error_has_no_traceback(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "reluscope", "bounds", str(tmp_path / "missing.npz"), "--json"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    assert json.loads(proc.stdout)["type"] == "ModelFormatError"  # --json: the error object
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr


def test_negative_domain_may_follow_a_space(capsys):
    assert main(["bounds", "example", "--method", "interval", "--domain", "-1,1", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    expected = interval_bounds(example_network().with_domain(-1.0, 1.0))
    assert payload["layers"][0]["lower"] == [float(v) for v in expected.lower[0]]


@pytest.mark.parametrize(
    "argv",
    [
        ["bounds", "example", "--method", "milp", "--time-limit", "-1"],
        ["count", "example", "--patterns", "/nonexistent-folder/p.npy"],
        ["count", "example", "--checkpoint", "/nonexistent-folder/c.ckpt"],
        ["estimate", "example", "--time-limit", "-1"],
    ],
)
def test_bad_limits_and_paths_are_one_line_errors(argv, capsys):
    run_error(capsys, argv)
