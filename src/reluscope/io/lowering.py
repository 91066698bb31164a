"""Lowering affine tensor operators (convolution, average pooling, batch norm, padding)
to dense layers, shared by the ONNX and PyTorch readers.

An operator known to be affine, ``y = M x + c`` on the C-order flattening of its input,
is evaluated once on the zero input (giving ``c``) and once on each basis vector
(giving the columns of ``M``), in float64. This is exact up to float64 rounding and
honours every option of the operator (strides, padding, dilation, groups, ceil mode,
``count_include_pad``) as the framework implements it.

Size: the lowered matrix of an operator has ``n_out x n_in`` entries. Above
:data:`WARN_ENTRIES` a warning says the analysis will be slow; above
:data:`MAX_ENTRIES` (a 400 MB float64 matrix) the model is rejected. The MILPs of this
tool are practical for a few hundred to a few thousand ReLU units in all, i.e. inputs of
the size of MNIST (784) or less, as in the papers.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

from reluscope.errors import UnsupportedLayerError

#: a lowered operator with more matrix entries than this triggers a warning
WARN_ENTRIES = 4_000_000
#: a lowered operator with more matrix entries than this is rejected
MAX_ENTRIES = 50_000_000

#: why max-pooling is rejected (one line, appended to the layer's name)
MAXPOOL_REASON = (
    "max-pooling is piecewise linear but not an affine map followed by a ReLU: a window "
    "of k inputs is one unit with k sides (its argmax), and lowering it to pairwise "
    "max(a, b) = a + relu(b - a) would count sign patterns that are not regions; replace "
    "it by AvgPool or a strided convolution"
)


def lower_affine(
    fn: Callable[[np.ndarray], np.ndarray], shape: tuple[int, ...], what: str
) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    """``(M, c, out_shape)`` with ``fn(x) = M @ x.ravel() + c`` for ``x`` of ``shape``.

    ``fn`` maps a batch ``(k, *shape)`` of float64 inputs to a batch ``(k, *out_shape)``.
    ``what`` names the operator in messages.
    """
    n_in = int(np.prod(shape))
    zero = np.asarray(fn(np.zeros((1, *shape))), dtype=np.float64)
    out_shape = tuple(int(d) for d in zero.shape[1:])
    n_out = int(np.prod(out_shape))
    entries = n_in * n_out
    if entries > MAX_ENTRIES:
        raise UnsupportedLayerError(
            f"{what} maps {n_in} to {n_out} values: as a dense layer that is {entries:.3g} "
            f"weights, more than the {MAX_ENTRIES:.0e} reluscope accepts; its MILPs are "
            "practical for inputs of MNIST size (784) or less: downsample the input"
        )
    if entries > WARN_ENTRIES:
        warnings.warn(
            f"{what} becomes a dense {n_out} x {n_in} layer ({entries:.3g} weights); "
            "MILP analysis of a network this size will be slow",
            stacklevel=3,
        )
    c = zero.reshape(-1)
    columns = np.empty((n_out, n_in))
    step = max(1, min(n_in, 4_000_000 // max(n_out, 1)))
    for start in range(0, n_in, step):
        stop = min(n_in, start + step)
        basis = np.zeros((stop - start, n_in))
        basis[np.arange(stop - start), np.arange(start, stop)] = 1.0
        out = np.asarray(fn(basis.reshape(stop - start, *shape)), dtype=np.float64)
        columns[:, start:stop] = (out.reshape(stop - start, n_out) - c).T
    return columns, c, out_shape


__all__ = ["MAXPOOL_REASON", "MAX_ENTRIES", "WARN_ENTRIES", "lower_affine"]
