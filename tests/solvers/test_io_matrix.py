"""The model-kind x save-format x exporter matrix: every case is a real PyTorch model
saved or exported in the test; each loads and matches torch's forward, or fails with a
one-line error naming the fix. Compressed models are drop-in replacements."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
nn = torch.nn

import reluscope  # noqa: E402
from reluscope.errors import ModelFormatError, ReluscopeError, UnsupportedLayerError  # noqa: E402
from reluscope.io import load, save  # noqa: E402


class Custom(nn.Module):
    """A custom forward: the class is importable (it lives in this test module)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(16, 6)
        self.fc2 = nn.Linear(6, 3)

    def forward(self, x):
        x = x.view(x.size(0), -1)
        return self.fc2(torch.relu(self.fc1(x)))


def _bn(n: int, dims: int = 1):
    layer = nn.BatchNorm1d(n) if dims == 1 else nn.BatchNorm2d(n)
    with torch.no_grad():
        layer.running_mean.uniform_(-0.5, 0.5)
        layer.running_var.uniform_(0.5, 2.0)
        layer.weight.uniform_(0.5, 1.5)
        layer.bias.uniform_(-0.5, 0.5)
    return layer


def make(kind: str):
    """``(model, input_shape)`` of each kind, in eval mode, float32."""
    torch.manual_seed(0)
    if kind == "mlp":
        model, shape = nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.ReLU(),
                                     nn.Dropout(0.2), nn.Linear(8, 3)), (1, 4, 4)
    elif kind == "bn_after":
        model, shape = nn.Sequential(nn.Linear(5, 6), _bn(6), nn.ReLU(), nn.Linear(6, 2)), (5,)
    elif kind == "bn_before":
        model, shape = nn.Sequential(_bn(5), nn.Linear(5, 6), nn.ReLU(), _bn(6),
                                     nn.Linear(6, 2)), (5,)
    elif kind == "conv":
        model, shape = nn.Sequential(
            nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2), nn.Flatten(),
            nn.Linear(8, 3)), (1, 4, 4)
    elif kind == "conv_options":
        model, shape = nn.Sequential(
            nn.Conv2d(2, 3, 3, stride=2, padding=2, dilation=2), _bn(3, 2), nn.ReLU(),
            nn.AvgPool2d(2, stride=1, padding=1, count_include_pad=False), nn.Flatten(),
            nn.Linear(3 * 4 * 4, 4), nn.ReLU(), nn.Linear(4, 2)), (2, 6, 6)
    elif kind == "custom":
        model, shape = Custom(), (1, 4, 4)
    elif kind == "maxpool":
        model, shape = nn.Sequential(nn.Conv2d(1, 2, 3), nn.MaxPool2d(2), nn.Flatten(),
                                     nn.Linear(2, 2)), (1, 4, 4)
    else:
        raise AssertionError(kind)
    return model.eval(), shape


def export(model, shape, fmt: str, tmp_path):
    """Save or export ``model`` as a user would; returns what reluscope.load takes."""
    example = torch.rand(2, *shape)
    if fmt == "module":
        return model
    if fmt == "pt":
        path = tmp_path / "model.pt"
        torch.save(model, path)
    elif fmt == "script":
        path = tmp_path / "model.pt"
        torch.jit.save(torch.jit.script(model), str(path))
    elif fmt == "trace":
        path = tmp_path / "model.pt"
        torch.jit.save(torch.jit.trace(model, example), str(path))
    else:
        path = tmp_path / "model.onnx"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(model, (example,), str(path), input_names=["x"],
                              output_names=["logits"], dynamo=(fmt == "onnx-dynamo"),
                              dynamic_axes=None if fmt == "onnx-dynamo"
                              else {"x": {0: "batch"}, "logits": {0: "batch"}},
                              dynamic_shapes=({0: torch.export.Dim("batch")},)
                              if fmt == "onnx-dynamo" else None)
    return path


