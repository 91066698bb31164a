"""The linear regions of a ReLU network, one subpackage per question.

- :mod:`.count`: how many regions exactly (``count_regions``: geometric, compiled / HiGHS
  search, MILP enumeration, SCIP counting);
- :mod:`.estimate`: how many regions approximately (``estimate_regions``: the tree
  estimator over the exact search, MIPBound / MBound lower bounds);
- :mod:`.upper`: how many regions at most (``upper_bounds``: analytical and Empirical UB);
- :mod:`.views`: the regions on a 2-D slice, a line, or around points (``slice_regions``,
  ``line_regions``, ``local_regions``);
- :mod:`.search`: the depth-first search over activation patterns that ``count`` runs and
  ``estimate`` samples (compiled kernel, HiGHS searcher, process pool, Dask, checkpoints);
- :mod:`.result` (``RegionCount``) and :mod:`.patterns` (pattern files): shared by them.

Nothing is imported here: each subpackage's ``__init__`` is its public face.
"""
