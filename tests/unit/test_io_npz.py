"""NPZ format and the extension dispatch of reluscope.load / ReLUNetwork.save.

Oracle: the arrays written (compared exactly after a round trip) and hand-written files.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import reluscope
from netgen import random_network, random_small_network
from reluscope.errors import ModelFormatError, NetworkError
from reluscope.io.npz import load_npz, save_npz


def assert_same_network(a: reluscope.ReLUNetwork, b: reluscope.ReLUNetwork) -> None:
    assert a.n_layers == b.n_layers
    for wa, wb, ba, bb in zip(a.weights, b.weights, a.biases, b.biases, strict=True):
        np.testing.assert_array_equal(wa, wb)
        np.testing.assert_array_equal(ba, bb)
    assert a.relu == b.relu
    np.testing.assert_array_equal(a.lower, b.lower)
    np.testing.assert_array_equal(a.upper, b.upper)


@pytest.mark.parametrize("seed", range(6))
def test_npz_round_trip_is_exact(tmp_path, seed):
    net = random_small_network(seed)
    # a non-uniform box, so a domain that is broadcast from a scalar would be caught
    lo = net.lower - np.arange(net.n_inputs) * 0.25
    net = net.with_domain(lo, net.upper)
    path = tmp_path / "net.npz"
    save_npz(net, path)
    assert_same_network(load_npz(path), net)


def test_save_and_load_dispatch_on_extension(tmp_path):
    net = random_network(3, 4, (3, 2), output_relu=False, lower=-1.0, upper=2.0)
    path = tmp_path / "model.NPZ"  # the extension is matched case-insensitively
    net.save(path)
    with np.load(path) as data:  # written in the NPZ layout, read back by numpy itself
        np.testing.assert_array_equal(data["W1"], net.weights[1])
        assert list(data["relu"]) == [True, False]
    assert_same_network(reluscope.load(path), net)


def test_hand_written_npz_uses_default_domain_and_relu(tmp_path):
    path = tmp_path / "hand.npz"
    w0, b0 = np.array([[1.0, -1.0]]), np.array([0.5])
    np.savez(path, W0=w0, b0=b0)
    net = load_npz(path)
    assert net.relu == (True,)
    np.testing.assert_array_equal(net.lower, [0.0, 0.0])
    np.testing.assert_array_equal(net.upper, [1.0, 1.0])
    np.testing.assert_allclose(net.forward([[1.0, 0.0], [0.0, 1.0]]), [[1.5], [0.0]])


def test_npz_missing_bias_is_an_error(tmp_path):
    path = tmp_path / "nob1.npz"
    np.savez(path, W0=np.ones((2, 3)), b0=np.zeros(2), W1=np.ones((1, 2)))
    with pytest.raises(ModelFormatError, match=r"missing bias arrays \['b1'\]"):
        reluscope.load(path)


def test_npz_without_weights_is_an_error(tmp_path):
    path = tmp_path / "empty.npz"
    np.savez(path, something=np.ones(3))
    with pytest.raises(ModelFormatError, match="no arrays W0"):
        reluscope.load(path)


def test_npz_not_a_zip_is_an_error(tmp_path):
    path = tmp_path / "text.npz"
    path.write_text("this is not a zip archive\n")
    expected = "not a NumPy .npz file.*not an archive of NumPy arrays"
    with pytest.raises(ModelFormatError, match=expected):
        reluscope.load(path)


def test_npz_with_mismatched_shapes_is_a_network_error(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, W0=np.ones((2, 3)), b0=np.zeros(2), W1=np.ones((1, 4)), b1=np.zeros(1))
    with pytest.raises(NetworkError, match="layer 1 expects 4 inputs"):
        reluscope.load(path)


def test_unknown_extension_and_missing_file(tmp_path):
    with pytest.raises(ModelFormatError, match="unknown model format '.h5'"):
        reluscope.load(tmp_path / "model.h5")
    with pytest.raises(ModelFormatError, match="no such file"):
        reluscope.load(tmp_path / "absent.onnx")
    net = random_small_network(0)
    with pytest.raises(ModelFormatError, match="unknown model format"):
        net.save(tmp_path / "model.txt")


def test_importing_reluscope_io_does_not_import_frameworks():
    code = (
        "import sys, reluscope, reluscope.io, reluscope.io.onnx, reluscope.io.torch\n"
        "reluscope.load; reluscope.example_network\n"
        "print(sorted(m for m in ('torch', 'onnx', 'onnxruntime') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_pt_without_torch_installed_says_how_to_install(tmp_path, monkeypatch):
    path = tmp_path / "net.pt"
    path.write_bytes(b"whatever")
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` fail
    with pytest.raises(ModelFormatError, match=r"pip install 'reluscope\[torch\]'"):
        reluscope.load(path)
    with pytest.raises(ModelFormatError, match="needs PyTorch"):
        random_small_network(1).save(tmp_path / "out.pt")
