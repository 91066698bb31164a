"""Upper bounds on the count: ``upper_bounds`` and the bounds it combines.

- :mod:`.analytic`: Trivial, Zaslavsky, Montufar and Configuration UB, APP-k, and
  ``upper_bounds``;
- :mod:`.empirical`: the Empirical UB from the network's bounds (Theorem 2);
- :mod:`.constructions`: networks reaching the Configuration UB (the zigzag network).
"""

from reluscope.regions.upper.analytic import UpperBounds, app_k, configuration_ub, upper_bounds
from reluscope.regions.upper.empirical import empirical_ub, theorem2_bound

__all__ = ["UpperBounds", "app_k", "configuration_ub", "empirical_ub", "theorem2_bound",
           "upper_bounds"]
