"""matplotlib for reluscope's pictures: imported on first use, non-interactive backend."""

from __future__ import annotations

from typing import Any

from reluscope.errors import ReluscopeError


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the Agg backend (files only), or a one-line error that
    says how to install it."""
    try:
        import matplotlib
    except ImportError:
        raise ReluscopeError("pictures need matplotlib: pip install 'reluscope[plot]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
