"""Independent oracles for the region counters (importable from any test: tests/ is on sys.path).

These share no code with reluscope's search engines: they read only the network's
arrays and :data:`reluscope.tolerances.REGION_EPS`, and decide every pattern with
``scipy.optimize.linprog`` (HiGHS).

Definition checked (the one every engine must implement): a pattern ``S`` over the ReLU
units counts iff some ``x`` in the domain (the box, cut by the network's polytope
``domain_A x <= domain_b`` when it has one) has ``g_i(x) >= REGION_EPS`` for the units in
``S`` and ``g_i(x) <= 0`` for the others, with each ``g_i`` computed with the pattern
applied (inactive units output 0, active units output ``g``).

Leaky and identity units (``network.slopes``) are read directly: an inactive leaky unit
outputs ``alpha g``; an identity unit has no choice (its bit is 1, no inequality) and
outputs ``g``. The oracle never uses :mod:`reluscope.relu_form`.
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy.optimize import linprog

from reluscope.network import ReLUNetwork
from reluscope.tolerances import REGION_EPS

#: HiGHS primal feasibility tolerance of the oracle's LPs: far below REGION_EPS, so a
#: pattern that misses the margin by more than this is rejected.
_LP_FEASIBILITY_TOL = 1e-9

#: A witness point is reused for a new row only if it satisfies it by this much.
_WITNESS_SLACK = 1e-12

#: Brute force refuses networks with more units than this (2^n patterns).
MAX_BRUTE_FORCE_UNITS = 16


def _witness(
    a_ub: np.ndarray, b_ub: np.ndarray, lower: np.ndarray, upper: np.ndarray
) -> np.ndarray | None:
    """A point of ``{x in [lower, upper] : a_ub x <= b_ub}``, or None if it is empty."""
    res = linprog(
        np.zeros(a_ub.shape[1]),
        A_ub=a_ub,
        b_ub=b_ub,
        bounds=list(zip(lower, upper, strict=True)),
        method="highs",
        options={"primal_feasibility_tolerance": _LP_FEASIBILITY_TOL},
    )
    if res.status == 0:
        return np.asarray(res.x, dtype=float)
    if res.status == 2:
        return None
    raise RuntimeError(f"linprog failed on a brute-force LP: {res.message}")


def brute_force_patterns(
    network: ReLUNetwork,
    a_ub: np.ndarray | None = None,
    b_ub: np.ndarray | None = None,
    *,
    box: tuple[np.ndarray, np.ndarray] | None = None,
) -> set[tuple[bool, ...]]:
    """Every activation pattern that is a counted linear region, by exhaustive search.

    The domain is the network's box and polytope rows (``domain_A x <= domain_b``);
    ``a_ub x <= b_ub``, when given, restricts it further (e.g. a slice clipped to a
    larger network's input box). ``box`` replaces the network's box: give the box as the
    user wrote it, so the oracle does not rely on reluscope's tightening of the box to
    the polytope.

    Depth-first over the units in order (layer by layer): a unit's pre-activation is an
    affine function of ``x`` once the patterns of the earlier layers are fixed, so each
    choice adds one linear inequality, and a partial pattern whose inequalities are
    infeasible is pruned with all its completions. Every leaf reached is feasible: each
    partial pattern carries a point satisfying its inequalities (found by LP, or the
    parent's point when that one already satisfies the new inequality).
    """
    n_units = network.n_units
    if n_units > MAX_BRUTE_FORCE_UNITS:
        raise ValueError(f"brute force is for tiny networks; got {n_units} units")
    lower, upper = np.asarray(network.lower, float), np.asarray(network.upper, float)
    if box is not None:
        lower, upper = (np.broadcast_to(np.asarray(v, float), lower.shape) for v in box)
    n0 = network.n_inputs
    found: set[tuple[bool, ...]] = set()
    # the ReLU layers' weights, in order; a final layer without ReLU has no units
    layers = [
        (np.asarray(network.weights[i], float), np.asarray(network.biases[i], float))
        for i in range(network.n_layers)
        if network.relu[i]
    ]
    slopes = [np.asarray(network.slopes[i], float) for i in range(network.n_layers)
              if network.relu[i]]

    def visit(
        layer: int,
        unit: int,
        a_map: np.ndarray,  # h^{layer-1} = a_map @ x + c_map
        c_map: np.ndarray,
        g_a: np.ndarray,  # this layer's g = g_a @ x + g_c
        g_c: np.ndarray,
        rows: list[np.ndarray],
        rhs: list[float],
        pattern: list[bool],
        witness: np.ndarray,  # a point satisfying rows/rhs
    ) -> None:
        if layer == len(layers):
            found.add(tuple(pattern))
            return
        w, b = layers[layer]
        if unit == 0:
            g_a, g_c = w @ a_map, w @ c_map + b
        alpha = slopes[layer]
        if unit == w.shape[0]:
            active = np.array(pattern[len(pattern) - w.shape[0] :], dtype=bool)
            new_a = np.where(active[:, None], g_a, alpha[:, None] * g_a)
            new_c = np.where(active, g_c, alpha * g_c)
            visit(layer + 1, 0, new_a, new_c, g_a, g_c, rows, rhs, pattern, witness)
            return
        if alpha[unit] == 1.0:  # identity: no choice, no inequality
            pattern.append(True)
            visit(layer, unit + 1, a_map, c_map, g_a, g_c, rows, rhs, pattern, witness)
            pattern.pop()
            return
        for is_active in (False, True):
            if is_active:  # g >= eps  <=>  -g_a x <= g_c - eps
                row, bound = -g_a[unit], float(g_c[unit]) - REGION_EPS
            else:  # g <= 0  <=>  g_a x <= -g_c
                row, bound = g_a[unit], -float(g_c[unit])
            rows.append(row)
            rhs.append(bound)
            # no LP when the box alone refutes the new row, or when the parent's witness
            # satisfies it outright
            point: np.ndarray | None = witness
            if float(np.minimum(row * lower, row * upper).sum()) > bound + _LP_FEASIBILITY_TOL:
                point = None  # the new row alone already misses the whole box
            elif float(row @ witness) > bound - _WITNESS_SLACK:
                point = _witness(np.array(rows).reshape(len(rows), n0), np.array(rhs), lower, upper)
            if point is not None:
                pattern.append(is_active)
                visit(layer, unit + 1, a_map, c_map, g_a, g_c, rows, rhs, pattern, point)
                pattern.pop()
            rows.pop()
            rhs.pop()

    rows0 = [np.asarray(r, float) for r in network.domain_A]
    rhs0 = [float(v) for v in network.domain_b]
    if a_ub is not None and b_ub is not None:
        rows0 += [np.asarray(r, float) for r in a_ub]
        rhs0 += [float(v) for v in b_ub]
    start: np.ndarray | None = (lower + upper) / 2
    if rows0:
        start = _witness(np.array(rows0), np.array(rhs0), lower, upper)
        if start is None:
            return set()
    if not layers:
        return {()}
    assert start is not None
    visit(0, 0, np.eye(n0), np.zeros(n0), np.zeros((0, n0)), np.zeros(0), rows0, rhs0, [], start)
    return found


def brute_force_count(
    network: ReLUNetwork, *, box: tuple[np.ndarray, np.ndarray] | None = None
) -> int:
    """Number of counted linear regions, by exhaustive search (see brute_force_patterns)."""
    return len(brute_force_patterns(network, box=box))


def sampled_patterns(
    network: ReLUNetwork, n: int, seed: int, margin: float = 1e-5
) -> set[tuple[bool, ...]]:
    """Distinct patterns of ``n`` uniform random inputs whose |g| all exceed ``margin``.

    Each such pattern is a counted region (its input is a witness with room to spare
    for REGION_EPS), so ``len(sampled_patterns(...))`` is a lower bound on the count.
    """
    rng = np.random.default_rng(seed)
    lower, upper = np.asarray(network.lower, float), np.asarray(network.upper, float)
    x = lower + rng.random((n, network.n_inputs)) * (upper - lower)
    a_rows, b_rows = np.asarray(network.domain_A, float), np.asarray(network.domain_b, float)
    x = x[np.all(x @ a_rows.T <= b_rows, axis=1)]  # rejection: keep the polytope's points
    n = x.shape[0]
    h = x
    signs, clear = [], np.ones(n, dtype=bool)
    for w, b, has_relu in zip(network.weights, network.biases, network.relu, strict=True):
        g = h @ np.asarray(w, float).T + np.asarray(b, float)
        if has_relu:
            signs.append(g > 0)
            clear &= np.all(np.abs(g) > max(margin, REGION_EPS), axis=1)
            h = np.maximum(g, 0.0)
        else:
            h = g
    if not signs:
        return {()} if n > 0 else set()
    patterns = np.concatenate(signs, axis=1)[clear]
    return {tuple(bool(v) for v in row) for row in patterns}


def is_region(network: ReLUNetwork, pattern: tuple[bool, ...] | np.ndarray) -> bool:
    """Is this one pattern a counted linear region? (one LP over all its inequalities)"""
    bits = [bool(v) for v in pattern]
    if len(bits) != network.n_units:
        raise ValueError(f"pattern has {len(bits)} bits for {network.n_units} units")
    lower, upper = np.asarray(network.lower, float), np.asarray(network.upper, float)
    a_map, c_map = np.eye(network.n_inputs), np.zeros(network.n_inputs)
    rows, rhs, start = [], [], 0
    for w, b, has_relu in zip(network.weights, network.biases, network.relu, strict=True):
        if not has_relu:
            break
        g_a, g_c = np.asarray(w, float) @ a_map, np.asarray(w, float) @ c_map + b
        active = np.array(bits[start : start + g_a.shape[0]], dtype=bool)
        start += g_a.shape[0]
        for i, on in enumerate(active):
            rows.append(-g_a[i] if on else g_a[i])
            rhs.append(float(g_c[i]) - REGION_EPS if on else -float(g_c[i]))
        a_map, c_map = np.where(active[:, None], g_a, 0.0), np.where(active, g_c, 0.0)
    rows += [np.asarray(r, float) for r in network.domain_A]
    rhs += [float(v) for v in network.domain_b]
    if not rows:
        return True
    return _witness(np.array(rows), np.array(rhs), lower, upper) is not None


def brute_force_graph_patterns(
    layers: list[tuple[list[tuple[int, np.ndarray]], np.ndarray, np.ndarray]],
    lower: np.ndarray,
    upper: np.ndarray,
) -> set[tuple[bool, ...]]:
    """Every counted pattern of a network whose activation layers may read any earlier
    layer (skip connections), by exhaustive search with an LP per partial pattern.

    ``layers[k] = (sources, bias, slopes)``: layer ``k``'s pre-activation is
    ``sum(M @ h_j for j, M in sources) + bias`` with ``h_{-1} = x``, and its output
    ``h_k`` is ``g`` on the active side, ``slope * g`` on the inactive one. Identity
    units (slope 1) have no choice (bit 1). Written from the model's own structure, so
    it does not use reluscope's lowering of skip connections into layers.
    """
    lower, upper = np.asarray(lower, float), np.asarray(upper, float)
    n0 = lower.shape[0]
    found: set[tuple[bool, ...]] = set()

    def visit(k: int, unit: int, maps: list[tuple[np.ndarray, np.ndarray]],
              g: tuple[np.ndarray, np.ndarray] | None, rows: list[np.ndarray],
              rhs: list[float], pattern: list[bool], witness: np.ndarray) -> None:
        if k == len(layers):
            found.add(tuple(pattern))
            return
        sources, bias, slopes = layers[k]
        if g is None:
            ga, gc = np.zeros((bias.shape[0], n0)), np.asarray(bias, float).copy()
            for j, mat in sources:
                ha, hc = (np.eye(n0), np.zeros(n0)) if j < 0 else maps[j]
                ga, gc = ga + mat @ ha, gc + mat @ hc
            g = (ga, gc)
        ga, gc = g
        if unit == bias.shape[0]:
            active = np.array(pattern[len(pattern) - unit:], dtype=bool)
            scale = np.where(active, 1.0, slopes)
            visit(k + 1, 0, [*maps, (scale[:, None] * ga, scale * gc)], None, rows, rhs,
                  pattern, witness)
            return
        if slopes[unit] == 1.0:
            pattern.append(True)
            visit(k, unit + 1, maps, g, rows, rhs, pattern, witness)
            pattern.pop()
            return
        for is_active in (False, True):
            if is_active:
                row, bound = -ga[unit], float(gc[unit]) - REGION_EPS
            else:
                row, bound = ga[unit], -float(gc[unit])
            rows.append(row)
            rhs.append(bound)
            point: np.ndarray | None = witness
            if float(np.minimum(row * lower, row * upper).sum()) > bound + _LP_FEASIBILITY_TOL:
                point = None
            elif float(row @ witness) > bound - _WITNESS_SLACK:
                point = _witness(np.array(rows), np.array(rhs), lower, upper)
            if point is not None:
                pattern.append(is_active)
                visit(k, unit + 1, maps, g, rows, rhs, pattern, point)
                pattern.pop()
            rows.pop()
            rhs.pop()

    visit(0, 0, [], None, [], [], [], (lower + upper) / 2)
    return found


def brute_force_pool_patterns(
    layers: list[tuple],
    lower: np.ndarray,
    upper: np.ndarray,
    a_ub: np.ndarray | None = None,
    b_ub: np.ndarray | None = None,
) -> set[tuple[tuple[bool, ...], tuple[int, ...]]]:
    """Every region of a network with max-pooling windows, each window one unit with one
    side per input (its argmax), by exhaustive search with an LP per partial pattern.

    ``layers`` in order: ``("dense", W, b)`` (an affine layer followed by ReLUs;
    ``("dense", W, b, alpha)``: leaky ReLUs, ``alpha g`` on the inactive side),
    ``("affine", W, b)`` (an affine layer without activation, before a pooling),
    ``("linear", W, b)`` (no activation: the output) or ``("pool", windows, None)``
    (output ``o`` is the max of the inputs ``windows[o]``). Side ``j`` of a window is
    ``z_j - z_i >= REGION_EPS`` for ``i < j`` and ``z_j - z_i >= 0`` for ``i > j`` (ties
    go to the earlier input, as a ReLU's go to its inactive side). A pattern is the
    ReLU sides in order and the argmax of every window in order. Written from the model's
    own layers: it never uses reluscope's tournament lowering. The domain is the box cut
    by ``a_ub x <= b_ub`` when given.
    """
    lower, upper = np.asarray(lower, float), np.asarray(upper, float)
    n0 = lower.shape[0]
    found: set[tuple[tuple[bool, ...], tuple[int, ...]]] = set()
    domain_rows = [] if a_ub is None else list(np.asarray(a_ub, float))
    domain_rhs = [] if b_ub is None else list(np.asarray(b_ub, float))

    def sides(k: int, ha: np.ndarray, hc: np.ndarray):
        """The choices of layer k: (rows, rhs, output map, bits, winners) per choice."""
        kind, first, second = layers[k][:3]
        alpha = layers[k][3] if len(layers[k]) > 3 else 0.0
        if kind == "pool":
            choices = [((), (), [], [], [])]
            for window in first:
                new = []
                for rows, rhs, outs, bits, wins in choices:
                    for j, src in enumerate(window):
                        r = [ha[i] - ha[src] for i in window if i != src]
                        b = [hc[src] - hc[i] - (REGION_EPS if n < j else 0.0)
                             for n, i in enumerate(window) if i != src]
                        new.append((rows + tuple(r), rhs + tuple(b), [*outs, src], bits,
                                    [*wins, j]))
                choices = new
            for rows, rhs, outs, bits, wins in choices:
                yield list(rows), list(rhs), (ha[outs], hc[outs]), bits, wins
            return
        ga, gc = np.asarray(first) @ ha, np.asarray(first) @ hc + np.asarray(second)
        if kind == "affine":
            yield [], [], (ga, gc), [], []
            return
        for bits in itertools.product((False, True), repeat=ga.shape[0]):
            on = np.array(bits, dtype=bool)
            rows = [ga[u] if not on[u] else -ga[u] for u in range(ga.shape[0])]
            rhs = [-gc[u] if not on[u] else gc[u] - REGION_EPS for u in range(ga.shape[0])]
            scale = np.where(on, 1.0, alpha)
            yield rows, rhs, (scale[:, None] * ga, scale * gc), list(bits), []

    def visit(k: int, ha: np.ndarray, hc: np.ndarray, rows: list, rhs: list,
              bits: list, wins: list) -> None:
        if k == len(layers) or layers[k][0] == "linear":
            found.add((tuple(bits), tuple(wins)))
            return
        for r, b, (na, nc), new_bits, new_wins in sides(k, ha, hc):
            all_rows, all_rhs = rows + r, rhs + b
            if all_rows and _witness(np.array(all_rows), np.array(all_rhs), lower,
                                     upper) is None:
                continue
            visit(k + 1, na, nc, all_rows, all_rhs, bits + new_bits, wins + new_wins)

    visit(0, np.eye(n0), np.zeros(n0), domain_rows, domain_rhs, [], [])
    return found


def sampled_pool_patterns(
    layers: list[tuple], points: np.ndarray
) -> set[tuple[tuple[bool, ...], tuple[int, ...]]]:
    """The patterns (as :func:`brute_force_pool_patterns`) of sampled input points, by
    evaluating the model; points within REGION_EPS of a tie or a ReLU's kink are left
    out (their side depends on the margin)."""
    found = set()
    for x in np.asarray(points, float):
        h, bits, wins, clear = x, [], [], True
        for layer in layers:
            kind, first, second = layer[:3]
            alpha = layer[3] if len(layer) > 3 else 0.0
            if kind == "linear":
                break
            if kind == "pool":
                out = []
                for window in first:
                    z = h[list(window)]
                    j = int(np.argmax(z))
                    if j > 0 and z[j] - np.max(z[:j]) < 2 * REGION_EPS:
                        clear = False
                    wins.append(j)
                    out.append(z[j])
                h = np.array(out)
                continue
            g = np.asarray(first) @ h + np.asarray(second)
            if kind == "affine":
                h = g
                continue
            if np.any((g > -REGION_EPS) & (g < 2 * REGION_EPS)):
                clear = False
            bits.extend(bool(v) for v in g >= REGION_EPS)
            h = np.where(g > 0.0, g, alpha * g)
        if clear:
            found.add((tuple(bits), tuple(wins)))
    return found
