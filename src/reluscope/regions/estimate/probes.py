r"""Expanding and counting single nodes of the counting search tree, for estimators.

The exact search (:mod:`.compiled`) walks a tree whose leaves are the linear regions: a
node is a partial activation pattern with witness points of its polyhedron, its
children are the non-empty sides of the next unit. :class:`Prober` gives an estimator
(:mod:`.tree_estimate`) two operations on any node, with the compiled search's own
decisions (same units, same LPs, same certificates), so the leaves it meets are exactly
the regions of :func:`~reluscope.regions.count.count_regions`:

* :meth:`Prober.expand`: decide one unit, giving the node's children (or a leaf);
* :meth:`Prober.count`: count the node's subtree exactly by depth-first search, up to
  ``exact_node_cap`` nodes; what is left is returned as disjoint subtrees.

A node the kernel hands over (*trouble*) is decided by the HiGHS search for a short
slice, as in the exact count: the regions of that slice are counted and the tasks it
left become children.
"""

from __future__ import annotations

import time
from typing import NamedTuple

import numpy as np
from numba import njit
from numpy.typing import NDArray

from reluscope.network import FloatArray
from reluscope.regions.search import _kernel as K
from reluscope.regions.search.compiled import NODE_BUDGET, CompiledSearcher
from reluscope.regions.search.core import PreparedNetwork, Task

#: Nodes an exact count below ``exact_from`` may search before it stops and returns the
#: subtrees it has not counted.
EXACT_NODE_CAP = 4096


class Node(NamedTuple):
    """A node of the search tree, as the compiled search left it.

    ``prefix``: the decisions leading to it (``2 * unit + side``); ``rows``: whether each
    decision added an LP row (as the search decided, so the node's LP has exactly the
    rows it had there); ``points``: its witness points ``(k, n)``; ``basis``: the final
    basis of its parent's LPs (its LPs' warm start), or None for a slack basis.
    """

    prefix: NDArray[np.int32]
    rows: NDArray[np.bool_] | None
    points: FloatArray
    basis: NDArray[np.int64] | None = None

    @property
    def depth(self) -> int:
        return len(self.prefix)


def node_of(task: Task) -> Node:
    """A node from a task of the exact search (one witness point, rows recomputed)."""
    prefix, point = task
    return Node(np.asarray(prefix, dtype=np.int32), None, np.atleast_2d(np.asarray(point, float)))


@njit(cache=True)
def common_depth(prefix, rows, set_units, sides, rows_before, m_now, depth):
    """How many first decisions of the searcher's path (``depth`` long) equal ``prefix``
    with the same row decisions ``rows`` (compiled: this runs once per node expanded)."""
    limit = min(prefix.shape[0], depth)
    for d in range(limit):
        unit = set_units[d]
        if 2 * unit + sides[unit] != prefix[d]:
            return d
        after = rows_before[d + 1] if d + 1 < depth else m_now
        if (after > rows_before[d]) != rows[d]:
            return d
    return limit


def last_layer_start(prep: PreparedNetwork) -> int:
    """The depth at which the last layer's units start being decided."""
    return int(prep.layer_start[-1]) if prep.layer_start else 0


