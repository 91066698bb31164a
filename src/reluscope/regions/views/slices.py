"""Exact linear regions of a network restricted to a 2-D slice or a 1-D segment.

A slice through three inputs ``P0, P1, P2`` is the parallelogram
``x(s, t) = P0 + s (P1 - P0) + t (P2 - P0)``, ``(s, t)`` in ``[0, 1]^2``, clipped to the
network's input box; a line from ``A`` to ``B`` is ``x(s) = A + s (B - A)``, ``s`` in
``[0, 1]``, clipped likewise. Both are analysed in the slice coordinates ``p`` = (s, t)
or (s), where the network restricted to the slice is the *composed* network whose first
layer is ``W1 (x0 + M p) + b1``.

Method (exact, no sampling): the geometric counting engine
(:mod:`reluscope.regions.count.geometric`, ``split_cells(keep=True)``) splits the slice's
domain by the units of the restricted network, layer by layer, and hands back every
cell with its vertices and every cut it made. So a slice's count is, by construction,
``count_regions(method="geometric")`` on the restricted network, which equals the lp
engine's count.

* the **cells** ``T_S = {g_i >= 0 (i in S), g_i <= 0 (i not in S)}`` of positive area
  tile the slice's domain (they are what is drawn; their areas sum to its area);
* ``S`` is a linear region (``counted``), exactly as for
  :func:`~reluscope.regions.count.count_regions` on the restricted network, iff some
  point has ``g_i >= REGION_EPS`` on ``S`` and ``g_i <= 0`` off it
  (:mod:`reluscope.tolerances`). A cell where no point does (a sliver thinner than
  REGION_EPS, a *thin cell* of the geometric engine) is drawn but not counted; a region
  that only a segment or a point carries (e.g. two opposite units, ``g1 = -g2``) is
  counted, with measure 0 and, as its polygon, the part of the domain where its
  constraints hold (clipped with tolerance SLICE_TOL).

A slice whose domain is a segment is analysed as that segment (a line); one that is a
single point gets the region of that point, if any.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from reluscope.errors import DomainError, ReluscopeError
from reluscope.network import ReLUNetwork
from reluscope.relu_form import relu_form, require_no_max_pool
from reluscope.reprs import short_repr
from reluscope.serialise import fields_dict
from reluscope.status import COMPLETE, Status
from reluscope.tolerances import REGION_EPS, SLICE_TOL

FloatArray = NDArray[np.float64]

#: the unit square (counter-clockwise) and the unit interval, in slice coordinates
_SQUARE = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
_INTERVAL = np.array([[0.0], [1.0]])


# ------------------------------------------------------------------ geometry
def _measure(verts: FloatArray) -> float:
    """Area of a convex polygon (vertices in order), or length of an interval."""
    if len(verts) < 2:
        return 0.0
    if verts.shape[1] == 1:
        return float(verts[:, 0].max() - verts[:, 0].min())
    x, y = verts[:, 0], verts[:, 1]
    return 0.5 * abs(float(x @ np.roll(y, -1) - y @ np.roll(x, -1)))


def _dedupe(points: list[FloatArray]) -> FloatArray:
    out: list[FloatArray] = []
    for p in points:
        if not out or float(np.abs(p - out[-1]).max()) > SLICE_TOL:
            out.append(p)
    while len(out) > 1 and float(np.abs(out[0] - out[-1]).max()) <= SLICE_TOL:
        out.pop()
    return np.array(out)


def _clip(verts: FloatArray, vals: FloatArray, tol: float) -> FloatArray | None:
    """The part of a convex polygon where the affine ``vals`` (given at its vertices)
    is ``<= 0`` (Sutherland-Hodgman, one half-plane); None if it is empty."""
    inside = vals <= tol
    if inside.all():
        return verts
    if not inside.any():
        return None
    if verts.shape[1] == 1:  # an interval: at most one end moves
        lo, hi = (0, 1) if verts[0, 0] <= verts[1, 0] else (1, 0)
        a, b = verts[lo, 0], verts[hi, 0]
        va, vb = vals[lo], vals[hi]
        cut = a + (b - a) * min(1.0, max(0.0, va / (va - vb)))
        return np.array([[a], [cut]]) if inside[lo] else np.array([[cut], [b]])
    out: list[FloatArray] = []
    k = len(verts)
    for i in range(k):
        j = (i + 1) % k
        if inside[i]:
            out.append(verts[i])
        if inside[i] != inside[j]:
            vi, vj = vals[i], vals[j]
            t = min(1.0, max(0.0, vi / (vi - vj)))
            out.append(verts[i] + t * (verts[j] - verts[i]))
    return _dedupe(out)


# ------------------------------------------------------------------ results
@dataclass(frozen=True, eq=False)
class SliceCell:
    """One cell of a slice or line: an activation pattern and its tiling cell.

    Attributes
    ----------
    pattern
        Activation pattern (one bool per ReLU unit, layers in order).
    vertices
        The tiling cell ``T_S`` in slice coordinates: a convex polygon's vertices in
        counter-clockwise order (2-D) or the interval's two ends (1-D).
    measure
        Its area (2-D) or length (1-D) in slice coordinates; 0 for a degenerate cell.
    counted
        True iff the pattern is a linear region (``Q_S`` not empty, the definition of
        ``count``). False only for positive-area slivers thinner than REGION_EPS.
    """

    pattern: NDArray[np.bool_]
    vertices: FloatArray
    measure: float
    counted: bool

    def pattern_string(self) -> str:
        return "".join("1" if b else "0" for b in self.pattern)

    def interior_point(self) -> FloatArray:
        """The vertices' mean: inside the cell (on it, for a degenerate one)."""
        return self.vertices.mean(axis=0)


