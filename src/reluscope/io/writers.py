"""Writers: a network to ``.npz``, ``.onnx`` or ``.pt``/``.pth`` (:func:`save` picks by
the extension).

They live apart from the readers so that :meth:`ReLUNetwork.save
<reluscope.network.ReLUNetwork.save>` can call them without an import cycle: this module
needs :class:`~reluscope.network.ReLUNetwork` for its type only, while the readers,
which build networks, import :mod:`reluscope.network`. The keys and attributes that
carry what a format cannot say itself (the domain, the max-pooling units and windows,
the input size) are defined here, beside the code that writes them; the readers import
them from here. Frameworks are imported only when used.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from reluscope.errors import ModelFormatError
from reluscope.io.formats import format_of
from reluscope.pooling import windows_to_json
from reluscope.signature import IOSignature

if TYPE_CHECKING:
    from reluscope.network import ReLUNetwork

# ---------------------------------------------------------------------------- ONNX
#: metadata_props keys holding the input box (JSON lists of floats)
LOWER_KEY = "reluscope.lower"
UPPER_KEY = "reluscope.upper"
#: metadata_props keys holding a polytope ``A x <= b`` (JSON: list of rows, list)
POLYTOPE_A_KEY = "reluscope.domain_A"
POLYTOPE_B_KEY = "reluscope.domain_b"
#: the neurons (flat indices over all layers) of a lowered max-pooling, a JSON list
MAX_POOL_KEY = "reluscope.max_pool"
POOL_WINDOWS_KEY = "reluscope.pool_windows"
#: the number of input features when the input has no declared shape (a source whose
#: leading Flatten took any shape, e.g. a PyTorch ``nn.Flatten()`` model): an integer
INPUT_SIZE_KEY = "reluscope.input_size"

#: opset and IR version of the files :func:`save_onnx` writes (widely supported)
OPSET = 13
IR_VERSION = 8

# ------------------------------------------------------------------------- PyTorch
#: attributes of a written ``nn.Sequential`` holding the input box (lists of floats)
LOWER_ATTR = "reluscope_lower"
UPPER_ATTR = "reluscope_upper"
#: attributes holding a polytope ``A x <= b`` cutting the box (lists of rows, list)
POLYTOPE_A_ATTR = "reluscope_domain_A"
POLYTOPE_B_ATTR = "reluscope_domain_b"

SHAPE_ATTR = "reluscope_input_shape"
#: the neurons (flat indices over all layers) of a lowered max-pooling
MAX_POOL_ATTR = "reluscope_max_pool"
#: their windows, as JSON (reluscope.pooling.windows_to_json)
POOL_WINDOWS_ATTR = "reluscope_pool_windows"


def save(network: ReLUNetwork, path: str | Path) -> None:
    """Write ``network`` to ``path`` in the format of its extension."""
    fmt = format_of(path)
    parent = Path(path).resolve().parent
    if not parent.is_dir():
        raise ModelFormatError(f"{path}: the folder {parent} does not exist; create it first")
    if fmt == "npz":
        save_npz(network, path)
    elif fmt == "onnx":
        save_onnx(network, path)
    elif fmt == "torch-export":
        raise ModelFormatError(
            f"{path}: reluscope reads .pt2 programs but does not write them; write .onnx "
            "or .pt"
        )
    else:
        save_torch(network, path)


def save_npz(network: ReLUNetwork, path: str | Path) -> None:
    """Write ``network`` (weights, ReLU flags and domain) in the NPZ layout."""
    arrays: dict[str, np.ndarray] = {}
    for i, (w, b) in enumerate(zip(network.weights, network.biases, strict=True)):
        arrays[f"W{i}"] = w
        arrays[f"b{i}"] = b
    arrays["relu"] = np.array(network.relu, dtype=bool)
    if not network.is_plain_relu:
        arrays["slopes"] = np.concatenate(network.slopes)
    if network.has_max_pool:
        arrays["max_pool"] = np.concatenate(network.max_pool)
    if network.pool_windows:
        arrays["pool_windows"] = np.array(windows_to_json(network.pool_windows))
    arrays["lower"] = network.lower
    arrays["upper"] = network.upper
    if network.has_polytope:
        arrays["domain_A"] = network.domain_A
        arrays["domain_b"] = network.domain_b
    sig = network.signature
    if sig is not None:
        arrays["input_name"] = np.array(sig.input_name)
        arrays["output_name"] = np.array(sig.output_name)
        arrays["input_shape"] = np.array(sig.input_shape, dtype=np.int64)
        arrays["dtype"] = np.array(sig.dtype)
        if sig.output_op:
            arrays["output_op"] = np.array(sig.output_op)
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)  # type: ignore[arg-type]  # numpy's stub types allow_pickle only


def save_onnx(network: ReLUNetwork, path: str | Path) -> None:
    """Write ``network`` as an ONNX model of ``Gemm`` + ``Relu`` nodes (``LeakyRelu`` or
    ``PRelu`` for layers with leaky or identity units; none for all-identity layers).

    Without a signature (networks built by hand or read from NPZ) the tensors are double
    precision, the input is named ``input`` (shape ``(batch, n0)``) and the output
    ``output``. A network read from ONNX or PyTorch keeps its source's
    :class:`~reluscope.network.IOSignature`: input and output names, element type
    (float32 sources give float32 weights) and input shape (an image-shaped input is
    flattened by a leading ``Flatten`` node; a source whose leading Flatten took any
    shape, signature ``input_shape == ()``, gives an input without a declared shape,
    flattened likewise, its size in the ``reluscope.input_size`` metadata). The domain is stored in
    ``metadata_props`` and read back by :func:`load_onnx`.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    sig = network.signature or IOSignature(input_shape=(network.n_inputs,))
    dtype = np.float32 if sig.dtype == "float32" else np.float64
    elem = TensorProto.FLOAT if sig.dtype == "float32" else TensorProto.DOUBLE
    # a source whose leading Flatten took any shape (input_shape ()): no declared shape,
    # so the file takes what the source took ((N, 1, 4, 4) as well as (N, 16))
    any_shape = not sig.input_shape
    in_shape = sig.input_shape or (network.n_inputs,)
    input_name, final_name = sig.input_name, sig.output_name
    if input_name == final_name:
        final_name = f"{final_name}_out"
    reserved = {input_name, final_name}
    # with a final softmax, the network's output is the internal tensor ``logits``
    output_name = final_name
    if sig.output_op:
        output_name = "logits"
        while output_name in reserved:
            output_name = f"{output_name}_"
        reserved.add(output_name)

    def internal(name: str) -> str:
        """An internal tensor name that never collides with the kept I/O names."""
        while name in reserved:
            name = f"{name}_"
        return name

    nodes, initializers = [], []
    current = input_name
    if len(in_shape) != 1 or any_shape:
        flat = internal("flat")
        nodes.append(helper.make_node("Flatten", [current], [flat], name="flatten", axis=1))
        current = flat
    last = network.n_layers - 1
    for i, (w, b, has_relu, alpha) in enumerate(
        zip(network.weights, network.biases, network.relu, network.slopes, strict=True)
    ):
        w_name, b_name = internal(f"W{i}"), internal(f"b{i}")
        initializers.append(numpy_helper.from_array(np.asarray(w, dtype=dtype), w_name))
        initializers.append(numpy_helper.from_array(np.asarray(b, dtype=dtype), b_name))
        linear = not has_relu or bool(np.all(alpha == 1.0))
        pre = output_name if (i == last and linear) else internal(f"g{i}")
        nodes.append(
            helper.make_node("Gemm", [current, w_name, b_name], [pre], name=f"gemm{i}",
                             transB=1)
        )
        current = pre
        if not linear:
            post = output_name if i == last else internal(f"h{i + 1}")
            nodes.extend(_activation_nodes(i, alpha, current, post, dtype, initializers,
                                           internal))
            current = post
    if sig.output_op:
        nodes.append(helper.make_node(sig.output_op, [output_name], [final_name],
                                      name=sig.output_op.lower(), axis=-1))
    graph = helper.make_graph(
        nodes,
        "reluscope_network",
        [helper.make_tensor_value_info(input_name, elem,
                                       None if any_shape else ["batch", *in_shape])],
        [helper.make_tensor_value_info(final_name, elem, ["batch", network.n_outputs])],
        initializer=initializers,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        ir_version=IR_VERSION,
        producer_name="reluscope",
    )
    helper.set_model_props(model, _model_props(network, any_shape))
    try:
        onnx.save(model, str(path))
    except OSError as exc:
        raise ModelFormatError(f"{path}: cannot write the ONNX file ({exc})") from None


