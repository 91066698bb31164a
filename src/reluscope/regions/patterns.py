"""Streaming region patterns to disk: one bit-packed row per region, a valid ``.npy`` file.

Format
------
The file is a standard NumPy ``.npy`` (format 1.0) holding a ``uint8`` array of shape
``(regions, ceil(n_units / 8))``: row ``r`` is ``numpy.packbits(pattern)`` of the
``r``-th region found (bit order "big": unit 0 is the most significant bit of byte 0;
a set bit means the unit is active, ``g >= REGION_EPS``). Units are numbered as in
:meth:`ReLUNetwork.activation_patterns` (ReLU layers in order). Rows are in the order the
search found them, which is not meaningful.

The header is written first with a fixed length of 128 bytes and rewritten in place when
the writer is closed, so rows are appended without keeping them in memory; a run that
stops early (time limit, Ctrl-C) still leaves a valid file with the rows found so far.
Read it with :func:`read_patterns`, or with ``numpy.load(path, mmap_mode="r")`` and
``numpy.unpackbits(rows, axis=1, count=n_units)``.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import BinaryIO

import numpy as np
from numpy.typing import NDArray

from reluscope.errors import ReluscopeError

#: Total bytes before the data: magic (6) + version (2) + header length (2) + header.
HEADER_BYTES = 128


def _header(rows: int, row_bytes: int) -> bytes:
    text = f"{{'descr': '|u1', 'fortran_order': False, 'shape': ({rows}, {row_bytes}), }}"
    body_len = HEADER_BYTES - 10
    if len(text) + 1 > body_len:
        raise ReluscopeError(f"pattern file header too long for shape ({rows}, {row_bytes})")
    body = text.ljust(body_len - 1) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", body_len) + body.encode("latin1")


def row_bytes(n_units: int) -> int:
    """Bytes per packed pattern row."""
    return max(1, (n_units + 7) // 8)


class PatternWriter:
    """Append bit-packed patterns to ``path`` (see module docstring for the format).

    Parameters
    ----------
    path
        The ``.npy`` file to write.
    n_units
        Bits per pattern.
    keep_rows
        ``None`` to start a new file; an integer to reopen an existing file and keep
        only its first ``keep_rows`` rows (resuming from a checkpoint).
    """

    def __init__(self, path: str | Path, n_units: int, *, keep_rows: int | None = None) -> None:
        self.path = Path(path)
        self.n_units = n_units
        self.row_bytes = row_bytes(n_units)
        self._file: BinaryIO
        if keep_rows is None:
            self._file = open(self.path, "wb")  # noqa: SIM115 (closed in close())
            self._file.write(_header(0, self.row_bytes))
            self.rows = 0
        else:
            if not self.path.exists():
                raise ReluscopeError(
                    f"cannot resume: the pattern file {self.path} of the checkpointed run is "
                    "missing; start again without the checkpoint or give the same --patterns"
                )
            size = HEADER_BYTES + keep_rows * self.row_bytes
            if self.path.stat().st_size < size:
                raise ReluscopeError(
                    f"cannot resume: {self.path} holds fewer than the {keep_rows} patterns "
                    "recorded in the checkpoint; start again without the checkpoint"
                )
            self._file = open(self.path, "r+b")  # noqa: SIM115
            self._file.truncate(size)
            self._file.seek(size)
            self.rows = keep_rows

    def write_packed(self, data: bytes) -> None:
        """Append rows already packed (a multiple of ``row_bytes`` bytes)."""
        if len(data) % self.row_bytes:
            raise ValueError("packed pattern data is not a whole number of rows")
        self._file.write(data)
        self.rows += len(data) // self.row_bytes

    def flush(self) -> None:
        """Make the file a valid .npy with the rows written so far."""
        self._file.flush()
        pos = self._file.tell()
        self._file.seek(0)
        self._file.write(_header(self.rows, self.row_bytes))
        self._file.seek(pos)
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        if not self._file.closed:
            self.flush()
            self._file.close()


def read_patterns(path: str | Path, n_units: int) -> NDArray[np.bool_]:
    """The patterns of a file written by ``count_regions(..., patterns_path=...)``.

    Returns a boolean array of shape ``(regions, n_units)``, True = active.
    """
    packed = np.load(path, mmap_mode="r")
    if packed.dtype != np.uint8 or packed.ndim != 2 or packed.shape[1] != row_bytes(n_units):
        raise ReluscopeError(
            f"{path} is not a pattern file for {n_units} units (shape {packed.shape}, "
            f"dtype {packed.dtype})"
        )
    return np.unpackbits(np.asarray(packed), axis=1, count=n_units).astype(bool)
