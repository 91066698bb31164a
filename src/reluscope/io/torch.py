"""PyTorch loader and writer: chains of ``Linear`` and ``ReLU`` layers.

Accepted layers, in an ``nn.Sequential`` (nested ``Sequential``s are flattened):
``Linear`` (with or without bias), ``ReLU``, ``Flatten`` (``start_dim=1``,
``end_dim=-1``), ``Identity`` and ``Dropout`` (treated as the identity, i.e. the network
is read as in ``eval()`` mode). Consecutive ``Linear`` layers with no ``ReLU`` in between
are composed into one affine layer. Any other layer (``Conv2d``, ``Sigmoid``,
``BatchNorm1d``, a custom module, ...) raises
:class:`~reluscope.errors.UnsupportedLayerError` naming the layer and its index.

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
from reluscope.network import ReLUNetwork

LOWER_ATTR = "reluscope_lower"
UPPER_ATTR = "reluscope_upper"

_SUPPORTED = "Linear, ReLU, Flatten, Identity, Dropout, nested Sequential"
_PASSTHROUGH = {"Identity", "Dropout", "Dropout1d", "AlphaDropout"}


def from_torch(module: Any, *, lower: Any = None, upper: Any = None) -> ReLUNetwork:
    """Convert a PyTorch ``nn.Sequential`` (or a scripted/traced one) to a ReLUNetwork.

    Parameters
    ----------
    module
        An ``nn.Sequential`` of the layers listed in the module docstring, a single
        ``nn.Linear``, or a TorchScript module (``torch.jit.script``/``trace``) of one.
    lower, upper
        The input box. Default: the module's ``reluscope_lower``/``reluscope_upper``
        attributes when present (modules written by :func:`save_torch`), else
        ``[0, 1]^n0``.

    Raises
    ------
    UnsupportedLayerError
        A layer is not one of those accepted, or the module is not a chain of layers.
    """
    layers = _leaf_layers(module)
    weights: list[np.ndarray] = []
    biases: list[np.ndarray] = []
    pending: tuple[np.ndarray, np.ndarray] | None = None  # affine map since last ReLU
    width: int | None = None  # features of the current tensor, once known
    after_relu = False
    for index, (name, layer) in enumerate(layers):
        kind = _kind(layer)
        if kind == "Linear":
            w = _tensor_to_numpy(layer.weight)
            b = (
                np.zeros(w.shape[0])
                if getattr(layer, "bias", None) is None
                else _tensor_to_numpy(layer.bias)
            )
            if width is not None and w.shape[1] != width:
                raise UnsupportedLayerError(
                    f"layer {index} ({name!r}, Linear) expects {w.shape[1]} inputs but the "
                    f"previous layer gives {width}"
                )
            pending = (w, b) if pending is None else (w @ pending[0], w @ pending[1] + b)
            width = int(w.shape[0])
            after_relu = False
        elif kind == "ReLU":
            if after_relu:
                continue  # relu(relu(t)) = relu(t)
            if pending is None:
                if width is None:
                    raise UnsupportedLayerError(
                        f"layer {index} ({name!r}, ReLU) comes before any Linear layer, so "
                        "the input size is unknown; remove it or start with a Linear layer"
                    )
                pending = (np.eye(width), np.zeros(width))
            weights.append(pending[0])
            biases.append(pending[1])
            pending = None
            after_relu = True
        elif kind == "Flatten":
            start, end = _flatten_dims(layer)
            if start != 1 or end != -1:
                raise UnsupportedLayerError(
                    f"layer {index} ({name!r}, Flatten) has start_dim={start}, "
                    f"end_dim={end}; only Flatten(start_dim=1, end_dim=-1) is supported"
                )
        elif kind in _PASSTHROUGH:
            continue
        else:
            raise UnsupportedLayerError(
                f"layer {index} ({name!r}) is a {kind}, which is not supported; reluscope "
                f"handles fully connected ReLU networks ({_SUPPORTED})"
                + (
                    "; analyse the logits: drop the final softmax, e.g. model[:-1]"
                    if kind in ("Softmax", "LogSoftmax")
                    else ""
                )
            )
    relu = [True] * len(weights)
    if pending is not None:
        weights.append(pending[0])
        biases.append(pending[1])
        relu.append(False)
    if not weights:
        raise UnsupportedLayerError(
            f"the module has no Linear layer ({len(layers)} layers); nothing to analyse"
        )
    if lower is None and upper is None:
        lower = _list_attr(module, LOWER_ATTR)
        upper = _list_attr(module, UPPER_ATTR)
    return ReLUNetwork(weights, biases, relu=relu, lower=lower, upper=upper)


def to_torch(network: ReLUNetwork) -> Any:
    """The network as a float64 ``nn.Sequential`` of ``Linear`` and ``ReLU`` layers.

    Its domain is attached as the attributes ``reluscope_lower``/``reluscope_upper``
    (lists of floats), which :func:`from_torch` reads back. Feed it float64 inputs.
    """
    torch = _import_torch()
    nn = torch.nn

    layers: list[Any] = []
    for w, b, has_relu in zip(network.weights, network.biases, network.relu, strict=True):
        linear = nn.Linear(w.shape[1], w.shape[0], dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(np.array(w)))
            linear.bias.copy_(torch.from_numpy(np.array(b)))
        layers.append(linear)
        if has_relu:
            layers.append(nn.ReLU())
    sequential = nn.Sequential(*layers).eval()
    setattr(sequential, LOWER_ATTR, [float(v) for v in network.lower])
    setattr(sequential, UPPER_ATTR, [float(v) for v in network.upper])
    return sequential


def save_torch(network: ReLUNetwork, path: str | Path) -> None:
    """Write ``network`` with ``torch.save`` as a float64 ``nn.Sequential`` (see to_torch)."""
    torch = _import_torch()

    try:
        torch.save(to_torch(network), str(path))
    except (OSError, RuntimeError) as exc:  # torch reports a missing directory as Runtime
        raise ModelFormatError(f"{path}: cannot write the PyTorch file ({exc})") from None


def load_torch(path: str | Path) -> ReLUNetwork:
    """Read a network from a ``torch.save``d module or a TorchScript file.

    A TorchScript archive (``torch.jit.save``) is opened with ``torch.jit.load``; any
    other file with ``torch.load(path, weights_only=False)``, which **unpickles arbitrary
    Python objects and can run code**: only load files you trust. A file holding a
    ``state_dict`` (a dict of tensors) is rejected, since it does not say how the layers
    connect: save the module itself (``torch.save(model, path)``) or build the module and
    call :func:`from_torch`.
    """
    torch = _import_torch()

    if _is_torchscript(path):
        try:
            module = torch.jit.load(str(path), map_location="cpu")
        except Exception as exc:  # torch raises RuntimeError with C++ messages
            raise ModelFormatError(
                f"{path}: not a readable TorchScript file ({type(exc).__name__}: "
                f"{_first_line(exc)})"
            ) from None
        return from_torch(module)
    try:
        obj = torch.load(str(path), map_location="cpu", weights_only=False)
    except Exception as exc:  # UnpicklingError, RuntimeError, EOFError, ...
        raise ModelFormatError(
            f"{path}: not a readable PyTorch file ({type(exc).__name__}: {_first_line(exc)}); "
            "save the model with torch.save(module, path) or torch.jit.save"
        ) from None
    if isinstance(obj, dict):
        raise ModelFormatError(
            f"{path}: holds a dict ({'a state_dict' if _is_state_dict(obj) else 'not a module'})"
            ", which does not say how the layers connect; save the whole module with "
            "torch.save(model, path), or rebuild the module, load_state_dict it and call "
            "reluscope.io.torch.from_torch(model)"
        )
    if not isinstance(obj, torch.nn.Module):
        raise ModelFormatError(
            f"{path}: holds a {type(obj).__name__}, not a torch.nn.Module; save the model "
            "with torch.save(module, path)"
        )
    return from_torch(obj)


# ----------------------------------------------------------------------------- helpers
def _import_torch() -> Any:
    try:
        import torch
    except ImportError:
        raise ModelFormatError(
            "reading or writing .pt/.pth files needs PyTorch, which is not installed; "
            "install it with: pip install 'reluscope[torch]'"
        ) from None
    return torch


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
            raise UnsupportedLayerError(
                f"the module is a {kind}, not an nn.Sequential: its forward() could connect "
                "its layers in any order; wrap the layers in nn.Sequential (or export the "
                "model to ONNX) and load that"
            )
        return [(kind, module)]
    return [(prefix.rstrip("."), module)]


def _flatten_dims(layer: Any) -> tuple[int, int]:
    """``(start_dim, end_dim)`` of a Flatten; traced modules keep them only in their code."""
    if hasattr(layer, "start_dim"):
        return int(layer.start_dim), int(getattr(layer, "end_dim", -1))
    match = re.search(r"flatten\(\w+, (-?\d+)(?:, (-?\d+))?\)", str(getattr(layer, "code", "")))
    if match is None:
        return 1, -1
    return int(match.group(1)), int(match.group(2) or -1)


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


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else "no details"


__all__ = ["from_torch", "load_torch", "save_torch", "to_torch"]