@dataclass(frozen=True, eq=False)
class SliceResult:
    """Exact linear regions of a network on a 2-D slice (``dim == 2``) or a segment (1).

    Attributes
    ----------
    regions
        Number of linear regions on the slice: equals ``count_regions`` on the composed
        network over the slice's domain. Always exact.
    exact, status, seconds, method
        As in :class:`~reluscope.regions.result.RegionCount` (``method="geometric"``).
    origin, directions
        The slice map ``x(p) = origin + directions @ p`` (``directions`` is
        ``(n0, dim)``).
    domain
        The slice's domain in slice coordinates: the unit square (interval) clipped to
        the network's input box.
    cells
        Every counted region and every uncounted positive-area sliver.
    boundaries
        Per ReLU layer, the cuts made by its units: ``(m, 2, 2)`` segments (2-D) or
        ``(m,)`` breakpoints (1-D), in slice coordinates.
    """

    __repr__ = short_repr

    regions: int
    exact: bool
    status: Status
    seconds: float
    dim: int
    origin: FloatArray
    directions: FloatArray
    domain: FloatArray
    cells: tuple[SliceCell, ...]
    boundaries: tuple[FloatArray, ...]
    method: str = "geometric"
    points: FloatArray = field(default_factory=lambda: np.zeros((0, 0)))

    @property
    def lower(self) -> int:
        return self.regions

    @property
    def domain_measure(self) -> float:
        return _measure(self.domain)

    def to_input(self, p: ArrayLike) -> FloatArray:
        """Input-space point(s) of slice coordinates ``p`` (``(dim,)`` or ``(k, dim)``)."""
        return np.asarray(p, float) @ self.directions.T + self.origin

    def to_dict(self, *, cells: bool = True) -> dict[str, Any]:
        """The fields but the geometry arrays, a summary of the cells, and (with
        ``cells``) every cell as its vertices, measure and pattern string."""
        out: dict[str, Any] = {
            **fields_dict(
                self, exclude=("origin", "directions", "cells", "boundaries", "points")
            ),
            "domain_measure": self.domain_measure,
            "cells_drawn": sum(1 for c in self.cells if c.measure > 0),
            "slivers": sum(1 for c in self.cells if not c.counted),
        }
        if cells:
            out["cells"] = [
                {
                    "vertices": c.vertices.tolist(),
                    "measure": c.measure,
                    "counted": c.counted,
                    "pattern": c.pattern_string(),
                }
                for c in self.cells
            ]
        return out


