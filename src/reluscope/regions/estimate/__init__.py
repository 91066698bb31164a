"""Estimating the count: ``estimate_regions`` and its two estimators.

- :mod:`.dispatch`: ``estimate_regions`` (``method="tree"``, ``"mipbound"``, ``"mbound"``);
- :mod:`.tree_estimate` and :mod:`.probes`: the count itself with a 95% interval, by
  sampling the tree of the exact search;
- :mod:`.mipbound` and :mod:`.parity`: MIPBound's and MBound's probabilistic lower bounds
  with random XOR (parity) constraints.
"""

from reluscope.regions.estimate.dispatch import ESTIMATE_METHODS, estimate_regions
from reluscope.regions.estimate.mipbound import RegionEstimate
from reluscope.regions.estimate.tree_estimate import CountEstimate, estimate_count

__all__ = ["ESTIMATE_METHODS", "CountEstimate", "RegionEstimate", "estimate_count",
           "estimate_regions"]
