"""estimate_regions: one entry point for the three estimates of the number of regions.

``method="tree"`` (:mod:`.tree_estimate`): an unbiased estimate of the count itself with
a confidence interval, from random runs over the exact counting search.
``"mipbound"`` and ``"mbound"`` (:mod:`.mipbound`): the paper's probabilistic *lower
bound* from random parity constraints. docs/estimate.md says when to use which.
"""

from __future__ import annotations

from typing import Any

from reluscope import interrupts
from reluscope.bounds import Bounds
from reluscope.errors import ReluscopeError
from reluscope.network import ReLUNetwork
from reluscope.regions.estimate import mipbound
from reluscope.regions.estimate.tree_estimate import (
    DEFAULT_POPULATION,
    CountEstimate,
    estimate_count,
)

#: Every estimate method: the tree estimate, then MIPBound's two.
ESTIMATE_METHODS = ("tree", *mipbound.METHODS)


@interrupts.entry_point
def estimate_regions(
    network: ReLUNetwork,
    *,
    method: str = "mipbound",
    xor_size: int | None = None,
    confidence: float = 0.95,
    random_state: Any = None,
    time_limit: float | None = None,
    rel_error: float | None = 0.05,
    n_jobs: int | None = 1,
    population: int = DEFAULT_POPULATION,
    sampling: str = "depth",
    frontier: int | str | None = "auto",
    target_probability: float = 0.995,
    max_repetitions: int | None = None,
    bounds: Bounds | None = None,
    bounds_method: str = "lp",
    progress: bool = False,
    previous: mipbound.RegionEstimate | None = None,
) -> CountEstimate | mipbound.RegionEstimate:
    """Estimate the number of linear regions of ``network``.

    ``method="tree"`` returns a :class:`~.tree_estimate.CountEstimate` (estimate and
    ``confidence`` interval; options ``rel_error``, ``n_jobs``, ``population``,
    ``sampling``, ``frontier``);
    ``"mipbound"`` / ``"mbound"`` a :class:`~.mipbound.RegionEstimate` (a lower bound
    holding with a probability; options ``xor_size`` (default 3), ``target_probability``,
    ``max_repetitions``, ``previous``). ``time_limit`` is for the whole call; see
    :func:`~.tree_estimate.estimate_count` and :func:`~.mipbound.estimate_regions`.
    """
    if method not in ESTIMATE_METHODS:
        raise ReluscopeError(
            f"unknown estimate method {method!r}; choose one of {ESTIMATE_METHODS}"
        )
    if method == "tree":
        if xor_size is not None or previous is not None:
            raise ReluscopeError(
                "xor_size and previous belong to method='mipbound'/'mbound', not 'tree'"
            )
        return estimate_count(
            network, rel_error=rel_error, confidence=confidence, time_limit=time_limit,
            random_state=random_state, n_jobs=n_jobs, bounds=bounds,
            bounds_method=bounds_method, population=population, sampling=sampling,
            frontier=frontier, progress=progress,
        )
    return mipbound.estimate_regions(
        network, xor_size=3 if xor_size is None else xor_size, confidence=confidence,
        random_state=random_state, time_limit=time_limit, method=method,
        target_probability=target_probability, max_repetitions=max_repetitions,
        bounds=bounds, bounds_method=bounds_method, progress=progress, previous=previous,
    )


__all__ = ["ESTIMATE_METHODS", "CountEstimate", "estimate_regions"]
