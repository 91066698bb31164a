"""Input domains beyond ``[LO,HI]^n0``: per-input boxes, L-infinity balls, polytopes.

A network's domain is a box ``lower <= x <= upper``, optionally cut by a polytope
``A x <= b`` (:mod:`reluscope.polytope`); every method (bounds, count, estimate, upper,
compress, slices) honours both, and both are stored with the model (NPZ arrays, ONNX
metadata, ``.pt`` attributes):

- a box read from a file of lows and highs (:func:`box_from_file`);
- the per-input minimum and maximum of a data set (:func:`box_from_data`), from an array
  of points, a ``.npy``/``.csv`` file of points, or ``mnist-train``/``mnist-test``;
- an L-infinity ball of radius ``r`` around a point, intersected with the network's box
  (:func:`linf_ball`): the local analysis of robustness and local-complexity studies.
  The intersection of a box and an L-infinity ball is a box (a polytope the network
  already has is kept);
- a polytope ``A x <= b`` read from a file (:func:`polytope_from_file`,
  :func:`with_polytope_file`) or given as arrays (:meth:`ReLUNetwork.with_polytope`),
  intersected with the box. The domain is bounded because the box is finite; an empty
  one is a :class:`DomainError`. The network stores the polytope's bounding box as its
  box (same domain, tight interval bounds).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from reluscope.errors import DomainError, EmptyDomainError
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
        raise EmptyDomainError(
            f"the domain is empty: the L-inf ball of radius {r:g} around the point does not "
            f"meet the box at input {bad} (center {c[bad]:g}, box "
            f"[{network.lower[bad]:g}, {network.upper[bad]:g}])"
        )
    return network.with_domain(lo, hi, network.domain_A, network.domain_b)


def polytope_from_file(
    path: str | Path, n_inputs: int
) -> tuple[FloatArray, FloatArray, FloatArray | None, FloatArray | None]:
    """``(A, b, lower, upper)`` of a polytope file (``lower``/``upper`` None unless given).

    ``.npz``: arrays ``A`` ``(m, n0)`` and ``b`` ``(m,)``, optionally ``lower`` and
    ``upper``; ``.json``: ``{"A": [[...], ...], "b": [...]}`` with optional ``"lower"``,
    ``"upper"``; ``.npy``: one array ``(m, n0 + 1)``, each row ``a_1 ... a_n0 b``;
    ``.csv``: the same rows, comma-separated.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.is_file():
        raise DomainError(f"{path}: no such polytope file")
    lower = upper = None
    if suffix in (".npz", ".json"):
        data = _read_mapping(path, suffix)
        missing = [k for k in ("A", "b") if k not in data]
        if missing:
            raise DomainError(
                f"{path}: a polytope file holds arrays 'A' (m x {n_inputs}) and 'b' (m); "
                f"{' and '.join(repr(k) for k in missing)} missing"
            )
        try:
            a, b = (np.asarray(data[k], dtype=np.float64) for k in ("A", "b"))
            if "lower" in data or "upper" in data:
                lower = np.asarray(data.get("lower", 0.0), dtype=np.float64)
                upper = np.asarray(data.get("upper", 1.0), dtype=np.float64)
        except (ValueError, TypeError):
            raise DomainError(f"{path}: the polytope's arrays must hold numbers") from None
    elif suffix in (".npy", ".csv"):
        rows = _read_array(path, "polytope")
        rows = rows[None, :] if rows.ndim == 1 else rows
        if rows.ndim != 2 or rows.shape[1] != n_inputs + 1:
            raise DomainError(
                f"{path}: a .npy/.csv polytope holds rows 'a_1 ... a_{n_inputs} b' "
                f"({n_inputs + 1} values each, for A x <= b); got shape {rows.shape}"
            )
        a, b = rows[:, :-1], rows[:, -1]
    else:
        raise DomainError(
            f"{path}: unknown polytope file type {suffix or '(none)'!r}; use .npz, .json, "
            ".npy or .csv"
        )
    if a.size == 0:
        raise DomainError(f"{path}: the polytope has no inequalities")
    from reluscope.polytope import check_polytope

    try:
        a, b = check_polytope(a, b, n_inputs)
    except DomainError as exc:
        raise DomainError(f"{path}: {exc}") from None
    return a, b, lower, upper


def _read_mapping(path: Path, suffix: str) -> dict[str, Any]:
    """The arrays of a ``.npz`` file or the object of a ``.json`` file."""
    try:
        if suffix == ".npz":
            with np.load(path, allow_pickle=False) as data:
                return {k: data[k] for k in data.files}
        data = json.loads(path.read_text())
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DomainError(f"{path}: not a readable polytope file ({first})") from None
    if not isinstance(data, dict):
        raise DomainError(f'{path}: a JSON polytope is an object {{"A": [[...]], "b": [...]}}')
    return data


def with_polytope_file(network: ReLUNetwork, path: str | Path) -> ReLUNetwork:
    """``network`` on its domain cut by the polytope of ``path`` (see
    :func:`polytope_from_file`); a file that gives ``lower``/``upper`` sets the box too
    (and then replaces the network's domain)."""
    a, b, lower, upper = polytope_from_file(path, network.n_inputs)
    if lower is not None and upper is not None:
        return network.with_domain(lower, upper, a, b)
    return network.with_polytope(a, b)


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
    "polytope_from_file",
    "with_data_box",
    "with_polytope_file",
]
