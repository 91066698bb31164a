"""Domains beyond [LO,HI]^n0 on the API and the CLI: a per-input box from a file or the
min/max of a data set, an L-inf ball around a point intersected with the box; errors for
empty domains. Oracle: brute-force pattern enumeration on the same box."""

from __future__ import annotations

import json

import numpy as np
import pytest

from clitools import run_error, run_json
from netgen import random_network, random_small_network
from oracles import brute_force_count
from reluscope import domains
from reluscope.errors import DomainError
from reluscope.io import load
from reluscope.regions.count.dispatch import count_regions


@pytest.mark.parametrize("seed", range(6))
def test_count_on_a_linf_ball_agrees_with_brute_force(seed):
    net = random_small_network(seed)
    rng = np.random.default_rng(seed)
    center = net.lower + rng.random(net.n_inputs) * (net.upper - net.lower)
    ball = domains.linf_ball(net, center, 0.3)
    np.testing.assert_allclose(ball.lower, np.maximum(net.lower, center - 0.3))
    np.testing.assert_allclose(ball.upper, np.minimum(net.upper, center + 0.3))
    assert count_regions(ball).regions == brute_force_count(ball)


def test_ball_outside_the_box_and_bad_radius_are_errors():
    net = random_network(0, 3, (4,))
    with pytest.raises(DomainError, match="the domain is empty: the L-inf ball"):
        domains.linf_ball(net, [5.0, 0.5, 0.5], 0.1)
    with pytest.raises(DomainError, match="radius must be a finite number >= 0"):
        domains.linf_ball(net, [0.5, 0.5, 0.5], -1)
    with pytest.raises(DomainError, match="center has 2 values"):
        domains.linf_ball(net, [0.5, 0.5], 0.1)


def _model(tmp_path):
    net = random_network(3, 3, (5, 4), output_relu=False, lower=-1.0, upper=1.0)
    path = tmp_path / "net.npz"
    net.save(path)
    return net, path


@pytest.mark.parametrize("kind", ["npy", "csv", "json"])
def test_domain_box_file_and_stored_with_the_model(tmp_path, capsys, kind):
    net, path = _model(tmp_path)
    lows, highs = [-0.5, 0.0, 0.25], [0.5, 0.75, 1.0]
    box = tmp_path / f"box.{kind}"
    if kind == "npy":
        np.save(box, np.array([lows, highs]))
    elif kind == "csv":
        box.write_text(f"{','.join(map(str, lows))}\n{','.join(map(str, highs))}\n")
    else:
        box.write_text(json.dumps({"lower": lows, "upper": highs}))
    info = run_json(capsys, ["info", str(path), "--domain", str(box), "--json"])
    assert (info["lower"], info["upper"]) == (lows, highs)
    out = tmp_path / "small.npz"
    run_json(capsys, ["compress", str(path), "--domain", str(box), "-o", str(out), "--json"])
    back = load(out)
    np.testing.assert_array_equal(back.lower, lows)
    np.testing.assert_array_equal(back.upper, highs)


def test_domain_from_data_and_ball_around_a_row(tmp_path, capsys):
    net, path = _model(tmp_path)
    points = np.array([[0.1, -0.2, 0.3], [0.4, 0.5, -0.6], [0.0, 0.0, 0.0]])
    data = tmp_path / "points.npy"
    np.save(data, points)
    info = run_json(capsys, ["info", str(path), "--domain", f"data:{data}", "--json"])
    assert info["lower"] == list(points.min(axis=0))
    assert info["upper"] == list(points.max(axis=0))
    info = run_json(capsys, ["info", str(path), "--ball", f"{data}:1", "--radius", "0.5",
                             "--json"])
    np.testing.assert_allclose(info["lower"], [-0.1, 0.0, -1.0])
    np.testing.assert_allclose(info["upper"], [0.9, 1.0, -0.1])
    count = run_json(capsys, ["count", str(path), "--ball", f"{data}:1", "--radius", "0.5",
                              "--json", "--jobs", "1"])
    ball = domains.linf_ball(net, points[1], 0.5)
    assert count["regions"] == brute_force_count(ball)
    for argv in (["upper", str(path)], ["bounds", str(path), "--method", "interval"],
                 ["estimate", str(path), "--xor-size", "1", "--seed", "1"]):
        run_json(capsys, [*argv, "--ball", f"{data}:1", "--radius", "0.5", "--json"])


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--ball", "MISSING:0", "--radius", "5"], "no such data file"),
        (["--ball", "POINTS:7", "--radius", "0.1"], "index 7 is out of range"),
        (["--ball", "POINTS", "--radius", "0.1"], "holds 3 points; pick one"),
        (["--ball", "POINTS:0"], "--ball and --radius go together"),
        (["--domain", "BOX"], "holds 2 rows (lows, highs) of 3 values"),
        (["--domain", "data:POINTS", "--ball", "FAR", "--radius", "0.1"], "domain is empty"),
        (["--domain", "BAD"], "domain is empty: lower > upper"),
    ],
)
def test_domain_errors_are_one_line(tmp_path, capsys, extra, words):
    _, path = _model(tmp_path)
    np.save(tmp_path / "points.npy", np.zeros((3, 3)))
    np.save(tmp_path / "box.npy", np.zeros((2, 4)))
    np.save(tmp_path / "far.npy", np.full((1, 3), 0.9))
    np.save(tmp_path / "bad.npy", np.array([[1.0, 0, 0], [0.0, 1, 1]]))
    names = {"POINTS": "points.npy", "BOX": "box.npy", "FAR": "far.npy", "BAD": "bad.npy",
             "MISSING": "missing.npy"}

    def resolve(arg: str) -> str:
        prefix = "data:" if arg.startswith("data:") else ""
        name, sep, index = arg.removeprefix(prefix).partition(":")
        if name not in names:
            return arg
        return f"{prefix}{tmp_path / names[name]}{sep}{index}"

    argv = [resolve(a) for a in extra]
    line = run_error(capsys, ["info", str(path), *argv])
    assert words in line
