"""ONNX loader and writer for fully connected ReLU networks.

Reading walks the graph in topological order along the single chain from its one input
to its one output, keeping the affine map accumulated since the last ReLU; each ``Relu``
closes one layer of the :class:`~reluscope.network.ReLUNetwork`. Accepted operators:

- ``Gemm`` (``alpha``, ``beta``, ``transB`` honoured; ``transA=1`` is rejected because it
  would mix the batch dimension into the features), ``MatMul`` with a constant right
  operand, and elementwise ``Add``/``Sub``/``Mul``/``Div`` with a constant operand
  (which covers ``MatMul`` + ``Add`` in either operand order, and scalar rescaling);
- ``Relu``, ``LeakyRelu`` (its ``alpha``) and ``PRelu`` with a constant slope: each closes
  a layer whose units have those slopes (0 ReLU, 1 identity, else leaky);
- a final ``Softmax``/``LogSoftmax`` over the output vector: kept aside in the signature
  (``IOSignature.output_op``) and written back; the network holds the logits, whose
  regions are the model's (a softmax changes no activation pattern);
- ``Conv``, ``AveragePool``, ``Pad`` and ``BatchNormalization`` (inference mode), affine
  maps lowered exactly to dense layers (:mod:`reluscope.io.lowering`); ``MaxPool`` is
  lowered to pairwise tournaments by the graph reader (:mod:`reluscope.io.graph`; its
  units are marked, and counting refuses them);
- ``Flatten`` (``axis=1``), ``Reshape`` to ``(batch, n)`` (with a constant shape, or one
  built from ``Shape`` of the activation, as PyTorch exports ``x.view(x.size(0), -1)``),
  ``Identity``, ``Dropout`` (inference mode: identity);
- ``Constant`` nodes, treated like initializers, and any deterministic node computing
  on constants only (e.g. a ``Transpose`` of a weight), evaluated at load time with
  ``onnx.reference``.

Consecutive affine operators with no ``Relu`` in between are composed into one layer
(``ReLUNetwork`` needs a ReLU after every hidden layer). Anything else raises
:class:`~reluscope.errors.UnsupportedLayerError` naming the operator and the node.

ONNX has no notion of an input domain: it defaults to ``[0, 1]^n0``. :func:`save_onnx`
stores the domain in the model's ``metadata_props`` (keys ``reluscope.lower`` and
``reluscope.upper``, JSON lists; for a polytope domain also ``reluscope.domain_A``, a
JSON list of rows, and ``reluscope.domain_b``) and :func:`load_onnx` reads it back when
present.
Written models use ``Gemm`` (``transB=1``) and ``Relu`` nodes with a dynamic batch
dimension. A network read from a model keeps its source's signature (input/output names,
float32 or float64, input shape) and is written with it, a drop-in replacement; others
use double-precision tensors, an input named ``input`` and an output named ``output``,
so a round trip is exact. onnxruntime runs both on the CPU.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from reluscope.errors import ModelFormatError, ReluscopeError, UnsupportedLayerError
from reluscope.io.lowering import MAXPOOL_REASON, lower_affine
from reluscope.io.writers import (
    INPUT_SIZE_KEY,
    LOWER_KEY,
    MAX_POOL_KEY,
    POLYTOPE_A_KEY,
    POLYTOPE_B_KEY,
    POOL_WINDOWS_KEY,
    UPPER_KEY,
    save_onnx,
)
from reluscope.network import IOSignature, ReLUNetwork
from reluscope.pooling import PoolWindow, windows_from_json

_log = logging.getLogger(__name__)

_SUPPORTED = (
    "Gemm/MatMul+Add, Relu, LeakyRelu, PRelu, Flatten/Reshape, Identity, Conv, "
    "AveragePool, GlobalAveragePool, ReduceMean, BatchNormalization, Pad, Add/Sub of two "
    "tensors (skip connections), a final Softmax/LogSoftmax"
)
#: affine tensor operators lowered to dense layers (see reluscope.io.lowering)
_LOWERED = {
    "Conv", "AveragePool", "BatchNormalization", "Pad", "GlobalAveragePool", "ReduceMean",
    "ReduceSum", "Transpose", "Squeeze", "Unsqueeze",
}
_PASSTHROUGH = {"Identity", "Dropout"}
#: stands for the (unknown) batch size in the value of a Shape node; it survives the
#: Gather/Unsqueeze/Concat that build a target shape, and no real shape entry is negative
#: except -1
_BATCH = -(2**61) - 7
_ELEMENTWISE = {"Add", "Sub", "Mul", "Div"}
#: ONNX element types -> the dtype a writer reproduces (others are read as float32)
_DTYPES = {1: "float32", 11: "float64"}


def load_onnx(path: str | Path) -> ReLUNetwork:
    """Read a fully connected ReLU network from an ONNX file.

    The domain comes from the ``reluscope.lower``/``reluscope.upper`` metadata when the
    file has them (files written by :func:`save_onnx` do), else it is ``[0, 1]^n0``.

    Raises
    ------
    ModelFormatError
        The file is not a readable ONNX model, or its graph has not one input and one
        output.
    UnsupportedLayerError
        The graph contains an operator other than those listed in the module docstring,
        or branches.
    """
    import onnx

    try:
        model = onnx.load(str(path))
    except Exception as exc:  # protobuf raises DecodeError, RuntimeError, ...
        raise ModelFormatError(
            f"{path}: not a readable ONNX model ({type(exc).__name__}: {exc})"
        ) from None
    if len(model.graph.node) == 0 and len(model.graph.input) == 0:
        raise ModelFormatError(f"{path}: not an ONNX model (empty graph)")
    return from_onnx_model(model, source=str(path))


# long: one pass over the node chain with the checks that name the offending node
def from_onnx_model(
    model: Any,
    *,
    lower: Any = None,
    upper: Any = None,
    source: str = "ONNX model",
) -> ReLUNetwork:
    """Build a :class:`ReLUNetwork` from an in-memory ``onnx.ModelProto``.

    ``lower``/``upper`` override the domain stored in the metadata (default
    ``[0, 1]^n0`` when neither is present). ``source`` names the model in error messages.
    """
    from onnx import numpy_helper

    graph = model.graph
    constants = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    inputs = [v for v in graph.input if v.name not in constants]
    if len(inputs) != 1 or len(graph.output) != 1:
        raise ModelFormatError(
            f"{source}: the graph must have exactly one input and one output; it has "
            f"{len(inputs)} input(s) ({', '.join(v.name for v in inputs)}) and "
            f"{len(graph.output)} output(s)"
        )
    input_name, output_name = inputs[0].name, graph.output[0].name
    any_shape = not inputs[0].type.tensor_type.HasField("shape")
    shape = (_input_size(model, inputs[0], source) if any_shape
             else _input_feature_shape(inputs[0], source))
    signature = IOSignature(
        input_name=input_name,
        output_name=output_name,
        input_shape=() if any_shape else shape,
        dtype=_DTYPES.get(inputs[0].type.tensor_type.elem_type, "float32"),
    )

    # how many times each tensor is read: a chain reads each activation exactly once
    # (a Shape node reads only the shape, which is known, so it does not count)
    readers: dict[str, list[str]] = {}
    for node in graph.node:
        if node.op_type == "Shape":
            continue
        for name in node.input:
            readers.setdefault(name, []).append(f"{_node_label(node)} ({node.op_type})")
    readers.setdefault(output_name, []).append("the graph output")

    opsets = {o.domain: o.version for o in model.opset_import}
    if _branches(graph, input_name, constants):
        weights, biases, relu, slopes, output_op, pool, windows = _from_graph(
            graph, constants, input_name, output_name, shape, opsets, source
        )
        return _network(model, weights, biases, relu, slopes, output_op, signature, lower,
                        upper, source, pool, windows)
    chain = _Chain(int(np.prod(shape)), shape, source, opsets)
    chain.batch = _static_batch(graph, input_name)
    current = input_name
    for node in graph.node:
        label = _node_label(node)
        if node.op_type == "Constant":
            constants[node.output[0]] = _constant_value(node, source)
            continue
        if node.op_type == "Shape" and list(node.input) == [current]:
            # x.view(x.size(0), -1) in PyTorch: Shape -> Gather -> Concat -> Reshape
            constants[node.output[0]] = _shape_value(node, chain.shape)
            continue
        if current not in node.input and _foldable(node, constants):
            # e.g. a Transpose or Cast of a weight that an exporter did not constant-fold
            constants.update(_fold(node, constants, opsets, source))
            continue
        if current not in node.input:
            raise UnsupportedLayerError(
                f"{source}: node {label} ({node.op_type}) does not read the chain's current "
                f"tensor {current!r}; reluscope handles a single chain of fully connected "
                f"layers ({_SUPPORTED}), not branching graphs"
            )
        users = readers.get(current, [])
        if len(users) != 1:
            raise UnsupportedLayerError(
                f"{source}: tensor {current!r} is read by {len(users)} consumers "
                f"({', '.join(users)}); branching graphs are not supported, reluscope "
                f"handles fully connected ReLU networks ({_SUPPORTED})"
            )
        chain.apply(node, current, constants)
        current = node.output[0]
        if len([o for o in node.output if o]) > 1:
            extra = [o for o in node.output[1:] if o and o in readers]
            if extra:
                raise UnsupportedLayerError(
                    f"{source}: node {label} ({node.op_type}) has a second output "
                    f"{extra[0]!r} that is used; only its first output can be followed"
                )
    if current != output_name:
        raise UnsupportedLayerError(
            f"{source}: the chain from input {input_name!r} ends at {current!r}, not at the "
            f"graph output {output_name!r}; branching graphs are not supported"
        )
    weights, biases, relu, slopes = chain.finish()
    return _network(model, weights, biases, relu, slopes, chain.output_op, signature, lower,
                    upper, source)


def _network(
    model: Any, weights: list[np.ndarray], biases: list[np.ndarray], relu: list[bool],
    slopes: list[np.ndarray], output_op: str, signature: IOSignature, lower: Any,
    upper: Any, source: str, pool: list[np.ndarray] | None = None,
    windows: Sequence[PoolWindow] = (),
) -> ReLUNetwork:
    if output_op:
        signature = replace(signature, output_op=output_op)
        _log.info("%s: the final %s is kept aside; regions are those of the logits",
                  source, output_op)
    domain_a = domain_b = None
    if lower is None and upper is None:
        lower, upper = _domain_from_metadata(model, source)
        domain_a, domain_b = _polytope_from_metadata(model, source)
    props = {p.key: p.value for p in model.metadata_props}
    if pool is None and MAX_POOL_KEY in props:  # a lowered max-pooling written by save_onnx
        try:
            flat = np.zeros(sum(w.shape[0] for w in weights), dtype=bool)
            flat[np.asarray(json.loads(props[MAX_POOL_KEY]), dtype=np.int64)] = True
        except (ValueError, IndexError, TypeError):
            raise ModelFormatError(
                f"{source}: the metadata {MAX_POOL_KEY!r} is not a list of neuron indices"
            ) from None
        pool = np.split(flat, np.cumsum([w.shape[0] for w in weights])[:-1])
        if POOL_WINDOWS_KEY in props:
            windows = windows_from_json(props[POOL_WINDOWS_KEY], pool, slopes,
                                        [w.shape[0] for w in weights])
    return ReLUNetwork(
        weights, biases, relu=relu, slopes=slopes, lower=lower, upper=upper,
        domain_A=domain_a, domain_b=domain_b, signature=signature, max_pool=pool,
        pool_windows=windows,
    )


def _branches(graph: Any, input_name: str, constants: dict[str, np.ndarray]) -> bool:
    """Whether a computed tensor is read by two nodes, or a node reads two of them (a
    graph with skip connections: read by :func:`_from_graph`)."""
    dynamic = {input_name}
    readers: dict[str, int] = {}
    for node in graph.node:
        if node.op_type in ("MaxPool", "GlobalMaxPool"):
            return True  # lowered by the graph reader
        if node.op_type == "Shape":
            continue
        inputs = [n for n in node.input if n in dynamic]
        if len(inputs) > 1:
            return True
        for name in inputs:
            readers[name] = readers.get(name, 0) + 1
        if inputs:
            dynamic.update(o for o in node.output if o)
    return any(count > 1 for count in readers.values())


_ACTIVATION_OPS = ("Relu", "LeakyRelu", "PRelu")


# long: one branch per ONNX operator over one shared tensor map, in graph order
def _from_graph(
    graph: Any, constants: dict[str, np.ndarray], input_name: str, output_name: str,
    shape: tuple[int, ...], opsets: dict[str, int], source: str,
) -> tuple[
    list[np.ndarray], list[np.ndarray], list[bool], list[np.ndarray], str, list[np.ndarray],
    list[PoolWindow],
]:
    """Read a graph with skip connections (:mod:`reluscope.io.graph`): affine operators
    as in a chain, ``Add``/``Sub`` of two computed tensors, activations closing layers
    that carry every tensor still needed by identity units."""
    from reluscope.io.graph import GraphLayers, Tensor

    n0 = int(np.prod(shape))
    layers = GraphLayers(input_name, n0, shape)
    nodes = list(graph.node)
    last_use: dict[str, int] = {}
    for i, node in enumerate(nodes):
        for name in node.input:
            last_use[name] = i
    last_use[output_name] = len(nodes)
    chain = _Chain(n0, shape, source, opsets)
    chain.batch = _static_batch(graph, input_name)
    output_op = ""
    for i, node in enumerate(nodes):
        label, op = _node_label(node), node.op_type
        tensors = layers.tensors
        if op == "Constant":
            constants[node.output[0]] = _constant_value(node, source)
            continue
        dyn = [n for n in node.input if n in tensors]
        if op == "Shape" and dyn:
            constants[node.output[0]] = _shape_value(node, tensors[dyn[0]].shape)
            continue
        if not dyn:
            if _foldable(node, constants):
                constants.update(_fold(node, constants, opsets, source))
                continue
            raise UnsupportedLayerError(
                f"{source}: node {label} ({op}) reads no computed tensor and cannot be "
                "evaluated at load time"
            )
        if output_op:
            raise UnsupportedLayerError(
                f"{source}: node {label} ({op}) follows the {output_op}; a softmax is "
                "accepted only as the last operation"
            )
        out = node.output[0]
        if op in _ACTIVATION_OPS:
            t = tensors[node.input[0]]
            width = t.c.shape[0]
            if op == "Relu":
                alpha = np.zeros(width)
            elif op == "LeakyRelu":
                alpha = np.full(width, float(_attr(node, "alpha", 0.01)))
            else:
                if node.input[1] not in constants:
                    raise UnsupportedLayerError(
                        f"{source}: node {label} (PRelu) has a computed slope"
                    )
                slope = np.asarray(constants[node.input[1]], dtype=float)
                try:
                    alpha = np.broadcast_to(slope, (1, *t.shape)).reshape(-1).copy()
                except ValueError:
                    raise UnsupportedLayerError(
                        f"{source}: node {label} (PRelu) has a slope of shape {slope.shape} "
                        f"that does not broadcast to its input's shape {t.shape}"
                    ) from None
            carried = [name for name in tensors if last_use.get(name, -1) > i]
            layers.close_layer(node.input[0], out, alpha, carried)
        elif op in ("MaxPool", "GlobalMaxPool"):
            # the windows: which inputs each output takes the max of (the pooling of a
            # one-hot input is 1 exactly on the windows holding it)
            t = tensors[dyn[0]]
            if len(node.output) > 1 and node.output[1] and node.output[1] in last_use:
                raise UnsupportedLayerError(
                    f"{source}: node {label} ({op}) has its indices output used"
                )
            chain.a, chain.c, chain.shape = None, np.zeros(t.c.shape[0]), t.shape
            chain._lower(node, dyn[0], constants)
            member = np.asarray(chain.a) > 0.5
            windows = [np.flatnonzero(row) for row in member]
            carried = [name for name in tensors if last_use.get(name, -1) > i]
            layers.max_pool(dyn[0], out, windows, tuple(chain.shape), carried)
        elif op in ("Add", "Sub") and len(dyn) == 2:
            a, b = (tensors[n] for n in node.input[:2])
            if a.c.shape != b.c.shape:
                raise UnsupportedLayerError(
                    f"{source}: node {label} ({op}) combines tensors of shapes {a.shape} and "
                    f"{b.shape}; only tensors of equal size can be added"
                )
            layers.add(node.input[0], node.input[1], out, -1.0 if op == "Sub" else 1.0)
        elif len(dyn) > 1:
            raise UnsupportedLayerError(
                f"{source}: node {label} ({op}) combines {len(dyn)} computed tensors; only "
                "Add/Sub of two may (skip connections)"
            )
        elif op in ("Softmax", "LogSoftmax"):
            t = tensors[dyn[0]]
            axis = int(_attr(node, "axis", -1 if int(opsets.get("", 13)) >= 13 else 1))
            if out != output_name or len(t.shape) != 1 or axis not in (-1, 1):
                raise UnsupportedLayerError(
                    f"{source}: node {label} ({op}) is accepted only as the last operation, "
                    "over the output vector"
                )
            tensors[out] = t
            output_op = op
        else:
            t = tensors[dyn[0]]
            chain.a, chain.c, chain.shape = t.a, t.c, t.shape
            chain.pending, chain.after_relu = True, False
            chain.apply(node, dyn[0], constants)
            tensors[out] = Tensor(chain.a, chain.c, chain.shape)
    if output_name not in layers.tensors:
        raise UnsupportedLayerError(
            f"{source}: the graph output {output_name!r} is not computed from the input "
            f"{input_name!r}"
        )
    weights, biases, relu, slopes, pools = layers.finish(output_name)
    return weights, biases, relu, slopes, output_op, pools, layers.windows


# ----------------------------------------------------------------------------- helpers
class _Chain:
    """The affine map ``t = A @ h + c`` accumulated since the last ReLU, and the layers.

    ``shape`` is the current tensor's shape without the batch dimension; the affine map
    acts on its C-order flattening. ``A is None`` stands for the identity, so that a
    784-input layer is not multiplied by a 784 x 784 identity matrix.
    """

    def __init__(
        self, n0: int, shape: tuple[int, ...], source: str, opsets: dict[str, int]
    ) -> None:
        self.source = source
        self.opsets = opsets
        self.shape = shape
        self.a: np.ndarray | None = None
        self.c = np.zeros(n0)
        self.pending = False  # an affine op since the last Relu (or the input)?
        self.after_relu = False  # was the last op a Relu?
        self.output_op = ""  # a final Softmax/LogSoftmax, kept aside
        self.batch: int | None = None  # the input's batch size when the graph fixes it
        self.slopes: list[np.ndarray] = []
        self.weights: list[np.ndarray] = []
        self.biases: list[np.ndarray] = []

    @property
    def width(self) -> int:
        return int(self.c.shape[0])

    def _affine(self, w: np.ndarray, b: np.ndarray) -> None:
        """Compose ``t -> w @ t + b`` onto the pending map."""
        self.a = w if self.a is None else w @ self.a
        self.c = w @ self.c + b
        self._touched()

    def _scale_shift(self, d: np.ndarray | float, v: np.ndarray | float) -> None:
        """Compose the elementwise ``t -> d * t + v`` onto the pending map."""
        d_vec = np.broadcast_to(np.asarray(d, dtype=np.float64), self.c.shape)
        self.a = np.diag(d_vec) if self.a is None else d_vec[:, None] * self.a
        self.c = d_vec * self.c + v
        self._touched()

    def _touched(self) -> None:
        self.pending = True
        self.after_relu = False

    def _unsupported(self, node: Any, why: str) -> UnsupportedLayerError:
        return UnsupportedLayerError(
            f"{self.source}: node {_node_label(node)} ({node.op_type}) {why}"
        )

    def apply(self, node: Any, current: str, constants: dict[str, np.ndarray]) -> None:
        op = node.op_type
        if self.output_op:
            raise self._unsupported(
                node, f"follows the {self.output_op}; a softmax is accepted only as the "
                "last operation (regions are those of the logits)"
            )
        if op == "Relu":
            self._relu()
        elif op == "LeakyRelu":
            self._relu(float(_attr(node, "alpha", 0.01)))
        elif op == "PRelu":
            slope = self._const(node, node.input[1], constants)
            try:
                alpha = np.broadcast_to(np.asarray(slope, float), (1, *self.shape))
            except ValueError:
                raise self._unsupported(
                    node, f"has a slope of shape {slope.shape} that does not broadcast to "
                    f"its input's shape {self.shape}"
                ) from None
            self._relu(alpha.reshape(-1))
        elif op in ("Softmax", "LogSoftmax"):
            axis = int(_attr(node, "axis", -1 if int(self.opsets.get("", 13)) >= 13 else 1))
            if len(self.shape) != 1 or axis not in (-1, 1):
                raise self._unsupported(
                    node, f"has axis={axis} on a tensor of shape {self.shape}; only a "
                    "softmax over the output vector is accepted"
                )
            self.output_op = op
        elif op == "Gemm":
            self._gemm(node, current, constants)
        elif op == "MatMul":
            self._matmul(node, current, constants)
        elif op in _ELEMENTWISE:
            self._elementwise(node, current, constants)
        elif op == "Flatten":
            axis = int(_attr(node, "axis", 1))
            rank = len(self.shape) + 1
            if (axis + rank if axis < 0 else axis) != 1:
                raise self._unsupported(
                    node, f"has axis={axis}; only Flatten(axis=1), which keeps the batch "
                    "dimension, is supported"
                )
            self.shape = (self.width,)
        elif op == "Reshape":
            self._reshape(node, constants)
        elif op in _PASSTHROUGH:
            pass
        elif op in _LOWERED:
            self._lower(node, current, constants)
        elif op in ("MaxPool", "GlobalMaxPool"):
            raise self._unsupported(node, f"is not supported: {MAXPOOL_REASON}")
        else:
            raise UnsupportedLayerError(
                f"{self.source}: node {_node_label(node)} has unsupported operator {op}; "
                f"reluscope handles fully connected ReLU networks ({_SUPPORTED})"
            )

    def _lower(self, node: Any, current: str, constants: dict[str, np.ndarray]) -> None:
        """An affine tensor operator (Conv, AveragePool, ...) as a dense layer."""
        if node.input[0] != current:
            raise self._unsupported(node, "does not take the activation as its first input")
        if node.op_type == "BatchNormalization" and _attr(node, "training_mode", 0):
            raise self._unsupported(
                node, "is in training mode; export the model after model.eval()"
            )
        feeds: dict[str, np.ndarray] = {}
        for name in node.input[1:]:
            if not name:
                continue
            value = self._const(node, name, constants)
            raw = constants[name]
            feeds[name] = value if np.issubdtype(np.asarray(raw).dtype, np.floating) else raw
        from onnx import helper
        from onnx.reference import ReferenceEvaluator

        outputs = [node.output[0]]
        single = helper.make_node(
            node.op_type, list(node.input), outputs, domain=node.domain, name="lowered",
        )
        single.attribute.extend(node.attribute)
        graph = helper.make_graph(
            [single],
            "lower",
            [helper.make_tensor_value_info(current, helper.np_dtype_to_tensor_dtype(
                np.dtype(np.float64)), None)]
            + [helper.make_tensor_value_info(
                n, helper.np_dtype_to_tensor_dtype(v.dtype), v.shape) for n, v in feeds.items()],
            [helper.make_empty_tensor_value_info(outputs[0])],
        )
        mini = helper.make_model(
            graph, opset_imports=[helper.make_opsetid(d, v) for d, v in self.opsets.items()]
        )
        try:
            evaluator = ReferenceEvaluator(mini)
        except Exception as exc:  # the reference runtime raises many types
            raise self._unsupported(
                node, f"cannot be evaluated ({type(exc).__name__}: {exc})"
            ) from None

        def fn(x: np.ndarray) -> np.ndarray:
            result: Any = evaluator.run(None, {current: x, **feeds})
            return np.asarray(result[0])

        what = f"{self.source}: node {_node_label(node)} ({node.op_type})"
        try:
            mat, bias, out_shape = lower_affine(fn, self.shape, what)
        except ReluscopeError:
            raise
        except Exception as exc:  # the reference runtime raises many types
            raise self._unsupported(
                node, f"cannot be applied to the tensor of shape (batch, "
                f"{', '.join(map(str, self.shape))}) ({type(exc).__name__}: "
                f"{str(exc).strip().splitlines()[0] if str(exc).strip() else 'no details'})"
            ) from None
        self._affine(mat, bias)
        self.shape = out_shape

    def _relu(self, alpha: np.ndarray | float = 0.0) -> None:
        """Close a layer: the pending map, then activations of slope ``alpha`` (0 ReLU)."""
        slope = np.broadcast_to(np.asarray(alpha, dtype=np.float64), (self.width,)).copy()
        if self.after_relu and not np.any(slope) and not np.any(self.slopes[-1]):
            return  # relu(relu(t)) = relu(t)
        # a Relu right on the input (no affine op yet) becomes an identity layer: exact
        n = self.width
        self.weights.append(np.eye(n) if self.a is None else self.a)
        self.biases.append(self.c)
        self.slopes.append(slope)
        self.a, self.c = None, np.zeros(n)
        self.pending = False
        self.after_relu = True

    def _require_vector(self, node: Any) -> None:
        if len(self.shape) != 1:
            raise self._unsupported(
                node, f"acts on a tensor of shape (batch, {', '.join(map(str, self.shape))}); "
                "add a Flatten before the first fully connected layer"
            )

    def _const(self, node: Any, name: str, constants: dict[str, np.ndarray]) -> np.ndarray:
        if name not in constants:
            raise self._unsupported(
                node, f"has a non-constant operand {name!r}; only one activation tensor may "
                "flow through the network (an Add of two activations is not supported)"
            )
        return np.asarray(constants[name], dtype=np.float64)

    def _gemm(self, node: Any, current: str, constants: dict[str, np.ndarray]) -> None:
        self._require_vector(node)
        if node.input[0] != current:
            raise self._unsupported(
                node, "takes the activation as its second operand; only Gemm(x, W, b) with "
                "the activation first is supported"
            )
        if _attr(node, "transA", 0):
            raise self._unsupported(
                node, "has transA=1, which would transpose the batch into the features; "
                "export the layer as Gemm with transA=0"
            )
        mat = self._const(node, node.input[1], constants)
        if mat.ndim != 2:
            raise self._unsupported(node, f"has a weight of shape {mat.shape}; expected 2-D")
        if _attr(node, "transB", 0):
            mat = mat.T  # now (n_in, n_out) as in Y = X @ B
        alpha, beta = float(_attr(node, "alpha", 1.0)), float(_attr(node, "beta", 1.0))
        if mat.shape[0] != self.width:
            raise self._unsupported(
                node, f"expects {mat.shape[0]} inputs but receives {self.width}"
            )
        n_out = mat.shape[1]
        bias = np.zeros(n_out)
        if len(node.input) > 2 and node.input[2]:
            raw = self._const(node, node.input[2], constants)
            bias = beta * self._broadcast(node, raw, (n_out,))
        self._affine(alpha * mat.T, bias)
        self.shape = (n_out,)

    def _matmul(self, node: Any, current: str, constants: dict[str, np.ndarray]) -> None:
        self._require_vector(node)
        if node.input[0] != current:
            raise self._unsupported(
                node, "multiplies a constant by the activation (W @ x); only x @ W with the "
                "activation on the left (batch rows) is supported"
            )
        mat = self._const(node, node.input[1], constants)
        if mat.ndim != 2 or mat.shape[0] != self.width:
            raise self._unsupported(
                node, f"has a weight of shape {mat.shape}; expected ({self.width}, n_out)"
            )
        self._affine(mat.T, np.zeros(mat.shape[1]))
        self.shape = (int(mat.shape[1]),)

    def _elementwise(self, node: Any, current: str, constants: dict[str, np.ndarray]) -> None:
        op = node.op_type
        if list(node.input).count(current) != 1:
            raise self._unsupported(node, "combines the activation with itself")
        other = node.input[1] if node.input[0] == current else node.input[0]
        act_first = node.input[0] == current
        value = self._broadcast(node, self._const(node, other, constants), self.shape).ravel()
        if op == "Add":
            self._scale_shift(1.0, value)
        elif op == "Sub":
            if act_first:
                self._scale_shift(1.0, -value)
            else:
                self._scale_shift(-1.0, value)
        elif op == "Mul":
            self._scale_shift(value, 0.0)
        else:  # Div
            if not act_first:
                raise self._unsupported(node, "divides a constant by the activation")
            if np.any(value == 0):
                raise self._unsupported(node, "divides by zero")
            self._scale_shift(1.0 / value, 0.0)

    def _broadcast(self, node: Any, value: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        """``value`` broadcast to ``shape`` (a leading batch dimension of 1 is allowed)."""
        if value.ndim == len(shape) + 1 and value.shape[0] == 1:
            value = value[0]
        try:
            return np.broadcast_to(value, shape).astype(np.float64)
        except ValueError:
            raise self._unsupported(
                node, f"has a constant of shape {value.shape} that does not broadcast to the "
                f"features {shape}; only per-feature constants are supported"
            ) from None

    def _reshape(self, node: Any, constants: dict[str, np.ndarray]) -> None:
        if len(node.input) < 2 or node.input[1] not in constants:
            raise self._unsupported(
                node, "has a shape computed at run time; only Reshape with a constant "
                "target shape (batch, n) is supported (or use Flatten)"
            )
        target = [int(v) for v in np.ravel(constants[node.input[1]])]
        n = self.width
        rest = [
            (self.shape[i] if i < len(self.shape) else -2) if v == 0 else v
            for i, v in enumerate(target[1:])
        ]
        batch = (0, 1, _BATCH) if self.batch is None else (0, 1, _BATCH, self.batch)
        known = int(np.prod([v for v in rest if v != -1]))
        if target and target[0] == -1:  # the batch is inferred: the rest must hold n
            ok = -1 not in rest and known == n
        else:
            ok = bool(target) and target[0] in batch and rest.count(-1) <= 1
            if ok and -1 in rest:
                ok = known > 0 and n % known == 0
                rest = [n // known if v == -1 else v for v in rest]
            ok = ok and int(np.prod(rest)) == n
        if not ok or not rest or min(rest) <= 0:
            raise self._unsupported(
                node, f"reshapes to {[v if v != _BATCH else 'batch' for v in target]}; "
                "only a reshape that keeps the batch dimension and the "
                f"{n} values of each example is supported"
            )
        self.shape = tuple(rest)

    def finish(
        self,
    ) -> tuple[list[np.ndarray], list[np.ndarray], list[bool], list[np.ndarray]]:
        weights, biases, slopes = list(self.weights), list(self.biases), list(self.slopes)
        relu = [True] * len(weights)
        if self.pending:
            weights.append(np.eye(self.width) if self.a is None else self.a)
            biases.append(self.c)
            relu.append(False)
            slopes.append(np.ones(self.width))
        if not weights:
            raise UnsupportedLayerError(
                f"{self.source}: the graph contains no affine layer (Gemm or MatMul); "
                "nothing to analyse"
            )
        return weights, biases, relu, slopes


def _shape_value(node: Any, shape: tuple[int, ...]) -> np.ndarray:
    """The value of ``Shape(x)``, with the batch dimension as the marker ``_BATCH``."""
    full = np.array([_BATCH, *shape], dtype=np.int64)
    start, end = int(_attr(node, "start", 0)), _attr(node, "end", None)
    return full[start:] if end is None else full[start : int(end)]


def _foldable(node: Any, constants: dict[str, np.ndarray]) -> bool:
    """Does ``node`` compute, deterministically, on constants only?"""
    names = [n for n in node.input if n]
    random = "Random" in node.op_type or node.op_type in ("Bernoulli", "Multinomial")
    return bool(names) and not random and all(n in constants for n in names)


def _fold(
    node: Any, constants: dict[str, np.ndarray], opsets: dict[str, int], source: str
) -> dict[str, np.ndarray]:
    """Evaluate a node on constants with ONNX's reference implementation."""
    from onnx import helper
    from onnx.reference import ReferenceEvaluator

    feeds = {n: np.asarray(constants[n]) for n in node.input if n}
    try:
        # a one-node model, so that the node is read with the file's opset
        graph = helper.make_graph(
            [node],
            "fold",
            [helper.make_tensor_value_info(
                n, helper.np_dtype_to_tensor_dtype(v.dtype), v.shape) for n, v in feeds.items()],
            [helper.make_empty_tensor_value_info(o) for o in node.output if o],
        )
        mini = helper.make_model(
            graph, opset_imports=[helper.make_opsetid(d, v) for d, v in opsets.items()]
        )
        values = ReferenceEvaluator(mini).run(None, feeds)
    except Exception as exc:  # the reference runtime raises many types
        raise UnsupportedLayerError(
            f"{source}: node {_node_label(node)} ({node.op_type}) computes on constants "
            f"only, and evaluating it failed ({type(exc).__name__}: {exc})"
        ) from None
    return {
        name: np.asarray(value)
        for name, value in zip(node.output, values, strict=False)
        if name
    }


