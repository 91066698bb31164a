"""``reluscope count`` end to end: JSON output checked against the brute-force oracle."""

from __future__ import annotations

import json

import numpy as np

from netgen import random_network
from oracles import brute_force_count, brute_force_patterns
from reluscope.cli import main
from reluscope.regions.patterns import read_patterns


def test_count_json_matches_brute_force(tmp_path, capsys) -> None:
    network = random_network(5, 3, (4, 3), lower=-1.0, upper=1.0)
    model = tmp_path / "net.npz"
    network.save(model)
    patterns = tmp_path / "patterns.npy"
    code = main(
        ["count", str(model), "--json", "--bounds-method", "interval", "--jobs", "1",
         "--patterns", str(patterns), "--checkpoint", str(tmp_path / "c.ckpt")]
    )
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    expected = brute_force_count(network)
    assert payload["regions"] == expected
    assert payload["exact"] is True and payload["status"] == "complete"
    assert payload["method"] == "lp"
    assert isinstance(payload["seconds"], float)
    assert payload["lp_solves"] >= 0 and payload["nodes"] >= expected
    rows = read_patterns(patterns, network.n_units)
    assert {tuple(map(bool, r)) for r in rows} == brute_force_patterns(network)


def test_count_domain_option_and_text_output(tmp_path, capsys) -> None:
    # 1-D: g_i = x - t_i; on [0, 1] thresholds 0.25, 0.5, 0.75 give 4 regions,
    # on --domain 0,0.6 only 3
    from reluscope import ReLUNetwork

    network = ReLUNetwork([np.ones((3, 1))], [np.array([-0.25, -0.5, -0.75])])
    model = tmp_path / "line.npz"
    network.save(model)
    assert main(["count", str(model), "--json", "--bounds-method", "interval"]) == 0
    assert json.loads(capsys.readouterr().out)["regions"] == 4
    assert main(["count", str(model), "--domain", "0,0.6", "--bounds-method", "interval"]) == 0
    text = capsys.readouterr().out
    assert "regions: 3" in text and "log2: 1.585" in text and "per region" in text


def test_count_error_exits_2(tmp_path, capsys) -> None:
    network = random_network(1, 2, (3,))
    model = tmp_path / "net.npz"
    network.save(model)
    assert main(["count", str(model), "--domain", "1,0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("reluscope: error:") and err.count("\n") == 1
