r"""The compiled core of the ``geometric`` counting engine (numba, cached on disk).

A depth-first split of the input domain by the network's units, layer by layer, each
cell kept as a convex polytope by its vertices and edges (the edge-subdivision idea of
Berzins, ICML 2023, done per cell). A cell of the stack is

* its vertices (rows of ``V``) with, for each, the bit set ``B`` of the constraints
  tight there (box facets, polytope rows, units whose pre-activation is 0 there);
* its edges (rows of ``E``, pairs of indices into the cell's vertices);
* its partial activation pattern and the affine maps ``g_u(x) = a_u.x + c_u`` of every
  unit decided so far and of the current layer (given the pattern of earlier layers).

Deciding unit ``u`` on a cell evaluates ``g_u`` at its vertices. A vertex within
``tol = GEOMETRIC_TOL * (|c| + sum_k |a_k| R)`` of zero is *on* the hyperplane (``R``
the largest coordinate magnitude of the box). No vertex strictly on one side: the unit
is decided without a split (vertices on the hyperplane get its bit, unless ``g_u`` is 0
on the whole cell). Otherwise the cell is split: every edge with one end strictly on
each side gets a new vertex (its tight set: the edge's, plus ``u``), each child keeps
its side's vertices (and those on the hyperplane) and edges, and the new face
``cell ∩ {g_u = 0}`` gets its edges by the combinatorial test: two face vertices are
adjacent iff at least ``d - 1`` constraints are tight at both and no other face vertex
has all of them tight (exact for any polytope, simple or not, given the tight sets).

A leaf (every unit decided) is a cell of positive volume with its pattern. It is a
counted region when the mean of its vertices is a witness (``g_u >= eps`` for its
active units, ``g_u <= witness_tol`` for the others, by its affine maps); otherwise its
pattern is handed back (``pending``) and the Python side decides it with one LP (its
best margin). Every vertex with more than ``d`` tight constraints is counted
(``degenerate``): only there can a lower-dimensional face carry a pattern that no cell
of positive volume has (see :mod:`reluscope.regions.count.geometric`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

# return codes
DONE = 0  # the stack is empty
BUDGET = 1  # the work budget is used up; call again
GROW_VERTICES = 2  # the vertex arena is too small for the next split: grow it, call again
GROW_EDGES = 3  # the edge arena is too small
PENDING_FULL = 4  # the buffer of undecided leaves is full: decide them, call again
OUT_FULL = 5  # (recording) the buffer of recorded patterns is too full: drain it, call again
SEG_FULL = 6  # (keeping cells) the buffer of cut segments is full: drain it, call again

# indices into the int64 state vector
I_SP, I_VTOP, I_ETOP, I_REGIONS, I_SPLITS, I_DEGENERATE, I_PENDING, I_LEAVES = range(8)
I_OUT = 8  # rows of the recording buffer in use
I_OVERFLOW = 9  # 1: a degenerate vertex had more face candidates than the scratch holds
I_CV = 10  # (keeping cells) rows of the leaf-vertex buffer in use
I_SEG = 11  # (keeping cells) rows of the cut-segment buffer in use
N_STATE = 12

#: at most this many active units tight at a degenerate vertex: every subset of them is
#: a face candidate (more: the intersections of the vertices' tight sets only)
ALL_SUBSETS_MAX = 4

#: kinds of the recorded rows: a cell's pattern, a candidate pattern of a face
KIND_CELL, KIND_FACE = 0, 1

_M1 = np.uint64(0x5555555555555555)
_M2 = np.uint64(0x3333333333333333)
_M4 = np.uint64(0x0F0F0F0F0F0F0F0F)
_H01 = np.uint64(0x0101010101010101)
_ONE = np.uint64(1)


@njit(cache=True)
def _popcount(x):
    x = x - ((x >> np.uint64(1)) & _M1)
    x = (x & _M2) + ((x >> np.uint64(2)) & _M2)
    x = (x + (x >> np.uint64(4))) & _M4
    return np.int64((x * _H01) >> np.uint64(56))


@njit(cache=True)
def _set_bit(B, v, bit):
    w = bit // 64
    B[v, w] = B[v, w] | (_ONE << np.uint64(bit % 64))


@njit(cache=True)
def _classify(V, voff, nv, a, c, radius, tol_rel, g, s):
    """Values of ``a.x + c`` at the cell's vertices and their sides (+1, -1, 0 = on).

    Returns (number on the positive side, number on the negative side)."""
    d = V.shape[1]
    scale = abs(c)
    for k in range(d):
        scale += abs(a[k]) * radius
    tol = tol_rel * scale
    npos = 0
    nneg = 0
    for i in range(nv):
        v = voff + i
        val = c
        for k in range(d):
            val += a[k] * V[v, k]
        g[i] = val
        if val > tol:
            s[i] = 1
            npos += 1
        elif val < -tol:
            s[i] = -1
            nneg += 1
        else:
            s[i] = 0
    return npos, nneg


@njit(cache=True)
def _enclosing_ball(V, voff, nv, ball):
    """A ball holding the cell: the mean of its vertices and the largest distance to one."""
    d = V.shape[1]
    for k in range(d):
        ball[k] = 0.0
    for i in range(nv):
        for k in range(d):
            ball[k] += V[voff + i, k]
    for k in range(d):
        ball[k] /= nv
    r2 = 0.0
    for i in range(nv):
        dist = 0.0
        for k in range(d):
            diff = V[voff + i, k] - ball[k]
            dist += diff * diff
        if dist > r2:
            r2 = dist
    ball[d] = np.sqrt(r2)


@njit(cache=True)
def _mark_on(B, voff, nv, s, bit):
    """Give the constraint's bit to the vertices on it (not when it is 0 on the whole cell)."""
    non = 0
    for i in range(nv):
        if s[i] == 0:
            non += 1
    if non == nv:
        return
    for i in range(nv):
        if s[i] == 0:
            _set_bit(B, voff + i, bit)


