"""Package faces that import their public names on first use (PEP 562).

A package's ``__init__`` that imports its modules at once runs them whenever any one
submodule is imported, which ties packages together (``io`` and ``network``, ``bounds``
and ``milp`` imported each other that way); with :func:`lazy_getattr` it runs nothing.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_getattr(package: str, names: Mapping[str, str]) -> Callable[[str], Any]:
    """The module ``__getattr__`` of ``package``: a name of ``names`` (name -> module
    defining it) is imported from its module when first read."""

    def __getattr__(name: str) -> Any:
        if name in names:
            return getattr(importlib.import_module(names[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__


__all__ = ["lazy_getattr"]