# ------------------------------------------------------------------ engine
_Cells = list[tuple[NDArray[np.bool_], FloatArray, float, bool]]


def _slice_domain(
    network: ReLUNetwork, origin: FloatArray, directions: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The slice's domain (the unit square or interval clipped to the network's box and
    polytope), and the rows ``rows @ p <= rhs`` of those constraints that cut it."""
    dim = directions.shape[1]
    start = (_SQUARE if dim == 2 else _INTERVAL).copy()
    lower, upper = np.asarray(network.lower, float), np.asarray(network.upper, float)
    rows = np.vstack([directions, -directions])
    rhs = np.concatenate([upper - origin, origin - lower])
    if network.has_polytope:  # A (origin + directions p) <= b
        rows = np.vstack([rows, network.domain_A @ directions])
        rhs = np.concatenate([rhs, network.domain_b - network.domain_A @ origin])
    scale = SLICE_TOL * (1.0 + np.abs(rows).sum(axis=1) + np.abs(rhs))
    cutting = np.flatnonzero((start @ rows.T - rhs).max(axis=0) > scale)
    domain: FloatArray | None = start
    for k in cutting:
        if domain is None:
            break
        domain = _clip(domain, domain @ rows[k] - rhs[k], scale[k])
    if domain is None:
        raise DomainError(
            "the slice does not meet the network's input domain; give points inside it"
        )
    return domain, rows[cutting], rhs[cutting]


def _restricted(network: ReLUNetwork, origin: FloatArray, directions: FloatArray,
                rows: FloatArray, rhs: FloatArray) -> ReLUNetwork:
    """The network as a function of the slice coordinates, on the unit square (interval)
    cut by ``rows @ p <= rhs`` (its ReLU layers only: the output layer draws nothing)."""
    w0 = network.weights[0] @ directions
    b0 = network.weights[0] @ origin + network.biases[0]
    return ReLUNetwork(
        [w0, *network.weights[1:]], [b0, *network.biases[1:]], relu=network.relu,
        slopes=network.slopes, lower=0.0, upper=1.0,
        domain_A=rows if len(rows) else None, domain_b=rhs if len(rows) else None,
    )


def _ordered(verts: FloatArray) -> FloatArray:
    """A convex polygon's vertices counter-clockwise (an interval's two ends sorted)."""
    if verts.shape[1] == 1:
        return np.sort(verts, axis=0)
    centre = verts.mean(axis=0)
    return verts[np.argsort(np.arctan2(verts[:, 1] - centre[1], verts[:, 0] - centre[0]))]


def _polygons(verts: FloatArray, offsets: NDArray[np.int64]) -> tuple[list[FloatArray], FloatArray]:
    """Cells given as one vertex array and offsets: each cell's vertices in order
    (counter-clockwise around their mean in 2-D, sorted in 1-D) and its area (length),
    for all cells at once."""
    counts = np.diff(offsets)
    if len(counts) == 0:
        return [], np.zeros(0)
    cell = np.repeat(np.arange(len(counts)), counts)
    starts = offsets[:-1]
    if verts.shape[1] == 1:
        v = verts[np.lexsort((verts[:, 0], cell))]
        measure = np.maximum.reduceat(v[:, 0], starts) - np.minimum.reduceat(v[:, 0], starts)
    else:
        centre = np.add.reduceat(verts, starts, axis=0) / counts[:, None]
        angle = np.arctan2(verts[:, 1] - centre[cell, 1], verts[:, 0] - centre[cell, 0])
        v = verts[np.lexsort((angle, cell))]
        nxt = np.arange(len(v)) + 1
        nxt[offsets[1:] - 1] = starts  # the last vertex closes on the first
        cross = v[:, 0] * v[nxt, 1] - v[nxt, 0] * v[:, 1]
        measure = 0.5 * np.abs(np.add.reduceat(cross, starts))
    return np.split(v, offsets[1:-1]), measure


def _face_polygon(sub: ReLUNetwork, domain: FloatArray, pattern: NDArray[np.bool_]) -> FloatArray:
    """Where a region carried only by a lower-dimensional face lies: the domain clipped
    to ``g >= REGION_EPS`` (active units) and ``g <= 0`` (the others); a point of the
    definition's LP when the clipping (tolerance SLICE_TOL) leaves nothing."""
    from reluscope.regions.count.geometric import _unit_maps, margin_point

    a, c = _unit_maps(sub, pattern.astype(np.uint8))
    scale = SLICE_TOL * (1.0 + np.abs(a).sum(axis=1) + np.abs(c))
    poly: FloatArray | None = domain
    for u in range(len(c)):
        if poly is None:
            break
        vals = poly @ a[u] + c[u]
        poly = _clip(poly, REGION_EPS - vals if pattern[u] else vals, scale[u])
    if poly is not None and len(poly):
        return _ordered(poly)
    found = margin_point(sub, pattern.astype(np.uint8), at_least=REGION_EPS)
    if found is None:  # cannot happen: the pattern was just found feasible
        raise ReluscopeError("internal error: a face region without a point")
    return found[1][None, :]


