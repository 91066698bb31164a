"""Results as JSON-ready data, read from their fields: the one helper behind every
result's ``to_dict``.

:func:`fields_dict` gives a result dataclass's fields, each through :func:`json_ready`:
a :class:`~reluscope.status.Status` (any enum) as its word, NumPy scalars and arrays as
Python numbers and lists, tuples as lists, paths as strings, mapping keys as strings
(as JSON writes them), a nested result through its own ``to_dict`` (its fields when it
has none), and a NaN or infinite float as None: strict JSON has neither, and the
command line's ``--json`` writes null for them too. Counts stay Python ints of any size.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Collection, Mapping
from pathlib import PurePath
from typing import Any

import numpy as np


def json_ready(value: Any) -> Any:
    """``value`` as plain JSON data (see the module docstring); TypeError if it has no
    JSON form."""
    if isinstance(value, enum.Enum):
        return value.value
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, np.generic):
        return json_ready(value.item())
    if isinstance(value, np.ndarray):
        return json_ready(value.tolist())
    if isinstance(value, PurePath):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        own = getattr(value, "to_dict", None)
        return own() if callable(own) else fields_dict(value)
    if isinstance(value, Mapping):
        return {key if isinstance(key, str) else str(json_ready(key)): json_ready(item)
                for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(item) for item in value]
    raise TypeError(f"no JSON form for a {type(value).__name__}")


def fields_dict(result: Any, *, exclude: Collection[str] = ()) -> dict[str, Any]:
    """The fields of the dataclass instance ``result`` (but ``exclude``), in their order,
    as JSON-ready data."""
    return {
        field.name: json_ready(getattr(result, field.name))
        for field in dataclasses.fields(result)
        if field.name not in exclude
    }


__all__ = ["fields_dict", "json_ready"]
