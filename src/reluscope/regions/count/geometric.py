r"""The ``geometric`` counting engine: split the input domain cell by cell, for few inputs.

For a network with few inputs (``d <= 6`` or so) the regions are cheaper to enumerate
as the cells of the polyhedral complex than by LPs: every cell is a convex polytope
kept by its vertices and edges, and each unit, layer by layer, splits the cells its
hyperplane crosses (the edge-subdivision idea; the compiled code and its invariants are
in :mod:`reluscope.regions.count._geometric_kernel`). No LP is solved except for the few cells
whose vertex mean is not a witness.

**Same count as the lp engine.** A pattern ``S`` is a region iff some ``x`` has
``g_u >= REGION_EPS`` on ``S`` and ``g_u <= 0`` off ``S`` (:mod:`reluscope.tolerances`).
Distinct cells of positive volume have distinct patterns, and the set of points with
pattern ``S`` is convex with the cell as its interior, so a cell's pattern is a region
iff its *best margin* ``max_{x in cell} min_{u in S} g_u(x)`` reaches ``REGION_EPS``
(the definition's LP, decided by HiGHS with ``SOLVER_FEASIBILITY_TOL`` as by the lp
engine). The vertex mean of a cell proves it for almost every cell; the others get
one LP each (``lp_solves``). A cell
whose best margin is below ``REGION_EPS`` is a *thin cell*: a piece of positive volume
that is not a region by the definition (``RegionCount.thin_cells``; other tools, e.g.
edge subdivision, count it as a region).

A pattern can also live only on a lower-dimensional face (e.g. ``g = x`` on ``[0, 1]``:
the point ``x = 0`` has the pattern "inactive", which no cell has). That needs more than
``d`` constraints tight at some vertex of the complex (a hyperplane through a vertex, a
threshold on the box's boundary, ...). The engine counts such *degenerate* vertices;
when there is one, the count is taken from the lp engine instead (the cells and thin
cells found stay valid; ``message`` says so).

**Time limit and Ctrl-C**: the split is depth-first and every counted cell is a proven
region, so a run cut short returns the regions found so far as a lower bound, like the
lp engine.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reluscope.bounds.result import Bounds
from reluscope.network import FloatArray, ReLUNetwork
from reluscope.regions.count import _geometric_kernel as K
from reluscope.regions.result import RegionCount
from reluscope.status import COMPLETE, INTERRUPTED, TIME_LIMIT, Status
from reluscope.tolerances import (
    GEOMETRIC_TOL,
    REGION_EPS,
    WITNESS_TOL,
)

#: Splits and leaves per kernel call (the clock and Ctrl-C are checked between calls).
WORK_BUDGET = 4096
#: Leaves without a witness collected before their LPs are solved.
PENDING_BATCH = 256
#: Distinct face candidates kept per degenerate vertex (more: the lp engine counts).
MAX_FACE_CANDIDATES = 255


def kernel_is_cached() -> bool:
    """Whether numba's on-disk cache already holds the compiled split (else the first
    count of this process compiles it: about 25 s on a loaded 2-core machine)."""
    from pathlib import Path

    cache = Path(K.run._cache._cache_path)  # type: ignore[attr-defined]
    return any(cache.glob("_geometric_kernel.run-*.nbi"))


@dataclass
class _Arena:
    """The kernel's growing arrays (vertices, their tight sets, edges, scratch)."""

    V: FloatArray
    B: np.ndarray
    E: np.ndarray
    g: FloatArray
    s: np.ndarray
    idx: np.ndarray
    face: np.ndarray

    @classmethod
    def new(cls, d: int, n_words: int, v_cap: int, e_cap: int) -> _Arena:
        return cls(
            V=np.zeros((v_cap, d)),
            B=np.zeros((v_cap, n_words), dtype=np.uint64),
            E=np.zeros((e_cap, 2), dtype=np.int64),
            g=np.zeros(v_cap),
            s=np.zeros(v_cap, dtype=np.int64),
            idx=np.zeros((v_cap, 2), dtype=np.int64),
            face=np.zeros((v_cap, 2), dtype=np.int64),
        )

    def grow_vertices(self) -> None:
        cap = 2 * self.V.shape[0]
        self.V = _grown(self.V, cap)
        self.B = _grown(self.B, cap)
        self.g = np.zeros(cap)
        self.s = np.zeros(cap, dtype=np.int64)
        self.idx = np.zeros((cap, 2), dtype=np.int64)
        self.face = np.zeros((cap, 2), dtype=np.int64)

    def grow_edges(self) -> None:
        self.E = _grown(self.E, 2 * self.E.shape[0])


