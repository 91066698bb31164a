"""Input domains beyond ``[LO,HI]^n0``: per-input boxes and L-infinity balls.

Every domain here is a box ``lower <= x <= upper``, so every method (bounds, count,
estimate, upper, compress) takes it unchanged and it is stored with the model as the box
is (NPZ arrays, ONNX metadata, ``.pt`` attributes):

- a box read from a file of lows and highs (:func:`box_from_file`);
- the per-input minimum and maximum of a data set (:func:`box_from_data`), from an array
  of points, a ``.npy``/``.csv`` file of points, or ``mnist-train``/``mnist-test``;
- an L-infinity ball of radius ``r`` around a point, intersected with the network's box
  (:func:`linf_ball`): the local analysis of robustness and local-complexity studies.
  The intersection of a box and an L-infinity ball is a box.

General polytopes ``A x <= b`` are not supported.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from reluscope.errors import DomainError
from reluscope.network import FloatArray, ReLUNetwork

#: data sets usable by name in :func:`box_from_data` and ``--domain data:NAME``
DATA_SETS = ("mnist-train", "mnist-test")


def _read_array(path: str | Path, what: str) -> np.ndarray:
    """A float64 array from a ``.npy``, ``.csv`` (comma-separated rows) or ``.json`` file."""
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.is_file():
        raise DomainError(f"{path}: no such {what} file")
    try:
        if suffix == ".npy":
            data: Any = np.load(path, allow_pickle=False)
        elif suffix == ".csv":
            data = np.loadtxt(path, delimiter=",", ndmin=2)
        elif suffix == ".json":
            data = json.loads(path.read_text())
            if isinstance(data, dict):
                if not {"lower", "upper"} <= set(data):
                    raise DomainError(
                        f"{path}: a JSON {what} must be a list, or an object with keys "
                        "'lower' and 'upper'"
                    )
                data = [data["lower"], data["upper"]]
        else:
            raise DomainError(
                f"{path}: unknown {what} file type {suffix or '(none)'!r}; use .npy, .csv "
                "or .json"
            )
        array = np.asarray(data, dtype=np.float64)
    except DomainError:
        raise
    except (OSError, ValueError, TypeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DomainError(f"{path}: not a readable {what} file ({first})") from None
    if not np.all(np.isfinite(array)):
        raise DomainError(f"{path}: the {what} contains NaN or infinite values")
    return array


def box_from_file(path: str | Path, n_inputs: int) -> tuple[FloatArray, FloatArray]:
    """``(lower, upper)`` from a file holding the lows then the highs of every input.

    ``.npy``: an array of shape ``(2, n0)`` (or ``(2, *input_shape)``); ``.csv``: two
    rows; ``.json``: ``{"lower": [...], "upper": [...]}`` or ``[[lows], [highs]]``.
    """
    array = _read_array(path, "domain box")
    if array.ndim < 1 or array.shape[0] != 2 or array[0].size != n_inputs:
        raise DomainError(
            f"{path}: a domain box file holds 2 rows (lows, highs) of {n_inputs} values; "
            f"got an array of shape {array.shape}"
        )
    return array[0].ravel(), array[1].ravel()


def load_points(source: str | Path | ArrayLike, n_inputs: int) -> FloatArray:
    """Points ``(n, n0)`` from an array, a ``.npy``/``.csv`` file, or a data set name."""
    if isinstance(source, str) and source in DATA_SETS:
        from reluscope.experiments.mnist import load_mnist

        points = np.asarray(load_mnist(split=source.split("-")[1])[0])
    elif isinstance(source, (str, Path)):
        points = _read_array(source, "data")
    else:
        points = np.asarray(source, dtype=np.float64)
    if points.ndim == 1 and points.size == n_inputs:
        points = points[None, :]
    points = points.reshape(points.shape[0], -1) if points.ndim >= 2 else points
    if points.ndim != 2 or points.shape[1] != n_inputs or points.shape[0] == 0:
        raise DomainError(
            f"the data must be points of {n_inputs} values each (the network's inputs); "
            f"got an array of shape {np.shape(points)}"
        )
    if not np.all(np.isfinite(points)):
        raise DomainError("the data contain NaN or infinite values")
    return points


def box_from_data(source: str | Path | ArrayLike, n_inputs: int) -> tuple[FloatArray, FloatArray]:
    """The per-input minimum and maximum over a data set (see :func:`load_points`)."""
    points = load_points(source, n_inputs)
    return points.min(axis=0), points.max(axis=0)


def linf_ball(network: ReLUNetwork, center: ArrayLike, radius: float) -> ReLUNetwork:
    """``network`` on its box intersected with ``{x : |x - center|_inf <= radius}``.

    Raises :class:`DomainError` for a negative or non-finite radius, a center of the
    wrong size, or an empty intersection (the ball lies outside the box).
    """
    c = np.asarray(center, dtype=np.float64).ravel()
    if c.size != network.n_inputs:
        raise DomainError(
            f"the ball's center has {c.size} values but the network has "
            f"{network.n_inputs} inputs"
        )
    if not np.all(np.isfinite(c)):
        raise DomainError("the ball's center contains NaN or infinite values")
    r = float(radius)
    if not np.isfinite(r) or r < 0:
        raise DomainError(f"the ball's radius must be a finite number >= 0; got {radius!r}")
    lo = np.maximum(network.lower, c - r)
    hi = np.minimum(network.upper, c + r)
    if np.any(lo > hi):
        bad = int(np.argmax(lo > hi))
        raise DomainError(
            f"the domain is empty: the L-inf ball of radius {r:g} around the point does not "
            f"meet the box at input {bad} (center {c[bad]:g}, box "
            f"[{network.lower[bad]:g}, {network.upper[bad]:g}])"
        )
    return network.with_domain(lo, hi)


def with_data_box(network: ReLUNetwork, source: str | Path | ArrayLike) -> ReLUNetwork:
    """``network`` on the min/max box of a data set."""
    lo, hi = box_from_data(source, network.n_inputs)
    return network.with_domain(lo, hi)


__all__ = [
    "DATA_SETS",
    "box_from_data",
    "box_from_file",
    "linf_ball",
    "load_points",
    "with_data_box",
]
