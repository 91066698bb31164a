"""Compressed networks written to .npz, .onnx and .pt and read back keep the outputs.

Oracle: the original (uncompressed) network's forward pass on 10^5 sampled inputs,
and, for ONNX, onnxruntime running the written file (independent of reluscope's reader).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from netgen import planted_network, random_network
from reluscope.compression import compress
from reluscope.io import load, save
from reluscope.network import ReLUNetwork
from reluscope.tolerances import EQUAL_RTOL


def _planted_with_active_layer() -> ReLUNetwork:
    """planted_network's first layer, then an always-active layer, then the output."""
    base = planted_network()
    rng = np.random.default_rng(11)
    w1 = np.abs(rng.normal(size=(4, 6)))
    return ReLUNetwork(
        [base.weights[0], w1, base.weights[1] @ rng.normal(size=(6, 4))],
        [base.biases[0], np.full(4, 1.5), base.biases[1]],
        relu=[True, True, False],
    )


@pytest.fixture(scope="module")
def compressed() -> tuple[ReLUNetwork, ReLUNetwork]:
    net = _planted_with_active_layer()
    result = compress(net, bounds_method="interval", verify="sample", n_samples=1000,
                      random_state=0)
    assert result.layers_after == 2 and result.units_after < result.units_before
    return net, result.network


def _max_diff(a: ReLUNetwork, outputs: np.ndarray, xs: np.ndarray) -> tuple[float, float]:
    ref = a.forward(xs)
    return float(np.abs(ref - outputs).max()), max(float(np.abs(ref).max()), 1.0)


@pytest.mark.parametrize("suffix", [".npz", ".onnx", ".pt"])
def test_round_trip_keeps_outputs(compressed, tmp_path: Path, suffix: str) -> None:
    original, small = compressed
    if suffix == ".pt":
        pytest.importorskip("torch")
    path = tmp_path / f"small{suffix}"
    save(small, path)
    back = load(path)
    assert back.widths == small.widths and back.relu == small.relu
    xs = original.sample_inputs(100_000, random_state=5)
    diff, scale = _max_diff(original, back.forward(xs), xs)
    assert diff <= EQUAL_RTOL * scale


def test_onnxruntime_runs_the_compressed_file(compressed, tmp_path: Path) -> None:
    ort = pytest.importorskip("onnxruntime")
    original, small = compressed
    path = tmp_path / "small.onnx"
    save(small, path)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    xs = original.sample_inputs(100_000, random_state=6)
    name = session.get_inputs()[0].name
    dtype = np.float32 if "float)" in session.get_inputs()[0].type else np.float64
    out = session.run(None, {name: xs.astype(dtype)})[0]
    diff, scale = _max_diff(original, np.asarray(out, dtype=np.float64), xs)
    # float32 files: compare at single precision
    tol = EQUAL_RTOL if dtype == np.float64 else 1e-5
    assert diff <= tol * scale


@pytest.mark.parametrize("seed", range(3))
def test_random_network_compressed_then_saved(seed: int, tmp_path: Path) -> None:
    net = random_network(seed, 4, (10, 8, 3), bias_scale=2.5, output_relu=False)
    result = compress(net, bounds_method="interval", verify="none", random_state=seed)
    save(result.network, tmp_path / "c.npz")
    back = load(tmp_path / "c.npz")
    xs = net.sample_inputs(100_000, random_state=seed)
    diff, scale = _max_diff(net, back.forward(xs), xs)
    assert diff <= EQUAL_RTOL * scale


def test_flatten_first_pt_compressed_to_onnx_takes_the_original_input(tmp_path: Path) -> None:
    """A ``.pt`` model whose first layer is ``nn.Flatten`` takes ``(N, 1, 4, 4)``; its
    compressed ONNX file must take that input too (name, dtype, shape), and give the
    original's outputs in onnxruntime (issue 29: it took only ``(N, 16)``, silently)."""
    torch = pytest.importorskip("torch")
    ort = pytest.importorskip("onnxruntime")
    from torch import nn

    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 3)).eval()
    with torch.no_grad():
        model[1].bias[:3] = -20.0  # three units never active on [0, 1]^16: removed
    torch.save(model, tmp_path / "model.pt")
    result = compress(load(tmp_path / "model.pt"), bounds_method="lp", verify="none")
    assert result.network.widths == (5, 3)
    save(result.network, tmp_path / "small.onnx")
    session = ort.InferenceSession(str(tmp_path / "small.onnx"),
                                   providers=["CPUExecutionProvider"])
    (inp,) = session.get_inputs()
    assert inp.name == "input" and inp.type == "tensor(float)"
    xs = np.random.default_rng(0).random((200, 1, 4, 4)).astype(np.float32)
    with torch.no_grad():
        expected = model(torch.from_numpy(xs)).numpy()
    for shape in [(200, 1, 4, 4), (200, 16), (200, 4, 4)]:  # what the original takes
        out = session.run(None, {"input": xs.reshape(shape)})[0]
        assert out.shape == (200, 3)
        np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
    back = load(tmp_path / "small.onnx")  # reluscope reads its own file back
    assert back.signature is not None and back.signature.input_shape == ()
    np.testing.assert_allclose(back.forward(xs.reshape(200, 16)), expected, rtol=1e-5,
                               atol=1e-5)