def _grown(array: np.ndarray, rows: int) -> np.ndarray:
    out = np.zeros((rows, *array.shape[1:]), dtype=array.dtype)
    out[: array.shape[0]] = array
    return out


@dataclass
class GeometricCount:
    """What the split found: regions, thin cells, degenerate vertices, work counters."""

    regions: int
    thin_cells: int
    degenerate_vertices: int
    lp_solves: int
    splits: int
    status: Status
    flat_domain: bool = False
    #: regions that only lower-dimensional faces carry (found when recording)
    face_regions: int = 0
    #: a degenerate vertex had more than MAX_FACE_CANDIDATES candidates
    overflow: bool = False
    #: with ``keep``: the cells and cuts themselves
    kept: KeptCells | None = None
    #: with ``patterns``: the regions' patterns, bit-packed rows (``np.packbits``)
    region_patterns: np.ndarray | None = None


@dataclass
class KeptCells:
    """The cells of a split kept whole (``split_cells(keep=True)``), for pictures.

    Cell ``i`` (a leaf of positive volume) has the pattern ``patterns[i]``, the vertices
    ``vertices[offsets[i]:offsets[i + 1]]`` (unordered) and is a region iff
    ``counted[i]`` (False: a thin cell). ``face_regions``: the patterns of the regions
    that only lower-dimensional faces carry. Cut ``j`` of a split by unit
    ``cut_units[j]`` runs between ``cuts[j, 0]`` and ``cuts[j, 1]`` (one point twice
    when ``d = 1``).
    """

    patterns: np.ndarray
    vertices: FloatArray
    offsets: np.ndarray
    counted: np.ndarray
    face_regions: list[np.ndarray]
    cut_units: np.ndarray
    cuts: FloatArray


def _root_cell(network: ReLUNetwork, arena: _Arena, radius: float) -> tuple[int, int]:
    """The domain as the first cell: the box's corners and edges, cut by the polytope's
    rows. Returns (vertices, edges); (0, 0) when the domain has no interior."""
    d = network.n_inputs
    lo = np.asarray(network.lower, dtype=float)
    hi = np.asarray(network.upper, dtype=float)
    if np.any(hi <= lo):
        return 0, 0
    nv = 1 << d
    corners = np.arange(nv)
    bits = (corners[:, None] >> np.arange(d)[None, :]) & 1  # bit k: upper face of x_k
    arena.V[:nv] = np.where(bits == 1, hi, lo)
    arena.B[:nv] = 0
    for k in range(d):
        facet = 2 * k + bits[:, k]  # 2k: x_k = lower, 2k + 1: x_k = upper
        words, offsets = facet // 64, (facet % 64).astype(np.uint64)
        arena.B[corners, words] |= np.left_shift(np.uint64(1), offsets)
    edges = [(i, i | (1 << k)) for k in range(d) for i in range(nv) if not (i >> k) & 1]
    ne = len(edges)
    while arena.E.shape[0] < ne:
        arena.grow_edges()
    arena.E[:ne] = np.array(edges, dtype=np.int64).reshape(ne, 2)
    a_rows = np.asarray(network.domain_A, dtype=float)
    b_rows = np.asarray(network.domain_b, dtype=float)
    for r in range(a_rows.shape[0]):
        while True:
            need = 2 * (nv + ne)
            if arena.V.shape[0] < 2 * nv + need:
                arena.grow_vertices()
            elif arena.E.shape[0] < 2 * ne + need * need:
                arena.grow_edges()
            else:
                break
        nv, ne = K.cut_root(
            arena.V, arena.B, arena.E, nv, ne, a_rows[r], -float(b_rows[r]), radius,
            GEOMETRIC_TOL, 2 * d + r, arena.g, arena.s, arena.idx, arena.face,
        )
        if nv == 0:
            return 0, 0
    return nv, ne


