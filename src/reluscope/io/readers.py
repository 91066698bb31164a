"""Reading a network: :func:`load` from a path or an in-memory model (the format follows
the file extension; frameworks are imported only when used)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from reluscope.errors import ModelFormatError
from reluscope.io.formats import format_of
from reluscope.network import ReLUNetwork


def load(model: Any, **kwargs: Any) -> ReLUNetwork:
    """Read a network from a file or from an in-memory model.

    ``model`` is a path (the format follows the extension), a ``torch.nn.Module`` or a
    ``torch.export.ExportedProgram`` (see :func:`from_torch`), an ``onnx.ModelProto``
    (see :func:`from_onnx`), a
    ``(weights, biases)`` pair of lists (``W`` of shape ``(n_out, n_in)``; every layer
    followed by a ReLU except the last), or a :class:`ReLUNetwork` (returned as is).
    Keyword arguments go to the PyTorch reader (``input_shape=(C, H, W)`` for a model
    starting with a convolution) or the ONNX one.
    """
    if isinstance(model, ReLUNetwork):
        return model
    if isinstance(model, (str, Path)):
        return _load_path(model, **kwargs)
    if isinstance(model, tuple) and len(model) == 2:
        weights, biases = model
        relu = [True] * (len(weights) - 1) + [False] if len(weights) else None
        return ReLUNetwork(list(weights), list(biases), relu=relu)
    torch, onnx = sys.modules.get("torch"), sys.modules.get("onnx")
    if torch is not None and isinstance(model, (torch.nn.Module, torch.export.ExportedProgram)):
        return from_torch(model, **kwargs)
    if onnx is not None and isinstance(model, onnx.ModelProto):
        return from_onnx(model, **kwargs)
    raise ModelFormatError(
        f"cannot read a {type(model).__name__}; give a path (.onnx, .pt/.pth, .npz), a "
        "torch.nn.Module, an onnx.ModelProto or a (weights, biases) pair of lists"
    )


def from_torch(module: Any, **kwargs: Any) -> ReLUNetwork:
    """A :class:`ReLUNetwork` from an in-memory ``torch.nn.Module`` (see io.torch)."""
    from reluscope.io.torch import from_torch as convert

    return convert(module, **kwargs)


def from_onnx(model: Any, **kwargs: Any) -> ReLUNetwork:
    """A :class:`ReLUNetwork` from an in-memory ``onnx.ModelProto`` (see io.onnx)."""
    from reluscope.io.onnx import from_onnx_model

    return from_onnx_model(model, **kwargs)


def _load_path(path: str | Path, **kwargs: Any) -> ReLUNetwork:
    fmt = format_of(path)
    if not Path(path).is_file():
        raise ModelFormatError(f"{path}: no such file")
    if fmt == "npz":
        from reluscope.io.npz import load_npz

        return load_npz(path)
    if fmt == "onnx":
        from reluscope.io.onnx import load_onnx

        return load_onnx(path)
    if fmt == "torch-export":
        from reluscope.io.torch import load_exported

        return load_exported(path, **kwargs)
    from reluscope.io.torch import load_torch

    return load_torch(path, **kwargs)


__all__ = ["from_onnx", "from_torch", "load"]
