"""``reluscope estimate`` end to end: JSON on stdout, checked against brute-force counts."""

import json

from netgen import random_network
from oracles import brute_force_count
from reluscope.cli import main


def _run(capsys, argv):
    status = main(argv)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_estimate_json_single_size(tmp_path, capsys):
    net = random_network(11, 2, (8, 4), bias_scale=0.3, lower=-1.0, upper=1.0)  # 47 regions
    path = tmp_path / "net.npz"
    net.save(path)
    status, out, _ = _run(capsys, ["estimate", str(path), "--xor-size", "3", "--seed", "4",
                                   "--json"])
    assert status == 0
    payload = json.loads(out)
    count = brute_force_count(net)
    assert count == 47
    assert payload["repetitions"] == 28 and payload["solver_calls"] == 28
    assert payload["status"] == "complete" and payload["method"] == "mipbound"
    assert payload["lower_bound"] == 2 ** payload["log2_lower_bound"]
    assert 1 <= payload["lower_bound"] <= count
    assert 1 <= payload["regions_found"] <= count
    assert isinstance(payload["probability"], float) and isinstance(payload["seconds"], float)
    probs = payload["probabilities"]
    assert all(key.isdigit() for key in probs)
    if payload["log2_lower_bound"] > 0:
        assert probs[str(payload["log2_lower_bound"])] == payload["probability"] >= 0.95
    # same seed through the CLI: same numbers
    status, again, _ = _run(capsys, ["estimate", str(path), "--xor-size", "3", "--seed", "4",
                                     "--json"])
    again = json.loads(again)
    assert again["constraints"] == payload["constraints"]


def test_estimate_json_several_sizes_and_mbound(tmp_path, capsys):
    net = random_network(1, 2, (6, 4))  # 15 regions
    path = tmp_path / "net.npz"
    net.save(path)
    argv = ["estimate", str(path), "--xor-size", "2,3", "--seed", "1", "--max-repetitions",
            "8", "--json"]
    status, out, _ = _run(capsys, argv)
    assert status == 0
    many = json.loads(out)
    assert set(many["estimates"]) == {"2", "3"}
    assert all(e["repetitions"] == 8 and e["solver_calls"] == 8 for e in many["estimates"].values())
    status, out, _ = _run(capsys, [*argv, "--method", "mbound"])
    base = json.loads(out)
    for k in ("2", "3"):  # the baseline sees the same r per repetition, with more calls
        assert base["estimates"][k]["constraints"] == many["estimates"][k]["constraints"]
        assert base["estimates"][k]["solver_calls"] > 8


def test_estimate_bad_size_is_one_line_error(tmp_path, capsys):
    path = tmp_path / "net.npz"
    random_network(1, 2, (3,)).save(path)
    status, out, err = _run(capsys, ["estimate", str(path), "--xor-size", "two"])
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and "--xor-size" in err


def test_estimate_time_limit_is_for_the_whole_command(tmp_path, capsys):
    """``--time-limit`` covers every size together: with none left, no size runs a
    repetition; ``--size-time-limit`` limits each size and a generous one changes
    nothing."""
    net = random_network(1, 2, (6, 4))  # 15 regions
    path = tmp_path / "net.npz"
    net.save(path)
    argv = ["estimate", str(path), "--xor-size", "2,3", "--seed", "1", "--max-repetitions",
            "8", "--json"]
    status, out, _ = _run(capsys, [*argv, "--time-limit", "0"])
    assert status == 0
    cut = json.loads(out)["estimates"]
    assert all(e["status"] == "time_limit" and e["repetitions"] == 0 for e in cut.values())
    status, out, _ = _run(capsys, [*argv, "--size-time-limit", "600"])
    roomy = json.loads(out)["estimates"]
    status, out, _ = _run(capsys, argv)
    plain = json.loads(out)["estimates"]
    for k in ("2", "3"):
        assert roomy[k]["status"] == "complete" and roomy[k]["repetitions"] == 8
        assert roomy[k]["constraints"] == plain[k]["constraints"]
    status, out, err = _run(capsys, ["estimate", str(path), "--method", "tree",
                                     "--size-time-limit", "5"])
    assert status == 2 and "--size-time-limit" in err