def _unit_maps(network: ReLUNetwork, pattern: np.ndarray) -> tuple[FloatArray, FloatArray]:
    """Every ReLU unit's affine pre-activation ``a.x + c`` with ``pattern`` applied."""
    d = network.n_inputs
    a_rows, c_rows = [], []
    lin, off = np.eye(d), np.zeros(d)  # the layer's input h = lin @ x + off
    start = 0
    for layer in network.relu_layers:
        w = network.weights[layer]
        b = network.biases[layer]
        a = w @ lin
        c = w @ off + b
        a_rows.append(a)
        c_rows.append(c)
        on = pattern[start : start + w.shape[0]].astype(bool)
        lin = a * on[:, None]
        off = c * on
        start += w.shape[0]
    return np.vstack(a_rows), np.concatenate(c_rows)


def is_region(network: ReLUNetwork, pattern: np.ndarray) -> bool:
    """Whether ``pattern`` is a region: the definition's LP, with the lp engine's rule."""
    return best_margin(network, pattern, at_least=REGION_EPS) is not None


def best_margin(network: ReLUNetwork, pattern: np.ndarray, *,
                at_least: float | None = None) -> float | None:
    r""":func:`best_margin` and a point ``x`` reaching it (None: no point).

    One LP in ``(x, t)``: maximise ``t`` s.t. ``a_u.x + c_u >= t`` (active units),
    ``a_u.x + c_u <= 0`` (inactive units), ``x`` in the box and the polytope's rows.
    With ``at_least``, ``t`` is fixed to it: a feasibility LP, the definition's own
    question decided as the lp engine and the brute-force oracle decide it (HiGHS with
    ``SOLVER_FEASIBILITY_TOL``); None means infeasible.
    """
    found = margin_point(network, pattern, at_least=at_least)
    return None if found is None else found[0]


def margin_point(network: ReLUNetwork, pattern: np.ndarray, *,
                 at_least: float | None = None) -> tuple[float, FloatArray] | None:
    r""":func:`best_margin` and a point ``x`` reaching it (None: no point)."""
    import highspy

    from reluscope.solvers.highs import LPOutcome, new_highs, retry_from_scratch, run

    a, c = _unit_maps(network, pattern)
    on = pattern.astype(bool)
    d = network.n_inputs
    if not on.any():  # no active unit: the margin is infinite wherever a point exists
        at_least = 0.0
    rows = [np.hstack([-a[on], np.ones((int(on.sum()), 1))]),
            np.hstack([a[~on], np.zeros((int((~on).sum()), 1))])]
    rhs = [c[on], -c[~on]]
    if network.has_polytope:
        pa = np.asarray(network.domain_A, dtype=float)
        rows.append(np.hstack([pa, np.zeros((pa.shape[0], 1))]))
        rhs.append(np.asarray(network.domain_b, dtype=float))
    matrix = np.vstack(rows)
    upper_rows = np.concatenate(rhs)
    m = matrix.shape[0]
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = d + 1, m
    lp.col_cost_ = np.concatenate([np.zeros(d), [-1.0]])
    reach = float(np.max(np.abs(c[on]) + np.abs(a[on]) @ np.maximum(
        np.abs(network.lower), np.abs(network.upper)), initial=0.0))
    t_lo, t_hi = (-reach - 1.0, reach + 1.0) if at_least is None else (at_least, at_least)
    lp.col_lower_ = np.concatenate([np.asarray(network.lower, dtype=float), [t_lo]])
    lp.col_upper_ = np.concatenate([np.asarray(network.upper, dtype=float), [t_hi]])
    lp.row_lower_ = np.full(m, -highspy.kHighsInf)
    lp.row_upper_ = upper_rows
    nz_rows, nz_cols = np.nonzero(matrix)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = d + 1, m
    lp.a_matrix_.start_ = np.searchsorted(nz_rows, np.arange(m + 1)).astype(np.int32)
    lp.a_matrix_.index_ = nz_cols.astype(np.int32)
    lp.a_matrix_.value_ = np.ascontiguousarray(matrix[nz_rows, nz_cols], dtype=float)
    highs = new_highs()
    highs.passModel(lp)
    outcome = run(highs)
    if outcome is LPOutcome.NUMERICAL:
        retry_from_scratch(highs)
        outcome = run(highs)
    if outcome is not LPOutcome.OPTIMAL:
        return None
    values = np.asarray(highs.getSolution().col_value, dtype=float)
    return (float(values[d]) if on.any() else float("inf")), values[:d]


