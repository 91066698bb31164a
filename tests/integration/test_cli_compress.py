"""``reluscope compress`` and ``reluscope train`` end to end, JSON checked against the
library and the written files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from netgen import planted_network
from reluscope.cli import main
from reluscope.io import load
from reluscope.tolerances import EQUAL_RTOL


def _run(capsys, argv: list[str]) -> tuple[int, dict, str]:
    code = main(argv)
    captured = capsys.readouterr()
    payload = json.loads(captured.out) if code == 0 and "--json" in argv else {}
    return code, payload, captured.err


@pytest.mark.parametrize("strategy", ["single", "per-unit"])
def test_compress_cli_json(tmp_path: Path, capsys, strategy: str) -> None:
    src, out = tmp_path / "net.npz", tmp_path / "small.npz"
    net = planted_network()
    net.save(src)
    code, payload, _ = _run(capsys, ["compress", str(src), "-o", str(out), "--json",
                                     "--strategy", strategy, "--bounds-method", "interval",
                                     "--n-samples", "20000"])
    assert code == 0
    assert payload["units_before"] == 6 and payload["units_after"] == 4
    assert payload["layers_before"] == 2 and payload["layers_after"] == 2
    assert payload["strategy"] == strategy
    assert isinstance(payload["seconds"], float)
    assert payload["max_abs_diff"] <= EQUAL_RTOL * payload["equivalence"]["output_scale"]
    assert payload["milp_proven"] is True  # 6 units: auto verify runs the MILP
    small = load(out)
    assert small.widths == (4, 2)
    xs = net.sample_inputs(10_000, random_state=0)
    assert np.abs(small.forward(xs) - net.forward(xs)).max() <= EQUAL_RTOL * 10


def test_compress_cli_text_and_unchanged(tmp_path: Path, capsys) -> None:
    from reluscope.network import ReLUNetwork

    net = ReLUNetwork([np.array([[1.0, -1.0], [-1.0, 1.0]]), np.array([[1.0, 1.0]])],
                      [np.zeros(2), np.array([-0.2])], relu=[True, False])
    net.save(tmp_path / "n.npz")
    code = main(["compress", str(tmp_path / "n.npz"), "-o", str(tmp_path / "o.npz"),
                 "--bounds-method", "interval"])
    text = capsys.readouterr().out
    assert code == 0 and "unchanged" in text and "units 2 -> 2" in text


def test_compress_cli_error_exit_2(tmp_path: Path, capsys) -> None:
    planted_network().save(tmp_path / "n.npz")
    code = main(["compress", str(tmp_path / "n.npz"), "-o", str(tmp_path / "o.xyz")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "error" in err


@pytest.mark.parametrize(
    ("extra", "word"),
    [(["--time-limit", "-1"], "--time-limit"), (["--verify", "sample", "--n-samples", "0"],
                                              "n-samples"),
     (["--n-samples", "-3"], "n-samples")],
)
def test_compress_cli_bad_options_exit_2(tmp_path: Path, capsys, extra: list[str],
                                         word: str) -> None:
    planted_network().save(tmp_path / "n.npz")
    code = main(["compress", str(tmp_path / "n.npz"), "-o", str(tmp_path / "o.npz"), *extra])
    captured = capsys.readouterr()
    assert code == 2 and captured.err.count("\n") == 1 and word in captured.err
    assert captured.out == "" and not (tmp_path / "o.npz").exists()


def test_compress_cli_proof_cut_short_says_not_proven(tmp_path: Path, capsys) -> None:
    from netgen import random_network

    random_network(0, 20, (12, 12, 8), output_relu=False).save(tmp_path / "n.npz")
    code = main(["compress", str(tmp_path / "n.npz"), "-o", str(tmp_path / "o.npz"),
                 "--bounds-method", "interval", "--verify", "milp", "--n-samples", "1000",
                 "--time-limit", "3"])
    text = capsys.readouterr().out
    assert code == 0 and "not finished (time limit" in text and "NOT equal" not in text
    assert "exact by construction" in text
    code, payload, _ = _run(capsys, ["compress", str(tmp_path / "n.npz"), "-o",
                                     str(tmp_path / "o.npz"), "--verify", "milp",
                                     "--n-samples", "1000", "--time-limit", "3", "--json"])
    assert code == 0 and payload["milp_proven"] is None
    assert payload["milp_status"] == "time_limit"


@pytest.mark.slow
def test_train_cli_digits_then_compress(tmp_path: Path, capsys) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    out, small = tmp_path / "net.npz", tmp_path / "small.npz"
    code, payload, _ = _run(capsys, ["train", "--dataset", "digits", "--widths", "8,8",
                                     "--l1", "1e-3", "--epochs", "0.5", "--seed", "1",
                                     "-o", str(out), "--compress", str(small),
                                     "--time-limit", "60", "--json"])
    assert code == 0
    net = load(out)
    assert net.widths == (8, 8, 10) and net.relu == (True, True, False)
    assert payload["architecture"] == [8, 8, 10]
    comp = payload["compression"]
    assert comp["units_before"] == 16 and comp["units_after"] == load(small).n_units
    # lossless: the compressed network classifies the test set identically
    assert payload["compressed_test_accuracy"] == pytest.approx(payload["test_accuracy"])


def test_train_cli_authors_recipe(tmp_path: Path, capsys) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    out = tmp_path / "net.npz"
    code, payload, _ = _run(capsys, ["train", "--dataset", "digits", "--widths", "8",
                                     "--recipe", "authors", "--epochs", "2", "-o", str(out),
                                     "--json"])
    assert code == 0
    recipe = payload["recipe"]
    assert (recipe["recipe"], recipe["optimizer"], recipe["lr"]) == ("authors", "sgd", 0.01)
    assert (recipe["momentum"], recipe["init"], recipe["epochs"]) == (0.9, "kaiming", 2.0)
    assert load(out).relu == (True, False)