def _node_label(node: Any) -> str:
    return repr(node.name) if node.name else f"<unnamed {node.op_type} -> {node.output[0]}>"


def _attr(node: Any, name: str, default: Any) -> Any:
    from onnx import helper

    for attribute in node.attribute:
        if attribute.name == name:
            return helper.get_attribute_value(attribute)
    return default


def _constant_value(node: Any, source: str) -> np.ndarray:
    from onnx import numpy_helper

    for attribute in node.attribute:
        if attribute.name == "value":
            return numpy_helper.to_array(attribute.t)
        if attribute.name in ("value_float", "value_int"):
            return np.array(attribute.f if attribute.name == "value_float" else attribute.i)
        if attribute.name == "value_floats":
            return np.array(list(attribute.floats))
        if attribute.name == "value_ints":
            return np.array(list(attribute.ints))
    raise UnsupportedLayerError(
        f"{source}: Constant node {_node_label(node)} has no numeric value "
        "(sparse or string constants are not supported)"
    )


def _static_batch(graph: Any, input_name: str) -> int | None:
    """The input's batch size when the graph fixes it (exporters that trace one example)."""
    for value in graph.input:
        if value.name == input_name:
            dims = value.type.tensor_type.shape.dim
            if dims and dims[0].HasField("dim_value") and dims[0].dim_value > 0:
                return int(dims[0].dim_value)
    return None


