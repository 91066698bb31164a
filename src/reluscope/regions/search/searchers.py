"""The one place that maps a count method to its searcher.

``count_regions(method="lp")`` runs the compiled searcher (engine ``"compiled"``),
``method="highs"`` the HiGHS searcher (engine ``"highs"``). The engine names are those of
:func:`~reluscope.regions.search.engine.count_regions_lp` and of checkpoints' workers.
"""

from __future__ import annotations

from reluscope.errors import ReluscopeError
from reluscope.regions.search.compiled import CompiledSearcher
from reluscope.regions.search.core import PreparedNetwork, Searcher
from reluscope.regions.search.highs import HighsSearcher

#: engine name -> searcher class
ENGINES: dict[str, type[CompiledSearcher] | type[HighsSearcher]] = {
    "compiled": CompiledSearcher,
    "highs": HighsSearcher,
}
#: count method -> engine name (the methods the search runs)
ENGINE_OF_METHOD = {"lp": "compiled", "highs": "highs"}
#: engine name -> count method (what a result reports)
METHOD_OF_ENGINE = {engine: method for method, engine in ENGINE_OF_METHOD.items()}


def new_searcher(prep: PreparedNetwork, record: bool, engine: str) -> Searcher:
    """The searcher of ``engine`` for ``prep``; ``record``: keep every region's pattern."""
    if engine not in ENGINES:
        raise ReluscopeError(
            f"unknown search engine {engine!r}; use one of {', '.join(sorted(ENGINES))}")
    return ENGINES[engine](prep, record_patterns=record)