KINDS = ["mlp", "bn_after", "bn_before", "conv", "conv_options", "custom"]
FORMATS = ["module", "pt", "script", "trace", "onnx-ts", "onnx-dynamo"]
#: cases that fail by design, with the words their one-line error must contain
EXPECTED_ERRORS: dict[tuple[str, str], str] = {}
#: TorchScript modules with a custom forward are read from their graph (exported to
#: ONNX in memory) and take vectors of the first Linear layer's size
GRAPH_READ = {("custom", "script"), ("custom", "trace")}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", KINDS)
def test_matrix_loads_and_matches_torch(kind, fmt, tmp_path):
    model, shape = make(kind)
    source = export(model, shape, fmt, tmp_path)
    if (kind, fmt) in EXPECTED_ERRORS:
        with pytest.raises(ReluscopeError) as info:
            load(source)
        assert EXPECTED_ERRORS[kind, fmt] in str(info.value)
        assert "\n" not in str(info.value)
        return
    kwargs = {}
    if kind in ("conv", "conv_options") and not fmt.startswith("onnx"):
        # PyTorch files do not record the input shape, and with pooling or strides
        # several square images fit the first Linear layer: the user passes it
        with pytest.raises(UnsupportedLayerError, match="input_shape="):
            load(source)
        kwargs = {"input_shape": shape}
    net = load(source, **kwargs)
    x = torch.rand(64, *shape)  # the default domain [0, 1]^n0
    with torch.no_grad():
        want32 = model(x).numpy()
        want64 = _double(model)(x.double()).numpy()
    got = net.forward(x.reshape(64, -1).double().numpy())
    if not fmt.startswith("onnx"):  # exporters may fold BatchNorm in float32
        np.testing.assert_allclose(got, want64, atol=1e-9, rtol=0)
    np.testing.assert_allclose(got, want32, atol=1e-6, rtol=0)
    # a leading Flatten in PyTorch takes any shape: the signature leaves it open
    open_shape = kind in ("mlp", "custom") and not fmt.startswith("onnx")
    if (kind, fmt) in GRAPH_READ:
        assert net.signature.input_shape == (net.n_inputs,)
    else:
        assert net.signature.input_shape == (() if open_shape else shape)
    assert net.signature.dtype == "float32"


def _double(model):
    import copy

    return copy.deepcopy(model).double().eval()


def test_maxpool_is_lowered_and_counted_with_argmax_windows(tmp_path):
    model, shape = make("maxpool")
    x = torch.rand(32, *shape)
    with torch.no_grad():
        want = model(x).numpy()
    counts = []
    for fmt in ("module", "onnx-ts"):
        kwargs = {"input_shape": shape} if fmt == "module" else {}
        net = load(export(model, shape, fmt, tmp_path), **kwargs)
        assert net.has_max_pool and len(net.pool_windows) == 2
        np.testing.assert_allclose(net.forward(x.reshape(32, -1).double().numpy()), want,
                                   atol=1e-6, rtol=0)
        counts.append(reluscope.count_regions(net).regions)
        with pytest.raises(ReluscopeError, match="a pooling window is one unit with one "
                           "side per input") as info:
            reluscope.upper_bounds(net)
        assert "\n" not in str(info.value)
    # two windows of 4 (oracle: tests/solvers/test_maxpool_count.py, CLI case)
    assert counts[0] == counts[1] and 2 <= counts[0] <= 16


