"""PyTorch loader and writer: chains of ``Linear`` and ``ReLU`` layers.

Accepted layers, in an ``nn.Sequential`` (nested ``Sequential``s are flattened) or in a
custom ``forward`` that ``torch.fx`` traces into a chain: ``Linear`` (with or without
bias), ``ReLU``, ``LeakyReLU`` and ``PReLU`` (units with those slopes, see
:class:`~reluscope.network.ReLUNetwork`), a final ``Softmax``/``LogSoftmax`` over the
outputs (kept aside in the signature: the network holds the logits), ``Flatten``
(``start_dim=1``, ``end_dim=-1``), ``Identity`` and
``Dropout`` (treated as the identity, i.e. the network is read as in ``eval()`` mode),
and the affine tensor layers ``Conv1d/2d``, ``AvgPool1d/2d``, padding and
``BatchNorm1d/2d`` (eval mode), lowered exactly to dense layers
(:mod:`reluscope.io.lowering`). Consecutive affine layers with no ``ReLU`` in between
are composed into one affine layer. A module with max-pooling, or that is not a chain,
is read from its graph (see :func:`from_torch`). Any other layer (``Sigmoid``, ...)
raises :class:`~reluscope.errors.UnsupportedLayerError` naming the layer and its index.

Inputs are read as vectors ``(batch, n0)``; a leading ``Flatten`` lets image-shaped
inputs through (the network then acts on their C-order flattening, as PyTorch does).

The domain is stored on modules written by :func:`save_torch` as the plain attributes
``reluscope_lower`` and ``reluscope_upper`` (lists of floats) and read back when present;
otherwise it is ``[0, 1]^n0``. ``torch`` is imported only inside these functions.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from reluscope.errors import ModelFormatError, UnsupportedLayerError
from reluscope.io.lowering import MAXPOOL_REASON, lower_affine
from reluscope.io.writers import (
    LOWER_ATTR,
    MAX_POOL_ATTR,
    POLYTOPE_A_ATTR,
    POLYTOPE_B_ATTR,
    POOL_WINDOWS_ATTR,
    SHAPE_ATTR,
    UPPER_ATTR,
    import_torch,
    save_torch,
    to_torch,
)
from reluscope.network import IOSignature, ReLUNetwork
from reluscope.pooling import PoolWindow, windows_from_json

_SUPPORTED = (
    "Linear, ReLU, LeakyReLU, PReLU, a final Softmax/LogSoftmax, Flatten, Unflatten, "
    "Identity, Dropout, Conv1d/Conv2d, AvgPool1d/AvgPool2d, "
    "BatchNorm1d/BatchNorm2d (eval), ZeroPad2d/ConstantPad, nested Sequential"
)
_PASSTHROUGH = {"Identity", "Dropout", "Dropout1d", "Dropout2d", "AlphaDropout"}
#: affine tensor layers lowered to dense layers (see reluscope.io.lowering)
_LOWERED = {
    "Conv1d", "Conv2d", "AvgPool1d", "AvgPool2d", "BatchNorm1d", "BatchNorm2d",
    "ZeroPad1d", "ZeroPad2d", "ConstantPad1d", "ConstantPad2d",
}
#: activation layers: each closes a layer of units with these slopes
_ACTIVATIONS = {"ReLU", "LeakyReLU", "PReLU"}
_MAXPOOL = {"MaxPool1d", "MaxPool2d", "MaxPool3d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d"}


def from_torch(
    module: Any,
    *,
    lower: Any = None,
    upper: Any = None,
    input_shape: Any = None,
) -> ReLUNetwork:
    """Convert a PyTorch ``nn.Sequential`` (or a scripted/traced one) to a ReLUNetwork.

    Parameters
    ----------
    module
        An ``nn.Sequential`` of the layers listed in the module docstring, a single
        layer, a TorchScript module (``torch.jit.script``/``trace``) of one, or a module
        with a custom ``forward`` that ``torch.fx`` can trace into such a chain.
    lower, upper
        The input box. Default: the module's ``reluscope_lower``/``reluscope_upper``
        attributes when present (modules written by :func:`save_torch`), else
        ``[0, 1]^n0``.
    input_shape
        The shape of one input without the batch dimension, e.g. ``(1, 28, 28)``.
        Needed only when the first layer is a convolution or pooling, whose input size
        the module does not record; by default it is inferred as the square image that
        fits the first ``Linear`` layer, or read from the ``reluscope_input_shape``
        attribute of modules written by :func:`save_torch`.

    A module that is not such a chain (skip connections, a TorchScript module with its
    own ``forward``, a ``torch.export`` ``ExportedProgram``) is read from its graph: it
    is exported to ONNX in memory (``torch.onnx.export``) and read by
    :func:`reluscope.io.onnx.from_onnx_model`, which lowers skip connections exactly
    (:mod:`reluscope.io.graph`).

    Raises
    ------
    UnsupportedLayerError
        A layer is not one of those accepted (by the chain reader nor the graph reader).
    """
    torch = import_torch()
    if isinstance(module, torch.export.ExportedProgram):
        return _from_graph(module, lower, upper, input_shape)
    if input_shape is None and getattr(module, SHAPE_ATTR, None) is not None:
        input_shape = tuple(int(d) for d in getattr(module, SHAPE_ATTR))
    try:
        if any(_kind(layer) in _MAXPOOL for layer in module.modules()):
            # max-pooling is lowered by the graph reader (reluscope.io.graph)
            try:
                return _from_graph(module, lower, upper, input_shape)
            except ModelFormatError as shape_error:
                raise UnsupportedLayerError(str(shape_error)) from None
        return _from_chain(module, lower, upper, input_shape)
    except UnsupportedLayerError as chain_error:
        if _is_chain(module):
            raise  # a Sequential of known layers: the chain reader's message is precise
        try:
            return _from_graph(module, lower, upper, input_shape)
        except UnsupportedLayerError as graph_error:
            raise UnsupportedLayerError(
                f"{chain_error}; read as a graph: {graph_error}"
            ) from None
        except ModelFormatError as shape_error:
            raise UnsupportedLayerError(
                f"{chain_error}; to read it as a graph instead: {shape_error}"
            ) from None


def _from_chain(module: Any, lower: Any, upper: Any, input_shape: Any) -> ReLUNetwork:
    """:func:`from_torch` for a chain of layers (module docstring)."""
    layers = _leaf_layers(module)
    chain = _TorchChain(layers, input_shape)
    for index, (name, layer) in enumerate(layers):  # before any shape inference
        if _kind(layer) in _MAXPOOL:
            raise UnsupportedLayerError(
                f"layer {index} ({name!r}, {_kind(layer)}) is not supported: {MAXPOOL_REASON}"
            )
    for index, (name, layer) in enumerate(layers):
        chain.apply(index, name, layer)
    weights, biases, relu, slopes = chain.finish()
    domain_a = domain_b = None
    if lower is None and upper is None:
        lower = _list_attr(module, LOWER_ATTR)
        upper = _list_attr(module, UPPER_ATTR)
        if getattr(module, POLYTOPE_A_ATTR, None) is not None:
            domain_a = np.asarray(getattr(module, POLYTOPE_A_ATTR), dtype=np.float64)
            domain_b = _list_attr(module, POLYTOPE_B_ATTR)
    n0 = int(weights[0].shape[1])
    # () when a leading Flatten accepts any input shape with n0 entries
    shape = () if chain.any_shape else chain.input_shape or (n0,)
    signature = IOSignature(input_shape=shape, dtype=_module_dtype(module),
                            output_op=chain.output_op)
    pool = None
    if getattr(module, MAX_POOL_ATTR, None) is not None:  # written by save_torch
        flat = np.zeros(sum(w.shape[0] for w in weights), dtype=bool)
        flat[np.asarray(getattr(module, MAX_POOL_ATTR), dtype=np.int64)] = True
        pool = np.split(flat, np.cumsum([w.shape[0] for w in weights])[:-1])
    windows: tuple[PoolWindow, ...] = ()
    if isinstance(getattr(module, POOL_WINDOWS_ATTR, None), str):
        windows = windows_from_json(getattr(module, POOL_WINDOWS_ATTR), pool, slopes,
                                    [w.shape[0] for w in weights])
    return ReLUNetwork(
        weights, biases, relu=relu, slopes=slopes, lower=lower, upper=upper, domain_A=domain_a,
        domain_b=domain_b, signature=signature, max_pool=pool, pool_windows=windows,
    )


def _is_chain(module: Any) -> bool:
    """Whether ``module`` is a (nested) ``Sequential`` of layers with no children of
    their own: the chain reader sees all of it, so its refusal is final."""
    if _kind(module) != "Sequential":
        return False
    return all(_is_chain(m) if _kind(m) == "Sequential" else not list(m.children())
               for m in module.children())


def _from_graph(module: Any, lower: Any, upper: Any, input_shape: Any) -> ReLUNetwork:
    """Read a module or ``ExportedProgram`` from its graph, exported to ONNX in memory."""
    import contextlib
    import io
    import warnings

    torch = import_torch()
    from reluscope.io.onnx import from_onnx_model

    exported = isinstance(module, torch.export.ExportedProgram)
    if exported:
        args = [n.meta.get("val") for n in module.graph.nodes
                if n.op == "placeholder" and n.name in module.graph_signature.user_inputs]
        if len(args) != 1 or args[0] is None:
            raise UnsupportedLayerError(
                f"the exported program takes {len(args)} inputs; reluscope reads programs "
                "with one input tensor"
            )
        shape = tuple(int(d) for d in args[0].shape[1:])
        dtype = "float64" if args[0].dtype == torch.float64 else "float32"
    else:
        shape = tuple(int(d) for d in input_shape) if input_shape else _first_input_shape(module)
        dtype = _module_dtype(module)
    if input_shape is not None and tuple(int(d) for d in input_shape) != shape:
        raise UnsupportedLayerError(
            f"input_shape {tuple(input_shape)} differs from the exported program's {shape}"
        )
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            if exported:
                proto = torch.onnx.export(module, (), dynamo=True, verbose=False).model_proto
            else:
                import onnx

                example = torch.zeros((1, *shape), dtype=_module_dtype_torch(module))
                buffer = io.BytesIO()
                was_training = bool(getattr(module, "training", False))
                module.eval()
                try:
                    torch.onnx.export(
                        module, (example,), buffer, dynamo=False, input_names=["input"],
                        output_names=["output"],
                        dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
                    )
                finally:
                    module.train(was_training)
                proto = onnx.load_from_string(buffer.getvalue())
    except Exception as exc:  # the exporters raise many types
        raise UnsupportedLayerError(
            f"exporting the module's graph to ONNX failed ({type(exc).__name__}: "
            f"{_first_line(exc)})"
        ) from None
    if lower is None and upper is None and not exported:
        lower, upper = _list_attr(module, LOWER_ATTR), _list_attr(module, UPPER_ATTR)
    net = from_onnx_model(proto, lower=lower, upper=upper, source="the module's graph")
    signature = IOSignature(input_shape=shape, dtype=dtype,
                            output_op=net.signature.output_op if net.signature else "")
    return net.with_signature(signature)


def _first_input_shape(module: Any) -> tuple[int, ...]:
    """The input shape of a module with a custom forward: the first ``Linear``'s inputs
    (the first parametrised layer must be one; else ``input_shape`` is needed)."""
    for sub in module.modules():
        kind = _kind(sub)
        if kind == "Linear" or (kind.startswith("Linear") and hasattr(sub, "weight")):
            return (int(sub.weight.shape[1]),)
        if kind == "Unflatten" and hasattr(sub, "unflattened_size"):
            return (int(np.prod(sub.unflattened_size)),)
        traced = _traced_unflatten_size(sub) if kind == "Unflatten" else None
        if traced is not None:
            return (int(np.prod(traced)),)
        if any(True for _ in sub.parameters(recurse=False)):
            break
    raise ModelFormatError(
        "the module does not start with a Linear layer, so its input shape is unknown; "
        "pass input_shape=(C, H, W) (--input-shape C,H,W on the command line)"
    )


class _TorchChain:
    """The affine map accumulated since the last ReLU, the current shape, the layers."""

    def __init__(self, layers: list[tuple[str, Any]], input_shape: Any) -> None:
        self.layers = layers
        self.input_shape: tuple[int, ...] | None = (
            None if input_shape is None else tuple(int(d) for d in input_shape)
        )
        self.shape = self.input_shape  # current shape without batch, once known
        self.pending: tuple[np.ndarray, np.ndarray] | None = None
        self.after_relu = False
        self.any_shape = False
        self.output_op = ""  # a final Softmax/LogSoftmax, kept aside in the signature
        self.weights: list[np.ndarray] = []
        self.biases: list[np.ndarray] = []
        self.slopes: list[np.ndarray] = []

    @property
    def width(self) -> int | None:
        return None if self.shape is None else int(np.prod(self.shape))

    def _compose(self, w: np.ndarray, b: np.ndarray) -> None:
        p = self.pending
        self.pending = (w, b) if p is None else (w @ p[0], w @ p[1] + b)
        self.after_relu = False

    # long: one branch per PyTorch layer kind, each updating the affine map being accumulated
    def apply(self, index: int, name: str, layer: Any) -> None:
        kind = _kind(layer)
        label = f"layer {index} ({name!r}, {kind})"
        if kind == "Linear":
            w = _tensor_to_numpy(layer.weight)
            b = (
                np.zeros(w.shape[0])
                if getattr(layer, "bias", None) is None
                else _tensor_to_numpy(layer.bias)
            )
            if self.shape is not None and len(self.shape) != 1:
                raise UnsupportedLayerError(
                    f"{label} receives a tensor of shape (batch, "
                    f"{', '.join(map(str, self.shape))}); add a Flatten before it"
                )
            if self.width is not None and w.shape[1] != self.width:
                raise UnsupportedLayerError(
                    f"{label} expects {w.shape[1]} inputs but the previous layer gives "
                    f"{self.width}"
                )
            if self.input_shape is None:
                self.input_shape = (int(w.shape[1]),)
            self._compose(w, b)
            self.shape = (int(w.shape[0]),)
        elif kind in _ACTIVATIONS:
            if self.output_op:
                raise UnsupportedLayerError(
                    f"{label} follows the final {self.output_op}; a softmax is accepted "
                    "only as the last layer"
                )
            if self.width is None:
                raise UnsupportedLayerError(
                    f"{label} comes before any Linear layer, so the input size is unknown; "
                    "remove it or start with a Linear layer"
                )
            alpha = self._slope(label, layer, kind)
            if self.after_relu and not np.any(alpha) and not np.any(self.slopes[-1]):
                return  # relu(relu(t)) = relu(t)
            n = self.width
            w, b = self.pending if self.pending is not None else (np.eye(n), np.zeros(n))
            self.weights.append(w)
            self.biases.append(b)
            self.slopes.append(alpha)
            self.pending = None
            self.after_relu = True
        elif kind in ("Softmax", "LogSoftmax") and index == len(self.layers) - 1:
            dim = getattr(layer, "dim", None)
            if self.shape is None or len(self.shape) != 1 or dim not in (None, 1, -1):
                raise UnsupportedLayerError(
                    f"{label} is not over the output vector (dim={dim}); only a final "
                    "softmax over the outputs is accepted"
                )
            self.output_op = kind
        elif kind == "Flatten":
            start, end = _flatten_dims(layer)
            if start != 1 or end != -1:
                raise UnsupportedLayerError(
                    f"{label} has start_dim={start}, end_dim={end}; only "
                    "Flatten(start_dim=1, end_dim=-1) is supported"
                )
            if self.shape is not None:
                self.shape = (self.width,)  # type: ignore[assignment]
            else:
                self.any_shape = True  # a leading Flatten takes any input shape
        elif kind == "Unflatten":
            self._unflatten(label, layer)
        elif kind in _PASSTHROUGH:
            return
        elif kind in _LOWERED:
            self._lower(index, label, layer, kind)
        elif kind in _MAXPOOL:
            raise UnsupportedLayerError(f"{label} is not supported: {MAXPOOL_REASON}")
        else:
            raise UnsupportedLayerError(
                f"layer {index} ({name!r}) is a {kind}, which is not supported; reluscope "
                f"handles ReLU networks of "
                f"{_SUPPORTED}"
                + (
                    "; analyse the logits: drop the final softmax, e.g. model[:-1]"
                    if kind in ("Softmax", "LogSoftmax")
                    else ""
                )
            )

    def _unflatten(self, label: str, layer: Any) -> None:
        """``Unflatten(1, sizes)`` of vectors: a reshape, the same entries in the same
        order (a traced one keeps its sizes in its graph only)."""
        sizes = getattr(layer, "unflattened_size", None)
        sizes = tuple(int(d) for d in sizes) if sizes is not None else (
            _traced_unflatten_size(layer))
        dim = getattr(layer, "dim", 1)
        if sizes is None or dim not in (1, -1) or (self.shape is not None
                                                   and len(self.shape) != 1):
            raise UnsupportedLayerError(
                f"{label} is supported on vectors only, as Unflatten(1, sizes) with "
                "constant sizes"
            )
        if self.width is not None and self.width != int(np.prod(sizes)):
            raise UnsupportedLayerError(
                f"{label} makes {sizes} ({int(np.prod(sizes))} entries) of {self.width}"
            )
        if self.input_shape is None:
            self.input_shape = (int(np.prod(sizes)),)
        self.shape = sizes

    def _slope(self, label: str, layer: Any, kind: str) -> np.ndarray:
        """Each unit's inactive-side slope for an activation layer (0 for ReLU), read by
        evaluating the layer at -1 (traced modules keep no ``negative_slope``)."""
        n = int(self.width or 0)
        if kind == "ReLU":
            return np.zeros(n)
        torch = import_torch()
        shape = self.shape or (n,)
        dtype = _module_dtype_torch(layer)
        try:
            with torch.no_grad():
                at_minus = layer(-torch.ones((1, *shape), dtype=dtype)).double().numpy()
                at_plus = layer(torch.ones((1, *shape), dtype=dtype)).double().numpy()
        except RuntimeError as exc:
            raise UnsupportedLayerError(
                f"{label} cannot be applied to inputs of shape {tuple(shape)} "
                f"({_first_line(exc)})"
            ) from None
        if not np.all(at_plus == 1.0):
            raise UnsupportedLayerError(f"{label} does not keep positive inputs unchanged")
        return -at_minus.reshape(-1)

    def _lower(self, index: int, label: str, layer: Any, kind: str) -> None:
        torch = import_torch()
        if self.shape is None:
            self.input_shape = self.shape = self._infer_shape(index, label, layer, kind)
        if kind.startswith("BatchNorm") and len(self.shape) == 1 and kind != "BatchNorm1d":
            raise UnsupportedLayerError(f"{label} receives vectors; use BatchNorm1d")
        probe = _double_copy(layer)

        def fn(x: np.ndarray) -> np.ndarray:
            with torch.no_grad():
                tensor = torch.from_numpy(x)
                if probe is None:  # no float64 copy: evaluate in float32 (traced modules)
                    return layer(tensor.float()).double().numpy()
                return probe(tensor).numpy()

        try:
            mat, bias, out_shape = lower_affine(fn, self.shape, label)
        except RuntimeError as exc:
            raise UnsupportedLayerError(
                f"{label} cannot be applied to inputs of shape "
                f"{tuple(self.shape)} ({_first_line(exc)}); pass input_shape="
            ) from None
        self._compose(mat, bias)
        self.shape = out_shape

    def _infer_shape(self, index: int, label: str, layer: Any, kind: str) -> tuple[int, ...]:
        """The input shape for a leading convolution/pooling: the square image that fits."""
        features = getattr(layer, "running_mean", None)  # traced modules lack num_features
        if kind == "BatchNorm1d" and features is not None:
            return (int(features.shape[0]),)
        channels = getattr(layer, "in_channels", None)
        if channels is None and getattr(layer, "weight", None) is not None:
            channels = int(layer.weight.shape[1]) * int(getattr(layer, "groups", 1))
        if channels is None and features is not None:
            channels = int(features.shape[0])
        linear = next(
            (i for i, (_, l) in enumerate(self.layers) if _kind(l) == "Linear"), None
        )
        hint = (
            "pass the input shape: reluscope.load(model, input_shape=(C, H, W)) or "
            "--input-shape C,H,W on the command line, or "
            "export the model to ONNX, which records it"
        )
        if channels is None or linear is None:
            raise UnsupportedLayerError(
                f"{label} is the first layer, so the input's height and width are unknown; "
                + hint
            )
        torch = import_torch()
        target = int(self.layers[linear][1].weight.shape[1])
        dtype = _module_dtype_torch(layer)
        fits = []
        for side in range(1, 1025):
            x = torch.zeros(1, int(channels), side, side, dtype=dtype)
            try:
                with torch.no_grad():
                    for _, prefix_layer in self.layers[index:linear]:
                        x = prefix_layer(x)
            except RuntimeError:
                continue
            if x.numel() == target:
                fits.append(side)
            if x.numel() > target:
                break
        if len(fits) == 1:
            return (int(channels), fits[0], fits[0])
        found = (
            f"square inputs of sides {', '.join(map(str, fits))} all fit"
            if fits else "no square input fits"
        )
        raise UnsupportedLayerError(
            f"{label} is the first layer and {found} the first Linear layer's {target} "
            f"inputs; " + hint
        )

    def finish(
        self,
    ) -> tuple[list[np.ndarray], list[np.ndarray], list[bool], list[np.ndarray]]:
        weights, biases, slopes = list(self.weights), list(self.biases), list(self.slopes)
        relu = [True] * len(weights)
        if self.pending is not None:
            weights.append(self.pending[0])
            biases.append(self.pending[1])
            relu.append(False)
            slopes.append(np.ones(self.pending[1].shape[0]))
        if not weights:
            raise UnsupportedLayerError(
                f"the module has no Linear layer ({len(self.layers)} layers); nothing to "
                "analyse"
            )
        return weights, biases, relu, slopes


def load_torch(path: str | Path, **kwargs: Any) -> ReLUNetwork:
    """Read a network from a ``torch.save``d module or a TorchScript file.

    A TorchScript archive (``torch.jit.save``) is opened with ``torch.jit.load``; any
    other file with ``torch.load(path, weights_only=False)``, which **unpickles arbitrary
    Python objects and can run code**: only load files you trust. A file holding a
    ``state_dict`` (a dict of tensors) is rejected, since it does not say how the layers
    connect: save the module itself (``torch.save(model, path)``) or build the module and
    call :func:`from_torch`.
    """
    torch = import_torch()

    if _is_torchscript(path):
        try:
            module = torch.jit.load(str(path), map_location="cpu")
        except Exception as exc:  # torch raises RuntimeError with C++ messages
            raise ModelFormatError(
                f"{path}: not a readable TorchScript file ({type(exc).__name__}: "
                f"{_first_line(exc)})"
            ) from None
        return from_torch(module, **kwargs)
    try:
        obj = torch.load(str(path), map_location="cpu", weights_only=False)
    except Exception as exc:  # UnpicklingError, RuntimeError, EOFError, ...
        missing = _missing_class(exc)
        if missing is not None:
            raise ModelFormatError(
                f"{path}: holds a pickled {missing}, a class this Python process cannot "
                "import (torch.save stores the class by name, not its code); in Python, "
                "import or define the class first and call reluscope.load(path), or export "
                "the model to ONNX (torch.onnx.export(model, example_input, 'model.onnx')) "
                "and load the .onnx, or save it with torch.jit.script(model).save(path)"
            ) from None
        raise ModelFormatError(
            f"{path}: not a readable PyTorch file ({type(exc).__name__}: {_first_line(exc)}); "
            "save the model with torch.save(module, path) or torch.jit.save"
        ) from None
    if isinstance(obj, dict):
        raise ModelFormatError(
            f"{path}: holds a dict ({'a state_dict' if _is_state_dict(obj) else 'not a module'})"
            ", which does not say how the layers connect; rebuild the module, "
            "load_state_dict it and call reluscope.from_torch(model), or export it to ONNX "
            "(torch.onnx.export) and load the .onnx, or save the whole module with "
            "torch.save(model, path)"
        )
    if not isinstance(obj, torch.nn.Module):
        raise ModelFormatError(
            f"{path}: holds a {type(obj).__name__}, not a torch.nn.Module; save the model "
            "with torch.save(module, path)"
        )
    return from_torch(obj, **kwargs)


def load_exported(path: str | Path, **kwargs: Any) -> ReLUNetwork:
    """Read a ``torch.export`` program (``.pt2``, ``torch.export.save``) from its graph.

    ``torch.export.load`` **unpickles** parts of the file: only load files you trust.
    """
    torch = import_torch()
    try:
        program = torch.export.load(str(path))
    except Exception as exc:  # torch raises many types on a bad archive
        raise ModelFormatError(
            f"{path}: not a readable torch.export program ({type(exc).__name__}: "
            f"{_first_line(exc)}); save it with torch.export.save(program, path)"
        ) from None
    return from_torch(program, **kwargs)


def _traced_unflatten_size(layer: Any) -> tuple[int, ...] | None:
    """The size of a traced ``Unflatten`` (TorchScript keeps no ``unflattened_size``,
    but its graph holds ``aten::unflatten(x, dim, [sizes])`` with constant sizes)."""
    try:
        node = layer.graph.findNode("aten::unflatten")
        sizes = list(node.inputs())[2]
        if sizes.node().kind() == "prim::Constant":
            return tuple(int(d) for d in sizes.toIValue())
        return tuple(int(i.toIValue()) for i in sizes.node().inputs())
    except Exception:  # not a traced Unflatten, or sizes computed at run time
        return None


def _kind(layer: Any) -> str:
    """The layer's class name; TorchScript modules keep it in ``original_name``."""
    return str(getattr(layer, "original_name", None) or type(layer).__name__)


