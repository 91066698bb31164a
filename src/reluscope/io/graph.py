r"""Lowering a graph with skip connections into the layered model, exactly.

A model whose tensors branch and join again (residual blocks ``y = relu(F(x) + x)``,
any ``Add`` of two computed tensors) is read node by node in topological order. Every
computed tensor is kept as an affine function of the current *state*, the outputs of
the last layer built: ``t = A s + c`` (``A is None`` stands for the identity). Affine
operators update ``(A, c)``; ``Add``/``Sub`` of two computed tensors add their maps.

An activation node (``Relu``, ``LeakyRelu``, ``PRelu``) on a tensor ``t`` closes a
layer: its units are those of ``t`` with the node's slopes, followed by one **identity
unit** (slope 1) per entry of every other tensor still needed later (the skip paths),
all computed from the old state. The new state is that layer's output, and each tensor
still needed is re-read from it: the activation's output is its first units, a carried
tensor its identity units (``h = g``, exactly its value). Identity units never split a
region (see :class:`~reluscope.network.ReLUNetwork`), so the regions are those of the
model's activation units, and the outputs are exactly the model's. A tensor carried
twice under one map is carried once.

A max-pooling node is lowered with ``max(a, b) = a + relu(b - a)``: a tournament per
window, one layer per round, each pair giving a ReLU unit ``b - a`` and an identity unit
carrying ``a`` (and every other needed tensor carried as above). Its ReLU units are
marked (``ReLUNetwork.max_pool``) and each window's tournament is recorded
(:class:`~reluscope.pooling.PoolWindow`): a window is one unit with one side per input,
its argmax, and the tournament's extra sign patterns are not regions.

The graph's output ``A s + c`` becomes a final linear layer, unless it is exactly the
last layer's output (an activation on the output: the last layer keeps it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reluscope.network import FloatArray
from reluscope.pooling import Comparison, PoolWindow


@dataclass
class Tensor:
    """A computed tensor: ``value = a @ state + c``; ``shape`` without the batch."""

    a: FloatArray | None
    c: FloatArray
    shape: tuple[int, ...]


class GraphLayers:
    """The layers built so far and the computed tensors, as maps of the current state."""

    def __init__(self, input_name: str, n0: int, shape: tuple[int, ...]) -> None:
        self.state_dim = n0
        self.tensors: dict[str, Tensor] = {input_name: Tensor(None, np.zeros(n0), shape)}
        self.weights: list[FloatArray] = []
        self.biases: list[FloatArray] = []
        self.slopes: list[FloatArray] = []
        self.pools: list[np.ndarray] = []
        self.windows: list[PoolWindow] = []

    def dense(self, t: Tensor) -> FloatArray:
        return np.eye(self.state_dim) if t.a is None else t.a

    def add(self, first: str, second: str, out: str, sign: float = 1.0) -> None:
        """``out = first + sign * second`` (same number of entries; broadcasting of
        computed tensors is not supported, shapes must agree)."""
        t1, t2 = self.tensors[first], self.tensors[second]
        self.tensors[out] = Tensor(
            self.dense(t1) + sign * self.dense(t2), t1.c + sign * t2.c, t1.shape
        )

    def close_layer(
        self, source: str, out: str, alpha: FloatArray, carried: list[str]
    ) -> None:
        """Units of ``source`` with slopes ``alpha`` (its output is ``out``), then identity
        units carrying each tensor of ``carried``; the tensors not carried are dropped."""
        t = self.tensors[source]
        rows, bias, slope = [self.dense(t)], [t.c], [np.asarray(alpha, dtype=float)]
        places: dict[str, int] = {}
        seen: dict[tuple[int, int], int] = {}
        start = t.c.shape[0]
        for name in carried:
            tc = self.tensors[name]
            key = (id(tc.a), id(tc.c))
            if key in seen:  # the same map under another name (Identity, Reshape, ...)
                places[name] = seen[key]
                continue
            rows.append(self.dense(tc))
            bias.append(tc.c)
            slope.append(np.ones(tc.c.shape[0]))
            places[name] = seen[key] = start
            start += tc.c.shape[0]
        self.weights.append(np.vstack(rows))
        self.biases.append(np.concatenate(bias))
        self.slopes.append(np.concatenate(slope))
        self.pools.append(np.zeros(start, dtype=bool))
        total = start
        new: dict[str, Tensor] = {out: Tensor(_selection(0, t.c.shape[0], total),
                                              np.zeros(t.c.shape[0]), t.shape)}
        for name in carried:
            tc = self.tensors[name]
            n = tc.c.shape[0]
            new[name] = Tensor(_selection(places[name], n, total), np.zeros(n), tc.shape)
        self.state_dim = total
        self.tensors = new

    # long: the tournament lowering of max-pooling: its rounds share the plan and the kept tensors
    def max_pool(
        self, source: str, out: str, windows: list[np.ndarray], out_shape: tuple[int, ...],
        carried: list[str],
    ) -> None:
        """``out[o] = max(source[windows[o]])`` by pairwise tournaments (module doc)."""
        t = self.tensors[source]
        a, c = self.dense(t), t.c
        # each window's candidates, as rows over the current state
        cands = [[(a[j], float(c[j])) for j in w] for w in windows]
        keep = {name: self.tensors[name] for name in carried}
        # per window: its inputs (set in the first round), its comparisons, and the
        # inputs behind each of its current candidates
        first_layer = len(self.weights)
        inputs: list[list[tuple[int, int]]] = [[] for _ in windows]
        comparisons: list[list[Comparison]] = [[] for _ in windows]
        behind: list[list[tuple[int, ...]]] = [[(i,) for i in range(len(w))] for w in windows]
        while any(len(cs) > 1 for cs in cands):
            rows: list[FloatArray] = []
            bias: list[float] = []
            pool: list[bool] = []
            plan: list[list[tuple[int, int]]] = []  # per window: (carry unit, relu unit)
            for cs in cands:
                steps = []
                for k in range(0, len(cs), 2):
                    (ra, ca) = cs[k]
                    rows.append(ra)
                    bias.append(ca)
                    pool.append(False)
                    carry = len(rows) - 1
                    relu_unit = -1
                    if k + 1 < len(cs):
                        rb, cb = cs[k + 1]
                        rows.append(rb - ra)
                        bias.append(cb - ca)
                        pool.append(True)
                        relu_unit = len(rows) - 1
                    steps.append((carry, relu_unit))
                plan.append(steps)
            layer = len(self.weights)
            for o, steps in enumerate(plan):
                merged: list[tuple[int, ...]] = []
                for m, (carry, relu_unit) in enumerate(steps):
                    left = behind[o][2 * m]
                    if relu_unit < 0:
                        merged.append(left)
                        if layer == first_layer:
                            inputs[o].append((carry, -1))
                        continue
                    right = behind[o][2 * m + 1]
                    comparisons[o].append(Comparison(layer, relu_unit, left, right))
                    merged.append(left + right)
                    if layer == first_layer:
                        inputs[o].extend([(carry, -1), (carry, relu_unit)])
                behind[o] = merged
            slope = np.array([0.0 if p else 1.0 for p in pool])
            places: dict[str, int] = {}
            start = len(rows)
            for name, tc in keep.items():
                dense = self.dense(tc)
                places[name] = start
                rows.extend(dense)
                bias.extend(tc.c.tolist())
                start += tc.c.shape[0]
            slope = np.concatenate([slope, np.ones(start - len(pool))])
            self.weights.append(np.vstack(rows))
            self.biases.append(np.asarray(bias, dtype=float))
            self.slopes.append(slope)
            self.pools.append(np.concatenate([pool, np.zeros(start - len(pool), bool)]))
            total = start
            new_cands = []
            for steps in plan:
                new = []
                for carry, relu_unit in steps:
                    row = np.zeros(total)
                    row[carry] = 1.0
                    if relu_unit >= 0:
                        row[relu_unit] = 1.0
                    new.append((row, 0.0))
                new_cands.append(new)
            cands = new_cands
            keep = {
                name: Tensor(_selection(places[name], tc.c.shape[0], total),
                             np.zeros(tc.c.shape[0]), tc.shape)
                for name, tc in keep.items()
            }
            self.state_dim = total
        self.windows.extend(
            PoolWindow(first_layer, tuple(ins), tuple(cmp))
            for ins, cmp in zip(inputs, comparisons, strict=True) if cmp
        )
        tensors = dict(keep)
        tensors[out] = Tensor(np.vstack([cs[0][0] for cs in cands]),
                              np.array([cs[0][1] for cs in cands]), out_shape)
        if not any(len(w) > 1 for w in windows):  # no comparison: keep the other tensors
            tensors = {**self.tensors, out: tensors[out]}
        self.tensors = tensors

    def finish(
        self, output: str
    ) -> tuple[
        list[FloatArray], list[FloatArray], list[bool], list[FloatArray], list[np.ndarray]
    ]:
        """The layers, ending with the output's map (a linear layer unless the output is
        exactly the last layer's units), and each layer's max-pool mask."""
        t = self.tensors[output]
        weights, biases, slopes = list(self.weights), list(self.biases), list(self.slopes)
        pools = list(self.pools)
        relu = [True] * len(weights)
        is_state = (
            weights
            and t.a is not None
            and t.a.shape == (self.state_dim, self.state_dim)
            and np.array_equal(t.a, np.eye(self.state_dim))
            and not np.any(t.c)
        )
        if not is_state:
            weights.append(self.dense(t))
            biases.append(t.c)
            relu.append(False)
            slopes.append(np.ones(t.c.shape[0]))
            pools.append(np.zeros(t.c.shape[0], dtype=bool))
        return weights, biases, relu, slopes, pools


def _selection(start: int, n: int, total: int) -> FloatArray:
    a = np.zeros((n, total))
    a[np.arange(n), start + np.arange(n)] = 1.0
    return a


__all__ = ["GraphLayers", "Tensor"]