def _split_domain(sub: ReLUNetwork, domain: FloatArray) -> tuple[_Cells, list[FloatArray]]:
    """The cells (pattern, vertices, measure, counted) and the cuts per ReLU layer of a
    restricted network whose domain has positive measure, by the geometric engine."""
    from reluscope.regions.count.geometric import MAX_FACE_CANDIDATES, split_cells

    dim = sub.n_inputs
    widths = [sub.widths[k] for k in sub.relu_layers]
    found = split_cells(sub, keep=True)
    if found.overflow:
        raise ReluscopeError(
            f"the slice is too degenerate: more than {MAX_FACE_CANDIDATES} face patterns "
            "meet at one point; move one of the points slightly"
        )
    if found.kept is None:  # no ReLU unit: the domain is one region
        return [(np.zeros(0, bool), domain, _measure(domain), True)], []
    kept = found.kept
    polys, measures = _polygons(kept.vertices, kept.offsets)
    cells: _Cells = [(p, v, float(m), bool(c)) for p, v, m, c in
                     zip(kept.patterns, polys, measures, kept.counted, strict=True)]
    for pattern in kept.face_regions:
        cells.append((pattern, _face_polygon(sub, domain, pattern), 0.0, True))
    layer_of_cut = np.searchsorted(np.cumsum(widths), kept.cut_units, side="right")
    bounds = []
    for layer in range(len(widths)):
        segs = kept.cuts[layer_of_cut == layer]
        bounds.append(segs if dim == 2 else np.sort(segs[:, 0, 0]))
    return cells, bounds


def _point_cell(network: ReLUNetwork, x: FloatArray) -> list[NDArray[np.bool_]]:
    """The region at a single point (a domain that is one point): its pattern, or none
    when a unit's pre-activation lies strictly between 0 and REGION_EPS."""
    bits: list[NDArray[np.bool_]] = []
    h = x
    for layer in network.relu_layers:
        w, b = network.weights[layer], network.biases[layer]
        g = w @ h + b
        tol = SLICE_TOL * (1.0 + np.abs(w) @ np.abs(h) + np.abs(b))
        on = g >= REGION_EPS - tol
        if np.any(~on & (g > tol)):
            return []
        bits.append(on)
        h = np.where(on, g, 0.0)
    return [np.concatenate(bits) if bits else np.zeros(0, bool)]


