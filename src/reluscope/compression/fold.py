r"""Network surgery of LEO: remove and fold stable units, merge linear layers.

Write hidden layer ``l`` as ``h = relu(W h^- + b)`` and the next layer as
``g^+ = V h + c``. Each step below leaves every output unchanged on the domain:

1. **Stably inactive unit** ``i`` (``h_i = 0`` on the domain): delete row ``i`` of
   ``W, b`` and column ``i`` of ``V``.
2. **Unit with zero outgoing weights** (column ``i`` of ``V`` is zero): it contributes
   nothing; delete it the same way.
3. **All units of the layer stably active** (``h = W h^- + b``): the layer is affine
   and merges into the next one, ``g^+ = (V W) h^- + (V b + c)``; one layer fewer.
4. **Some units stably active** (set ``A``), others not: an active unit passes on its
   affine ``h_a = W_a h^- + b_a``. If ``W_a = sum_{k in B} t_k W_k`` for a set ``B`` of
   other active units (a basis of the active rows, chosen greedily), then
   ``h_a = sum_k t_k h_k + (b_a - sum_k t_k b_k)`` on the domain, so
   ``V_{:,k} += t_k V_{:,a}`` for ``k`` in ``B``, ``c += V_{:,a} (b_a - t . b_B)``
   and unit ``a`` is deleted. At most ``rank(W_A)`` active units remain. Active rows
   are *not* expressed through unstable units: an unstable unit passes on
   ``relu(g)``, not ``g``, so no linear identity holds.
5. **Output layer**: its ReLU flag is kept. An output unit with a ReLU that is stably
   inactive always outputs 0: its row and bias become 0 (``relu(0) = 0``), which can
   give units of the last hidden layer zero outgoing weights (step 2).
6. **Empty layer**: if a hidden layer loses all its units, everything after it is
   constant. The result is then a single affine layer ``0 * x + c`` (with the
   original output ReLU flag; ``c`` is the constant output, ``>= 0`` when there is a
   ReLU), i.e. a network with no hidden unit and a constant output.

**Leaky and identity units** (slope ``alpha``, :class:`~reluscope.network.ReLUNetwork`)
are linear wherever their side is fixed, so they fold like stably active units: an
identity unit always (``h = g``); a stably active leaky unit (``h = g``); a stably
inactive leaky unit (``h = alpha g``) after its row and bias are scaled by ``alpha``
and it becomes an identity unit (``h = alpha g`` exactly). Only ReLU units
(``alpha = 0``) are removed as stably inactive (step 1). Kept ReLU units stay ReLUs, so
a plain ReLU network is compressed exactly as before.

Steps repeat until nothing changes: deleting a unit can leave units of the previous
layer with zero outgoing weights, and merging a layer can make the previous layer's
columns zero. Stability is a property of each remaining unit's function ``g_i(x)``, and
every step keeps those functions, so the stable units found once stay valid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from reluscope.network import FloatArray, ReLUNetwork
from reluscope.serialise import fields_dict
from reluscope.tolerances import FOLD_RANK_RTOL


@dataclass
class LayerChange:
    """What happened to one layer of the original network.

    Every unit is accounted for: ``units_before == units_after + removed_inactive +
    removed_no_output + folded_active + removed_constant`` (a merged layer counts all its
    units in ``folded_active``; zeroed output units stay, so they are in ``units_after``).

    Attributes
    ----------
    removed_inactive, removed_no_output
        Units deleted as stably inactive (step 1), or for having no outgoing weight (2).
    folded_active, merged
        Stably active units folded into the next layer (step 4), or the whole layer
        merged into it (step 3, ``merged`` True).
    zeroed_outputs
        Stably inactive output units with ReLU whose row and bias became 0 (step 5).
    removed_constant
        Units deleted because some hidden layer lost all its units, which makes the
        output constant (step 6): the network becomes a single affine layer.
    units_after
        Units of this layer left in the compressed network.
    """

    layer: int
    units_before: int
    removed_inactive: int = 0
    removed_no_output: int = 0
    folded_active: int = 0
    merged: bool = False
    zeroed_outputs: int = 0
    units_after: int = 0
    removed_constant: int = 0

    @property
    def removed(self) -> int:
        """Units of this layer that are gone, for any reason."""
        return (
            self.removed_inactive
            + self.removed_no_output
            + self.folded_active
            + self.removed_constant
        )

    def to_dict(self) -> dict[str, Any]:
        return fields_dict(self)


@dataclass
class _Layer:
    w: FloatArray
    b: FloatArray
    relu: bool
    origin: int
    active: np.ndarray  # linear on the domain: h = g
    inactive: np.ndarray  # stably inactive ReLU units: h = 0
    slope: np.ndarray
    pool: np.ndarray  # units of a lowered max-pooling (kept through every step)
    extra: dict[str, int] = field(default_factory=dict)


def _layers_of(
    network: ReLUNetwork, active: tuple[np.ndarray, ...], inactive: tuple[np.ndarray, ...]
) -> list[_Layer]:
    """Copies of the network's layers, each with its stably active and inactive units."""
    return [
        _Layer(
            w=np.array(w, dtype=float),
            b=np.array(b, dtype=float),
            relu=bool(r),
            origin=i,
            active=np.array(a, dtype=bool),
            inactive=np.array(z, dtype=bool),
            slope=np.array(s, dtype=float),
            pool=np.array(p, dtype=bool),
        )
        for i, (w, b, r, a, z, s, p) in enumerate(
            zip(network.weights, network.biases, network.relu, active, inactive,
                network.slopes, network.max_pool, strict=True)
        )
    ]


