r"""The max-pooling windows of a lowered network: one unit with one side per input.

A max-pooling node is lowered into the layered model by pairwise tournaments,
``max(a, b) = a + relu(b - a)`` (:mod:`reluscope.io.graph`): in each round every pair of
candidates gives an identity unit carrying ``a`` and a ReLU unit ``b - a``. The sign
patterns of those ReLU units are not regions: a window of ``k`` inputs is ONE unit
whose sides are its argmax (as maxout units are treated by Serra, Tjandraatmadja and
Ramalingam, ICML 2018), and a tournament has more sign patterns than argmaxes (a
comparison between two losers splits nothing).

:class:`PoolWindow` records one window of the lowering: where its inputs are and which
ReLU unit compares which of them, so that a counting engine can branch once per window
on its argmax and set every tournament unit from it.

**Side j of a window** (the region definition of :mod:`reluscope.tolerances`, extended
like the ReLU's "inactive iff ``g <= 0``": ties go to the earlier input)::

    z_j - z_i >= REGION_EPS  for every i < j,      z_j - z_i >= 0  for every i > j.

For ``k = 2`` these are exactly the two sides of the lowering's unit ``relu(z_2 - z_1)``.
Given side ``j``, the window's output is ``z_j`` whatever the comparisons between other
inputs: a comparison unit is active iff ``j`` is on its right, and a comparison not on
``j``'s path may take either state (its value cancels in ``a + relu(b - a)`` above it).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Comparison:
    """One ReLU unit ``relu(max(right) - max(left))`` of a tournament: unit ``unit`` of
    layer ``layer``, comparing the window's inputs ``left`` (carried) with ``right``."""

    layer: int
    unit: int
    left: tuple[int, ...]
    right: tuple[int, ...]


@dataclass(frozen=True)
class PoolWindow:
    """One max-pooling window of a lowered network (see the module docstring).

    Attributes
    ----------
    layer
        The layer of the tournament's first round.
    inputs
        The window's inputs ``z_i`` in the pooling's order, as pre-activations of
        ``layer``: ``(carry, relu)`` means ``z_i = g[carry] + g[relu]`` (the first round's
        ``a + (b - a)``), ``relu = -1`` means ``z_i = g[carry]``.
    comparisons
        The tournament's ReLU units, every round.
    """

    layer: int
    inputs: tuple[tuple[int, int], ...]
    comparisons: tuple[Comparison, ...]

    def active_units(self, winner: int) -> set[tuple[int, int]]:
        """The ``(layer, unit)`` comparisons that are active on side ``winner``: those
        with the winner on their right (every other one is inactive or irrelevant)."""
        return {(c.layer, c.unit) for c in self.comparisons if winner in c.right}


def check_windows(
    windows: tuple[PoolWindow, ...], pool_masks: tuple[object, ...],
    slopes: tuple[object, ...], widths: tuple[int, ...],
) -> str:
    """Why ``windows`` do not describe the marked units ``pool_masks`` exactly (each
    marked unit one comparison of one window, inputs carried by identity units), or
    ``""`` when they do."""
    import numpy as np

    seen: set[tuple[int, int]] = set()
    for w in windows:
        if not 0 <= w.layer < len(widths):
            return f"a window starts at layer {w.layer}, outside the network"
        if len(w.inputs) < 2 or len(w.comparisons) != len(w.inputs) - 1:
            return "a window needs k >= 2 inputs and k - 1 comparisons"
        for carry, relu in w.inputs:
            if not 0 <= carry < widths[w.layer] or relu >= widths[w.layer]:
                return f"a window input names a unit outside layer {w.layer}"
            if float(np.asarray(slopes[w.layer])[carry]) != 1.0:
                return f"a window input's unit {carry} of layer {w.layer} is not an identity"
        for c in w.comparisons:
            key = (c.layer, c.unit)
            if not 0 <= c.layer < len(widths) or not 0 <= c.unit < widths[c.layer]:
                return f"a comparison names unit {key}, outside the network"
            if key in seen or not bool(np.asarray(pool_masks[c.layer])[c.unit]):
                return f"unit {c.unit} of layer {c.layer} is unmarked or compares twice"
            seen.add(key)
    marked = sum(int(np.count_nonzero(np.asarray(m))) for m in pool_masks)
    if marked != len(seen):
        return f"{marked} units are marked as max-pooling but {len(seen)} are comparisons"
    return ""


def windows_to_json(windows: Sequence[PoolWindow]) -> str:
    """The windows as JSON (written by the NPZ, ONNX and PyTorch writers)."""
    return json.dumps([
        {"layer": w.layer, "inputs": [list(i) for i in w.inputs],
         "comparisons": [[c.layer, c.unit, list(c.left), list(c.right)]
                         for c in w.comparisons]}
        for w in windows
    ])


def windows_from_json(
    text: str, max_pool: Sequence[Any] | None, slopes: Sequence[Any] | None,
    widths: Sequence[int],
) -> tuple[PoolWindow, ...]:
    """The windows written by :func:`windows_to_json`, or none when they are malformed or
    do not match the layers read (``max_pool``/``slopes`` per layer, as given to
    :class:`~reluscope.network.ReLUNetwork`): the network then keeps its marks only,
    and ``count_regions`` says its windows are not known."""
    try:
        windows = tuple(
            PoolWindow(int(w["layer"]), tuple((int(c), int(r)) for c, r in w["inputs"]),
                       tuple(Comparison(int(a), int(u), tuple(map(int, left)),
                                        tuple(map(int, right)))
                             for a, u, left, right in w["comparisons"]))
            for w in json.loads(text)
        )
    except (ValueError, TypeError, KeyError):
        return ()
    if max_pool is None or slopes is None or len(max_pool) != len(widths) or len(
            slopes) != len(widths):
        return ()
    try:
        why = check_windows(windows, tuple(max_pool), tuple(slopes), tuple(widths))
    except (IndexError, TypeError, ValueError):
        return ()
    return () if why else windows


__all__ = ["Comparison", "PoolWindow", "check_windows", "windows_from_json",
           "windows_to_json"]
