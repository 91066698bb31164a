"""Loaders and writers; the format follows the file extension.

``.npz`` (reluscope's NumPy layout), ``.onnx`` (ONNX), ``.pt``/``.pth`` (a ``torch.save``d
``nn.Sequential``, or a TorchScript file). Frameworks are imported only when used.
"""

from __future__ import annotations

from pathlib import Path

from reluscope.errors import ModelFormatError
from reluscope.network import ReLUNetwork

FORMATS = {".npz": "npz", ".onnx": "onnx", ".pt": "torch", ".pth": "torch"}


def _format_of(path: str | Path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ModelFormatError(
            f"{path}: unknown model format {suffix or '(no extension)'!r}; use one of "
            f"{', '.join(sorted(FORMATS))}"
        )
    return FORMATS[suffix]


def load(path: str | Path) -> ReLUNetwork:
    """Read a network from ``path``, picking the format by extension."""
    fmt = _format_of(path)
    if not Path(path).is_file():
        raise ModelFormatError(f"{path}: no such file")
    if fmt == "npz":
        from reluscope.io.npz import load_npz

        return load_npz(path)
    if fmt == "onnx":
        from reluscope.io.onnx import load_onnx

        return load_onnx(path)
    from reluscope.io.torch import load_torch

    return load_torch(path)


def save(network: ReLUNetwork, path: str | Path) -> None:
    """Write ``network`` to ``path`` in the format of its extension."""
    fmt = _format_of(path)
    parent = Path(path).resolve().parent
    if not parent.is_dir():
        raise ModelFormatError(f"{path}: the folder {parent} does not exist; create it first")
    if fmt == "npz":
        from reluscope.io.npz import save_npz

        save_npz(network, path)
    elif fmt == "onnx":
        from reluscope.io.onnx import save_onnx

        save_onnx(network, path)
    else:
        from reluscope.io.torch import save_torch

        save_torch(network, path)


__all__ = ["FORMATS", "load", "save"]