@njit(cache=True)
def _split_size(E, eoff, ne, nv, s):
    """Upper bounds of the children's sizes: (vertices of both, edges of both)."""
    cross = 0
    for j in range(ne):
        sa = s[E[eoff + j, 0]]
        sb = s[E[eoff + j, 1]]
        if sa * sb < 0:
            cross += 1
    non = 0
    for i in range(nv):
        if s[i] == 0:
            non += 1
    f = non + cross
    return 2 * (nv + cross), 2 * (ne + cross) + f * (f - 1)


# long: numba: cuts one cell (vertices, edges, faces) in one pass over the shared arena
@njit(cache=True)
def _split(V, B, E, voff, nv, eoff, ne, vtop, etop, g, s, bit, keep_neg_only, idx, face):
    """Split the cell at ``voff``/``eoff`` by the hyperplane with values ``g`` and sides ``s``.

    The children are built above the arena's top (``vtop``, ``etop``) and then moved
    down to the parent's place: the negative child first, then (unless
    ``keep_neg_only``) the positive one. Returns (vertices, edges) of each child.
    """
    d = V.shape[1]
    nw = B.shape[1]
    # negative child's vertices: those with s <= 0, then the new points
    nb = vtop
    cnt = 0
    for i in range(nv):
        idx[i, 0] = -1
        idx[i, 1] = -1
        if s[i] <= 0:
            for k in range(d):
                V[nb + cnt, k] = V[voff + i, k]
            for w in range(nw):
                B[nb + cnt, w] = B[voff + i, w]
            if s[i] == 0:
                _set_bit(B, nb + cnt, bit)
            idx[i, 0] = cnt
            cnt += 1
    first_new_neg = cnt
    ncross = 0
    for j in range(ne):
        a = E[eoff + j, 0]
        b = E[eoff + j, 1]
        if s[a] * s[b] < 0:
            t = g[a] / (g[a] - g[b])
            for k in range(d):
                V[nb + cnt, k] = V[voff + a, k] + t * (V[voff + b, k] - V[voff + a, k])
            for w in range(nw):
                B[nb + cnt, w] = B[voff + a, w] & B[voff + b, w]
            _set_bit(B, nb + cnt, bit)
            cnt += 1
            ncross += 1
    nv_neg = cnt
    # positive child's vertices (same order: those with s >= 0, then the new points)
    pb = nb + nv_neg
    nv_pos = 0
    first_new_pos = 0
    if not keep_neg_only:
        cnt = 0
        for i in range(nv):
            if s[i] >= 0:
                for k in range(d):
                    V[pb + cnt, k] = V[voff + i, k]
                for w in range(nw):
                    B[pb + cnt, w] = B[voff + i, w]
                if s[i] == 0:
                    _set_bit(B, pb + cnt, bit)
                idx[i, 1] = cnt
                cnt += 1
        first_new_pos = cnt
        for j in range(ncross):
            src = nb + first_new_neg + j
            for k in range(d):
                V[pb + cnt, k] = V[src, k]
            for w in range(nw):
                B[pb + cnt, w] = B[src, w]
            cnt += 1
        nv_pos = cnt
    # the face's vertices: (index in the negative child, in the positive child)
    nf = 0
    for i in range(nv):
        if s[i] == 0:
            face[nf, 0] = idx[i, 0]
            face[nf, 1] = idx[i, 1]
            nf += 1
    for j in range(ncross):
        face[nf, 0] = first_new_neg + j
        face[nf, 1] = first_new_pos + j
        nf += 1
    # edges of the negative child
    eb = etop
    ecnt = 0
    jc = 0
    for j in range(ne):
        a = E[eoff + j, 0]
        b = E[eoff + j, 1]
        if s[a] * s[b] < 0:
            lo = a if s[a] < 0 else b
            E[eb + ecnt, 0] = idx[lo, 0]
            E[eb + ecnt, 1] = first_new_neg + jc
            ecnt += 1
            jc += 1
        elif s[a] <= 0 and s[b] <= 0 and not (s[a] == 0 and s[b] == 0):
            E[eb + ecnt, 0] = idx[a, 0]
            E[eb + ecnt, 1] = idx[b, 0]
            ecnt += 1
    # edges of the face (combinatorial test on the negative child's tight sets)
    nface_edges = 0
    fe = eb + ecnt  # face edges are written here first, then copied to the positive child
    for p in range(nf):
        vp = nb + face[p, 0]
        for q in range(p + 1, nf):
            vq = nb + face[q, 0]
            common = 0
            for w in range(nw):
                common += _popcount(B[vp, w] & B[vq, w])
            if common < d - 1:
                continue
            adjacent = True
            for r in range(nf):
                if r == p or r == q:  # noqa: SIM109 (plain compares for numba)
                    continue
                vr = nb + face[r, 0]
                contains = True
                for w in range(nw):
                    cw = B[vp, w] & B[vq, w]
                    if (B[vr, w] & cw) != cw:
                        contains = False
                        break
                if contains:
                    adjacent = False
                    break
            if adjacent:
                E[fe + nface_edges, 0] = face[p, 0]
                E[fe + nface_edges, 1] = face[q, 0]
                nface_edges += 1
    ne_neg = ecnt + nface_edges
    ne_pos = 0
    if not keep_neg_only:
        pe = eb + ne_neg
        ecnt = 0
        jc = 0
        for j in range(ne):
            a = E[eoff + j, 0]
            b = E[eoff + j, 1]
            if s[a] * s[b] < 0:
                hi = a if s[a] > 0 else b
                E[pe + ecnt, 0] = idx[hi, 1]
                E[pe + ecnt, 1] = first_new_pos + jc
                ecnt += 1
                jc += 1
            elif s[a] >= 0 and s[b] >= 0 and not (s[a] == 0 and s[b] == 0):
                E[pe + ecnt, 0] = idx[a, 1]
                E[pe + ecnt, 1] = idx[b, 1]
                ecnt += 1
        # the face's edges, renumbered into the positive child
        for j in range(nface_edges):
            ea = E[fe + j, 0]
            eb2 = E[fe + j, 1]
            E[pe + ecnt, 0] = _pos_of(face, nf, ea)
            E[pe + ecnt, 1] = _pos_of(face, nf, eb2)
            ecnt += 1
        ne_pos = ecnt
    # move both children down to the parent's place (forward copies: never overlap badly)
    for i in range(nv_neg + nv_pos):
        for k in range(d):
            V[voff + i, k] = V[nb + i, k]
        for w in range(nw):
            B[voff + i, w] = B[nb + i, w]
    for j in range(ne_neg + ne_pos):
        E[eoff + j, 0] = E[eb + j, 0]
        E[eoff + j, 1] = E[eb + j, 1]
    return nv_neg, ne_neg, nv_pos, ne_pos


