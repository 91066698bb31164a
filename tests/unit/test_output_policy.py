"""The output policy: no command writes over its own input, files keep the umask's mode.

Every output option of every command is sent the path of the command's own input
(the model file as .npz and .onnx, the same file through a hard link and a symbolic
link with the option's own extension, and a --domain file): each must end in one error
line with exit 2, before any work, and leave the input byte for byte as it was.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest

import reluscope
from clitools import run_error
from reluscope.cli import main
from reluscope.fileio import atomic_output, check_output, umask, write_bytes_atomic

NET = reluscope.example_network()

#: (command and arguments before the output, output option, extension the option wants);
#: MODEL is replaced by the model's path
OUTPUTS = [
    (["count", "MODEL"], "--patterns", ".npy"),
    (["count", "MODEL"], "--checkpoint", ".ckpt"),
    (["local", "MODEL", "--radius", "0.1", "--points", "random"], "--csv", ".csv"),
    (["local", "MODEL", "--radius", "0.1", "--points", "random"], "--plot", ".png"),
    (["slice", "MODEL", "--points", "random", "random", "random"], "--plot", ".png"),
    (["line", "MODEL", "--through", "random", "random"], "--plot", ".png"),
    (["compress", "MODEL"], "-o", ".npz"),
]


def _model(tmp_path: Path, fmt: str) -> Path:
    path = tmp_path / f"model.{fmt}"
    reluscope.save(NET, path)
    return path


@pytest.mark.parametrize("fmt", ["npz", "onnx"])
@pytest.mark.parametrize("how", ["itself", "hardlink", "symlink"])
@pytest.mark.parametrize(("argv", "option", "ext"), OUTPUTS,
                         ids=[f"{a[0]}{o}" for a, o, _ in OUTPUTS])
def test_no_output_option_overwrites_the_model(argv, option, ext, fmt, how, tmp_path,
                                                monkeypatch, capsys):
    if fmt == "onnx":
        pytest.importorskip("onnx")
    monkeypatch.chdir(tmp_path)
    model = _model(tmp_path, fmt)
    before = model.read_bytes()
    target = model
    if how == "hardlink":
        target = tmp_path / f"link{ext}"
        os.link(model, target)
    elif how == "symlink":
        target = tmp_path / f"alias{ext}"
        target.symlink_to(model)
    args = [str(model) if a == "MODEL" else a for a in argv] + [option, str(target)]
    line = run_error(capsys, args)
    if how != "itself" or ext == f".{fmt}":  # else the extension check may speak first
        assert "is the input file" in line, line
    assert model.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        {model.name, target.name}), "nothing written before the check"


@pytest.mark.parametrize(("argv", "option", "ext"), OUTPUTS,
                         ids=[f"{a[0]}{o}" for a, o, _ in OUTPUTS])
def test_no_output_option_overwrites_a_domain_file(argv, option, ext, tmp_path, monkeypatch,
                                                   capsys):
    monkeypatch.chdir(tmp_path)
    box = tmp_path / f"box{ext}"
    box_npy = tmp_path / "box.npy"
    np.save(box_npy, np.array([NET.lower, NET.upper]))
    os.link(box_npy, box) if ext != ".npy" else None
    before = box_npy.read_bytes()
    args = [a if a != "MODEL" else "example" for a in argv]
    args += ["--domain", str(box_npy), option, str(box)]
    line = run_error(capsys, args)
    assert "--domain" in line and "is an input file" in line, line
    assert box_npy.read_bytes() == before


def test_two_outputs_cannot_be_one_file(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    line = run_error(capsys, ["local", "example", "--radius", "0.1", "--points", "random",
                              "--csv", "a.csv", "--plot", "a.csv"])
    assert "must end with" in line
    line = run_error(capsys, ["count", "example", "--checkpoint", "p.npy", "--patterns",
                              "p.npy"])
    assert "is the --checkpoint file" in line


@pytest.mark.parametrize(("argv", "option", "bad"), [
    (["count", "example"], "--patterns", "p.txt"),
    (["compress", "example"], "-o", "net.model"),
    (["local", "example", "--radius", "0.1", "--points", "random"], "--csv", "rows"),
    (["slice", "example", "--points", "random", "random", "random"], "--plot", "picture"),
    (["upper", "--depth-study"], "--plot", "study"),
    (["train"], "-o", "net"),
])
def test_extension_checked_before_work(argv, option, bad, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert "must end with" in run_error(capsys, [*argv, option, bad])
    assert not any(tmp_path.iterdir())


def test_check_output_by_inode(tmp_path):
    source = tmp_path / "a.npz"
    source.write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    other_spelling = tmp_path / "sub" / ".." / "a.npz"
    with pytest.raises(reluscope.ReluscopeError, match="is the input file"):
        check_output(other_spelling, inputs=[source])
    os.link(source, tmp_path / "b.npz")
    with pytest.raises(reluscope.ReluscopeError, match="is the model"):
        check_output(tmp_path / "b.npz", inputs=[("the model", source)])
    check_output(tmp_path / "c.npz", inputs=[source])  # another file is fine


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_written_files_get_the_umask_mode(mask, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    old = os.umask(mask)
    try:
        write_bytes_atomic(tmp_path / "a.bin", b"data")
        with atomic_output(tmp_path / "b.npz") as tmp:
            reluscope.save(NET, tmp)
        assert umask() == mask
        assert main(["compress", "example", "-o", "c.npz", "--verify", "sample",
                     "--n-samples", "100"]) == 0
        capsys.readouterr()
    finally:
        os.umask(old)
    for name in ("a.bin", "b.npz", "c.npz"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o666 & ~mask, name
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "temporary left"


def test_overwritten_file_keeps_its_mode(tmp_path):
    path = tmp_path / "a.bin"
    path.write_bytes(b"old")
    path.chmod(0o640)
    write_bytes_atomic(path, b"new")
    assert path.read_bytes() == b"new"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
