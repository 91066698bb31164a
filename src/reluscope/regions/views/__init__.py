"""The regions where a reader can look at them: a 2-D slice, a line, balls around points.

- :mod:`.slices`: ``slice_regions`` and ``line_regions`` (exact, by clipping polygons);
- :mod:`.local`: ``local_regions`` (counts in small boxes around given points);
- :mod:`.plots`: their pictures (matplotlib, imported when drawn).
"""

from reluscope.regions.views.local import LocalCounts, local_regions
from reluscope.regions.views.slices import LineResult, SliceResult, line_regions, slice_regions

__all__ = ["LineResult", "LocalCounts", "SliceResult", "line_regions", "local_regions",
           "slice_regions"]
