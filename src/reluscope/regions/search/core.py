"""What every part of the search shares: a task, the prepared network, what a slice of
search proved, and the :class:`Searcher` interface both searchers implement.

The search decides the ReLU units one at a time, layer by layer; a node of its tree is a
partial activation pattern and its polyhedron in input space, a leaf a counted linear
region (the definition is in :mod:`reluscope.tolerances`). Work is cut into *tasks* (the
decisions leading to a node, plus a witness point), each searched for a time slice; what
is left of a slice comes back as new tasks. This single mechanism gives the parallel
split (processes or Dask), the time limit, Ctrl-C, and checkpoints: regions are counted
only in finished slices, and a task is never lost, so a resumed run counts every region
exactly once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from reluscope.bounds.interval import interval_bounds
from reluscope.bounds.result import Bounds
from reluscope.network import FloatArray, ReLUNetwork
from reluscope.relu_form import require_plain_relu
from reluscope.tolerances import BOUND_PADDING

#: A unit of search work: the decisions leading to a node, in order, each coded as
#: ``2 * unit + side`` (side 1 active, 0 inactive), and a point of the node's polyhedron.
Task = tuple[NDArray[np.int32], FloatArray]


@dataclass(frozen=True)
class PreparedNetwork:
    """The arrays the search needs, picklable for worker processes."""

    weights: tuple[FloatArray, ...]  # ReLU layers only
    biases: tuple[FloatArray, ...]
    lower: FloatArray
    upper: FloatArray
    global_lower: FloatArray  # per unit, from Bounds
    global_upper: FloatArray
    box_lower: FloatArray  # per unit: finite valid bounds (interval arithmetic, padded)
    box_upper: FloatArray
    layer_of: tuple[int, ...]  # per unit: index among the ReLU layers
    index_in_layer: tuple[int, ...]
    layer_start: tuple[int, ...]
    #: polytope rows ``domain_A x <= domain_b`` of the domain (``m = 0``: the box alone)
    domain_A: FloatArray = field(default_factory=lambda: np.zeros((0, 0)))
    domain_b: FloatArray = field(default_factory=lambda: np.zeros(0))
    #: a point of the domain: the root task's witness
    root_point: FloatArray | None = None

    @property
    def has_polytope(self) -> bool:
        return bool(self.domain_A.shape[0])

    @property
    def n_units(self) -> int:
        return len(self.layer_of)

    @property
    def n_inputs(self) -> int:
        return int(self.lower.shape[0])

    def root_task(self) -> Task:
        """The search's first task: no decision, a point of the domain (the box's
        midpoint when none was given)."""
        point = self.root_point if self.root_point is not None else (
            (self.lower + self.upper) / 2)
        return np.zeros(0, dtype=np.int32), np.asarray(point, dtype=float)


def prepare(network: ReLUNetwork, bounds: Bounds | None) -> PreparedNetwork:
    """Extract the ReLU layers and per-unit global bounds."""
    require_plain_relu(network, "the lp search")
    layers = network.relu_layers
    weights = tuple(np.ascontiguousarray(network.weights[i]) for i in layers)
    biases = tuple(np.asarray(network.biases[i]) for i in layers)
    layer_of: list[int] = []
    index_in_layer: list[int] = []
    starts: list[int] = []
    g_lo: list[FloatArray] = []
    g_hi: list[FloatArray] = []
    for k, layer in enumerate(layers):
        width = network.widths[layer]
        starts.append(len(layer_of))
        layer_of.extend([k] * width)
        index_in_layer.extend(range(width))
        if bounds is not None:
            g_lo.append(np.asarray(bounds.lower[layer], dtype=float))
            g_hi.append(np.asarray(bounds.upper[layer], dtype=float))
        else:
            g_lo.append(np.full(width, -np.inf))
            g_hi.append(np.full(width, np.inf))
    interval = interval_bounds(network)
    box_lo = [interval.lower[i] - BOUND_PADDING for i in layers]
    box_hi = [interval.upper[i] + BOUND_PADDING for i in layers]
    glo = np.concatenate(g_lo) if g_lo else np.zeros(0)
    ghi = np.concatenate(g_hi) if g_hi else np.zeros(0)
    blo = np.maximum(np.concatenate(box_lo), glo) if box_lo else np.zeros(0)
    bhi = np.minimum(np.concatenate(box_hi), ghi) if box_hi else np.zeros(0)
    return PreparedNetwork(
        weights=weights,
        biases=biases,
        lower=np.asarray(network.lower, dtype=float),
        upper=np.asarray(network.upper, dtype=float),
        global_lower=glo,
        global_upper=ghi,
        box_lower=blo,
        box_upper=np.maximum(bhi, blo),
        layer_of=tuple(layer_of),
        index_in_layer=tuple(index_in_layer),
        layer_start=tuple(starts),
        domain_A=np.asarray(network.domain_A, dtype=float),
        domain_b=np.asarray(network.domain_b, dtype=float),
        root_point=network.domain_point(),
    )


@dataclass
class SliceOutcome:
    """What one slice of search proved: regions in the finished part, what is left."""

    regions: int = 0
    lp_solves: int = 0
    nodes: int = 0
    remaining: list[Task] = field(default_factory=list)
    packed: bytes = b""
    #: wall seconds the worker spent on the slice (set by the pool / cluster wrappers)
    busy_seconds: float = 0.0

class Searcher(Protocol):
    """A depth-first searcher over activation patterns, one per process (or worker thread).

    Implemented by :class:`~reluscope.regions.search.compiled.CompiledSearcher` (method
    ``lp``) and :class:`~reluscope.regions.search.highs.HighsSearcher` (method ``highs``);
    both take the same tasks, so a frontier or checkpoint of one resumes in the other.
    """

    @property
    def lp_solves(self) -> int:
        """LPs solved so far by this searcher."""
        ...

    def run(
        self, task: Task, *, slice_end: float, stop: threading.Event | None = None
    ) -> SliceOutcome:
        """Search the subtree of ``task`` until done, ``slice_end`` (monotonic) or ``stop``."""
        ...
