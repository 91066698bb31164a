"""ONNX loader and writer.

Oracle: onnxruntime runs the very same file; our ReLUNetwork.forward must agree with it.
Round trips are compared array by array, exactly.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest

import reluscope
from netgen import random_network, random_small_network
from reluscope.errors import ModelFormatError, UnsupportedLayerError
from reluscope.io.onnx import LOWER_KEY, from_onnx_model, load_onnx, save_onnx
from reluscope.io.torch import to_torch

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

RNG = np.random.default_rng(20200207)


def run_ort(model_or_path, x: np.ndarray) -> np.ndarray:
    source = model_or_path.SerializeToString() if hasattr(model_or_path, "graph") else str(
        model_or_path
    )
    session = ort.InferenceSession(source, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return session.run(None, {name: x})[0]


def make_model(nodes, inits, in_shape, out_name="output", dtype=TensorProto.FLOAT, opset=13):
    graph = helper.make_graph(
        nodes,
        "test",
        [helper.make_tensor_value_info("input", dtype, ["batch", *in_shape])],
        [helper.make_tensor_value_info(out_name, dtype, ["batch", "out"])],
        initializer=[numpy_helper.from_array(np.asarray(v, dtype=np.float32), k)
                     if np.asarray(v).dtype.kind == "f"
                     else numpy_helper.from_array(np.asarray(v), k)
                     for k, v in inits.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              ir_version=8)
    onnx.checker.check_model(model)
    return model


def f32(*shape):
    return RNG.normal(size=shape).astype(np.float32)


# ------------------------------------------------------------------ files we write
@pytest.mark.parametrize("seed", range(5))
def test_written_onnx_round_trip_and_matches_onnxruntime(tmp_path, seed):
    net = random_small_network(seed)
    lo = net.lower - 0.5 * np.arange(net.n_inputs)
    net = net.with_domain(lo, net.upper)
    path = tmp_path / "net.onnx"
    net.save(path)
    model = onnx.load(str(path))
    onnx.checker.check_model(model)
    assert model.graph.input[0].name == "input" and model.graph.output[0].name == "output"
    assert model.graph.input[0].type.tensor_type.elem_type == TensorProto.DOUBLE
    back = reluscope.load(path)
    for a, b in zip(net.weights + net.biases, back.weights + back.biases, strict=True):
        np.testing.assert_array_equal(a, b)
    assert back.relu == net.relu
    np.testing.assert_array_equal(back.lower, net.lower)
    np.testing.assert_array_equal(back.upper, net.upper)
    x = net.sample_inputs(50, random_state=seed)
    np.testing.assert_allclose(run_ort(path, x), net.forward(x), rtol=1e-12, atol=1e-12)


def test_example_network_through_onnx_matches_onnxruntime(tmp_path):
    net = reluscope.example_network()
    path = tmp_path / "digits.onnx"
    save_onnx(net, path)
    x = net.sample_inputs(200, random_state=1)
    np.testing.assert_allclose(run_ort(path, x), load_onnx(path).forward(x), rtol=1e-12,
                               atol=1e-12)


def test_domain_defaults_to_unit_box_without_metadata(tmp_path):
    net = random_network(0, 3, (2,), lower=-4.0, upper=4.0)
    path = tmp_path / "n.onnx"
    save_onnx(net, path)
    model = onnx.load(str(path))
    del model.metadata_props[:]
    np.testing.assert_array_equal(from_onnx_model(model).lower, np.zeros(3))
    np.testing.assert_array_equal(from_onnx_model(model).upper, np.ones(3))
    explicit = from_onnx_model(model, lower=-2.0, upper=3.0)
    np.testing.assert_array_equal(explicit.upper, np.full(3, 3.0))
    helper.set_model_props(model, {LOWER_KEY: "not json"})
    with pytest.raises(ModelFormatError, match="reluscope.lower"):
        from_onnx_model(model)


# ------------------------------------------------------------- hand-built graphs
def test_hand_built_graph_with_every_accepted_operator():
    """Flatten, MatMul+Add (constant first), Gemm transB=0 with alpha/beta, Gemm then
    Gemm (composed), Constant node, Reshape, Identity, Sub, Mul, Div; vs onnxruntime."""
    shape_const = helper.make_node(
        "Constant", [], ["shape"], name="shape_const",
        value=numpy_helper.from_array(np.array([0, -1], dtype=np.int64)),
    )
    bias_const = helper.make_node(
        "Constant", [], ["c_b3"], name="bias_const",
        value=numpy_helper.from_array(f32(1, 2)),
    )
    nodes = [
        helper.make_node("Flatten", ["input"], ["flat"], name="flatten", axis=1),
        helper.make_node("MatMul", ["flat", "W0"], ["mm0"], name="matmul0"),
        helper.make_node("Add", ["b0", "mm0"], ["g0"], name="add0"),
        helper.make_node("Relu", ["g0"], ["h1"], name="relu0"),
        helper.make_node("Gemm", ["h1", "W1", "b1"], ["g1a"], name="gemm1", alpha=0.5,
                         beta=2.0, transB=0),
        helper.make_node("Gemm", ["g1a", "W2", "b2"], ["g1"], name="gemm2", transB=1),
        helper.make_node("Relu", ["g1"], ["h2"], name="relu1"),
        shape_const,
        helper.make_node("Reshape", ["h2", "shape"], ["h2r"], name="reshape"),
        helper.make_node("Identity", ["h2r"], ["h2i"], name="identity"),
        bias_const,
        helper.make_node("MatMul", ["h2i", "W3"], ["mm3"], name="matmul3"),
        helper.make_node("Add", ["mm3", "c_b3"], ["g3a"], name="add3"),
        helper.make_node("Sub", ["g3a", "s3"], ["g3b"], name="sub3"),
        helper.make_node("Mul", ["m3", "g3b"], ["g3c"], name="mul3"),
        helper.make_node("Div", ["g3c", "d3"], ["output"], name="div3"),
    ]
    inits = {
        "W0": f32(6, 5), "b0": f32(5), "W1": f32(5, 4), "b1": f32(1, 4), "W2": f32(3, 4),
        "b2": f32(3), "W3": f32(3, 2), "s3": f32(2), "m3": np.float32(-3.0),
        "d3": np.array([2.0, 4.0], dtype=np.float32),
    }
    model = make_model(nodes, inits, (2, 3))
    net = from_onnx_model(model)
    assert net.widths == (5, 3, 2) and net.relu == (True, True, False)
    x = RNG.random((40, 2, 3)).astype(np.float32)
    np.testing.assert_allclose(net.forward(x.reshape(40, -1)), run_ort(model, x),
                               rtol=1e-4, atol=1e-5)


def test_gemm_without_bias_and_relu_output_and_double_relu():
    nodes = [
        helper.make_node("Gemm", ["input", "W0"], ["g0"], name="gemm0", alpha=2.0),
        helper.make_node("Relu", ["g0"], ["h"], name="relu0"),
        helper.make_node("Relu", ["h"], ["output"], name="relu_again"),
    ]
    model = make_model(nodes, {"W0": f32(3, 2)}, (3,))
    net = from_onnx_model(model)
    assert net.widths == (2,) and net.relu == (True,)
    np.testing.assert_array_equal(net.biases[0], np.zeros(2))
    x = RNG.random((20, 3)).astype(np.float32)
    np.testing.assert_allclose(net.forward(x), run_ort(model, x), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("const_first", [False, True])
def test_preprocessing_before_flatten_and_constant_first_operands(const_first):
    """Image normalisation (x - mean) / std on (batch, 2, 3) before Flatten, then
    c - x and c * x forms; all composed into the first layer."""
    def ew(op, act, const, out):
        pair = [const, act] if const_first and op != "Div" else [act, const]
        return helper.make_node(op, pair, [out], name=f"{op.lower()}_{out}")

    nodes = [
        ew("Sub", "input", "mean", "centred"),
        ew("Div", "centred", "std", "scaled"),
        helper.make_node("Flatten", ["scaled"], ["flat"], name="flatten"),
        helper.make_node("Gemm", ["flat", "W0", "b0"], ["g0"], name="gemm0", transB=1),
        ew("Mul", "g0", "gain", "g0s"),
        helper.make_node("Relu", ["g0s"], ["h"], name="relu0"),
        helper.make_node("MatMul", ["h", "W1"], ["mm1"], name="matmul1"),
        ew("Add", "mm1", "b1", "output"),
    ]
    inits = {"mean": f32(3), "std": np.abs(f32(2, 1)) + 0.5, "W0": f32(4, 6), "b0": f32(4),
             "gain": f32(1, 4), "W1": f32(4, 2), "b1": f32(2)}
    model = make_model(nodes, inits, (2, 3))
    net = from_onnx_model(model)
    assert net.widths == (4, 2) and net.relu == (True, False)
    x = RNG.random((50, 2, 3)).astype(np.float32)
    np.testing.assert_allclose(net.forward(x.reshape(50, -1)), run_ort(model, x),
                               rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("opset", [11, 13])
def test_computations_on_constants_are_folded(opset):
    """Transpose/Cast of a weight and Unsqueeze of a bias (axes: attribute in opset 11,
    input in opset 13) left in the graph by an exporter; vs onnxruntime."""
    if opset == 11:
        unsqueeze = helper.make_node("Unsqueeze", ["b0"], ["b0u"], name="unsq", axes=[0])
    else:
        unsqueeze = helper.make_node("Unsqueeze", ["b0", "axes"], ["b0u"], name="unsq")
    nodes = [
        helper.make_node("Transpose", ["W0"], ["W0t"], name="transpose", perm=[1, 0]),
        helper.make_node("Cast", ["W0t"], ["W0c"], name="cast", to=TensorProto.FLOAT),
        unsqueeze,
        helper.make_node("MatMul", ["input", "W0c"], ["mm"], name="matmul"),
        helper.make_node("Add", ["mm", "b0u"], ["g"], name="add"),
        helper.make_node("Relu", ["g"], ["output"], name="relu"),
    ]
    inits = {"W0": f32(4, 3), "b0": f32(4), "axes": np.array([0], dtype=np.int64)}
    model = make_model(nodes, inits, (3,), opset=opset)
    net = from_onnx_model(model)
    assert net.widths == (4,) and net.relu == (True,)
    x = RNG.random((30, 3)).astype(np.float32)
    np.testing.assert_allclose(net.forward(x), run_ort(model, x), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("initializers_as_inputs", [False, True])
def test_torch_exported_onnx_matches_onnxruntime(tmp_path, initializers_as_inputs):
    torch = pytest.importorskip("torch")
    from torch import nn

    torch.manual_seed(0)
    module = nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 6),
                           nn.ReLU(), nn.Linear(6, 3)).eval()
    path = tmp_path / "exported.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            torch.onnx.export(module, (torch.rand(1, 1, 4, 4),), str(path), dynamo=False,
                              input_names=["x"], output_names=["y"],
                              dynamic_axes={"x": {0: "batch"}},
                              keep_initializers_as_inputs=initializers_as_inputs)
        except Exception as exc:  # pragma: no cover - exporter unavailable offline
            pytest.skip(f"torch.onnx.export unavailable: {exc}")
    net = reluscope.load(path)
    assert net.n_inputs == 16 and net.widths == (8, 6, 3) and net.relu == (True, True, False)
    x = RNG.random((30, 1, 4, 4)).astype(np.float32)
    np.testing.assert_allclose(net.forward(x.reshape(30, -1)), run_ort(path, x), rtol=1e-5,
                               atol=1e-6)
    with torch.no_grad():
        expected = module(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(net.forward(x.reshape(30, -1)), expected, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------- errors
def chain_with(op_node, extra_inits=None):
    nodes = [
        helper.make_node("Gemm", ["input", "W0", "b0"], ["g0"], name="gemm0", transB=1),
        helper.make_node("Relu", ["g0"], ["h"], name="relu0"),
        op_node,
    ]
    inits = {"W0": f32(4, 4), "b0": f32(4), **(extra_inits or {})}
    return make_model(nodes, inits, (4,))


@pytest.mark.parametrize(
    ("op", "attrs"),
    [("Sigmoid", {}), ("Tanh", {}), ("Elu", {})],
)
def test_unsupported_operator_names_node_and_type(op, attrs):
    node = helper.make_node(op, ["h"], ["output"], name=f"bad_{op.lower()}", **attrs)
    model = chain_with(node)
    with pytest.raises(UnsupportedLayerError) as info:
        from_onnx_model(model)
    message = str(info.value)
    assert f"node 'bad_{op.lower()}' has unsupported operator {op};" in message
    assert "Gemm/MatMul+Add, Relu, LeakyRelu, PRelu, Flatten/Reshape, Identity" in message


def test_conv_on_a_vector_is_a_one_line_error():
    node = helper.make_node("Conv", ["h", "Wc"], ["output"], name="conv")
    with pytest.raises(UnsupportedLayerError, match="'conv' \\(Conv\\) cannot be applied"):
        from_onnx_model(chain_with(node, {"Wc": f32(1, 1, 1)}))


@pytest.mark.parametrize("op", ["Softmax", "LogSoftmax"])
def test_final_softmax_is_kept_aside_and_written_back(op, tmp_path):
    """The network holds the logits; the written model ends with the same softmax."""
    ort = pytest.importorskip("onnxruntime")
    gemm = helper.make_node("Gemm", ["h", "W1", "b1"], ["logits"], name="gemm1", transB=1)
    soft = helper.make_node(op, ["logits"], ["output"], name="probs", axis=1)
    nodes = [
        helper.make_node("Gemm", ["input", "W0", "b0"], ["g0"], name="gemm0", transB=1),
        helper.make_node("Relu", ["g0"], ["h"], name="relu0"), gemm, soft,
    ]
    model = make_model(nodes, {"W0": f32(4, 4), "b0": f32(4), "W1": f32(3, 4), "b1": f32(3)},
                       (4,))
    net = from_onnx_model(model)
    assert net.signature.output_op == op and net.widths == (4, 3)
    x = np.random.default_rng(0).random((20, 4)).astype(np.float32)
    expected = ort.InferenceSession(model.SerializeToString()).run(None, {"input": x})[0]
    logits = net.forward(x.astype(float))
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    assert np.allclose(log_p if op == "LogSoftmax" else np.exp(log_p), expected, atol=1e-6)
    path = tmp_path / "soft.onnx"
    net.save(path)
    written = ort.InferenceSession(str(path)).run(None, {"input": x})[0]
    assert np.allclose(written, expected, atol=1e-6)


def test_softmax_must_be_last():
    nodes = [
        helper.make_node("Gemm", ["input", "W0", "b0"], ["g0"], name="gemm0", transB=1),
        helper.make_node("Softmax", ["g0"], ["s"], name="probs", axis=1),
        helper.make_node("Relu", ["s"], ["output"], name="relu0"),
    ]
    model = make_model(nodes, {"W0": f32(4, 4), "b0": f32(4)}, (4,))
    with pytest.raises(UnsupportedLayerError, match="follows the Softmax"):
        from_onnx_model(model)


def test_torch_float64_export_keeps_weights_exactly(tmp_path):
    """reluscope -> torch (float64) -> torch.onnx.export -> reluscope is the identity."""
    torch = pytest.importorskip("torch")
    net = reluscope.example_network()
    path = tmp_path / "digits_from_torch.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(to_torch(net), (torch.rand(1, 64, dtype=torch.float64),), str(path),
                          dynamo=False, input_names=["input"],
                          dynamic_axes={"input": {0: "batch"}})
    back = load_onnx(path)
    assert back.relu == net.relu
    for a, b in zip(net.weights + net.biases, back.weights + back.biases, strict=True):
        np.testing.assert_array_equal(a, b)
    x = net.sample_inputs(100, random_state=5)
    np.testing.assert_allclose(run_ort(path, x), back.forward(x), rtol=1e-12, atol=1e-12)


def test_add_of_two_activations_is_a_skip_connection():
    nodes = [
        helper.make_node("Gemm", ["input", "W0", "b0"], ["g0"], name="gemm0", transB=1),
        helper.make_node("Relu", ["g0"], ["h"], name="relu0"),
        helper.make_node("Gemm", ["h", "W1", "b1"], ["g1"], name="gemm1", transB=1),
        helper.make_node("Add", ["h", "g1"], ["output"], name="residual"),
    ]
    model = make_model(nodes, {"W0": f32(4, 4), "b0": f32(4), "W1": f32(4, 4), "b1": f32(4)},
                       (4,))
    net = from_onnx_model(model)  # h + W1 h + b1: h carried by identity units
    x = np.random.default_rng(0).random((50, 4))
    np.testing.assert_allclose(net.forward(x), run_ort(model, x.astype(np.float32)), rtol=1e-5,
                               atol=1e-5)
    assert net.unit_kinds() == {"relu": 4, "leaky": 0, "identity": 0}


def test_transa_is_rejected():
    node = helper.make_node("Gemm", ["h", "W1"], ["output"], name="gemm_t", transA=1)
    with pytest.raises(UnsupportedLayerError, match="'gemm_t' .*transA=1"):
        from_onnx_model(chain_with(node, {"W1": f32(4, 2)}))


def test_reshape_to_more_than_a_vector_is_rejected():
    nodes = [
        helper.make_node("Shape", ["input"], ["s"], name="shape_of_input"),
        helper.make_node("Gather", ["s", "index0"], ["batch"], name="gather", axis=0),
        helper.make_node("Unsqueeze", ["batch", "zero"], ["b1"], name="unsqueeze"),
        helper.make_node("Concat", ["b1", "two_two"], ["target"], name="concat", axis=0),
        helper.make_node("Reshape", ["input", "target"], ["r"], name="reshape_3d"),
        helper.make_node("Gemm", ["r", "W0"], ["output"], name="gemm0", transB=1),
    ]
    inits = {"W0": f32(2, 4), "zero": np.array([0], dtype=np.int64),
             "index0": np.array(0, dtype=np.int64),
             "two_two": np.array([2, 2], dtype=np.int64)}
    model = make_model(nodes, inits, (4,))
    with pytest.raises(UnsupportedLayerError,
                       match=r"'gemm0' \(Gemm\) acts on a tensor of shape \(batch, 2, 2\)"):
        from_onnx_model(model)


def test_torch_view_of_batch_size_in_custom_module(tmp_path):
    """x.view(x.size(0), -1) exports as Shape -> Gather -> Unsqueeze -> Concat -> Reshape."""
    torch = pytest.importorskip("torch")

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2 = torch.nn.Linear(16, 8), torch.nn.Linear(8, 3)

        def forward(self, x):
            x = x.view(x.size(0), -1)
            return self.fc2(torch.relu(self.fc1(x)))

    torch.manual_seed(3)
    path = tmp_path / "custom.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(Net(), (torch.rand(2, 1, 4, 4),), str(path), dynamo=False,
                          input_names=["x"], dynamic_axes={"x": {0: "batch"}})
    assert "Shape" in [n.op_type for n in onnx.load(str(path)).graph.node]
    net = reluscope.load(path)
    assert net.widths == (8, 3) and net.relu == (True, False)
    x = RNG.random((25, 1, 4, 4)).astype(np.float32)
    np.testing.assert_allclose(net.forward(x.reshape(25, -1)), run_ort(path, x), rtol=1e-5,
                               atol=1e-6)


def test_two_inputs_and_dynamic_features_are_format_errors():
    model = make_model([helper.make_node("Gemm", ["input", "W0"], ["output"], name="g")],
                       {"W0": f32(2, 3)}, (3,))
    model.graph.input.append(helper.make_tensor_value_info("other", TensorProto.FLOAT, [1, 3]))
    with pytest.raises(ModelFormatError, match="exactly one input"):
        from_onnx_model(model)
    dynamic = make_model([helper.make_node("Gemm", ["input", "W0"], ["output"], name="g")],
                         {"W0": f32(2, 3)}, ("n",))
    with pytest.raises(ModelFormatError, match="unknown size"):
        from_onnx_model(dynamic)


def test_file_that_is_not_onnx_is_a_format_error(tmp_path):
    text = tmp_path / "text.onnx"
    text.write_text("definitely not a protobuf\n")
    with pytest.raises(ModelFormatError, match="text.onnx"):
        reluscope.load(text)
    npz = tmp_path / "weights.onnx"
    buffer = io.BytesIO()
    np.savez(buffer, W0=np.ones((2, 2)))
    npz.write_bytes(buffer.getvalue())
    with pytest.raises(ModelFormatError, match="weights.onnx"):
        reluscope.load(npz)
