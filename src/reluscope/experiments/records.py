"""Files of a reproduction run: JSON records and settings written atomically, read back.

One module for the run directory's I/O, shared by the pipeline
(:mod:`reluscope.experiments.reproduce`) and the report
(:mod:`reluscope.experiments.report`), so that neither imports the other.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from reluscope.fileio import final_mode


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(tmp, final_mode(path))  # the umask's mode, not mkstemp's 0600
    os.replace(tmp, path)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, float) and math.isnan(value):
        return None
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dump_json(path: Path, payload: Any) -> None:
    """``payload`` as indented JSON (NumPy scalars and arrays allowed), atomically."""
    write_atomic(path, json.dumps(payload, indent=1, default=_json_default).encode())


def read_json(path: Path) -> Any | None:
    """The JSON in ``path``; None when it is missing or unreadable (rewritten later)."""
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError:
        return None


#: Every record of a run in one file beside the report: a results folder kept without
#: its run files (``records/``, ``networks/``, ``checkpoints/``), such as docs/results,
#: can still have its report written again.
RECORDS_FILE = "records.jsonl"


def read_records(out_dir: str | Path) -> list[dict[str, Any]]:
    """Every record in ``out_dir/records``, sorted by key (unreadable files skipped);
    without that folder, the records of ``out_dir/records.jsonl``."""
    folder = Path(out_dir, "records")
    if not folder.is_dir():
        return sorted(read_jsonl(Path(out_dir, RECORDS_FILE)), key=lambda r: str(r.get("key")))
    records = []
    for path in sorted(folder.glob("*.json")):
        record = read_json(path)
        if record is not None:
            records.append(record)
    return records


def write_records_file(out_dir: str | Path, records: list[dict[str, Any]]) -> None:
    """``records`` as ``out_dir/records.jsonl``, one compact JSON line each, atomically."""
    lines = [json.dumps(r, separators=(",", ":"), default=_json_default) for r in records]
    write_atomic(Path(out_dir, RECORDS_FILE), "".join(f"{line}\n" for line in lines).encode())


def read_jsonl(path: Path | None) -> list[dict[str, Any]]:
    """The objects of a JSON-lines file (e.g. bench_leo.jsonl); [] when there is none.

    A line that does not parse (a run killed while appending) is skipped."""
    if path is None or not path.is_file():
        return []
    rows = []
    for line in path.read_text().splitlines():
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return rows


__all__ = [
    "RECORDS_FILE",
    "dump_json",
    "read_json",
    "read_jsonl",
    "read_records",
    "write_atomic",
    "write_records_file",
]