@pytest.mark.parametrize("fmt", FORMATS)
def test_maxpool_model_counts_bounds_and_compresses_from_every_format(fmt, tmp_path):
    """The max-pool model of the matrix from each format: the argmax search and the
    maxout MILP agree (tests/solvers/test_maxpool_count.py checks both against a
    brute-force oracle), bounds hold the pre-activations, and the compressed ONNX runs in
    onnxruntime with the same outputs."""
    ort = pytest.importorskip("onnxruntime")
    model, shape = make("maxpool")
    kwargs = {} if fmt.startswith("onnx") else {"input_shape": shape}
    net = load(export(model, shape, fmt, tmp_path), **kwargs)
    assert net.has_max_pool and len(net.pool_windows) == 2
    search = reluscope.count_regions(net, n_jobs=1)
    assert search.exact and search.regions == reluscope.count_regions(net, method="milp").regions
    x = torch.rand(64, *shape)
    flat = x.reshape(64, -1).double().numpy()
    bounds = reluscope.tighten_bounds(net, method="lp")
    assert all(np.all(p >= lo - 1e-9) and np.all(p <= hi + 1e-9) for p, lo, hi
               in zip(net.preactivations(flat), bounds.lower, bounds.upper, strict=True))
    path = tmp_path / "small.onnx"
    reluscope.compress(net, verify="sample", n_samples=500).network.save(path)
    session = ort.InferenceSession(str(path))
    got = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]  # (N, 1, 4, 4)
    with torch.no_grad():
        np.testing.assert_allclose(got, model(x).numpy(), atol=1e-5, rtol=0)


def test_first_conv_input_shape_is_inferred_or_asked_for():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 5 * 5, 2))
    assert reluscope.from_torch(model).signature.input_shape == (1, 7, 7)
    assert reluscope.from_torch(model, input_shape=(1, 7, 7)).n_inputs == 49
    with pytest.raises(UnsupportedLayerError, match="input_shape="):
        reluscope.from_torch(nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU()))


def test_huge_lowered_layer_is_a_clear_error():
    model = nn.Sequential(nn.Conv2d(3, 64, 3, padding=1), nn.ReLU())
    with pytest.raises(UnsupportedLayerError, match="downsample the input"):
        reluscope.from_torch(model, input_shape=(3, 64, 64))


def test_unimportable_class_names_the_fix(tmp_path):
    path = tmp_path / "custom.pt"
    script = (
        "import torch\n"
        "class Custom(torch.nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__(); self.fc = torch.nn.Linear(3, 2)\n"
        "    def forward(self, x):\n"
        "        return torch.relu(self.fc(x))\n"
        f"torch.save(Custom(), {str(path)!r})\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True)
    with pytest.raises(ModelFormatError) as info:
        load(path)
    message = str(info.value)
    assert "'Custom' from module" in message
    assert "torch.onnx.export" in message and "import or define the class" in message


def test_state_dict_gets_advice(tmp_path):
    path = tmp_path / "weights.pt"
    torch.save(make("mlp")[0].state_dict(), path)
    with pytest.raises(ModelFormatError, match="load_state_dict it and call "
                       r"reluscope.from_torch\(model\), or export it to ONNX"):
        load(path)


def test_load_takes_in_memory_models():
    model, shape = make("mlp")
    assert reluscope.load(model).n_inputs == 16
    proto = onnx.helper.make_model(onnx.helper.make_graph(
        [onnx.helper.make_node("Gemm", ["x", "W", "b"], ["y"], transB=1)], "g",
        [onnx.helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, ["n", 2])],
        [onnx.helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, ["n", 1])],
        initializer=[onnx.numpy_helper.from_array(np.ones((1, 2), np.float32), "W"),
                     onnx.numpy_helper.from_array(np.zeros(1, np.float32), "b")]))
    assert reluscope.from_onnx(proto).widths == (1,)
    assert reluscope.load(proto).signature.input_name == "x"
    net = reluscope.load(([np.eye(2), np.ones((1, 2))], [np.zeros(2), np.zeros(1)]))
    assert net.relu == (True, False)
    with pytest.raises(ModelFormatError, match="cannot read a int"):
        reluscope.load(3)


