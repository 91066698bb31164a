"""Output files: checked before any computing, written atomically.

The one output policy of reluscope (every model, checkpoint, pattern file, CSV, plot,
record and report any command writes):

* :func:`check_output` runs before any solver starts, so a bad path is found in a
  second, not after an hour of work. It refuses a folder, a missing folder, a file
  that cannot be written, an extension the writer would not honour, and a path that
  is one of the command's inputs: the same resolved path, or the same file reached
  another way (a hard or symbolic link: same device and inode). A command can never
  write over its own model.
* :func:`atomic_output` gives a temporary name in the target's folder (same extension,
  so writers that choose the format from it still work) and renames it over the target
  only when the writer succeeded: a crash or Ctrl-C never leaves a truncated model,
  checkpoint or record. The file gets the mode a plain ``open(path, "w")`` would give
  (``0666`` less the umask; an existing file keeps its mode), not the ``0600`` of a
  temporary file, so another user (a model server) can read it.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from reluscope.errors import ReluscopeError

PathLike = str | os.PathLike[str]
#: an input of a command: a path, or ``(label, path)`` where the label names it in the
#: error ("the --checkpoint file"); None entries are skipped
InputLike = PathLike | tuple[str, PathLike | None] | None

#: what a plot file may end with (the formats matplotlib writes; without one it would
#: add ``.png`` to the name and write another file than the one named)
PLOT_EXTENSIONS = (".png", ".pdf", ".svg", ".svgz", ".jpg", ".jpeg", ".eps", ".ps",
                   ".tif", ".tiff", ".webp", ".pgf")


def same_file(a: PathLike, b: PathLike) -> bool:
    """True when ``a`` and ``b`` are one file: the same resolved path, or the same device
    and inode (a hard link, a symbolic link, another spelling of the path)."""
    pa, pb = Path(a), Path(b)
    try:
        if pa.resolve() == pb.resolve():
            return True
        return pa.exists() and pb.exists() and os.path.samefile(pa, pb)
    except (OSError, RuntimeError):  # a symlink loop, a path too long, ...
        return False


def _inputs(inputs: Iterable[InputLike]) -> Iterator[tuple[str, Path]]:
    for item in inputs:
        label, source = item if isinstance(item, tuple) else ("the input file", item)
        if source is not None:
            yield label, Path(source)


def check_output(
    path: PathLike,
    *,
    what: str = "output",
    inputs: Iterable[InputLike] = (),
    extensions: Iterable[str] | None = None,
) -> Path:
    """Refuse an output path that cannot be written, or that is one of ``inputs``.

    Checks, without leaving anything behind: the path is not a folder, it ends with one
    of ``extensions`` (when given; case-insensitive), its folder exists and a file can
    be created in it (a probe file, so read-only file systems and permissions are both
    caught), an existing file is writable, and the path is not one of the input files,
    by resolved path or by inode (``compress g.npz -o g.npz``, or a link to g.npz).

    Raises
    ------
    ReluscopeError
        One line saying which path and what to do.
    """
    target = Path(path)
    if str(path) == "":
        raise ReluscopeError(f"{what}: empty file name; give a file name")
    if target.is_dir():
        raise ReluscopeError(f"{what} {target} is a folder; give a file name")
    if extensions is not None:
        allowed = tuple(e.lower() for e in extensions)
        if not target.name.lower().endswith(allowed):
            raise ReluscopeError(
                f"{what} {target}: the file name must end with {' or '.join(allowed)}"
            )
    for label, source in _inputs(inputs):
        if same_file(target, source):
            raise ReluscopeError(f"{what} {target} is {label}; give another output path")
    folder = target.resolve().parent
    if not folder.is_dir():
        raise ReluscopeError(
            f"{what} {target}: the folder {folder} does not exist; create it first"
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


def umask() -> int:
    """This process's umask (read without changing it where Linux allows)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere: set and put back at once
    os.umask(mask)
    return mask


def final_mode(path: PathLike) -> int:
    """The mode a file written to ``path`` should have: an existing file's own mode,
    else ``0666`` less the umask (what ``open(path, "w")`` gives)."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return 0o666 & ~umask()


@contextlib.contextmanager
def atomic_output(path: PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success rename it to ``path``.

    The temporary name keeps the extension (``.npz``, ``.onnx``, ...). On success the
    file gets :func:`final_mode` before the rename. On any exception (Ctrl-C included)
    the temporary file is removed and ``path`` is left as it was.
    """
    target = Path(path)
    fd, tmp_name = tempfile.mkstemp(
        dir=target.resolve().parent, prefix=f".{target.stem}.", suffix="".join(target.suffixes)
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.chmod(tmp, final_mode(target))
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(exc, ReluscopeError) and str(tmp) in str(exc):
            # name the file the user gave, never the hidden temporary one
            raise ReluscopeError(str(exc).replace(str(tmp), str(target))) from None
        if isinstance(exc, OSError) and exc.filename == str(tmp):
            exc.filename = str(target)
        raise


def write_bytes_atomic(path: PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temporary file, fsync, rename)."""
    with atomic_output(path) as tmp, open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


__all__ = [
    "PLOT_EXTENSIONS",
    "atomic_output",
    "check_output",
    "final_mode",
    "same_file",
    "umask",
    "write_bytes_atomic",
]
