"""Model file formats by extension: which reader or writer a path goes to."""

from __future__ import annotations

from pathlib import Path

from reluscope.errors import ModelFormatError

FORMATS = {
    ".npz": "npz", ".onnx": "onnx", ".pt": "torch", ".pth": "torch", ".pt2": "torch-export",
}


def format_of(path: str | Path) -> str:
    """The format of ``path`` by its extension (``npz``, ``onnx``, ``torch``,
    ``torch-export``); a clear error for any other."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ModelFormatError(
            f"{path}: unknown model format {suffix or '(no extension)'!r}; use one of "
            f"{', '.join(sorted(FORMATS))}"
        )
    return FORMATS[suffix]


__all__ = ["FORMATS", "format_of"]
