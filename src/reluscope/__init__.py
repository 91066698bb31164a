"""reluscope: look inside trained ReLU networks with mixed-integer linear programming.

The public API is small and imports no solver and no deep-learning framework until a
function that needs one is called::

    import reluscope
    net = reluscope.load("model.onnx")
    reluscope.tighten_bounds(net, method="lp")      # stable units
    reluscope.count_regions(net)                     # exact number of linear regions
    reluscope.estimate_regions(net, method="tree")   # the count, estimated, 95% interval
    reluscope.estimate_regions(net, xor_size=3)      # MIPBound probabilistic lower bound
    reluscope.upper_bounds(net)                      # Configuration UB, Empirical UB, ...
    reluscope.compress(net)                          # LEO lossless compression
"""

from __future__ import annotations

from reluscope.errors import (
    DomainError,
    EmptyDomainError,
    ModelFormatError,
    NetworkError,
    ReluscopeError,
    SolverError,
    UnsupportedLayerError,
)
from reluscope.lazy import lazy_getattr
from reluscope.network import ReLUNetwork

__version__ = "0.1.0"

# public name -> module defining it, imported on first use
_LAZY = {
    "load": "reluscope.io",
    "save": "reluscope.io",
    "from_torch": "reluscope.io",
    "from_onnx": "reluscope.io",
    "IOSignature": "reluscope.network",
    "linf_ball": "reluscope.domains",
    "Status": "reluscope.status",
    "box_from_data": "reluscope.domains",
    "polytope_from_file": "reluscope.domains",
    "Bounds": "reluscope.bounds",
    "tighten_bounds": "reluscope.bounds",
    "RegionCount": "reluscope.regions.result",
    "count_regions": "reluscope.regions.count",
    "RegionEstimate": "reluscope.regions.estimate",
    "estimate_regions": "reluscope.regions.estimate",
    "CountEstimate": "reluscope.regions.estimate",
    "UpperBounds": "reluscope.regions.upper",
    "upper_bounds": "reluscope.regions.upper",
    "CompressionResult": "reluscope.compression",
    "compress": "reluscope.compression",
    "find_stable_units": "reluscope.compression",
    "example_network": "reluscope.data",
    "SliceResult": "reluscope.regions.views",
    "LineResult": "reluscope.regions.views",
    "slice_regions": "reluscope.regions.views",
    "line_regions": "reluscope.regions.views",
    "LocalCounts": "reluscope.regions.views",
    "local_regions": "reluscope.regions.views",
}


__getattr__ = lazy_getattr(__name__, _LAZY)


__all__ = [
    "DomainError",
    "EmptyDomainError",
    "ModelFormatError",
    "NetworkError",
    "ReLUNetwork",
    "ReluscopeError",
    "SolverError",
    "UnsupportedLayerError",
    *_LAZY,
]
