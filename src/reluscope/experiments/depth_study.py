"""The depth study of Serra, Tjandraatmadja & Ramalingam (ICML 2018), as retold in the blog.

A fixed budget of ReLUs (60) is spread evenly over 1..6 layers (60, 30;30, 20;20;20,
15x4, 12x5, 10x6) and the Configuration UB is computed for each depth as a function of
the input dimension ``n0``. Small inputs favour depth (with ``n0 = 1`` the bound is
``prod (n_l + 1)``: 61 for one layer, 11^6 for six), large inputs favour shallow
networks (with ``n0 >= 60`` one layer reaches ``2^60``, which no deeper split of 60
units reaches); since the bound is tight for one layer, a shallow network can have more
regions than any deeper one when the input is large enough.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from reluscope.errors import ReluscopeError
from reluscope.regions.upper.analytic import configuration_ub, maps

#: The blog's setting.
DEFAULT_TOTAL_UNITS = 60
DEFAULT_DEPTHS = (1, 2, 3, 4, 5, 6)


@dataclass(frozen=True)
class DepthStudy:
    """Configuration UB per (input dimension, depth) for a fixed number of ReLUs.

    Attributes
    ----------
    total_units
        ReLUs spread evenly over the layers.
    depths
        Numbers of layers compared.
    n0_values
        Input dimensions (table rows).
    bounds
        ``bounds[r][c]``: Configuration UB for ``n0_values[r]`` and ``depths[c]``.
    """

    total_units: int
    depths: tuple[int, ...]
    n0_values: tuple[int, ...]
    bounds: tuple[tuple[int, ...], ...]

    def widths(self, depth: int) -> tuple[int, ...]:
        return (self.total_units // depth,) * depth

    def best_depths(self) -> tuple[int, ...]:
        """Depth with the largest bound for each ``n0`` (the shallowest on ties)."""
        out = []
        for row in self.bounds:
            best = max(row)
            out.append(self.depths[row.index(best)])
        return tuple(out)

    def to_dict(self) -> dict[str, Any]:
        return {
            "total_units": self.total_units,
            "depths": list(self.depths),
            "n0": list(self.n0_values),
            "configuration_ub": [list(row) for row in self.bounds],
            "best_depth": list(self.best_depths()),
        }

    def table(self) -> str:
        """Readable table of MAPS (log2 of the bound), best depth marked with '*'."""
        head = f"{'n0':>4} " + " ".join(f"{'L=' + str(d):>9}" for d in self.depths) + "  best"
        lines = [head]
        for n0, row, best in zip(self.n0_values, self.bounds, self.best_depths(), strict=True):
            cells = []
            for depth, value in zip(self.depths, row, strict=True):
                mark = "*" if depth == best else " "
                cells.append(f"{maps(value):8.2f}{mark}")
            lines.append(f"{n0:>4} " + " ".join(cells) + f"  {best}")
        return "\n".join(lines)


def depth_study(
    n0_values: Iterable[int] = range(1, 61),
    *,
    total_units: int = DEFAULT_TOTAL_UNITS,
    depths: Sequence[int] = DEFAULT_DEPTHS,
) -> DepthStudy:
    """Configuration UB of ``total_units`` ReLUs spread evenly over each depth, per ``n0``.

    Each depth must divide ``total_units`` (60 is divisible by 1..6).
    """
    total = int(total_units)
    ds = tuple(int(d) for d in depths)
    if not ds or any(d < 1 or total % d for d in ds):
        raise ReluscopeError(
            f"every depth must divide total_units={total} evenly; got depths {ds}"
        )
    n0s = tuple(int(n) for n in n0_values)
    if not n0s or min(n0s) < 1:
        raise ReluscopeError(f"give input dimensions >= 1; got {n0s}")
    rows = tuple(
        tuple(configuration_ub(n0, (total // d,) * d) for d in ds) for n0 in n0s
    )
    return DepthStudy(total_units=total, depths=ds, n0_values=n0s, bounds=rows)


def plot_depth_study(study: DepthStudy, *, ax: Any = None) -> Any:
    """Plot MAPS of the Configuration UB against ``n0``, one line per depth.

    Imports matplotlib only when called (``pip install reluscope[plot]``). Returns the
    matplotlib Figure (a new one, not attached to pyplot, unless ``ax`` is given).
    """
    try:
        from matplotlib.figure import Figure
    except ImportError:  # pragma: no cover - depends on the environment
        raise ReluscopeError(
            "plotting needs matplotlib: pip install 'reluscope[plot]'"
        ) from None
    if ax is None:
        fig = Figure(figsize=(6.0, 4.0))
        ax = fig.add_subplot(1, 1, 1)
    else:
        fig = ax.figure
    for col, depth in enumerate(study.depths):
        widths = ";".join(str(w) for w in study.widths(depth))
        ax.plot(
            study.n0_values,
            [maps(row[col]) for row in study.bounds],
            label=f"{depth} layer{'s' if depth > 1 else ''} ({widths})",
        )
    ax.set_xlabel("input dimension n0")
    ax.set_ylabel("log2 Configuration UB")
    ax.set_title(f"{study.total_units} ReLUs spread over 1..{max(study.depths)} layers")
    ax.legend(fontsize="small")
    return fig