def _analyse(
    network: ReLUNetwork,
    origin: FloatArray,
    directions: FloatArray,
    start: float,
    points: FloatArray,
) -> SliceResult:
    dim = directions.shape[1]
    # leaky/identity units: the plain-ReLU form has the same tiling (its carried units
    # never change sign); patterns are mapped back to the original's units
    require_no_max_pool(network, "exact slices and lines")
    form = relu_form(network)
    network = form.network
    n_relu = len(network.relu_layers)
    domain, rows, rhs = _slice_domain(network, origin, directions)
    boundaries: list[FloatArray] = []
    if _measure(domain) > SLICE_TOL:
        sub = _restricted(network, origin, directions, rows, rhs)
        cells, boundaries = _split_domain(sub, domain)
    else:  # a segment or a point of the slice: no cell has area (nor cuts drawn)
        far = np.abs(domain[:, None, :] - domain[None, :, :]).sum(axis=2)
        i, j = np.unravel_index(int(np.argmax(far)), far.shape)
        e0, e1 = domain[i], domain[j]
        if dim == 2 and float(np.abs(e1 - e0).max()) > SLICE_TOL:
            seg_dir = directions @ (e1 - e0)
            seg = _analyse(network, origin + directions @ e0, seg_dir[:, None], start, points)
            cells = [(c.pattern, e0 + c.vertices[:, :1] * (e1 - e0), 0.0, c.counted)
                     for c in seg.cells]
        else:
            cells = [(p, e0[None, :], 0.0, True)
                     for p in _point_cell(network, origin + directions @ e0)]
    if not form.is_identity:
        cols = form.unit_columns()
        cells = [(p[cols], v, m, c) for p, v, m, c in cells]
    if not boundaries:
        empty = np.zeros((0, 2, 2)) if dim == 2 else np.zeros(0)
        boundaries = [empty] * n_relu
    return _result(cells, domain, origin, directions, start, points, dim, boundaries)


def _result(cells: _Cells, domain: FloatArray, origin: FloatArray, directions: FloatArray,
            start: float, points: FloatArray, dim: int,
            boundaries: list[FloatArray]) -> SliceResult:
    out = [SliceCell(p, v, m, c) for p, v, m, c in cells]
    if dim == 1:
        out.sort(key=lambda c: float(c.vertices[:, 0].mean()))
    return SliceResult(
        regions=sum(1 for c in out if c.counted), exact=True, status=COMPLETE,
        seconds=time.perf_counter() - start, dim=dim, origin=origin, directions=directions,
        domain=domain, cells=tuple(out), boundaries=tuple(boundaries), points=points,
    )


def _check_points(network: ReLUNetwork, points: ArrayLike, count: int | None) -> FloatArray:
    arr = np.asarray(points, dtype=float)
    if arr.ndim != 2 or arr.shape[1] != network.n_inputs:
        raise ReluscopeError(
            f"points must be an array of shape (k, {network.n_inputs}) (one input per row); "
            f"got shape {arr.shape}"
        )
    if count is not None and arr.shape[0] != count:
        raise ReluscopeError(f"a slice needs exactly {count} points, got {arr.shape[0]}")
    if count is None and arr.shape[0] < 2:
        raise ReluscopeError(f"a line needs at least 2 points, got {arr.shape[0]}")
    if not np.all(np.isfinite(arr)):
        raise ReluscopeError("the points contain NaN or infinite values")
    return arr


def slice_regions(network: ReLUNetwork, points: ArrayLike) -> SliceResult:
    """Exact linear regions of ``network`` on the 2-D slice through three inputs.

    The slice is ``{P0 + s (P1 - P0) + t (P2 - P0) : s, t in [0, 1]}`` clipped to the
    network's input box (method in the module doc).

    Parameters
    ----------
    points
        ``(3, n0)``: the inputs P0, P1, P2.

    Returns
    -------
    SliceResult
        ``regions`` equals ``count_regions`` of the composed 2-input network
        (:func:`composed_network`) over the same domain; ``cells`` tile the domain.
    """
    start = time.perf_counter()
    pts = _check_points(network, points, 3)
    directions = np.column_stack([pts[1] - pts[0], pts[2] - pts[0]])
    if np.linalg.matrix_rank(directions) < 2:
        raise ReluscopeError(
            "the three points are collinear (the slice would be a segment); "
            "use line_regions, or pick other points"
        )
    return _analyse(network, pts[0].copy(), directions, start, pts)


