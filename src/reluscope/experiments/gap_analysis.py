r"""What it would take for the Empirical UB to close a given share of Table 1's gap.

Table 1 reports the gap closed ``(C - E) / (C - x)`` (C: Configuration UB, E: Empirical
UB, x: exact count). For a narrow split the paper's value can be out of reach of a
network whose units are all unstable, whatever its weights: E depends on the network
only through the tables ``I_l(k)`` and ``A_l(k)`` of Theorem 2 (Propositions 3-4), and
those tables are bounded on both sides by the numbers of unstable and stable units:

- at most (any network): ``I_l(k) = u_l`` (``0`` when ``k = 0`` for ``l >= 2``: no active
  unit below leaves every unit of layer ``l`` stable in the region) and
  ``A_l(k) = a_l + u_l``;
- at least (any network whose stability classification is exact, e.g. MILP bounds):
  an unstable unit of a layer ``l >= 2`` needs an input of the right sign from a unit of
  layer ``l - 1`` that is not stably inactive (else ``g <= b <= 0`` or ``g >= b > 0``
  throughout), so each free member of ``S`` covers a new unit while some remain:
  ``I_l(k) >= min(k - a_{l-1}, u_l)``, and ``A_l(k) >= a_l + I_l(k)`` (every unstable
  unit inactive leaning). Layer 1: ``I_1 = u_1``, ``A_1 = a_1 + u_1``.

Theorem 2's recurrence is nondecreasing in every table entry, so these tables give the
smallest and the largest Empirical UB of all networks of the architecture with ``u_l``
unstable and ``a_l`` stably active units per layer (the rest stably inactive), hence the
range of the gap closed at a given exact count. Example (the paper's 21;1;10, on
``[0,1]^784``): C = 12 (2^21 - 1) + 1 = 25,165,813; with every hidden unit unstable E is
at least E_min = 2 (2^21 - 1) + 1, so at most ``100 (C - E_min) / (C - x)`` of the gap
closes at an exact count x: 83.3% while x is far below C (x = 1), the paper's 98.3%
from x >= 3,831,622, 100% at x = E_min. At x = 1, six stably inactive layer-1 units
guarantee 98.4% (the paper's 98.3%), five only 96.9%.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from reluscope.errors import ReluscopeError
from reluscope.regions.upper.analytic import configuration_ub
from reluscope.regions.upper.empirical import theorem2_bound


def _check(widths: Sequence[int], counts: Sequence[int | None], name: str) -> None:
    if len(counts) != len(widths):
        raise ReluscopeError(f"give one {name} count per ReLU layer ({len(widths)}), "
                             f"got {len(counts)}")


def empirical_ub_range(
    n0: int,
    widths: Sequence[int],
    unstable: Sequence[int | None],
    stably_active: Sequence[int] | None = None,
) -> tuple[int, int]:
    """``(smallest, largest)`` Empirical UB over every network of the architecture with
    ``unstable[l]`` unstable and ``stably_active[l]`` stably active units in ReLU layer
    ``l`` (the others stably inactive); ``unstable[l] = None`` leaves layer ``l`` free
    (none unstable for the smallest, all for the largest). See the module doc."""
    widths = [int(w) for w in widths]
    _check(widths, unstable, "unstable")
    active = [0] * len(widths) if stably_active is None else [int(a) for a in stably_active]
    _check(widths, active, "stably active")
    low_u = [0 if u is None else int(u) for u in unstable]
    high_u = [w - a if u is None else int(u) for u, w, a in zip(unstable, widths, active,
                                                                 strict=True)]
    for u_lo, u_hi, a, w in zip(low_u, high_u, active, widths, strict=True):
        if not 0 <= u_lo <= u_hi or a < 0 or u_hi + a > w:
            raise ReluscopeError(f"need 0 <= unstable + stably active <= width; got "
                                 f"unstable {list(unstable)}, active {active}, widths {widths}")
    return (_bound(n0, low_u, active, smallest=True),
            _bound(n0, high_u, active, smallest=False))


def _bound(n0: int, unstable: list[int], active: list[int], *, smallest: bool) -> int:
    """Theorem 2 with the smallest or the largest tables of the module doc."""
    i_tabs: list[list[int]] = [[unstable[0]]]
    a_tabs: list[list[int]] = [[active[0] + unstable[0]]]
    for layer in range(1, len(unstable)):
        u, a = unstable[layer], active[layer]
        below = active[layer - 1] + unstable[layer - 1]  # most active units below
        if smallest:
            i_tab = [min(max(k - active[layer - 1], 0), u) for k in range(below + 1)]
            a_tab = [a + i for i in i_tab]
        else:
            i_tab, a_tab = [0, u], [a + u]
        i_tabs.append(i_tab)
        a_tabs.append(a_tab)
    return theorem2_bound(n0, i_tabs, a_tabs)


def exact_needed(configuration: int, empirical: int, target_percent: float) -> int:
    """The smallest exact count x with ``100 (C - E) / (C - x) >= target`` (the gap
    closed grows with x): ``x >= C - 100 (C - E) / target``."""
    if target_percent <= 0:
        return 0
    return max(0, math.ceil(configuration - 100.0 * (configuration - empirical)
                            / target_percent))


def gap_percent(configuration: int, empirical: int, exact: int) -> float:
    """``100 (C - E) / (C - x)``: Table 1's gap closed, for one network."""
    if configuration <= exact:
        raise ReluscopeError("the gap is empty: Configuration UB <= exact count")
    return 100.0 * (configuration - empirical) / (configuration - exact)


