r"""Random parity (XOR) constraints on binary variables, and their canonical cuts.

A parity constraint of size ``k`` on binaries ``z_0..z_{n-1}`` picks ``k`` distinct
indices ``S`` uniformly at random and a uniformly random parity bit ``b``:

.. math::

    \bigoplus_{i \in S} z_i = b .

Every assignment of the ``n`` binaries satisfies it with probability exactly 1/2
(because ``b`` is uniform), independently across constraints: this is all MIPBound
needs for its lower bound (paper Section 4, MBound of Gomes et al. 2006).

MILP form (paper Appendix B, Balas & Jeroslow 1972): for each assignment ``a`` of
``z_S`` with the wrong parity, the canonical ("unit hypercube") cut

.. math::

    \sum_{i \in S,\ a_i = 0} z_i + \sum_{i \in S,\ a_i = 1} (1 - z_i) \ge 1

excludes exactly ``a`` among the ``2^k`` assignments of ``z_S``; the ``2^{k-1}``
wrong-parity assignments give ``2^{k-1}`` cuts that together describe the constraint.
reluscope adds them lazily, one when a solution with that wrong assignment shows up.
SCIP's native XOR constraint and the ``sum z - 2t = b`` row are deliberately not used
(wrong answers and crashes measured here, see docs/solvers.md).

This module is solver-free: a cut is returned as ``(indices, coefficients, rhs)``
meaning ``sum_j coefficients[j] * z[indices[j]] >= rhs``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from reluscope.errors import ReluscopeError

#: ``(indices, coefficients, rhs)``: the cut ``sum_j coefficients[j] * z[indices[j]] >= rhs``
Cut = tuple[tuple[int, ...], NDArray[np.int64], int]


@dataclass(frozen=True)
class ParityConstraint:
    """``xor(z[i] for i in indices) == parity`` on a vector of binaries."""

    indices: tuple[int, ...]
    parity: int

    def satisfied(self, assignment: ArrayLike) -> bool:
        """Does a 0/1 (or boolean) vector of all the binaries satisfy the constraint?"""
        values = np.asarray(assignment)
        return int(np.sum(values[list(self.indices)] > 0.5)) % 2 == self.parity

    def canonical_cut(self, assignment: ArrayLike) -> Cut:
        """The cut excluding ``assignment`` restricted to ``indices`` (and nothing else there).

        Returns ``(indices, coefficients, rhs)`` for
        ``sum_{a_i=0} z_i - sum_{a_i=1} z_i >= 1 - |{i in S: a_i = 1}|``, the canonical
        cut rearranged with constants on the right.
        """
        values = np.asarray(assignment)[list(self.indices)] > 0.5
        coefficients = np.where(values, -1, 1).astype(np.int64)
        return self.indices, coefficients, 1 - int(values.sum())

    def all_cuts(self) -> list[Cut]:
        """The ``2^(k-1)`` canonical cuts of the wrong-parity assignments (the whole constraint)."""
        k = len(self.indices)
        n = max(self.indices, default=-1) + 1
        cuts = []
        for bits in itertools.product((0, 1), repeat=k):
            if sum(bits) % 2 != self.parity:
                full = np.zeros(n, dtype=np.int64)
                full[list(self.indices)] = bits
                cuts.append(self.canonical_cut(full))
        return cuts


def draw_parity(rng: np.random.Generator, n: int, k: int) -> ParityConstraint:
    """A parity constraint on ``min(k, n)`` of ``n`` binaries, uniformly, with a uniform bit.

    When fewer than ``k`` binaries exist, every one of them is used (size ``n``): the
    constraint keeps its probability-1/2 property, which is all the bound relies on.
    """
    if n < 1:
        raise ReluscopeError("a parity constraint needs at least one binary variable")
    if k < 1:
        raise ReluscopeError(f"the XOR size must be at least 1, got {k}")
    size = min(k, n)
    indices = np.sort(rng.choice(n, size=size, replace=False))
    parity = int(rng.integers(0, 2))
    return ParityConstraint(indices=tuple(int(i) for i in indices), parity=parity)


def cut_satisfied(cut: Cut, assignment: ArrayLike) -> bool:
    """Does a 0/1 vector satisfy ``sum coefficients * z[indices] >= rhs``?"""
    indices, coefficients, rhs = cut
    values = (np.asarray(assignment)[list(indices)] > 0.5).astype(np.int64)
    return int(coefficients @ values) >= rhs


__all__ = ["Cut", "ParityConstraint", "cut_satisfied", "draw_parity"]
