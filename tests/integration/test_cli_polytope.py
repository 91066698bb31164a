"""``--domain polytope:FILE`` on the command line: counts against the brute-force oracle,
the polytope stored by ``compress -o``, and one-line errors (exit 2) for bad files."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from clitools import run_error, run_json
from netgen import dense_network
from oracles import brute_force_count
from reluscope.io import load


def _model(tmp_path):
    net = dense_network(4, 3, (5, 4), output_relu=False)
    path = tmp_path / "net.npz"
    net.save(path)
    return net, path


A = [[1.0, 1.0, 1.0], [1.0, -1.0, 0.0]]
B = [1.2, 0.3]


@pytest.mark.parametrize("method", ["lp", "highs", "milp", "scip-count"])
def test_count_on_a_polytope_file(tmp_path, capsys, method):
    net, path = _model(tmp_path)
    poly = tmp_path / "poly.json"
    poly.write_text(json.dumps({"A": A, "b": B}))
    out = run_json(capsys, ["count", str(path), "--domain", f"polytope:{poly}",
                            "--method", method, "--jobs", "1", "--json"])
    want = brute_force_count(net.with_polytope(A, B), box=(np.zeros(3), np.ones(3)))
    assert out["regions"] == want and out["exact"]
    assert want < brute_force_count(net)
    assert out["method"] == method


def test_info_and_compress_keep_the_polytope(tmp_path, capsys):
    _, path = _model(tmp_path)
    poly = tmp_path / "poly.npy"
    np.save(poly, np.hstack([np.array(A), np.array(B)[:, None]]))
    info = run_json(capsys, ["info", str(path), "--domain", f"polytope:{poly}", "--json"])
    assert info["domain_A"] == A and info["domain_b"] == B
    small = tmp_path / "small.npz"
    run_json(capsys, ["compress", str(path), "--domain", f"polytope:{poly}", "-o", str(small),
                      "--json"])
    back = load(small)
    np.testing.assert_array_equal(back.domain_A, A)
    np.testing.assert_array_equal(back.domain_b, B)


def test_polytope_errors_are_one_line(tmp_path, capsys):
    _, path = _model(tmp_path)
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({"A": [[1.0, 1.0, 1.0]], "b": [-0.5]}))
    shape = tmp_path / "shape.json"
    shape.write_text(json.dumps({"A": [[1.0, 1.0]], "b": [0.5]}))
    nob = tmp_path / "nob.npz"
    np.savez(nob, A=np.ones((1, 3)))
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    rows = tmp_path / "rows.csv"
    rows.write_text("1,1,0.5\n")
    cases = {
        empty: "the input domain is empty",
        shape: "must have shape \\(m, 3\\)",
        nob: "'b' missing",
        bad: "not a readable polytope file",
        rows: "rows 'a_1 ... a_3 b' \\(4 values each",
        tmp_path / "missing.json": "no such polytope file",
        tmp_path / "poly.txt": "unknown polytope file type",
    }
    (tmp_path / "poly.txt").write_text("1")
    for file, message in cases.items():
        line = run_error(capsys, ["count", str(path), "--domain", f"polytope:{file}"])
        assert re.search(message, line), line
        line = run_error(capsys, ["bounds", str(path), "--domain", f"polytope:{file}",
                                  "--json"])
        assert re.search(message, line), line
