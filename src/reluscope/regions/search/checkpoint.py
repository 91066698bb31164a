"""Checkpoints of the lp engine: the search frontier, saved atomically, resumed exactly.

A checkpoint is an ``.npz`` file with the regions counted so far, the work counters,
the number of pattern rows written, and the *frontier*: every unexplored partial
pattern (the decisions leading to it, in search order, coded ``2 * unit + side``) with a
witness point inside its polyhedron. Regions
are counted only for finished parts of the tree and every unexplored part is in the
frontier, so resuming counts each region exactly once. The file stores a SHA-256 of the
network (weights, biases, ReLU flags, domain) and is refused for another network.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from reluscope.errors import ReluscopeError
from reluscope.network import FloatArray, ReLUNetwork

FORMAT_VERSION = 2


def network_hash(network: ReLUNetwork) -> str:
    """SHA-256 of everything that defines the regions of ``network``."""
    digest = hashlib.sha256()
    for w, b in zip(network.weights, network.biases, strict=True):
        digest.update(np.ascontiguousarray(w, dtype=np.float64).tobytes())
        digest.update(str(w.shape).encode())
        digest.update(np.ascontiguousarray(b, dtype=np.float64).tobytes())
    digest.update(bytes(network.relu))
    digest.update(np.ascontiguousarray(network.lower, dtype=np.float64).tobytes())
    digest.update(np.ascontiguousarray(network.upper, dtype=np.float64).tobytes())
    if network.has_polytope:  # (a box domain's hash is what it was before polytopes)
        digest.update(np.ascontiguousarray(network.domain_A, dtype=np.float64).tobytes())
        digest.update(str(network.domain_A.shape).encode())
        digest.update(np.ascontiguousarray(network.domain_b, dtype=np.float64).tobytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class CheckpointState:
    """Everything needed to resume a count."""

    network_hash: str
    n_units: int
    n_inputs: int
    regions: int
    lp_solves: int
    nodes: int
    pattern_rows: int  # -1 when the run does not record patterns
    tasks: list[tuple[NDArray[np.int32], FloatArray]]  # decisions 2*unit+side, witness


def save_checkpoint(path: str | Path, state: CheckpointState) -> None:
    """Write ``state`` to ``path`` atomically (temporary file, then os.replace)."""
    path = Path(path)
    n_tasks = len(state.tasks)
    lengths = np.array([len(p) for p, _ in state.tasks], dtype=np.int64)
    prefixes = np.full((n_tasks, state.n_units), -1, dtype=np.int32)
    witnesses = np.zeros((n_tasks, state.n_inputs), dtype=np.float64)
    for row, (prefix, witness) in enumerate(state.tasks):
        prefixes[row, : len(prefix)] = prefix
        witnesses[row] = witness
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as handle:
        np.savez(
            handle,
            version=np.int64(FORMAT_VERSION),
            network_hash=np.array(state.network_hash),
            n_units=np.int64(state.n_units),
            # counts as decimal strings: Python ints may exceed 2^63
            counters=np.array([str(state.regions), str(state.lp_solves), str(state.nodes)]),
            pattern_rows=np.int64(state.pattern_rows),
            lengths=lengths,
            prefixes=prefixes,
            witnesses=witnesses,
        )
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def load_checkpoint(path: str | Path, expected_hash: str) -> CheckpointState | None:
    """The state saved in ``path``, or None if there is no such file.

    Raises ReluscopeError if the file belongs to another network or is unreadable.
    """
    path = Path(path)
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            version = int(data["version"])
            digest = str(data["network_hash"])
            n_units = int(data["n_units"])
            counters = [int(v) for v in data["counters"]]
            pattern_rows = int(data["pattern_rows"])
            lengths = data["lengths"]
            prefixes = data["prefixes"]
            witnesses = data["witnesses"]
    except Exception as exc:  # empty (EOFError), garbled (BadZipFile), wrong keys, ...
        reason = "the file is empty" if path.stat().st_size == 0 else f"{type(exc).__name__}: {exc}"
        raise ReluscopeError(
            f"cannot read the checkpoint {path} ({reason}): it is not a checkpoint reluscope "
            "wrote; give another --checkpoint path (delete the file only if it is an old "
            "checkpoint of yours)"
        ) from None
    if version != FORMAT_VERSION:
        raise ReluscopeError(f"checkpoint {path} has format {version}, expected {FORMAT_VERSION}")
    if digest != expected_hash:
        raise ReluscopeError(
            f"checkpoint {path} was written for a different network (or domain); give "
            "another --checkpoint path (or delete that old checkpoint to start afresh)"
        )
    tasks = [
        (prefixes[i, : int(lengths[i])].copy(), witnesses[i].copy()) for i in range(len(lengths))
    ]
    return CheckpointState(
        network_hash=digest,
        n_units=n_units,
        n_inputs=witnesses.shape[1],
        regions=counters[0],
        lp_solves=counters[1],
        nodes=counters[2],
        pattern_rows=pattern_rows,
        tasks=tasks,
    )
