"""Exact linear regions of a network restricted to a 2-D slice or a 1-D segment.

A slice through three inputs ``P0, P1, P2`` is the parallelogram
``x(s, t) = P0 + s (P1 - P0) + t (P2 - P0)``, ``(s, t)`` in ``[0, 1]^2``, clipped to the
network's input box; a line from ``A`` to ``B`` is ``x(s) = A + s (B - A)``, ``s`` in
``[0, 1]``, clipped likewise. Both are analysed in the slice coordinates ``p`` = (s, t)
or (s), where the network restricted to the slice is the *composed* network whose first
layer is ``W1 (x0 + M p) + b1``.

Method (exact, no sampling): layer by layer, every cell of the partition found so far
is a convex polygon (an interval in 1-D) on which the layer's pre-activations are affine
functions of ``p``; each unit whose line ``g = 0`` crosses a cell splits it in two.

Two polygons are carried per cell, because the counted object and the picture differ:

* the **tiling cell** ``T_S = {g_i >= 0 (i in S), g_i <= 0 (i not in S)}``: cells with
  positive area tile the slice exactly (they are what is drawn, and their areas sum to
  the slice's area);
* the **counted set** ``Q_S = {g_i >= REGION_EPS (i in S), g_i <= 0 (i not in S)}``
  (:mod:`reluscope.tolerances`): ``S`` is a linear region, exactly as for
  :func:`~reluscope.regions.count.dispatch.count_regions` on the composed network, iff ``Q_S`` is
  not empty, whatever its dimension (a segment or a single point counts too).

``Q_S`` is a subset of ``T_S``. A positive-area cell with an empty ``Q_S`` (a sliver
thinner than REGION_EPS) is drawn but not counted (``counted=False``); a counted pattern
whose ``T_S`` has no area (e.g. two opposite units, ``g1 = -g2``) is counted and has a
degenerate polygon. The search is complete: ``Q_S`` and ``T_S`` shrink along the search
path, so every pattern with a non-empty set is reached.
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


def _cut(verts: FloatArray, vals: FloatArray, tol: float) -> FloatArray:
    """Where ``vals = 0`` meets the polygon: the cut segment's two ends (2-D), or the
    cut point (1-D); empty if it only touches."""
    pts = [verts[i] for i in np.flatnonzero(np.abs(vals) <= tol)]
    k = len(verts)
    for i in range(k if verts.shape[1] == 2 else 1):
        j = (i + 1) % k
        vi, vj = vals[i], vals[j]
        if (vi < -tol and vj > tol) or (vj < -tol and vi > tol):
            pts.append(verts[i] + vi / (vi - vj) * (verts[j] - verts[i]))
    if verts.shape[1] == 1:
        return np.array(pts[:1])
    if len(pts) < 2:
        return np.zeros((0, 2))
    arr = np.array(pts)
    # the two extreme points along the line
    d = arr[np.argmax(np.abs(arr - arr[0]).sum(axis=1))] - arr[0]
    proj = arr @ d
    return np.array([arr[np.argmin(proj)], arr[np.argmax(proj)]])


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
        As in :class:`~reluscope.regions.result.RegionCount` (``method="clip"``).
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
    method: str = "clip"
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
        out: dict[str, Any] = {
            "regions": self.regions,
            "exact": self.exact,
            "method": self.method,
            "status": self.status,
            "seconds": self.seconds,
            "dim": self.dim,
            "domain_measure": self.domain_measure,
            "domain": self.domain.tolist(),
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
@dataclass
class _Cell:
    t_verts: FloatArray
    t_pos: bool
    q_verts: FloatArray | None
    bits: list[NDArray[np.bool_]]
    a_map: FloatArray  # h^{l-1} = a_map @ p + c_map
    c_map: FloatArray


def _split_layer(
    cell: _Cell, ga: FloatArray, gc: FloatArray, segments: list[FloatArray]
) -> list[tuple[FloatArray, bool, FloatArray | None, NDArray[np.bool_]]]:
    """Split one cell by every unit of a layer (pre-activations ``ga @ p + gc``).

    Returns the children as ``(T vertices, T has area, Q vertices or None, bits)``;
    the cuts through cells with area are appended to ``segments``.
    """
    n = len(gc)
    scale = SLICE_TOL * (1.0 + np.abs(ga).sum(axis=1) + np.abs(gc))
    out = []
    stack = [(cell.t_verts, cell.t_pos, cell.q_verts, np.zeros(n, bool), np.arange(n))]
    while stack:
        t_verts, t_pos, q_verts, bits, idx = stack.pop()
        alive = True
        while alive and len(idx):
            tol = scale[idx]
            if t_pos:
                g_t = t_verts @ ga[idx].T + gc[idx]  # (vertices, units)
                t0 = g_t.min(axis=0) < -tol  # T ∩ {g <= 0} has area
                t1 = g_t.max(axis=0) > tol  # T ∩ {g >= 0} has area
                has0, has1 = ~t1 | t0, t1.copy()
            else:
                t0 = t1 = has0 = has1 = np.zeros(len(idx), bool)
            if q_verts is not None:
                g_q = q_verts @ ga[idx].T + gc[idx]
                q0 = g_q.min(axis=0) <= tol  # Q ∩ {g <= 0} not empty
                q1 = g_q.max(axis=0) >= REGION_EPS - tol  # Q ∩ {g >= eps} not empty
                has0, has1 = has0 | q0, has1 | q1
            if not (has0 | has1).all():
                alive = False  # the cell holds no point of either side of some unit
                break
            single = has0 != has1
            if single.any():
                # one possible side: decide the unit, and cut Q to that side if needed
                for j in np.flatnonzero(single):
                    on = bool(has1[j])
                    bits[idx[j]] = on
                    if q_verts is None:
                        continue
                    vals = q_verts @ ga[idx[j]] + gc[idx[j]]
                    half = (REGION_EPS - vals) if on else vals
                    if half.max() > tol[j]:
                        q_verts = _clip(q_verts, half, tol[j])
                if not t_pos and q_verts is None:
                    alive = False
                    break
                if not t_pos:
                    t_verts = q_verts  # type: ignore[assignment]
                idx = idx[~single]
                continue
            # every remaining unit can go both ways: split on the first one
            unit = idx[0]
            vals_t = t_verts @ ga[unit] + gc[unit]
            if t0[0] and t1[0]:
                seg = _cut(t_verts, vals_t, tol[0])
                if len(seg):
                    segments.append(seg)
            for on in (False, True):
                child_t: FloatArray | None = None
                child_pos = False
                if t_pos and (t1[0] if on else t0[0]):
                    child_t = _clip(t_verts, -vals_t if on else vals_t, tol[0])
                    child_pos = child_t is not None and _measure(child_t) > SLICE_TOL
                child_q = None
                if q_verts is not None:
                    vals_q = q_verts @ ga[unit] + gc[unit]
                    child_q = _clip(q_verts, (REGION_EPS - vals_q) if on else vals_q, tol[0])
                if not child_pos:
                    if child_q is None:
                        continue
                    child_t = child_q  # a degenerate cell: represented by its Q
                assert child_t is not None  # child_pos implies a clipped T
                child_bits = bits.copy()
                child_bits[unit] = on
                stack.append((child_t, child_pos, child_q, child_bits, idx[1:]))
            alive = False  # replaced by its children
        if alive:
            out.append((t_verts, t_pos, q_verts, bits))
    return out


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
    # the slice's domain: the unit square (interval) inside the network's input box
    domain: FloatArray | None = (_SQUARE if dim == 2 else _INTERVAL).copy()
    lower, upper = np.asarray(network.lower, float), np.asarray(network.upper, float)
    rows = np.vstack([directions, -directions])
    rhs = np.concatenate([upper - origin, origin - lower])  # rows @ p <= rhs
    if network.has_polytope:  # A (origin + directions p) <= b
        rows = np.vstack([rows, network.domain_A @ directions])
        rhs = np.concatenate([rhs, network.domain_b - network.domain_A @ origin])
    box_scale = SLICE_TOL * (1.0 + np.abs(rows).sum(axis=1) + np.abs(rhs))
    for k in np.flatnonzero((domain @ rows.T - rhs).max(axis=0) > box_scale):
        if domain is None:
            break
        domain = _clip(domain, domain @ rows[k] - rhs[k], box_scale[k])
    if domain is None:
        raise DomainError(
            "the slice does not meet the network's input domain; give points inside it"
        )
    pos = _measure(domain) > SLICE_TOL
    cells = [_Cell(domain, pos, domain, [], directions.copy(), origin.copy())]
    boundaries: list[FloatArray] = []
    for layer in range(network.n_layers):
        if not network.relu[layer]:
            break
        w, b = network.weights[layer], network.biases[layer]
        segments: list[FloatArray] = []
        children = []
        for cell in cells:
            ga, gc = w @ cell.a_map, w @ cell.c_map + b
            for t_verts, t_pos, q_verts, bits in _split_layer(cell, ga, gc, segments):
                children.append(
                    _Cell(t_verts, t_pos, q_verts, [*cell.bits, bits],
                          ga * bits[:, None], gc * bits)
                )
        cells = children
        if dim == 2:
            boundaries.append(np.array(segments).reshape(-1, 2, 2))
        else:
            boundaries.append(np.sort(np.array(segments).reshape(-1)))
    out = []
    for cell in cells:
        pattern = np.concatenate(cell.bits) if cell.bits else np.zeros(0, bool)
        if not form.is_identity:
            pattern = pattern[form.unit_columns()]
        verts = cell.t_verts if dim == 2 else np.sort(cell.t_verts, axis=0)
        out.append(SliceCell(pattern, verts, _measure(verts) if cell.t_pos else 0.0,
                             cell.q_verts is not None))
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
    method: str = "clip"

    @property
    def breakpoints(self) -> FloatArray:
        parts = [i + np.concatenate(s.boundaries) if s.boundaries else np.zeros(0)
                 for i, s in enumerate(self.segments)]
        return np.sort(np.concatenate(parts)) if parts else np.zeros(0)

    def to_dict(self, *, cells: bool = True) -> dict[str, Any]:
        return {
            "regions": self.regions,
            "distinct": self.distinct,
            "exact": self.exact,
            "method": self.method,
            "status": self.status,
            "seconds": self.seconds,
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