def _input_size(model: Any, value_info: Any, source: str) -> tuple[int]:
    """``(n0,)`` of an input without a declared shape, from the ``INPUT_SIZE_KEY``
    metadata that :func:`save_onnx` writes for such inputs (its graph flattens first)."""
    props = {p.key: p.value for p in model.metadata_props}
    try:
        size = int(props[INPUT_SIZE_KEY])
    except KeyError:
        raise ModelFormatError(
            f"{source}: input {value_info.name!r} has no declared shape; give it one "
            "(batch, features...) when exporting the model"
        ) from None
    except ValueError:
        raise ModelFormatError(
            f"{source}: metadata {INPUT_SIZE_KEY!r} is not an integer; fix or delete it"
        ) from None
    if size <= 0:
        raise ModelFormatError(f"{source}: metadata {INPUT_SIZE_KEY!r} must be positive")
    return (size,)


def _input_feature_shape(value_info: Any, source: str) -> tuple[int, ...]:
    """The input's shape without its leading batch dimension; every entry must be known."""
    dims = value_info.type.tensor_type.shape.dim
    if len(dims) < 2:
        raise ModelFormatError(
            f"{source}: input {value_info.name!r} has {len(dims)} dimension(s); expected "
            "(batch, features...) with a leading batch dimension"
        )
    shape = []
    for dim in dims[1:]:
        if not dim.HasField("dim_value") or dim.dim_value <= 0:
            raise ModelFormatError(
                f"{source}: input {value_info.name!r} has a feature dimension of unknown size "
                f"({dim.dim_param or '?'}); only the batch dimension may be dynamic"
            )
        shape.append(int(dim.dim_value))
    return tuple(shape)