def fold_network(
    network: ReLUNetwork,
    active: tuple[np.ndarray, ...],
    inactive: tuple[np.ndarray, ...],
) -> tuple[ReLUNetwork, list[LayerChange]]:
    """Apply steps 1-6 (module doc) given the stable units of every layer.

    Returns the compressed network and one :class:`LayerChange` per original layer.
    """
    layers = _layers_of(network, active, inactive)
    for layer in layers[:-1]:
        _linearize(layer)
    changes = [LayerChange(layer=i, units_before=w) for i, w in enumerate(network.widths)]

    out = layers[-1]
    out.inactive = out.inactive & (out.slope == 0.0)  # a leaky output unit keeps alpha g
    if out.relu and out.inactive.any():
        dead = out.inactive & ((np.abs(out.w).sum(axis=1) > 0) | (out.b != 0))
        out.w[dead] = 0.0
        out.b[dead] = 0.0
        changes[-1].zeroed_outputs = int(out.inactive.sum())
    out.active = np.zeros_like(out.active)  # the output keeps its ReLU: nothing to fold
    out.inactive = np.zeros_like(out.inactive)

    changed = True
    while changed:
        changed = False
        l = 0
        while l < len(layers) - 1:
            cur, nxt = layers[l], layers[l + 1]
            change = changes[cur.origin]
            # steps 1 and 2: inactive units and units with zero outgoing weights
            no_output = ~np.any(nxt.w != 0, axis=0)
            drop = cur.inactive | no_output
            if drop.any():
                change.removed_inactive += int(cur.inactive.sum())
                change.removed_no_output += int((no_output & ~cur.inactive).sum())
                _delete_units(cur, nxt, drop)
                changed = True
            if cur.w.shape[0] == 0:  # step 6
                constant = _constant_network(network, layers, l)
                for layer in layers[:-1]:  # every hidden unit left goes
                    changes[layer.origin].removed_constant += int(layer.w.shape[0])
                changes = _finish(changes, None)
                changes[-1].units_after = network.n_outputs  # the output layer stays
                return constant, changes
            # step 3: the whole layer is affine
            if cur.active.all():
                change.folded_active += int(cur.w.shape[0])
                change.merged = True
                nxt.b = nxt.w @ cur.b + nxt.b
                nxt.w = nxt.w @ cur.w
                del layers[l]
                changed = True
                continue
            # step 4: active rows dependent on other active rows
            if int(cur.active.sum()) >= 2 and _fold_dependent(cur, nxt):
                change.folded_active += cur.extra.pop("folded", 0)
                changed = True
            l += 1
    compressed = ReLUNetwork(
        [layer.w for layer in layers],
        [layer.b for layer in layers],
        relu=[layer.relu for layer in layers],
        slopes=[layer.slope for layer in layers],
        max_pool=[layer.pool for layer in layers],
        lower=network.lower,
        upper=network.upper,
        domain_A=network.domain_A,
        domain_b=network.domain_b,
        signature=network.signature,
    )
    return compressed, _finish(changes, layers)