@dataclass(frozen=True)
class LayerRequirement:
    """The fewest stably inactive units of one layer (all others unstable, the output
    layer free) that guarantee the target, and the gap closed they guarantee; when even
    the whole layer does not, the exact count it would take with the whole layer stable
    (``x >= C - (C - E) / target``, E its largest Empirical UB)."""

    layer: int
    width: int
    stable_units: int | None  # None: not even with the whole layer stable
    guaranteed_percent: float | None
    exact_needed_all_stable: int | None = None


@dataclass(frozen=True)
class GapAnalysis:
    """Why a split's gap closed can or cannot reach a target (e.g. the paper's value).

    ``highest_all_unstable``: the most gap any network with every hidden unit unstable
    can close (at ``exact``; it grows with the count, see :func:`gap_percent`);
    ``exact_needed_all_unstable``: the count from which such a network can reach the
    target (None when it can at ``exact`` already); ``requirements``: per hidden layer,
    the fewest stable units that guarantee ``target_percent``.
    """

    widths: tuple[int, ...]
    n0: int
    target_percent: float
    exact: int
    configuration_ub: int
    lowest_empirical_all_unstable: int
    highest_all_unstable: float
    requirements: tuple[LayerRequirement, ...]
    exact_needed_all_unstable: int | None = None


def analyse_gap(n0: int, widths: Sequence[int], target_percent: float, *,
                exact: int = 1) -> GapAnalysis:
    """The "what it would take" analysis of one architecture (module doc).

    ``widths`` are the ReLU layers, the output layer last (the paper's ``n1, n2, 10``);
    ``exact`` is the exact count the gap is measured at (1, the fewest regions any
    network has, when unknown: the paper's counts for the narrow splits are far below C,
    and the gap closed moves by less than ``100 x / C`` points with x).
    """
    widths = tuple(int(w) for w in widths)
    conf = configuration_ub(n0, widths)
    hidden = len(widths) - 1
    free: list[int | None] = [None]
    lowest, _ = empirical_ub_range(n0, widths, [*widths[:hidden], *free])
    requirements = []
    for layer in range(hidden):
        found: tuple[int | None, float | None] = (None, None)
        largest = conf
        for stable in range(widths[layer] + 1):
            unstable: list[int | None] = [*widths[:hidden], None]
            unstable[layer] = widths[layer] - stable
            _, largest = empirical_ub_range(n0, widths, unstable)
            value = gap_percent(conf, largest, exact)
            if value >= target_percent:
                found = (stable, value)
                break
        needed = None
        if found[0] is None and target_percent > 0:
            needed = exact_needed(conf, largest, target_percent)
        requirements.append(LayerRequirement(layer + 1, widths[layer], *found, needed))
    highest = gap_percent(conf, lowest, exact)
    return GapAnalysis(widths, int(n0), float(target_percent), int(exact), conf, lowest,
                       highest, tuple(requirements),
                       None if highest >= target_percent
                       else exact_needed(conf, lowest, target_percent))


__all__ = [
    "GapAnalysis",
    "LayerRequirement",
    "analyse_gap",
    "empirical_ub_range",
    "exact_needed",
    "gap_percent",
]