@njit(cache=True)
def _write_cut(V, B, voff, nv, bit, seg, r):
    """Write the cut of a split to ``seg[r]``: the two farthest-apart vertices of the
    negative child that lie on the splitting hyperplane (have its ``bit``)."""
    d = V.shape[1]
    w = bit // 64
    m = _ONE << np.uint64(bit % 64)
    first = -1
    for i in range(nv):
        if (B[voff + i, w] & m) != 0:
            first = i
            break
    a = first  # farthest from the first on-vertex, then the farthest from that one
    b = first
    for rep in range(2):
        best = -1.0
        for i in range(nv):
            if (B[voff + i, w] & m) != 0:
                dist = 0.0
                for k in range(d):
                    diff = V[voff + i, k] - V[voff + a, k]
                    dist += diff * diff
                if dist > best:
                    best = dist
                    b = i
        if rep == 0:
            a = b
    for k in range(d):
        seg[r, 0, k] = V[voff + a, k]
        seg[r, 1, k] = V[voff + b, k]


@njit(cache=True)
def _pos_of(face, nf, neg_index):
    for i in range(nf):
        if face[i, 0] == neg_index:
            return face[i, 1]
    return -1


@njit(cache=True)
def _face_candidates(B, voff, nv, vi, pattern, unit_bits, sets, out, out_kind, ist):
    """Record the patterns of the faces of a leaf cell through its vertex ``vi``.

    A point ``x`` of the cell's closure has the cell's pattern less the active units
    with ``g_u(x) = 0``, and those are the active units tight on the smallest face
    holding ``x``: the intersection of the tight sets of that face's vertices. So the
    candidates are the cell's pattern less ``T`` for every non-empty intersection ``T``
    of active-unit tight sets over vertex subsets holding ``vi`` (a superset of the
    faces; each candidate is checked against the definition by an LP afterwards). When
    at most ``ALL_SUBSETS_MAX`` active units are tight at the vertex, every subset of
    them is a candidate instead.
    """
    nw = B.shape[1]
    nu = pattern.shape[0]
    # the active units' bits
    act = np.zeros(nw, dtype=np.uint64)
    for u in range(nu):
        if pattern[u] == 1:
            bit = unit_bits + u
            act[bit // 64] = act[bit // 64] | (_ONE << np.uint64(bit % 64))
    nset = 0
    empty = True
    for w in range(nw):
        sets[0, w] = B[voff + vi, w] & act[w]
        if sets[0, w] != 0:
            empty = False
    if empty:
        return
    # few active units tight at the vertex: every subset of them is a candidate (the lp
    # engine's LPs, with their feasibility tolerance, may reach such a pattern at the
    # vertex even where no face carries it exactly)
    tight = np.zeros(nu, dtype=np.int64)
    nt = 0
    for u in range(nu):
        bit = unit_bits + u
        if (sets[0, bit // 64] >> np.uint64(bit % 64)) & _ONE:
            tight[nt] = u
            nt += 1
    if nt <= ALL_SUBSETS_MAX:
        for mask in range(1, 1 << nt):
            r = ist[I_OUT]
            for u in range(nu):
                out[r, u] = pattern[u]
            for j in range(nt):
                if (mask >> j) & 1:
                    out[r, tight[j]] = 0
            out_kind[r] = KIND_FACE
            ist[I_OUT] = r + 1
        return
    nset = 1
    for j in range(nv):
        if j == vi:
            continue
        known = nset
        for a in range(known):
            nonzero = False
            for w in range(nw):
                if (sets[a, w] & B[voff + j, w]) != 0:
                    nonzero = True
            if not nonzero:
                continue
            dup = False
            for b in range(nset):
                same = True
                for w in range(nw):
                    if sets[b, w] != (sets[a, w] & B[voff + j, w]):
                        same = False
                        break
                if same:
                    dup = True
                    break
            if dup:
                continue
            if nset == sets.shape[0]:
                ist[I_OVERFLOW] = 1
                return
            for w in range(nw):
                sets[nset, w] = sets[a, w] & B[voff + j, w]
            nset += 1
    for a in range(nset):
        r = ist[I_OUT]
        for u in range(nu):
            bit = unit_bits + u
            tight = (sets[a, bit // 64] >> np.uint64(bit % 64)) & _ONE
            out[r, u] = 0 if tight != 0 else pattern[u]
        out_kind[r] = KIND_FACE
        ist[I_OUT] = r + 1


@njit(cache=True)
def cut_root(V, B, E, nv, ne, a, c, radius, tol_rel, bit, g, s, idx, face):
    """Cut the root cell (at offset 0) to ``a.x + c <= 0``.

    Returns (vertices, edges) of what is kept; (0, 0) when nothing strictly inside
    remains (the polytope has no interior in the box)."""
    npos, nneg = _classify(V, 0, nv, a, c, radius, tol_rel, g, s)
    if nneg == 0:
        return 0, 0
    if npos == 0:
        _mark_on(B, 0, nv, s, bit)
        return nv, ne
    nv_neg, ne_neg, _, _ = _split(V, B, E, 0, nv, 0, ne, nv, ne, g, s, bit, True, idx, face)
    return nv_neg, ne_neg


# long: numba: the main loop over the cell stack; a split would pass its state per cell
@njit(cache=True)
def run(
    d,
    widths,
    layer_start,
    w0,
    b0,
    wd,
    bd,
    radius,
    tol_rel,
    eps,
    witness_tol,
    unit_bit0,
    s_voff,
    s_nv,
    s_eoff,
    s_ne,
    s_layer,
    s_unit,
    s_pat,
    s_ma,
    s_mc,
    s_ball,
    V,
    B,
    E,
    g,
    s,
    idx,
    face,
    pend,
    ist,
    budget,
    record,
    out,
    out_kind,
    sets,
    unit_bits,
    keep,
    cell_v,
    cell_nv,
    seg,
    seg_unit,
):
    """Run the depth-first split until the stack is empty or a return code asks Python.

    ``s_*`` are the stack's slots (cell offsets and sizes, layer, next unit of the layer,
    pattern, affine maps ``s_ma[slot, u] . x + s_mc[slot, u]``, a ball holding the cell:
    center ``s_ball[slot, :d]``, radius ``s_ball[slot, d]``, negative when not yet
    computed); ``pend`` receives the
    patterns of leaves without a witness. With ``record``, ``out`` receives every
    leaf's pattern (``KIND_CELL``) and the candidate patterns of the faces through its
    degenerate vertices (``KIND_FACE``, see :func:`_face_candidates`). With ``keep`` (and
    ``record``) the vertices of every recorded leaf follow in ``cell_v`` (in the order of
    the ``KIND_CELL`` rows; ``cell_nv`` gives their number per row), and every split
    writes its cut, the face ``cell ∩ {g_u = 0}``, to ``seg`` (its two extreme vertices;
    one point when ``d = 1``) with its unit in ``seg_unit``: what a 2-D slice or a line
    draws. Returns one of the
    codes at the module's top.
    """
    n_layers = widths.shape[0]
    nu = s_pat.shape[1]
    work = 0
    cent = np.zeros(d)
    while ist[I_SP] > 0:
        if work >= budget:
            return BUDGET
        sl = ist[I_SP] - 1
        layer = s_layer[sl]
        k = s_unit[sl]
        voff = s_voff[sl]
        nv = s_nv[sl]
        if k == widths[layer]:
            # the layer is decided: the maps of the next one, or a leaf
            if layer + 1 == n_layers:
                if ist[I_PENDING] >= pend.shape[0]:
                    return PENDING_FULL
                if record and ist[I_OUT] + 1 + nv * sets.shape[0] > out.shape[0]:
                    return OUT_FULL
                if keep and ist[I_CV] + nv > cell_v.shape[0]:
                    return OUT_FULL
                work += 1
                ist[I_LEAVES] += 1
                for kk in range(d):
                    cent[kk] = 0.0
                for i in range(nv):
                    nbits = 0
                    for w in range(B.shape[1]):
                        nbits += _popcount(B[voff + i, w])
                    if nbits > d:
                        ist[I_DEGENERATE] += 1
                        if record:
                            _face_candidates(B, voff, nv, i, s_pat[sl], unit_bits, sets,
                                             out, out_kind, ist)
                    for kk in range(d):
                        cent[kk] += V[voff + i, kk]
                for kk in range(d):
                    cent[kk] /= nv
                witness = True
                for u in range(nu):
                    val = s_mc[sl, u]
                    for kk in range(d):
                        val += s_ma[sl, u, kk] * cent[kk]
                    if s_pat[sl, u] == 1:
                        if val < eps:
                            witness = False
                            break
                    elif val > witness_tol:
                        witness = False
                        break
                if record:
                    r = ist[I_OUT]
                    for u in range(nu):
                        out[r, u] = s_pat[sl, u]
                    out_kind[r] = KIND_CELL
                    ist[I_OUT] = r + 1
                    if keep:
                        cell_nv[r] = nv
                        cv = ist[I_CV]
                        for i in range(nv):
                            for kk in range(d):
                                cell_v[cv + i, kk] = V[voff + i, kk]
                        ist[I_CV] = cv + nv
                if witness:
                    ist[I_REGIONS] += 1
                else:
                    p = ist[I_PENDING]
                    for u in range(nu):
                        pend[p, u] = s_pat[sl, u]
                    ist[I_PENDING] = p + 1
                ist[I_SP] -= 1
                ist[I_VTOP] = voff
                ist[I_ETOP] = s_eoff[sl]
                continue
            nxt = layer + 1
            st = layer_start[nxt]
            pst = layer_start[layer]
            for j in range(widths[nxt]):
                u = st + j
                cc = bd[nxt, j]
                for kk in range(d):
                    s_ma[sl, u, kk] = 0.0
                for i in range(widths[layer]):
                    wgt = wd[nxt, j, i]
                    if wgt != 0.0 and s_pat[sl, pst + i] == 1:
                        cc += wgt * s_mc[sl, pst + i]
                        for kk in range(d):
                            s_ma[sl, u, kk] += wgt * s_ma[sl, pst + i, kk]
                s_mc[sl, u] = cc
            s_layer[sl] = nxt
            s_unit[sl] = 0
            continue
        u = layer_start[layer] + k
        if s_ball[sl, d] < 0.0:  # the cell's enclosing ball: its vertex mean, radius
            _enclosing_ball(V, voff, nv, s_ball[sl])
        # a hyperplane that misses the ball (with the tolerance) decides the unit at once
        gc = s_mc[sl, u]
        anorm = 0.0
        ascale = abs(gc)
        for kk in range(d):
            gc += s_ma[sl, u, kk] * s_ball[sl, kk]
            anorm += s_ma[sl, u, kk] * s_ma[sl, u, kk]
            ascale += abs(s_ma[sl, u, kk]) * radius
        reach = np.sqrt(anorm) * s_ball[sl, d] * (1.0 + 1e-12) + tol_rel * ascale
        if gc > reach or gc < -reach:
            s_pat[sl, u] = 1 if gc > 0.0 else 0
            s_unit[sl] = k + 1
            continue
        npos, nneg = _classify(V, voff, nv, s_ma[sl, u], s_mc[sl, u], radius, tol_rel, g, s)
        if npos == 0 or nneg == 0:
            s_pat[sl, u] = 1 if npos > 0 else 0
            _mark_on(B, voff, nv, s, unit_bit0 + u)
            s_unit[sl] = k + 1
            continue
        eoff = s_eoff[sl]
        ne = s_ne[sl]
        need_v, need_e = _split_size(E, eoff, ne, nv, s)
        if ist[I_VTOP] + need_v > V.shape[0] or need_v > idx.shape[0] or need_v > face.shape[0]:
            return GROW_VERTICES
        if ist[I_ETOP] + need_e > E.shape[0]:
            return GROW_EDGES
        if sl + 2 > s_voff.shape[0]:
            return GROW_VERTICES  # cannot happen: the stack holds at most nu + 1 cells
        if keep and ist[I_SEG] >= seg.shape[0]:
            return SEG_FULL
        work += 1
        ist[I_SPLITS] += 1
        nv_neg, ne_neg, nv_pos, ne_pos = _split(
            V, B, E, voff, nv, eoff, ne, ist[I_VTOP], ist[I_ETOP], g, s,
            unit_bit0 + u, False, idx, face,
        )
        if keep:
            _write_cut(V, B, voff, nv_neg, unit_bit0 + u, seg, ist[I_SEG])
            seg_unit[ist[I_SEG]] = u
            ist[I_SEG] += 1
        # the negative child stays in this slot, the positive one goes on top
        s_ball[sl, d] = -1.0
        s_ball[sl + 1, d] = -1.0
        s_nv[sl] = nv_neg
        s_ne[sl] = ne_neg
        s_pat[sl, u] = 0
        s_unit[sl] = k + 1
        top = sl + 1
        s_voff[top] = voff + nv_neg
        s_nv[top] = nv_pos
        s_eoff[top] = eoff + ne_neg
        s_ne[top] = ne_pos
        s_layer[top] = layer
        s_unit[top] = k + 1
        last = layer_start[layer] + widths[layer]
        for uu in range(last):
            s_pat[top, uu] = s_pat[sl, uu]
            s_mc[top, uu] = s_mc[sl, uu]
            for kk in range(d):
                s_ma[top, uu, kk] = s_ma[sl, uu, kk]
        s_pat[top, u] = 1
        ist[I_SP] = top + 1
        ist[I_VTOP] = voff + nv_neg + nv_pos
        ist[I_ETOP] = eoff + ne_neg + ne_pos
    return DONE