def _linearize(layer: _Layer) -> None:
    """Mark the units that are linear on the domain as ``active`` (``h = g``): identity
    units, stably active units, and stably inactive leaky units, whose row and bias are
    scaled by their slope and which become identity units (``h = alpha g``)."""
    leaky_off = layer.inactive & (layer.slope != 0.0)
    if leaky_off.any():
        layer.w[leaky_off] *= layer.slope[leaky_off, None]
        layer.b[leaky_off] *= layer.slope[leaky_off]
        layer.slope[leaky_off] = 1.0
    layer.inactive = layer.inactive & (layer.slope == 0.0)
    layer.active = (layer.active | (layer.slope == 1.0)) & ~layer.inactive


def _delete_units(cur: _Layer, nxt: _Layer, drop: np.ndarray) -> None:
    keep = ~drop
    cur.w, cur.b = cur.w[keep], cur.b[keep]
    cur.active, cur.inactive = cur.active[keep], cur.inactive[keep]
    cur.slope = cur.slope[keep]
    cur.pool = cur.pool[keep]
    nxt.w = nxt.w[:, keep]


def _fold_dependent(cur: _Layer, nxt: _Layer) -> bool:
    """Step 4: fold each active unit whose row is a combination of earlier basis rows."""
    basis: list[int] = []
    folded: list[int] = []
    candidates = np.flatnonzero(cur.active)
    # identity units first: their rows (often unit vectors, skip paths) make a
    # well-conditioned basis; a plain ReLU layer keeps its order
    candidates = candidates[np.argsort(cur.slope[candidates] != 1.0, kind="stable")]
    for a in candidates:
        row = cur.w[a]
        if basis:
            rows = cur.w[basis]
            coef, *_ = np.linalg.lstsq(rows.T, row, rcond=None)
            residual = float(np.linalg.norm(rows.T @ coef - row))
            if residual <= FOLD_RANK_RTOL * max(float(np.linalg.norm(row)), 1e-300):
                column = nxt.w[:, a].copy()
                nxt.w[:, basis] += np.outer(column, coef)
                nxt.b = nxt.b + column * (cur.b[a] - float(coef @ cur.b[basis]))
                nxt.w[:, a] = 0.0
                folded.append(int(a))
                continue
        basis.append(int(a))
    if not folded:
        return False
    drop = np.zeros(cur.w.shape[0], dtype=bool)
    drop[folded] = True
    _delete_units(cur, nxt, drop)
    cur.extra["folded"] = len(folded)
    return True


def _constant_network(network: ReLUNetwork, layers: list[_Layer], empty: int) -> ReLUNetwork:
    """Step 6: layer ``empty`` has no unit left; the output is the constant computed from
    a zero vector through the layers after it."""
    h = np.zeros(0)
    for layer in layers[empty + 1 :]:
        h = layer.w @ h + layer.b
        if layer.relu and layer is not layers[-1]:  # the network applies the last one
            h = np.where(h > 0, h, layer.slope * h)
    n_out = network.n_outputs
    return ReLUNetwork(
        [np.zeros((n_out, network.n_inputs))],
        [h],
        relu=[network.relu[-1]],
        slopes=[network.slopes[-1]],
        lower=network.lower,
        upper=network.upper,
        domain_A=network.domain_A,
        domain_b=network.domain_b,
        signature=network.signature,
    )


def _finish(changes: list[LayerChange], layers: list[_Layer] | None) -> list[LayerChange]:
    remaining = {} if layers is None else {layer.origin: layer.w.shape[0] for layer in layers}
    for change in changes:
        change.units_after = int(remaining.get(change.layer, 0))
    return changes