def _leaf_layers(module: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """The chain of layers of ``module``, nested Sequentials flattened, with dotted names."""
    kind = _kind(module)
    if kind == "Sequential":
        out: list[tuple[str, Any]] = []
        for name, child in module.named_children():
            out.extend(_leaf_layers(child, f"{prefix}{name}."))
        return out
    if not prefix:
        # the top-level module itself: a lone layer is a chain of one; anything with
        # children but no Sequential structure has a forward() we cannot read
        if any(True for _ in module.named_children()):
            return _fx_layers(module, kind)
        return [(kind, module)]
    return [(prefix.rstrip("."), module)]


# long: one branch per torch.fx node kind, in graph order, building one layer chain
def _fx_layers(module: Any, kind: str) -> list[tuple[str, Any]]:
    """The chain of layers of a module with a custom ``forward``, read with torch.fx.

    Accepted: calls of submodules, ``relu`` (``F.relu``, ``torch.relu``, ``x.relu()``),
    ``torch.flatten(x, 1)``/``x.flatten(1)`` and ``x.view``/``x.reshape`` to
    ``(x.size(0), -1)`` or ``(-1, n)``, each applied to the previous result.
    """
    torch = import_torch()
    import operator

    advice = (
        "wrap the layers in nn.Sequential, or export the model to ONNX "
        "(torch.onnx.export) and load the .onnx"
    )
    if isinstance(module, torch.jit.ScriptModule):
        raise UnsupportedLayerError(
            f"the TorchScript module is a {kind} with a custom forward(), which reluscope "
            f"cannot read; {advice}"
        )
    try:
        graph = torch.fx.symbolic_trace(module).graph
    except Exception as exc:  # fx raises TraceError, TypeError, ... on dynamic code
        raise UnsupportedLayerError(
            f"the module is a {kind} whose forward() torch.fx cannot trace "
            f"({type(exc).__name__}: {_first_line(exc)}); {advice}"
        ) from None
    relu_fns = {torch.relu, torch.nn.functional.relu}
    layers: list[tuple[str, Any]] = []
    current = None
    sizes: set[Any] = set()  # nodes holding x.size(0) / x.shape[0]
    shapes: set[Any] = set()  # nodes holding x.shape

    def fail(node: Any, what: str, chain: bool = True) -> UnsupportedLayerError:
        fix = advice if chain else (
            "reluscope handles chains of layers only, not branching or residual graphs"
        )
        return UnsupportedLayerError(
            f"the module is a {kind} whose forward() {what} at {node.name!r}; reluscope "
            f"reads a chain of layers ({_SUPPORTED}); {fix}"
        )

    for node in graph.nodes:
        if node.op == "placeholder":
            if current is not None:
                raise fail(node, "takes more than one input")
            current = node
            continue
        if node.op == "output":
            if node.args[0] is not current:
                raise fail(node, "does not return the result of its last layer")
            break
        if node.op == "get_attr":
            raise fail(node, f"reads the attribute {node.target!r} directly")
        tensor_args = [a for a in node.args if hasattr(a, "op")]
        if node.op == "call_method" and node.target == "size" or (
            node.op == "call_function" and node.target is operator.getitem
            and node.args and node.args[0] in shapes
        ):
            sizes.add(node)
            continue
        if node.op == "call_function" and node.target is getattr and node.args[1] == "shape":
            shapes.add(node)
            continue
        if not tensor_args or tensor_args[0] is not current or any(
            a is not current and a not in sizes for a in tensor_args
        ):
            name = getattr(node.target, "__name__", node.target)
            raise fail(node, f"combines several tensors ({name})", chain=False)
        if node.op == "call_module":
            sub = module.get_submodule(node.target)
            layers.extend(_leaf_layers(sub, f"{node.target}.") if _kind(sub) == "Sequential"
                          else [(str(node.target), sub)])
        elif node.target in relu_fns or (node.op == "call_method" and node.target == "relu"):
            layers.append((node.name, torch.nn.ReLU()))
        elif node.target in (torch.flatten, "flatten"):
            start = node.args[1] if len(node.args) > 1 else node.kwargs.get("start_dim", 0)
            end = node.args[2] if len(node.args) > 2 else node.kwargs.get("end_dim", -1)
            if (start, end) != (1, -1):
                raise fail(node, f"flattens with start_dim={start}, end_dim={end}")
            layers.append((node.name, torch.nn.Flatten()))
        elif node.target in ("view", "reshape", torch.reshape):
            dims = list(node.args[1:])
            if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
                dims = list(dims[0])
            ok = len(dims) == 2 and (
                (dims[0] in sizes and dims[1] == -1)
                or (dims[0] == -1 and isinstance(dims[1], int))
            )
            if not ok:
                raise fail(node, "reshapes to something other than (batch, -1)")
            layers.append((node.name, torch.nn.Flatten()))
        else:
            raise fail(node, f"calls {getattr(node.target, '__name__', node.target)}")
        current = node
    return layers


def _flatten_dims(layer: Any) -> tuple[int, int]:
    """``(start_dim, end_dim)`` of a Flatten; traced modules keep them only in their code."""
    if hasattr(layer, "start_dim"):
        return int(layer.start_dim), int(getattr(layer, "end_dim", -1))
    match = re.search(r"flatten\(\w+, (-?\d+)(?:, (-?\d+))?\)", str(getattr(layer, "code", "")))
    if match is None:
        return 1, -1
    return int(match.group(1)), int(match.group(2) or -1)


def _double_copy(layer: Any) -> Any:
    """A float64, eval-mode copy of ``layer``, or None where it cannot be made."""
    import copy

    try:
        return copy.deepcopy(layer).double().eval()
    except Exception:  # traced modules cannot always be copied
        return None


def _module_dtype_torch(module: Any) -> Any:
    import torch

    for param in module.parameters():
        if param.is_floating_point():
            return param.dtype
    return torch.float32


def _module_dtype(module: Any) -> str:
    """``float64`` for a double-precision module, else ``float32`` (PyTorch's default)."""
    import torch

    return "float64" if _module_dtype_torch(module) == torch.float64 else "float32"


def _tensor_to_numpy(tensor: Any) -> np.ndarray:
    return np.array(tensor.detach().cpu().double().numpy(), dtype=np.float64)


def _list_attr(module: Any, name: str) -> Any:
    value = getattr(module, name, None)
    if value is None:
        return None
    return np.asarray([float(v) for v in value], dtype=np.float64)


def _is_torchscript(path: str | Path) -> bool:
    """TorchScript archives are zips holding code/ and constants.pkl; torch.save zips don't."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return False
    return any("/code/" in n or n.endswith("constants.pkl") for n in names)


def _is_state_dict(obj: dict) -> bool:
    import torch

    return bool(obj) and all(isinstance(v, torch.Tensor) for v in obj.values())


def _missing_class(exc: BaseException) -> str | None:
    """``'Custom' from module '__main__'`` when unpickling failed on a missing class."""
    text = str(exc)
    match = re.search(r"Can't get attribute '([^']+)' on <module '([^']+)'", text)
    if match:
        return f"{match.group(1)!r} from module {match.group(2)!r}"
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        return f"class from module {exc.name!r}"
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else "no details"


__all__ = ["from_torch", "load_torch", "save_torch", "to_torch"]
