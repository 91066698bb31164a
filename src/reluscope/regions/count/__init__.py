"""Exact counting: ``count_regions`` and the engines it dispatches to.

- :mod:`.dispatch`: ``count_regions``, the method names and ``method="auto"``'s choice;
- :mod:`.geometric` and :mod:`._geometric_kernel`: splitting the domain into cells
  (few inputs);
- :mod:`.milp_enum`: the paper's MILP enumeration and SCIP's counter;
- :mod:`.argmax` and :mod:`.argmax_milp`: max-pool networks, each window one unit whose
  sides are its argmax (a search and a maxout MILP);
- :mod:`.verify`: the LP check of each pattern the MILP enumeration reports.

The ``lp`` and ``highs`` methods run the search of :mod:`reluscope.regions.search`.
"""

from reluscope.regions.count.dispatch import (
    COUNT_METHODS,
    GEOMETRIC_MAX_INPUTS,
    choose_method,
    count_regions,
)
from reluscope.regions.result import RegionCount

__all__ = ["COUNT_METHODS", "GEOMETRIC_MAX_INPUTS", "RegionCount", "choose_method",
           "count_regions"]
