"""The CLI on .onnx and .pt files: same answers as on the .npz of the same network.

Oracle: the library called directly on the original network (info fields, interval
bounds), and the CLI's answer on the .npz file.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from clitools import run_json
from netgen import random_network
from reluscope.bounds import interval_bounds
from reluscope.cli import main

pytest.importorskip("onnx")
pytest.importorskip("torch")


@pytest.fixture(scope="module")
def network():
    return random_network(11, 5, (6, 4, 3), output_relu=False, lower=-1.0, upper=2.0)


@pytest.mark.parametrize("suffix", [".npz", ".onnx", ".pt"])
def test_info_and_bounds_json_on_each_format(tmp_path, capsys, network, suffix):
    path = tmp_path / f"net{suffix}"
    network.save(path)
    info = run_json(capsys, ["info", str(path), "--json"])
    assert info["inputs"] == 5
    assert info["widths"] == [6, 4, 3]
    assert info["relu"] == [True, True, False]
    assert info["units"] == 10
    assert info["parameters"] == 6 * 5 + 6 + 4 * 6 + 4 + 3 * 4 + 3
    assert (info["lower"], info["upper"]) == ([-1.0] * 5, [2.0] * 5)

    payload = run_json(capsys, ["bounds", str(path), "--method", "interval", "--json"])
    expected = json.loads(json.dumps(interval_bounds(network).to_dict(network)))
    expected["status"] = "complete"  # the command's status word (issue 29)
    expected.pop("seconds", None)
    payload.pop("seconds", None)
    assert payload == expected


def test_domain_override_applies_to_onnx(tmp_path, capsys, network):
    path = tmp_path / "net.onnx"
    network.save(path)
    info = run_json(capsys, ["info", str(path), "--domain", "0,1", "--json"])
    assert (info["lower"], info["upper"]) == ([0.0] * 5, [1.0] * 5)


@pytest.mark.parametrize("name", ["bad.onnx", "bad.pt", "bad.npz"])
def test_bad_file_exits_2_with_one_line(tmp_path, capsys, name):
    path = tmp_path / name
    path.write_bytes(np.arange(50, dtype=np.uint8).tobytes())
    code = main(["info", str(path), "--json"])
    out, err = capsys.readouterr()
    assert code == 2
    assert json.loads(out)["type"] == "ModelFormatError"  # --json: the error object
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("reluscope: error: ") and name in err


def test_unsupported_onnx_exits_2_naming_the_node(tmp_path, capsys):
    from onnx import TensorProto, helper, numpy_helper, save

    graph = helper.make_graph(
        [helper.make_node("Gemm", ["input", "W"], ["g"], name="fc", transB=1),
         helper.make_node("Sigmoid", ["g"], ["output"], name="squash")],
        "g",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 2])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", 2])],
        initializer=[numpy_helper.from_array(np.eye(2, dtype=np.float32), "W")],
    )
    path = tmp_path / "sig.onnx"
    save(helper.make_model(graph), str(path))
    assert main(["bounds", str(path), "--json"]) == 2
    err = capsys.readouterr().err
    assert "node 'squash' has unsupported operator Sigmoid" in err
    assert len(err.strip().splitlines()) == 1
