"""Loaders and writers; the format follows the file extension.

``.npz`` (reluscope's NumPy layout), ``.onnx`` (ONNX), ``.pt``/``.pth`` (a ``torch.save``d
module, or a TorchScript file), ``.pt2`` (a ``torch.export`` program, read only).
Frameworks are imported only when used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reluscope.lazy import lazy_getattr

if TYPE_CHECKING:  # the names below, for type checkers; at run time imported on first use
    from reluscope.io.formats import FORMATS, format_of
    from reluscope.io.readers import from_onnx, from_torch, load
    from reluscope.io.writers import save

# public name -> module defining it, imported on first use: importing a submodule (say
# io.writers, which ReLUNetwork.save calls) then runs no reader, and io never imports
# reluscope.network at import time
_LAZY = {
    "load": "reluscope.io.readers",
    "from_torch": "reluscope.io.readers",
    "from_onnx": "reluscope.io.readers",
    "save": "reluscope.io.writers",
    "FORMATS": "reluscope.io.formats",
    "format_of": "reluscope.io.formats",
}


__getattr__ = lazy_getattr(__name__, _LAZY)


__all__ = ["FORMATS", "format_of", "from_onnx", "from_torch", "load", "save"]
