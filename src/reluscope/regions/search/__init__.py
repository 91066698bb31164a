"""The exact depth-first search over activation patterns (methods ``lp`` and ``highs``).

Shared by :mod:`reluscope.regions.count` (which runs it to the end) and
:mod:`reluscope.regions.estimate` (which samples its tree).

- :mod:`.core`: a task, the prepared network, a slice's outcome, the ``Searcher`` protocol;
- :mod:`.engine`: ``count_regions_lp``, the driver (frontier, checkpoint, patterns, stop);
- :mod:`.searchers`: the one map from a count method to its searcher;
- :mod:`.compiled` and :mod:`._kernel`: the compiled searcher (numba, its own certified
  dual simplex);
- :mod:`.highs`: the HiGHS searcher (one warm-started LP per process);
- :mod:`.schedule`: the one scheduling loop, with the process-pool back end;
- :mod:`.distributed`: Dask: connecting to a cluster, and its back end;
- :mod:`.checkpoint`: saving and resuming a search's frontier.
"""

from reluscope.regions.search.core import PreparedNetwork, Searcher, SliceOutcome, Task, prepare
from reluscope.regions.search.engine import count_regions_lp

__all__ = ["PreparedNetwork", "Searcher", "SliceOutcome", "Task", "count_regions_lp", "prepare"]
