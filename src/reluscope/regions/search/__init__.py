"""The exact depth-first search over activation patterns (methods ``lp`` and ``highs``).

Shared by :mod:`reluscope.regions.count` (which runs it to the end) and
:mod:`reluscope.regions.estimate` (which samples its tree).

- :mod:`.engine`: ``count_regions_lp``, the prepared network, tasks and slices, the
  HiGHS searcher, and the process-pool scheduling;
- :mod:`.compiled` and :mod:`._kernel`: the compiled searcher (numba, its own certified
  dual simplex);
- :mod:`.distributed`: the same slices as Dask tasks;
- :mod:`.checkpoint`: saving and resuming a search's frontier.
"""

from reluscope.regions.search.engine import PreparedNetwork, Task, count_regions_lp, prepare

__all__ = ["PreparedNetwork", "Task", "count_regions_lp", "prepare"]