# long: drives the geometric kernel and owns the ~40 arrays it grows or drains on each return
def split_cells(network: ReLUNetwork, *, deadline: float = float("inf"),
                stop: object = None, record: bool = False,
                keep: bool = False, patterns: bool = False) -> GeometricCount:
    """Split the domain into the cells of the network (see the module docstring).

    ``stop`` is an object with ``is_set()`` (a ``threading.Event``): set, the split ends
    at the next kernel return with status ``"interrupted"``. With ``record``, the
    patterns of the faces through degenerate vertices are collected too, and those
    that no cell has and that are regions by the definition (one LP each) are counted
    in ``regions`` (and ``face_regions``). With ``keep`` (implies ``record``), every
    cell's vertices and every cut are returned too (``kept``: the 2-D slices and lines
    draw them; meant for few cells, it holds them all in memory). With ``patterns``
    (implies ``record``), the patterns of the regions found are returned
    (``region_patterns``; also when the split is cut short: those proven so far).
    """
    record = record or keep or patterns
    d = network.n_inputs
    layers = network.relu_layers
    widths = np.array([network.widths[i] for i in layers], dtype=np.int64)
    nu = int(widths.sum())
    n_rows = int(np.asarray(network.domain_A).shape[0])
    n_bits = 2 * d + n_rows + nu
    n_words = (n_bits + 63) // 64
    radius = float(max(np.max(np.abs(network.lower)), np.max(np.abs(network.upper)), 1e-300))
    arena = _Arena.new(d, n_words, max(4096, 4 << d), max(8192, d << (d + 2)))
    nv, ne = _root_cell(network, arena, radius)
    if nv == 0:
        return GeometricCount(0, 0, 0, 0, 0, COMPLETE, flat_domain=True)
    if nu == 0:
        return GeometricCount(1, 0, 0, 0, 0, COMPLETE)
    layer_start = np.concatenate([[0], np.cumsum(widths)[:-1]]).astype(np.int64)
    n_layers = len(layers)
    wmax = int(widths.max())
    wd = np.zeros((n_layers, wmax, wmax))
    bd = np.zeros((n_layers, wmax))
    for k, layer in enumerate(layers):
        bd[k, : widths[k]] = network.biases[layer]
        if k > 0:
            wd[k, : widths[k], : widths[k - 1]] = network.weights[layer]
    slots = nu + 2
    s_voff = np.zeros(slots, dtype=np.int64)
    s_nv = np.zeros(slots, dtype=np.int64)
    s_eoff = np.zeros(slots, dtype=np.int64)
    s_ne = np.zeros(slots, dtype=np.int64)
    s_layer = np.zeros(slots, dtype=np.int64)
    s_unit = np.zeros(slots, dtype=np.int64)
    s_pat = np.zeros((slots, nu), dtype=np.uint8)
    s_ma = np.zeros((slots, nu, d))
    s_mc = np.zeros((slots, nu))
    s_ball = np.full((slots, d + 1), -1.0)
    s_nv[0], s_ne[0] = nv, ne
    s_ma[0, : widths[0]] = network.weights[layers[0]]
    s_mc[0, : widths[0]] = network.biases[layers[0]]
    ist = np.zeros(K.N_STATE, dtype=np.int64)
    ist[K.I_SP], ist[K.I_VTOP], ist[K.I_ETOP] = 1, nv, ne
    pend = np.zeros((PENDING_BATCH, nu), dtype=np.uint8)
    w0 = np.ascontiguousarray(network.weights[layers[0]], dtype=float)
    b0 = np.asarray(network.biases[layers[0]], dtype=float)
    regions_by_lp = 0
    thin = 0
    lp_solves = 0
    status = COMPLETE
    out = np.zeros((8192 if record else 1, nu), dtype=np.uint8)
    out_kind = np.zeros(out.shape[0], dtype=np.int64)
    sets = np.zeros((MAX_FACE_CANDIDATES, n_words), dtype=np.uint64)
    cells: set[bytes] = set()
    faces: set[bytes] = set()
    cell_v = np.zeros((4096 if keep else 1, d))
    cell_nv = np.zeros(out.shape[0], dtype=np.int64)
    seg = np.zeros((4096 if keep else 1, 2, d))
    seg_unit = np.zeros(seg.shape[0], dtype=np.int64)
    kept_keys: list[np.ndarray] = []  # packed patterns of the leaves, chunk by chunk
    kept_v: list[FloatArray] = []
    kept_nv: list[np.ndarray] = []
    cut_units: list[np.ndarray] = []
    cut_ends: list[FloatArray] = []
    thin_patterns: set[bytes] = set()

    def drain() -> None:
        nonlocal out, out_kind, cell_v, cell_nv
        used = int(ist[K.I_OUT])
        if used == 0:  # too small for one leaf's candidates (or its vertices)
            out = np.zeros((2 * out.shape[0], nu), dtype=np.uint8)
            out_kind = np.zeros(out.shape[0], dtype=np.int64)
            cell_nv = np.zeros(out.shape[0], dtype=np.int64)
            if keep:
                cell_v = np.zeros((2 * cell_v.shape[0], d))
            return
        packed = np.packbits(out[:used], axis=1)
        for row, kind in zip(packed, out_kind[:used], strict=True):
            (cells if kind == K.KIND_CELL else faces).add(row.tobytes())
        if keep:  # the leaves' vertices are in cell_v, in the order of their rows
            leaf = out_kind[:used] == K.KIND_CELL
            kept_keys.append(packed[leaf])
            kept_nv.append(cell_nv[:used][leaf].copy())
            kept_v.append(cell_v[: int(ist[K.I_CV])].copy())
        ist[K.I_OUT] = 0
        ist[K.I_CV] = 0

    def drain_cuts() -> None:
        used = int(ist[K.I_SEG])
        cut_units.append(seg_unit[:used].copy())
        cut_ends.append(seg[:used].copy())
        ist[K.I_SEG] = 0

    def decide_pending() -> None:
        nonlocal regions_by_lp, thin, lp_solves
        for p in range(int(ist[K.I_PENDING])):
            lp_solves += 1
            if is_region(network, pend[p]):
                regions_by_lp += 1
            else:
                thin += 1
                if record:
                    thin_patterns.add(np.packbits(pend[p]).tobytes())
        ist[K.I_PENDING] = 0

    while True:
        code = K.run(
            d, widths, layer_start, w0, b0, wd, bd, radius, GEOMETRIC_TOL, REGION_EPS,
            WITNESS_TOL, 2 * d + n_rows, s_voff, s_nv, s_eoff, s_ne, s_layer, s_unit,
            s_pat, s_ma, s_mc, s_ball, arena.V, arena.B, arena.E, arena.g, arena.s, arena.idx,
            arena.face, pend, ist, WORK_BUDGET, record, out, out_kind, sets, 2 * d + n_rows,
            keep, cell_v, cell_nv, seg, seg_unit,
        )
        if code == K.DONE:
            break
        if code == K.GROW_VERTICES:
            arena.grow_vertices()
        elif code == K.GROW_EDGES:
            arena.grow_edges()
        elif code == K.PENDING_FULL:
            decide_pending()
        elif code == K.OUT_FULL:
            drain()
        elif code == K.SEG_FULL:
            drain_cuts()
        if stop is not None and stop.is_set():  # type: ignore[attr-defined]
            status = INTERRUPTED
            break
        if time.monotonic() >= deadline:
            status = TIME_LIMIT
            break
    decide_pending()
    face_regions = 0
    face_patterns: list[np.ndarray] = []
    region_keys: list[bytes] = []
    if record:
        drain()
        drain_cuts()
        for key in sorted(faces - cells):
            pattern = np.unpackbits(np.frombuffer(key, dtype=np.uint8), count=nu)
            lp_solves += 1
            if is_region(network, pattern):
                face_regions += 1
                face_patterns.append(pattern.astype(bool))
                region_keys.append(key)
    region_patterns = None
    if patterns:
        region_keys += cells - thin_patterns
        region_patterns = np.array(
            [np.frombuffer(key, dtype=np.uint8) for key in sorted(region_keys)],
            dtype=np.uint8,
        ).reshape(len(region_keys), (nu + 7) // 8)
    kept = None
    if keep:
        keys = np.vstack(kept_keys) if kept_keys else np.zeros((0, (nu + 7) // 8), np.uint8)
        counted = np.ones(len(keys), dtype=bool)
        if thin_patterns:
            counted = np.array([row.tobytes() not in thin_patterns for row in keys], dtype=bool)
        kept = KeptCells(
            patterns=np.unpackbits(keys, axis=1, count=nu).astype(bool),
            vertices=np.vstack(kept_v) if kept_v else np.zeros((0, d)),
            offsets=np.concatenate(
                [[0], np.cumsum(np.concatenate(kept_nv or [np.zeros(0, np.int64)]))]
            ).astype(np.int64),
            counted=counted, face_regions=face_patterns,
            cut_units=np.concatenate(cut_units or [np.zeros(0, np.int64)]),
            cuts=np.concatenate(cut_ends) if cut_ends else np.zeros((0, 2, d)),
        )
    return GeometricCount(
        regions=int(ist[K.I_REGIONS]) + regions_by_lp + face_regions,
        face_regions=face_regions,
        overflow=bool(ist[K.I_OVERFLOW]),
        thin_cells=thin,
        degenerate_vertices=int(ist[K.I_DEGENERATE]),
        lp_solves=lp_solves,
        splits=int(ist[K.I_SPLITS]),
        status=status,
        kept=kept,
        region_patterns=region_patterns,
    )


def count_regions_geometric(
    network: ReLUNetwork,
    bounds: Bounds | None = None,
    *,
    time_limit: float | None = None,
    patterns_path: str | Path | None = None,
) -> RegionCount:
    """Count the regions of ``network`` by splitting its domain into cells.

    When the complex has a degenerate vertex (or the domain no interior), the count is
    the lp engine's (with ``bounds``); ``thin_cells`` stays the split's. With
    ``patterns_path``, the regions' patterns are written there in the bit-packed
    ``.npy`` format of :mod:`reluscope.regions.patterns` (all of them are held in memory
    first; also written when the run is cut short), as the lp engine writes them.
    """
    import threading

    from reluscope.regions.search.engine import _sigint_to_event, count_regions_lp

    start = time.monotonic()
    deadline = start + time_limit if time_limit is not None else float("inf")
    stop = threading.Event()
    want = patterns_path is not None
    with _sigint_to_event(stop):  # recording patterns also collects the face patterns
        found = split_cells(network, deadline=deadline, stop=stop, patterns=want)
    if found.status != COMPLETE:
        why = "time limit" if found.status == TIME_LIMIT else "Ctrl-C"
        if want and not found.flat_domain:
            _write_patterns(patterns_path, network, found)
        return RegionCount(
            found.regions, False, "geometric", found.status, time.monotonic() - start,
            lp_solves=found.lp_solves, nodes=found.splits, thin_cells=found.thin_cells,
            message=f"stopped by the {why}: regions found so far (a lower bound)",
        )
    degenerate = found.degenerate_vertices
    if degenerate and not found.flat_domain and not want:
        # again, collecting the patterns of the faces through the degenerate vertices
        with _sigint_to_event(stop):
            found = split_cells(network, deadline=deadline, stop=stop, record=True)
        if found.status != COMPLETE:
            why = "time limit" if found.status == TIME_LIMIT else "Ctrl-C"
            return RegionCount(
                found.regions, False, "geometric", found.status, time.monotonic() - start,
                lp_solves=found.lp_solves, nodes=found.splits, thin_cells=found.thin_cells,
                message=f"stopped by the {why}: regions found so far (a lower bound)",
            )
    if found.overflow or found.flat_domain:
        why = ("the domain has no interior" if found.flat_domain else
               f"more than {MAX_FACE_CANDIDATES} face patterns at a vertex where more "
               f"than {network.n_inputs} constraints are tight")
        if bounds is None:
            from reluscope.bounds import tighten_bounds

            bounds = tighten_bounds(network, method="lp")
        remaining = None if time_limit is None else max(0.0, deadline - time.monotonic())
        lp = count_regions_lp(network, bounds, time_limit=remaining, n_jobs=1,
                              patterns_path=patterns_path)
        return RegionCount(
            lp.regions, lp.exact, "geometric", lp.status, time.monotonic() - start,
            lp_solves=found.lp_solves + lp.lp_solves, nodes=found.splits + lp.nodes,
            thin_cells=None if found.flat_domain else found.thin_cells,
            message=f"degenerate complex ({why}): regions counted by the lp engine"
            + (f"; {lp.message}" if lp.message else ""),
        )
    if want:
        _write_patterns(patterns_path, network, found)
    note = ""
    if degenerate:
        note = (f"degenerate complex: {found.degenerate_vertices} cell vertices with more "
                f"than {network.n_inputs} tight constraints; the faces through them add "
                f"{found.face_regions} regions")
    return RegionCount(
        found.regions, True, "geometric", COMPLETE, time.monotonic() - start,
        lp_solves=found.lp_solves, nodes=found.splits, thin_cells=found.thin_cells,
        message=note,
    )


def _write_patterns(path: str | Path | None, network: ReLUNetwork,
                    found: GeometricCount) -> None:
    """The regions' patterns of a split, as the lp engine writes a patterns file."""
    from reluscope.regions.patterns import PatternWriter, row_bytes

    assert path is not None
    rows = found.region_patterns
    if rows is None:  # no ReLU unit: the one region has the empty pattern
        rows = np.zeros((found.regions, row_bytes(network.n_units)), dtype=np.uint8)
    writer = PatternWriter(path, network.n_units)
    try:
        if len(rows):
            writer.write_packed(np.ascontiguousarray(rows).tobytes())
    finally:
        writer.close()


__all__ = ["GeometricCount", "KeptCells", "best_margin", "count_regions_geometric",
           "is_region", "kernel_is_cached", "margin_point", "split_cells"]
