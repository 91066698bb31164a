"""Two classic tree-size estimators beside reluscope's stochastic enumeration, on the same
search tree (same :class:`~reluscope.regions.estimate.probes.Prober`, same exact top),
for ``bench_estimate.py alternatives`` (issue 24, item 2: measured one by one).

* **Purdom's partial backtracking** (Purdom 1978, "Tree size by partial backtracking"):
  a depth-first probe that, at a node with ``c >= 2`` children, follows all of them with
  probability ``q`` and else one at random with weight ``c``; ``q = 0`` is Knuth's
  estimator, ``q = 1`` the exact count. Every node of the top gets its own probe, or
  ``keep`` of them, drawn uniformly or by the depth predictor, when the top is larger.
* **Chen's heuristic sampling** (Chen 1992, "Heuristic sampling: a method for predicting
  the performance of tree searching programs"): a breadth-first run that groups the
  nodes of a level by a *stratifier* and keeps one node per group, picked with
  probability proportional to its weight and given the group's total weight. Nodes of
  one group are assumed to have alike subtrees; here the stratifier is the node's depth
  and its number of active units in each layer (``counts``), or that and the layer-1
  pattern (``pattern``).

Both are unbiased for any ``q`` or stratifier; what differs is their spread per CPU
second, which ``alternatives`` measures against the library's runs.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence

import numpy as np
from numpy.typing import NDArray

from reluscope.regions.estimate.enumeration import inclusion_probabilities, systematic_sample
from reluscope.regions.estimate.probes import Node, Prober
from reluscope.regions.search.core import PreparedNetwork


def purdom_probe(prober: Prober, frontier: Sequence[Node], q: float,
                 rng: np.random.Generator, keep: int | None = None,
                 sizes: NDArray[np.float64] | None = None) -> float:
    """Purdom's partial backtracking from every node of ``frontier`` (or from ``keep``
    of them, drawn with probability proportional to ``sizes``, uniformly by default,
    each weighted by one over its probability): the leaves below it, estimated without
    bias."""
    value = 0.0
    stack = [(node, 1.0) for node in frontier]
    if keep is not None and keep < len(frontier):
        pi = inclusion_probabilities(np.ones(len(frontier)) if sizes is None else sizes, keep)
        stack = [(frontier[i], 1.0 / pi[i]) for i in systematic_sample(pi, rng)]
    while stack:
        node, weight = stack.pop()
        found, children = prober.expand(node)
        value += weight * found
        if len(children) >= 2 and rng.random() >= q:
            pick = children[int(rng.integers(len(children)))]
            stack.append((pick, weight * len(children)))
        else:
            stack.extend((child, weight) for child in children)
    return value


Stratifier = Callable[[Node], Hashable]


def stratifier(prep: PreparedNetwork, kind: str) -> Stratifier:
    """The key grouping nodes in Chen's sampling: depth and active units per layer
    (``counts``), or that and the first layer's pattern (``pattern``)."""
    layer_of = np.asarray(prep.layer_of)
    n_layers = int(layer_of.max()) + 1 if layer_of.size else 0

    def counts(node: Node) -> Hashable:
        units, sides = node.prefix // 2, node.prefix % 2
        active = np.bincount(layer_of[units], weights=sides, minlength=n_layers)
        return (node.depth, *active.astype(int).tolist())

    def pattern(node: Node) -> Hashable:
        first = node.prefix[layer_of[node.prefix // 2] == 0]
        return (counts(node), tuple(sorted(first.tolist())))

    return {"counts": counts, "pattern": pattern}[kind]


def chen_run(prober: Prober, frontier: Sequence[Node], key: Stratifier,
             rng: np.random.Generator) -> tuple[float, int]:
    """One run of Chen's heuristic sampling from ``frontier`` (all kept, weight 1): the
    leaves below it, estimated without bias, and the largest number of nodes a level
    kept."""
    nodes = list(frontier)
    weights = np.ones(len(nodes))
    value, widest = 0.0, 0
    while nodes:
        groups: dict[Hashable, list[int]] = {}
        for i, node in enumerate(nodes):
            groups.setdefault(key(node), []).append(i)
        kept, kept_w = [], []
        for members in groups.values():
            w = weights[members]
            total = float(w.sum())
            pick = members[int(rng.choice(len(members), p=w / total))]
            kept.append(nodes[pick])
            kept_w.append(total)
        widest = max(widest, len(kept))
        nodes, next_w = [], []
        for node, w in zip(kept, kept_w, strict=True):
            found, children = prober.expand(node)
            value += w * found
            nodes.extend(children)
            next_w.extend([w] * len(children))
        weights = np.asarray(next_w)
    return value, widest
