"""The slice, line and local subcommands: one JSON object, pictures, one-line errors."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from clitools import run_error, run_json
from reluscope.data import example_network
from reluscope.regions.count.dispatch import count_regions
from reluscope.regions.views.slices import line_regions, slice_regions

PNG = b"\x89PNG"


@pytest.fixture()
def pts(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "pts.npy"
    np.save(path, rng.random((4, 64)))
    return path


def test_slice_json_and_plots(capsys, tmp_path, pts) -> None:
    out = tmp_path / "s.png"
    res = run_json(capsys, ["slice", "example", "--points", f"{pts}:0", f"{pts}:1", f"{pts}:2",
                            "--plot", str(out), "--json"])
    api = slice_regions(example_network(), np.load(pts)[:3])
    assert res["regions"] == api.regions and res["exact"] is True
    assert res["status"] == "complete" and res["seconds"] >= 0
    areas = sum(c["measure"] for c in res["cells"])
    assert abs(areas - res["domain_measure"]) < 1e-9
    assert out.read_bytes()[:4] == PNG
    out2 = tmp_path / "c.png"
    res2 = run_json(capsys, ["slice", "example", "--points", "3", "4", "5", "--data", "digits",
                             "--color", "class", "--plot", str(out2), "--json", "--no-cells"])
    assert "cells" not in res2 and out2.read_bytes()[:4] == PNG
    assert res2["points"][0].startswith("digits #3")


def test_line_json_path_and_plot(capsys, tmp_path, pts) -> None:
    res = run_json(capsys, ["line", "example", "--from", f"{pts}:0", "--to", f"{pts}:1",
                            "--json"])
    api = line_regions(example_network(), np.load(pts)[:2])
    assert res["regions"] == api.regions
    assert res["segments"][0]["breakpoints"] == [b.tolist() for b in api.segments[0].boundaries]
    out = tmp_path / "l.png"
    res3 = run_json(capsys, ["line", "example", "--through", str(pts), "--plot", str(out),
                             "--json", "--no-cells"])
    assert len(res3["segments"]) == 3 and out.read_bytes()[:4] == PNG
    assert res3["regions"] == sum(s["regions"] for s in res3["segments"])


def test_local_csv_histogram_and_counts(capsys, tmp_path) -> None:
    from reluscope.experiments.mnist import load_digits_dataset

    csv_path, png = tmp_path / "local.csv", tmp_path / "h.png"
    res = run_json(capsys, ["local", "example", "--data", "digits", "--radius", "0.05",
                            "--n", "3", "--start", "10", "--csv", str(csv_path),
                            "--plot", str(png), "--json"])
    net = example_network()
    x, _ = load_digits_dataset()
    for row in res["counts"]:
        c = x[row["index"]]
        box = net.with_domain(np.clip(c - 0.05, 0, 1), np.clip(c + 0.05, 0, 1))
        assert row["regions"] == count_regions(box, n_jobs=1).regions
        assert row["exact"] is True
    assert [r["index"] for r in res["counts"]] == [10, 11, 12]
    with open(csv_path) as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["regions"]) for r in rows] == [r["regions"] for r in res["counts"]]
    assert png.read_bytes()[:4] == PNG


@pytest.mark.parametrize(
    "argv",
    [
        ["slice", "example", "--points", "random", "random"],
        ["slice", "example", "--points", "nothing.npy", "random", "random"],
        ["slice", "example", "--points", "bogus", "random", "random"],
        ["slice", "example", "--points", "99999", "1", "2", "--data", "digits"],
        ["slice", "example", "--points", "random", "random", "random", "--plot", "/no/dir/x.png"],
        ["line", "example", "--from", "random"],
        ["line", "example", "--from", "random", "--to", "random", "--through", "random"],
        ["line", "example", "--through", "random"],
        ["local", "example", "--data", "digits", "--radius", "-1", "--n", "2"],
        ["local", "example", "--radius", "0.1", "--n", "2", "--data", "mnist-test"],  # 784 != 64
    ],
)
def test_bad_input_is_one_line_exit_2(capsys, argv) -> None:
    run_error(capsys, argv)


def test_bad_npy_shape_and_collinear(capsys, tmp_path) -> None:
    bad = tmp_path / "bad.npy"
    np.save(bad, np.zeros((2, 5)))
    run_error(capsys, ["slice", "example", "--points", str(bad), "random"])
    line = tmp_path / "line.npy"
    a = np.random.default_rng(1).random(64)
    np.save(line, np.vstack([a, a * 0.5, a * 0.25]))
    msg = run_error(capsys, ["slice", "example", "--points", str(line)])
    assert "collinear" in msg


def test_data_default_fits_the_example(capsys):
    """The bundled 64-input example indexes scikit-learn's digits by default; MNIST
    points are refused with a message naming --data digits."""
    pytest.importorskip("sklearn")
    payload = run_json(capsys, ["line", "example", "--through", "0", "1", "--json"])
    assert "digits #0" in payload["points"][0]
    line = run_error(capsys, ["line", "example", "--through", "0", "1", "--data", "mnist-test"])
    assert "--data digits" in line
