"""Pictures of exact slices, lines and local counts (matplotlib, imported lazily, Agg).

Everything drawn comes from the exact results of :mod:`reluscope.regions.views.slices` and
:mod:`reluscope.regions.views.local`; nothing is rasterised before drawing.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from reluscope.errors import ReluscopeError
from reluscope.network import ReLUNetwork
from reluscope.plotting import pyplot
from reluscope.regions.views.slices import LineResult, SliceResult, slice_outputs

#: colours and widths of the region boundaries of ReLU layer 1, 2, 3, ... (cycled)
_LAYER_STYLE = (("black", 1.4), ("tab:blue", 0.8), ("red", 0.8), ("tab:green", 0.6))


def _check_path(path: str | Path) -> Path:
    out = Path(path)
    if not out.resolve().parent.is_dir():
        raise ReluscopeError(f"{out}: the folder {out.resolve().parent} does not exist")
    return out


def plot_slice(
    result: SliceResult,
    network: ReLUNetwork,
    path: str | Path,
    *,
    color: str = "region",
    labels: Sequence[str] | None = None,
    title: str | None = None,
) -> None:
    """Draw a slice's cells, its layer boundaries and its three points to ``path``.

    Parameters
    ----------
    color
        ``"region"``: one random pastel colour per region; ``"class"``: the output's
        argmax on the region (tab10, with a legend).
    labels
        Names of P0, P1, P2 in the legend (default ``P0``, ``P1``, ``P2``).
    """
    if color not in ("region", "class"):
        raise ReluscopeError(f"color must be 'region' or 'class', got {color!r}")
    out = _check_path(path)
    plt = pyplot()
    from matplotlib.collections import LineCollection, PolyCollection
    from matplotlib.patches import Patch

    cells = [c for c in result.cells if c.measure > 0]
    fig, ax = plt.subplots(figsize=(7.2, 6.2))
    handles: list[Any] = []
    if color == "class":
        cls = np.argmax(slice_outputs(result, network), axis=1)
        cls = np.array([k for k, c in zip(cls, result.cells, strict=True) if c.measure > 0])
        cmap = plt.get_cmap("tab10")
        faces = [(*cmap(int(k) % 10)[:3], 0.45) for k in cls]
        handles += [Patch(color=cmap(int(k) % 10), alpha=0.45, label=f"class {k}")
                    for k in sorted(set(cls.tolist()))]
    else:
        rng = np.random.default_rng(0)
        hues = rng.random(len(cells))
        import colorsys

        faces = [(*colorsys.hsv_to_rgb(h, 0.22, 0.98), 1.0) for h in hues]
    ax.add_collection(PolyCollection([c.vertices for c in cells], facecolors=faces,
                                     edgecolors="none"))
    for layer, segs in enumerate(result.boundaries):
        style, width = _LAYER_STYLE[layer % len(_LAYER_STYLE)]
        if len(segs):
            ax.add_collection(LineCollection(list(segs), colors=style, linewidths=width))
        handles.append(plt.Line2D([], [], color=style, lw=max(width, 1.0) * 1.5,
                                  label=f"boundary of layer {layer + 1}"))
    dom = np.vstack([result.domain, result.domain[:1]])
    ax.plot(dom[:, 0], dom[:, 1], color="0.3", lw=1.0, ls="--")
    names = list(labels) if labels is not None else ["P0", "P1", "P2"]
    corners = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    for (s, t), name, mark in zip(corners, names, ("o", "s", "^"), strict=True):
        handles.append(ax.plot([s], [t], mark, ms=11, mec="black", mfc="gold", mew=1.5,
                               clip_on=False, label=name, zorder=5)[0])
    ax.set_xlim(-0.03, 1.03)
    ax.set_ylim(-0.03, 1.03)
    ax.set_aspect("equal")
    ax.set_xlabel("s (from P0 towards P1)")
    ax.set_ylabel("t (from P0 towards P2)")
    ax.set_title(title or f"{result.regions} linear regions on the slice")
    ax.legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.savefig(out, dpi=100, bbox_inches="tight")
    plt.close(fig)


def plot_line(result: LineResult, network: ReLUNetwork, path: str | Path,
              *, title: str | None = None) -> None:
    """Each output along the path (exact: drawn through the breakpoints), with the
    breakpoints of every layer marked below and the path's points as dashed lines."""
    out = _check_path(path)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(9, 4.8))
    xs, ys = [], []
    for i, seg in enumerate(result.segments):
        lo, hi = float(seg.domain[:, 0].min()), float(seg.domain[:, 0].max())
        s = np.unique(np.concatenate([[lo, hi], *seg.boundaries]))
        xs.append(i + s)
        ys.append(network.forward(seg.to_input(s[:, None])))
    x, y = np.concatenate(xs), np.concatenate(ys)
    cmap = plt.get_cmap("tab10")
    for k in range(y.shape[1]):
        ax.plot(x, y[:, k], color=cmap(k % 10), lw=1.2, label=f"output {k}")
    ymin, ymax = float(y.min()), float(y.max())
    span = (ymax - ymin) or 1.0
    layers = max(len(s.boundaries) for s in result.segments)
    for layer in range(layers):
        style, _ = _LAYER_STYLE[layer % len(_LAYER_STYLE)]
        pts = np.concatenate([i + s.boundaries[layer] for i, s in enumerate(result.segments)
                              if layer < len(s.boundaries)])
        base = ymin - span * (0.06 + 0.05 * layer)
        ax.vlines(pts, base - span * 0.04, base, color=style, lw=0.7,
                  label=f"layer {layer + 1} breakpoints ({len(pts)})")
    for i in range(len(result.points)):
        ax.axvline(i, color="0.4", ls="--", lw=0.8)
    ax.set_xticks(range(len(result.points)), [f"P{i}" for i in range(len(result.points))])
    ax.set_xlabel("position along the path")
    ax.set_ylabel("network output")
    ax.set_title(title or f"{result.regions} linear regions along the path")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.savefig(out, dpi=100, bbox_inches="tight")
    plt.close(fig)


def plot_local_histogram(regions: Sequence[int], exact: Sequence[bool], path: str | Path,
                         *, radius: float, title: str | None = None) -> None:
    """Histogram of the local region counts (exact ones and MIPBound estimates stacked)."""
    out = _check_path(path)
    plt = pyplot()
    r = np.asarray(regions, dtype=float)
    ex = np.asarray(exact, dtype=bool)
    fig, ax = plt.subplots(figsize=(7, 4.2))
    top = max(1.0, float(r.max()) if len(r) else 1.0)
    bins = np.unique(np.round(np.logspace(0, np.log10(top + 1), 25)))
    ax.hist([r[ex], r[~ex]], bins=bins, stacked=True, color=["tab:blue", "tab:orange"],
            label=[f"exact count ({int(ex.sum())})",
                   f"MIPBound lower bound, time limit hit ({int((~ex).sum())})"])
    ax.set_xscale("log")
    ax.set_xlabel(f"linear regions in the L-inf ball of radius {radius:g}")
    ax.set_ylabel("data points")
    ax.set_title(title or f"local region counts of {len(r)} points")
    from matplotlib.ticker import MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(fontsize=8, loc="upper right")
    fig.savefig(out, dpi=100, bbox_inches="tight")
    plt.close(fig)
