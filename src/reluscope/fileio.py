"""Output files: checked before any computing, written atomically.

:func:`check_output` is called by every command and function that writes a file, before
any solver starts, so an unwritable path is found in a second, not after an hour of
work. :func:`atomic_output` gives a temporary name in the target's folder (same
extension, so writers that choose the format from it still work) and renames it over
the target only when the writer succeeded: a crash or Ctrl-C never leaves a truncated
model, checkpoint or record.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from reluscope.errors import ReluscopeError

PathLike = str | os.PathLike[str]


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_output(
    path: PathLike, *, what: str = "output", inputs: Iterable[PathLike | None] = ()
) -> Path:
    """Refuse an output path that cannot be written, or that is one of ``inputs``.

    Checks, without leaving anything behind: the path is not a folder, its folder
    exists and a file can be created in it (a probe file, so read-only file systems and
    permissions are both caught), an existing file is writable, and the path is not
    one of the input files (``compress g.npz -o g.npz``).

    Raises
    ------
    ReluscopeError
        One line saying which path and what to do.
    """
    target = Path(path)
    if target.is_dir():
        raise ReluscopeError(f"{what} {target} is a folder; give a file name")
    folder = target.resolve().parent
    if not folder.is_dir():
        raise ReluscopeError(
            f"{what} {target}: the folder {folder} does not exist; create it first"
        )
    for source in inputs:
        if source is not None and (
            _same_file(target, Path(source)) or target.resolve() == Path(source).resolve()
        ):
            raise ReluscopeError(
                f"{what} {target} is the input file; give another output path"
            )
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".reluscope-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ReluscopeError(
            f"{what} {target}: cannot write in {folder} ({exc.strerror or exc})"
        ) from None
    if target.exists() and not os.access(target, os.W_OK):
        raise ReluscopeError(f"{what} {target} exists and is not writable")
    return target


@contextlib.contextmanager
def atomic_output(path: PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success rename it to ``path``.

    The temporary name keeps the extension (``.npz``, ``.onnx``, ...). On any exception
    (Ctrl-C included) the temporary file is removed and ``path`` is left as it was.
    """
    target = Path(path)
    fd, tmp_name = tempfile.mkstemp(
        dir=target.resolve().parent, prefix=f".{target.stem}.", suffix="".join(target.suffixes)
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_bytes_atomic(path: PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temporary file, fsync, rename)."""
    with atomic_output(path) as tmp, open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


__all__ = ["atomic_output", "check_output", "write_bytes_atomic"]
