"""One progress-bar helper: a tqdm bar on stderr when asked for, else nothing."""

from __future__ import annotations

import sys
from typing import Any


def progress_bar(enabled: bool, **options: Any) -> Any:
    """A ``tqdm`` bar on stderr with ``options`` (``total``, ``desc``, ``unit``, ...) when
    ``enabled``, else None. Callers pass ``progress`` through; the CLI enables it only on
    a terminal (``reluscope.cli.common.show_progress``), so pipes and tests stay quiet."""
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(file=sys.stderr, **options)