class Prober:
    """Expands nodes and counts subtrees with one :class:`CompiledSearcher` (per process)."""

    def __init__(
        self,
        prep: PreparedNetwork,
        *,
        exact_from: int | None = None,
        exact_node_cap: int = EXACT_NODE_CAP,
    ) -> None:
        """``exact_from``: the depth from which an estimator counts a node's subtree
        exactly (:func:`last_layer_start` for the last layer); None: never, every node is
        expanded down to the leaves (the cheaper choice on large trees, measured in
        docs/estimate.md)."""
        self.prep = prep
        self.searcher = CompiledSearcher(prep)
        self.exact_from = prep.n_units if exact_from is None else int(exact_from)
        self.exact_node_cap = int(exact_node_cap)

    # ------------------------------------------------------------------ the path
    def _path_rows(self, depth: int) -> NDArray[np.bool_]:
        """Whether each decision of the current path (first ``depth``) added a row."""
        s = self.searcher
        before = s.rows_before[: depth + 1].copy()
        before[depth] = s.ist[K.I_M]
        return before[1:] > before[:-1]

    def _goto(self, prefix: NDArray[np.int32], rows: NDArray[np.bool_]) -> None:
        """Set the searcher's path to ``prefix`` with exactly these row decisions."""
        s = self.searcher
        common = int(common_depth(prefix, rows, s.set_units, s.sides, s.rows_before,
                                  s.ist[K.I_M], int(s.ist[K.I_DEPTH])))
        s._truncate(common)
        if common < len(prefix):
            K.descend_path(prefix[common:], rows[common:], s.net, s.path, s.inv_state, s.settings)

    def _start(self, node: Node) -> None:
        """Put ``node`` alone on the kernel's stack: its path, points and warm start."""
        s = self.searcher
        prefix, rows, points, basis = node
        k = len(prefix)
        if k == 0:
            s._start((prefix, points[0]))
        else:
            if rows is None:  # a task: its rows as the exact search's resume sets them
                s._goto(prefix[:-1])
                rows = np.append(self._path_rows(k - 1), True)
            else:
                self._goto(prefix[:-1], rows[:-1])
            s.ist[K.I_SP] = 0
            s._push(k, int(prefix[-1]), points[0], bool(rows[-1]))
            m = int(s.ist[K.I_M])
            if basis is not None and len(basis) == m:
                s.snap_basic[k - 1, :m] = basis
            else:  # slack basis: always regular
                s.snap_basic[k - 1, :m] = self.prep.n_inputs + np.arange(m)
            s.snap_m[k - 1] = m
        count = min(len(points), s.st_pts.shape[1])
        s.st_pts[0, :count] = points[:count]
        s.st_np[0] = count

    def _children(self) -> list[Node]:
        """The stack's entries (children of the node just expanded) as nodes."""
        s = self.searcher
        depth = int(s.ist[K.I_DEPTH])
        codes = s._path_codes(depth)
        rows = self._path_rows(depth)
        basis = s.snap_basic[depth, : int(s.snap_m[depth])].copy()
        child_codes = np.empty(depth + 1, dtype=np.int32)
        child_codes[:depth] = codes
        child_rows = np.empty(depth + 1, dtype=bool)
        child_rows[:depth] = rows
        out: list[Node] = []
        for sp in range(int(s.ist[K.I_SP])):
            child_codes[depth] = s.st_code[sp]
            child_rows[depth] = s.st_add[sp]
            out.append(Node(child_codes.copy(), child_rows.copy(),
                            s.st_pts[sp, : int(s.st_np[sp])].copy(), basis))
        return out

    def _trouble_node(self) -> Task:
        s = self.searcher
        k = int(s.ist[K.I_TROUBLE_K])
        return s._path_codes(k), s.trouble_pt.copy()

    # ------------------------------------------------------------------ expand
    def expand(self, node: Node) -> tuple[int, list[Node]]:
        """Decide units from ``node`` down to the first node with two children:
        ``(1, [])`` at a leaf, ``(0, [])`` at a dead end, else ``(0, children)``.

        Nodes with one child (a unit with one feasible side) are passed in the kernel's
        stack without leaving it. A node the kernel hands over is searched by HiGHS for a
        short slice: its regions are returned and the tasks it left are the children.
        """
        self._start(node)
        s = self.searcher
        regions0 = int(s.ist[K.I_REGIONS])
        code = s._call_kernel(NODE_BUDGET, stop_at_branch=True)
        if code == K.TROUBLE:
            res = s._fallback(self._trouble_node())
            s.ist[K.I_SP] = 0
            return res.regions, [node_of(t) for t in res.remaining]
        if int(s.ist[K.I_REGIONS]) > regions0:
            return 1, []
        if int(s.ist[K.I_SP]) == 1:  # a chain longer than the budget: go on from its end
            return 0, self._children()
        children = self._children()
        s.ist[K.I_SP] = 0
        return 0, children

    # ------------------------------------------------------------------ count
    def count(self, node: Node, deadline: float = float("inf")) -> tuple[int, list[Node]]:
        """Count the regions below ``node`` exactly, up to ``exact_node_cap`` nodes or the
        ``deadline`` (monotonic): the regions found and the disjoint subtrees left (tasks
        handed over or not reached)."""
        self._start(node)
        s = self.searcher
        regions0 = int(s.ist[K.I_REGIONS])
        nodes0 = int(s.ist[K.I_NODES])
        extra = 0
        rest: list[Node] = []
        while True:
            code = s._call_kernel()
            if code == K.TROUBLE:
                res = s._fallback(self._trouble_node())
                extra += res.regions
                rest.extend(node_of(t) for t in res.remaining)
                continue
            if code == K.DONE:
                break
            if (int(s.ist[K.I_NODES]) - nodes0 >= self.exact_node_cap
                    or time.monotonic() >= deadline):
                rest.extend(node_of(t) for t in s._export())
                break
        return int(s.ist[K.I_REGIONS]) - regions0 + extra, rest
