"""``reluscope count --method milp|scip-count`` end to end (JSON checked against brute force).

(An integration test; it lives here with the other milp tests of its owner.)
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from netgen import random_network
from oracles import brute_force_count, brute_force_patterns
from reluscope.cli import main
from reluscope.regions.patterns import read_patterns


@pytest.fixture
def model_file(tmp_path):
    network = random_network(11, 2, (4, 3), lower=-1.5, upper=0.5)
    path = tmp_path / "net.npz"
    network.save(path)
    return network, path


@pytest.mark.parametrize("method", ["milp", "scip-count"])
def test_count_method_json(method, model_file, capsys):
    network, path = model_file
    code = main(["count", str(path), "--method", method, "--json"])
    assert code == 0
    out = capsys.readouterr().out
    payload = json.loads(out)  # exactly one JSON object on stdout
    assert payload["method"] == method
    assert payload["regions"] == brute_force_count(network)
    assert payload["exact"] is True and payload["status"] == "complete"
    assert payload["nodes"] >= 1


def test_count_milp_patterns_file(model_file, tmp_path, capsys):
    network, path = model_file
    out = tmp_path / "patterns.npy"
    assert main(["count", str(path), "--method", "milp", "--json", "--patterns", str(out)]) == 0
    payload = json.loads(capsys.readouterr().out)
    rows = read_patterns(out, network.n_units)
    assert rows.shape == (payload["regions"], network.n_units)
    assert {tuple(bool(v) for v in row) for row in rows} == brute_force_patterns(network)
    assert np.load(out).dtype == np.uint8


def test_count_scip_count_refuses_patterns(model_file, tmp_path, capsys):
    _, path = model_file
    code = main(["count", str(path), "--method", "scip-count", "--json",
                 "--patterns", str(tmp_path / "p.npy")])
    assert code == 2
    captured = capsys.readouterr()
    assert "scip-count" in json.loads(captured.out)["error"]  # --json: the error object
    assert "scip-count" in captured.err and len(captured.err.strip().splitlines()) == 1


def test_count_milp_time_limit_zero_is_a_lower_bound(model_file, capsys):
    _, path = model_file
    assert main(["count", str(path), "--method", "milp", "--json", "--time-limit", "0"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["exact"] is False and payload["status"] == "time_limit"