def _model_props(network: ReLUNetwork, any_shape: bool) -> dict[str, str]:
    """What ONNX cannot say itself, as metadata: the input box, a polytope domain, the
    max-pooling units and windows, the input size of a shape-free input."""
    props = {
        LOWER_KEY: json.dumps([float(v) for v in network.lower]),
        UPPER_KEY: json.dumps([float(v) for v in network.upper]),
    }
    if network.has_polytope:
        props[POLYTOPE_A_KEY] = json.dumps(network.domain_A.tolist())
        props[POLYTOPE_B_KEY] = json.dumps(network.domain_b.tolist())
    if network.has_max_pool:
        props[MAX_POOL_KEY] = json.dumps(np.flatnonzero(np.concatenate(network.max_pool)).tolist())
    if network.pool_windows:
        props[POOL_WINDOWS_KEY] = windows_to_json(network.pool_windows)
    if any_shape:
        props[INPUT_SIZE_KEY] = str(network.n_inputs)
    return props


def _activation_nodes(
    i: int, alpha: np.ndarray, source: str, target: str, dtype: Any, initializers: list[Any],
    internal: Any,
) -> list[Any]:
    """The nodes of layer ``i``'s activations: ``Relu`` (every unit a ReLU), ``LeakyRelu``
    (one slope for the whole layer) or ``PRelu`` with one slope per unit (0 ReLU, 1
    identity); all three compute ``g`` for ``g > 0`` and ``alpha g`` otherwise."""
    from onnx import helper, numpy_helper

    if not np.any(alpha):
        return [helper.make_node("Relu", [source], [target], name=f"relu{i}")]
    if np.all(alpha == alpha[0]):
        return [helper.make_node("LeakyRelu", [source], [target], name=f"leaky{i}",
                                 alpha=float(alpha[0]))]
    slope = internal(f"slope{i}")
    initializers.append(numpy_helper.from_array(np.asarray(alpha, dtype=dtype), slope))
    return [helper.make_node("PRelu", [source, slope], [target], name=f"prelu{i}")]