@dataclass(frozen=True, eq=False)
class LineResult:
    """Exact linear regions along a path of segments ``P0 -> P1 -> ... -> Pk``.

    Attributes
    ----------
    regions
        Sum over the segments of each segment's region count (a region met on two
        segments counts twice, as a walk would); ``distinct`` counts patterns once.
    segments
        One :class:`SliceResult` (``dim == 1``) per segment.
    breakpoints
        Path positions (segment index + s) where a unit changes sign.
    """

    __repr__ = short_repr

    regions: int
    distinct: int
    exact: bool
    status: Status
    seconds: float
    segments: tuple[SliceResult, ...]
    points: FloatArray
    method: str = "geometric"

    @property
    def breakpoints(self) -> FloatArray:
        parts = [i + np.concatenate(s.boundaries) if s.boundaries else np.zeros(0)
                 for i, s in enumerate(self.segments)]
        return np.sort(np.concatenate(parts)) if parts else np.zeros(0)

    def to_dict(self, *, cells: bool = True) -> dict[str, Any]:
        """The fields but the path's points, each segment as a slice with its
        breakpoints."""
        return {
            **fields_dict(self, exclude=("segments", "points")),
            "segments": [
                {**s.to_dict(cells=cells),
                 "breakpoints": [b.tolist() for b in s.boundaries]}
                for s in self.segments
            ],
        }


def line_regions(network: ReLUNetwork, points: ArrayLike) -> LineResult:
    """Exact linear regions of ``network`` along the segments through ``points``.

    Parameters
    ----------
    points
        ``(k, n0)``, k >= 2: the path ``P0 -> P1 -> ... -> P(k-1)``. Each segment
        ``P(i) + s (P(i+1) - P(i))``, s in [0, 1], is clipped to the input box.

    Returns
    -------
    LineResult
        Each segment's ``regions`` equals ``count_regions`` of the composed 1-input
        network on it; breakpoints are exact.
    """
    start = time.perf_counter()
    pts = _check_points(network, points, None)
    segs = []
    for a, b in zip(pts[:-1], pts[1:], strict=True):
        if np.array_equal(a, b):
            raise ReluscopeError("two consecutive points of the path are equal")
        segs.append(_analyse(network, a.copy(), (b - a)[:, None], time.perf_counter(),
                             np.vstack([a, b])))
    distinct = {c.pattern.tobytes() for s in segs for c in s.cells if c.counted}
    return LineResult(
        regions=sum(s.regions for s in segs), distinct=len(distinct), exact=True,
        status=COMPLETE, seconds=time.perf_counter() - start, segments=tuple(segs),
        points=pts,
    )


def composed_network(network: ReLUNetwork, origin: ArrayLike, directions: ArrayLike) -> ReLUNetwork:
    """The network restricted to ``x = origin + directions @ p`` as a network of ``p``,
    on the box ``[0, 1]^dim`` (the slice before clipping to the input box)."""
    m = np.asarray(directions, float)
    m = m[:, None] if m.ndim == 1 else m
    w0 = network.weights[0] @ m
    b0 = network.weights[0] @ np.asarray(origin, float) + network.biases[0]
    return ReLUNetwork([w0, *network.weights[1:]], [b0, *network.biases[1:]],
                       relu=network.relu, slopes=network.slopes, lower=0.0, upper=1.0)


def slice_outputs(result: SliceResult, network: ReLUNetwork) -> FloatArray:
    """The network's output at each cell's interior point ``(cells, n_outputs)``."""
    if not result.cells:
        return np.zeros((0, network.n_outputs))
    centres = np.array([c.interior_point() for c in result.cells])
    return network.forward(result.to_input(centres))


__all__: Sequence[str] = (
    "LineResult", "SliceCell", "SliceResult", "composed_network", "line_regions",
    "slice_outputs", "slice_regions",
)