@pytest.mark.parametrize("kind", ["mlp", "conv"])
def test_compressed_onnx_is_a_drop_in_replacement(kind, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    model, shape = make(kind)
    path = export(model, shape, "onnx-ts", tmp_path)
    net = load(path)
    small = reluscope.compress(net, verify="none").network
    out = tmp_path / "small.onnx"
    save(small, out)
    x = np.random.default_rng(1).random((32, *shape), dtype=np.float32)
    want = ort.InferenceSession(str(path)).run(None, {"x": x})[0]
    session = ort.InferenceSession(str(out))
    (inp,), (outp,) = session.get_inputs(), session.get_outputs()
    assert (inp.name, inp.type, outp.name) == ("x", "tensor(float)", "logits")
    assert inp.shape[1:] == list(shape)
    got = session.run(None, {"x": x})[0]
    np.testing.assert_allclose(got, want, atol=1e-5, rtol=1e-5)
    # and the compressed .pt takes the same float32 input
    pt = tmp_path / "small.pt"
    save(small, pt)
    module = torch.load(pt, weights_only=False)
    with torch.no_grad():
        np.testing.assert_allclose(module(torch.from_numpy(x)).numpy(), want,
                                   atol=1e-5, rtol=1e-5)
    assert load(out).signature == net.signature


def test_cli_compress_output_takes_the_original_input(tmp_path, capsys):
    ort = pytest.importorskip("onnxruntime")
    from reluscope.cli import main

    model, shape = make("conv")
    path = export(model, shape, "onnx-ts", tmp_path)
    out = tmp_path / "small.onnx"
    assert main(["compress", str(path), "-o", str(out), "--json"]) == 0
    capsys.readouterr()
    x = np.random.default_rng(2).random((8, *shape), dtype=np.float32)
    want = ort.InferenceSession(str(path)).run(None, {"x": x})[0]
    got = ort.InferenceSession(str(out)).run(["logits"], {"x": x})[0]
    np.testing.assert_allclose(got, want, atol=1e-5, rtol=1e-5)


def test_large_lowered_layer_warns():
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU())
    with pytest.warns(UserWarning, match="dense 6272 x 784 layer"):
        net = reluscope.from_torch(model, input_shape=(1, 28, 28))
    assert net.n_units == 6272


def test_npz_keeps_the_signature(tmp_path):
    model, shape = make("conv")
    net = load(export(model, shape, "onnx-ts", tmp_path))
    save(net, tmp_path / "net.npz")
    back = load(tmp_path / "net.npz")
    assert back.signature == net.signature
    assert back.signature.input_shape == (1, 4, 4)


def test_cli_input_shape_for_a_conv_pt(tmp_path, capsys):
    from clitools import run_error, run_json

    model, shape = make("conv")
    path = export(model, shape, "pt", tmp_path)
    line = run_error(capsys, ["info", str(path)])
    assert "--input-shape C,H,W" in line
    info = run_json(capsys, ["info", str(path), "--input-shape", "1,4,4", "--json"])
    assert info["inputs"] == 16
    assert "expects integers" in run_error(capsys, ["info", str(path), "--input-shape", "a"])


class ShapeView(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3)
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        return self.fc(nn.functional.relu(self.conv(x)).reshape(x.shape[0], -1))


class Residual(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 3)

    def forward(self, x):
        return x + self.fc(x)


def test_fx_reads_shape_views_and_residuals_as_graphs():
    model = ShapeView().eval()
    net = reluscope.from_torch(model, input_shape=(1, 4, 4))
    x = torch.rand(8, 1, 4, 4)
    with torch.no_grad():
        want = _double(model)(x.double()).numpy()
    np.testing.assert_allclose(net.forward(x.reshape(8, -1).double().numpy()), want,
                               atol=1e-9, rtol=0)
    residual = Residual().eval()  # x + fc(x): read from its graph, the skip exactly
    net = reluscope.from_torch(residual)
    x = torch.rand(16, 3)
    with torch.no_grad():
        np.testing.assert_allclose(net.forward(x.double().numpy()), residual(x).numpy(),
                                   atol=1e-6, rtol=0)
