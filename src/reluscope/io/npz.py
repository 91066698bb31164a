"""NPZ format: reluscope's own, plain NumPy.

Layout (all arrays float64 unless said):
- ``W0, b0, W1, b1, ...``: weights ``(n_out, n_in)`` and biases ``(n_out,)`` per layer;
- ``relu``: bool array, one flag per layer (is it followed by activations?);
- ``slopes``: the inactive-side slope of every neuron, all layers concatenated (0 ReLU,
  1 identity, other values leaky ReLU; entries of layers without activations are 1);
  optional, written only when some unit is not a ReLU (default: every unit a ReLU, so
  files of plain ReLU networks are unchanged);
- ``lower``, ``upper``: the input box, shape ``(n0,)`` (optional; default [0, 1]^n0);
- ``domain_A``, ``domain_b``: a polytope ``A x <= b`` cutting the box, shapes
  ``(m, n0)`` and ``(m,)`` (optional, both or neither; written when ``m > 0``);
- ``input_name``, ``output_name``, ``dtype`` (0-d string arrays) and ``input_shape``
  (int array): the I/O signature of the model the network was read from (optional;
  written when the network has one, so that a later ``.onnx``/``.pt`` export keeps it);
  ``output_op`` (0-d string, optional): ``Softmax``/``LogSoftmax`` when the source model
  ended with one;
- ``max_pool``: bool per neuron, all layers concatenated: the units of a lowered
  max-pooling (optional, written when there are any); ``pool_windows`` (0-d string,
  optional): their windows as JSON (:func:`reluscope.pooling.windows_to_json`), dropped
  on reading when they do not match the layers.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from reluscope.errors import ModelFormatError, ReluscopeError
from reluscope.io.writers import save_npz
from reluscope.network import IOSignature, ReLUNetwork
from reluscope.pooling import PoolWindow, windows_from_json


def load_npz(path: str | Path) -> ReLUNetwork:
    """Read a network written by :func:`save_npz` (or by hand in the same layout)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        reason = "not an archive of NumPy arrays" if "pickle" in str(exc) else str(exc)
        raise ModelFormatError(
            f"{path}: not a NumPy .npz file of reluscope's layout ({reason}); see docs/formats.md"
        ) from None
    n_layers = 0
    while f"W{n_layers}" in arrays:
        n_layers += 1
    if n_layers == 0:
        raise ModelFormatError(
            f"{path}: no arrays W0, b0, ... found; see the NPZ layout in docs/formats.md"
        )
    missing = [f"b{i}" for i in range(n_layers) if f"b{i}" not in arrays]
    if missing:
        raise ModelFormatError(f"{path}: missing bias arrays {missing}")
    relu = arrays.get("relu")
    slopes = None
    if "slopes" in arrays:
        flat = np.ravel(arrays["slopes"]).astype(float)
        widths = [int(np.shape(arrays[f"b{i}"])[0]) for i in range(n_layers)]
        if flat.size != sum(widths):
            raise ModelFormatError(
                f"{path}: 'slopes' has {flat.size} entries but the layers have "
                f"{sum(widths)} neurons; write one slope per neuron"
            )
        slopes = np.split(flat, np.cumsum(widths)[:-1])
    max_pool = None
    if "max_pool" in arrays:
        flat_pool = np.ravel(arrays["max_pool"]).astype(bool)
        widths = [int(np.shape(arrays[f"b{i}"])[0]) for i in range(n_layers)]
        if flat_pool.size != sum(widths):
            raise ModelFormatError(
                f"{path}: 'max_pool' has {flat_pool.size} entries but the layers have "
                f"{sum(widths)} neurons"
            )
        max_pool = np.split(flat_pool, np.cumsum(widths)[:-1])
    windows: tuple[PoolWindow, ...] = ()
    if "pool_windows" in arrays:
        widths = [int(np.shape(arrays[f"b{i}"])[0]) for i in range(n_layers)]
        windows = windows_from_json(str(arrays["pool_windows"]), max_pool, slopes, widths)
    signature = None
    if "input_name" in arrays:
        try:
            signature = IOSignature(
                input_name=str(arrays["input_name"]),
                output_name=str(arrays.get("output_name", "output")),
                input_shape=tuple(int(d) for d in np.ravel(arrays.get("input_shape", []))),
                dtype=str(arrays.get("dtype", "float64")),
                output_op=str(arrays.get("output_op", "")),
            )
        except (ValueError, TypeError, ReluscopeError):
            raise ModelFormatError(
                f"{path}: the signature arrays (input_name, input_shape, dtype) are "
                "malformed; fix or delete them"
            ) from None
    return ReLUNetwork(
        [arrays[f"W{i}"] for i in range(n_layers)],
        [arrays[f"b{i}"] for i in range(n_layers)],
        relu=None if relu is None else [bool(v) for v in np.ravel(relu)],
        slopes=slopes,
        lower=arrays.get("lower"),
        upper=arrays.get("upper"),
        domain_A=arrays.get("domain_A"),
        domain_b=arrays.get("domain_b"),
        signature=signature,
        max_pool=max_pool,
        pool_windows=windows,
    )


__all__ = ["load_npz", "save_npz"]