def to_torch(network: ReLUNetwork) -> Any:
    """The network as an ``nn.Sequential`` of ``Linear`` and ``ReLU`` layers.

    A network read from a model file keeps its source's signature: a float32 source
    gives float32 layers, and an image-shaped input (e.g. ``(1, 4, 4)``) gets a leading
    ``Flatten``, so the module takes the original's inputs. Networks without a signature
    give float64 layers taking ``(batch, n0)``. The domain is attached as the attributes
    ``reluscope_lower``/``reluscope_upper`` (lists of floats) and the input shape as
    ``reluscope_input_shape``, which :func:`from_torch` reads back.
    """
    torch = import_torch()
    nn = torch.nn

    sig = network.signature
    dtype = torch.float32 if sig is not None and sig.dtype == "float32" else torch.float64
    layers: list[Any] = []
    if sig is not None and len(sig.input_shape) != 1:
        layers.append(nn.Flatten())  # the source took image-shaped (or any) inputs
    for w, b, has_relu, alpha in zip(
        network.weights, network.biases, network.relu, network.slopes, strict=True
    ):
        linear = nn.Linear(w.shape[1], w.shape[0], dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(np.array(w)))
            linear.bias.copy_(torch.from_numpy(np.array(b)))
        layers.append(linear)
        if not has_relu or np.all(alpha == 1.0):
            continue  # linear units
        if not np.any(alpha):
            layers.append(nn.ReLU())
        elif np.all(alpha == alpha[0]):
            layers.append(nn.LeakyReLU(float(alpha[0])))
        else:  # one slope per unit: 0 ReLU, 1 identity, else leaky
            prelu = nn.PReLU(alpha.shape[0], dtype=dtype)
            with torch.no_grad():
                prelu.weight.copy_(torch.from_numpy(np.array(alpha)))
            layers.append(prelu)
    if sig is not None and sig.output_op:
        layers.append(getattr(nn, sig.output_op)(dim=1))
    sequential = nn.Sequential(*layers).eval()
    setattr(sequential, LOWER_ATTR, [float(v) for v in network.lower])
    setattr(sequential, UPPER_ATTR, [float(v) for v in network.upper])
    if network.has_polytope:
        setattr(sequential, POLYTOPE_A_ATTR, network.domain_A.tolist())
        setattr(sequential, POLYTOPE_B_ATTR, network.domain_b.tolist())
    if sig is not None and sig.input_shape:
        setattr(sequential, SHAPE_ATTR, list(sig.input_shape))
    if network.has_max_pool:
        setattr(sequential, MAX_POOL_ATTR,
                np.flatnonzero(np.concatenate(network.max_pool)).tolist())
    if network.pool_windows:
        setattr(sequential, POOL_WINDOWS_ATTR, windows_to_json(network.pool_windows))
    return sequential


def save_torch(network: ReLUNetwork, path: str | Path) -> None:
    """Write ``network`` with ``torch.save`` as an ``nn.Sequential`` (see to_torch)."""
    torch = import_torch()

    try:
        torch.save(to_torch(network), str(path))
    except (OSError, RuntimeError) as exc:  # torch reports a missing directory as Runtime
        raise ModelFormatError(f"{path}: cannot write the PyTorch file ({exc})") from None


# ----------------------------------------------------------------------------- helpers
def import_torch() -> Any:
    try:
        import torch
    except ImportError:
        raise ModelFormatError(
            "reading or writing .pt/.pth files needs PyTorch, which is not installed; "
            "install it with: pip install 'reluscope[torch]'"
        ) from None
    return torch


__all__ = [
    "INPUT_SIZE_KEY",
    "IR_VERSION",
    "LOWER_ATTR",
    "LOWER_KEY",
    "MAX_POOL_ATTR",
    "MAX_POOL_KEY",
    "OPSET",
    "POLYTOPE_A_ATTR",
    "POLYTOPE_A_KEY",
    "POLYTOPE_B_ATTR",
    "POLYTOPE_B_KEY",
    "POOL_WINDOWS_ATTR",
    "POOL_WINDOWS_KEY",
    "SHAPE_ATTR",
    "UPPER_ATTR",
    "UPPER_KEY",
    "import_torch",
    "save",
    "save_npz",
    "save_onnx",
    "save_torch",
    "to_torch",
]