def _polytope_from_metadata(model: Any, source: str) -> tuple[Any, Any]:
    """``(A, b)`` of the polytope metadata, or ``(None, None)`` when absent."""
    props = {p.key: p.value for p in model.metadata_props}
    if POLYTOPE_A_KEY not in props and POLYTOPE_B_KEY not in props:
        return None, None
    arrays = []
    for key in (POLYTOPE_A_KEY, POLYTOPE_B_KEY):
        try:
            arrays.append(np.asarray(json.loads(props[key]), dtype=np.float64))
        except KeyError:
            raise ModelFormatError(
                f"{source}: metadata has {POLYTOPE_A_KEY!r} and {POLYTOPE_B_KEY!r} together "
                f"or neither; {key!r} is missing"
            ) from None
        except (ValueError, TypeError):
            raise ModelFormatError(
                f"{source}: metadata {key!r} is not a JSON array of numbers; fix or delete it"
            ) from None
    return arrays[0], arrays[1]


def _domain_from_metadata(model: Any, source: str) -> tuple[Any, Any]:
    props = {p.key: p.value for p in model.metadata_props}
    bounds: list[np.ndarray | None] = []
    for key in (LOWER_KEY, UPPER_KEY):
        if key not in props:
            bounds.append(None)
            continue
        try:
            values = json.loads(props[key])
            array = np.asarray(values, dtype=np.float64)
        except (ValueError, TypeError):
            raise ModelFormatError(
                f"{source}: metadata {key!r} is not a JSON list of numbers; fix or delete it"
            ) from None
        if not all(math.isfinite(v) for v in np.ravel(array)):
            raise ModelFormatError(f"{source}: metadata {key!r} contains non-finite values")
        bounds.append(array)
    return bounds[0], bounds[1]


__all__ = [
    "LOWER_KEY", "POLYTOPE_A_KEY", "POLYTOPE_B_KEY", "UPPER_KEY", "from_onnx_model",
    "load_onnx", "save_onnx",
]
