"""Short reprs for result dataclasses: scalars in full, arrays and long sequences as a
summary, so a result printed in a notebook fits on a few lines."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

#: sequences longer than this are summarised
_SHORT = 6


def short_repr(result: Any) -> str:
    """``Type(field=value, ...)`` with every array shown as ``array(shape)`` and every
    long sequence as ``[n items]``."""
    parts = [f"{f.name}={_short(getattr(result, f.name))}" for f in dataclasses.fields(result)
             if f.repr]
    return f"{type(result).__name__}({', '.join(parts)})"


def _short(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"array(shape={value.shape}, dtype={value.dtype})"
    if isinstance(value, tuple | list) and (
        len(value) > _SHORT or any(isinstance(v, np.ndarray) for v in value)
    ):
        return f"[{len(value)} items]"
    if isinstance(value, dict) and len(value) > _SHORT:
        return f"{{{len(value)} items}}"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return f"{type(value).__name__}(...)"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
