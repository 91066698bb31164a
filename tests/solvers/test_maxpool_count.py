"""Regions of networks with max-pooling: each window is one unit with one side per input.

The counts are checked against tests/oracles.py's ``brute_force_pool_patterns``, which
enumerates ReLU sides and window argmaxes on the PyTorch model's own layers with an LP
each (it never uses reluscope's tournament lowering), and against sampled points.
"""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import numpy as np
import pytest

import reluscope
from oracles import brute_force_pool_patterns, sampled_pool_patterns
from reluscope.errors import NetworkError, ReluscopeError
from reluscope.network import ReLUNetwork
from reluscope.regions.count.argmax import count_regions_argmax, possible_sides
from reluscope.regions.count.argmax_milp import count_regions_argmax_milp
from reluscope.relu_form import relu_form

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

#: (seed, inputs, units before the pooling, kernel, stride, units after it)
CASES = [(0, 2, 4, 2, 2, 3), (1, 2, 5, 3, 1, 3), (2, 2, 4, 4, 4, 3), (3, 3, 6, 3, 3, 3),
         (4, 2, 6, 3, 1, 2)]


def pool_mlp(seed: int, n0: int, h: int, k: int, stride: int, h2: int,
             leaky: bool = False):
    """Linear, ReLU (or LeakyReLU), MaxPool1d(k, stride), Linear, ReLU, Linear (float64),
    and the oracle's description of the same layers."""
    torch.manual_seed(seed)
    n_out = (h - k) // stride + 1
    act = nn.LeakyReLU(0.2) if leaky else nn.ReLU()
    model = nn.Sequential(nn.Linear(n0, h), act, nn.Unflatten(1, (1, h)),
                          nn.MaxPool1d(k, stride), nn.Flatten(), nn.Linear(n_out, h2),
                          nn.ReLU(), nn.Linear(h2, 1)).double().eval()
    lin = [m for m in model if isinstance(m, nn.Linear)]
    arrays = [(m.weight.detach().numpy(), m.bias.detach().numpy()) for m in lin]
    windows = [list(range(s, s + k)) for s in range(0, h - k + 1, stride)]
    layers = [("dense", *arrays[0]), ("pool", windows, None), ("dense", *arrays[1]),
              ("linear", *arrays[2])]
    return model, layers


def tournament(net: ReLUNetwork) -> ReLUNetwork:
    """The same lowered network without its max-pool marks (every comparison a ReLU)."""
    plain = ReLUNetwork(net.weights, net.biases, relu=net.relu, slopes=net.slopes,
                        lower=net.lower, upper=net.upper)
    return relu_form(plain).network


@pytest.mark.parametrize("case", CASES)
def test_count_equals_the_argmax_oracle(case):
    model, layers = pool_mlp(*case)
    n0 = case[1]
    net = reluscope.load(model, lower=-1.0, upper=1.0)
    assert net.has_max_pool and len(net.pool_windows) == len(layers[1][1])
    expected = brute_force_pool_patterns(layers, -np.ones(n0), np.ones(n0))
    found: list = []
    result = count_regions_argmax(net, reluscope.tighten_bounds(net), patterns=found)
    assert result.exact and result.regions == len(expected) == len(found)
    assert set(found) == expected  # the same ReLU sides and the same argmaxes
    assert count_regions_argmax(net).regions == len(expected)  # no bounds: same count
    for method in ("auto", "highs"):
        counted = reluscope.count_regions(net, method=method)
        assert (counted.regions, counted.exact, counted.method) == (len(expected), True,
                                                                     "highs")
    points = np.random.default_rng(case[0]).uniform(-1.0, 1.0, (5000, n0))
    assert sampled_pool_patterns(layers, points) <= expected
    # a tournament's sign patterns: as many for windows of 2, more for larger windows
    extra = reluscope.count_regions(tournament(net), method="highs", n_jobs=1).regions
    assert extra == len(expected) if case[3] == 2 else extra >= len(expected)


@pytest.mark.parametrize("case", [CASES[0], CASES[2],
                                  *(pytest.param(c, marks=pytest.mark.slow) for c in
                                    (CASES[1], CASES[3], CASES[4]))])
def test_milp_enumeration_finds_the_same_regions(case):
    """The maxout MILP (a binary per window input) against the oracle and the search."""
    model, layers = pool_mlp(*case)
    n0 = case[1]
    net = reluscope.load(model, lower=-1.0, upper=1.0)
    expected = brute_force_pool_patterns(layers, -np.ones(n0), np.ones(n0))
    found: list = []
    result = count_regions_argmax_milp(net, reluscope.tighten_bounds(net, method="interval"),
                                       patterns=found)
    assert (result.regions, result.exact, result.method) == (len(expected), True, "milp")
    assert set(found) == expected
    assert reluscope.count_regions(net, method="milp").regions == len(expected)


def test_tournament_patterns_that_are_not_regions():
    """Case 1 (windows of 3): the tournament has 22 sign patterns, the argmax 20 regions."""
    model, layers = pool_mlp(*CASES[1])
    net = reluscope.load(model, lower=-1.0, upper=1.0)
    assert reluscope.count_regions(net).regions == 20
    assert reluscope.count_regions(tournament(net), method="highs", n_jobs=1).regions == 22
    assert len(brute_force_pool_patterns(layers, -np.ones(2), np.ones(2))) == 20


def test_hand_checked_window_of_three():
    """max(x, 1 - x, c) on [0, 1]. With c = 0.4 the constant never wins: argmax 1 - x on
    [0, 0.5], x on [0.5, 1], and the tournament max(max(x, 1 - x), c) has the same 2 sign
    patterns. With c = 0.6: 1 - x on [0, 0.4], c on [0.4, 0.6], x on [0.6, 1]: 3 regions;
    the tournament splits c's interval at 0.5 (where x and 1 - x, both losers, cross):
    4 sign patterns."""
    model = nn.Sequential(nn.Linear(1, 3), nn.Unflatten(1, (1, 3)), nn.MaxPool1d(3),
                          nn.Flatten()).double().eval()
    for c, regions, patterns in ((0.4, 2, 2), (0.6, 3, 4)):
        with torch.no_grad():
            model[0].weight.copy_(torch.tensor([[1.0], [-1.0], [0.0]]))
            model[0].bias.copy_(torch.tensor([0.0, 1.0, c]))
        net = reluscope.load(model, lower=0.0, upper=1.0)
        assert reluscope.count_regions(net).regions == regions
        assert reluscope.count_regions(tournament(net), method="highs",
                                       n_jobs=1).regions == patterns
        assert possible_sides(net.pool_windows[0], reluscope.tighten_bounds(net)) == {
            0, 1, 2}
    with torch.no_grad():
        model[0].bias.data[2] = 5.0  # the constant always wins: a stable window
    net = reluscope.load(model, lower=0.0, upper=1.0)
    assert possible_sides(net.pool_windows[0], reluscope.tighten_bounds(net)) == {2}
    result = reluscope.count_regions(net)
    assert (result.regions, result.lp_solves) == (1, 0)


def test_leaky_units_and_a_polytope_domain():
    model, layers = pool_mlp(5, 2, 4, 2, 1, 3, leaky=True)
    layers[0] = (*layers[0], 0.2)
    net = reluscope.load(model, lower=-1.0, upper=1.0)
    box = -np.ones(2), np.ones(2)
    expected = brute_force_pool_patterns(layers, *box)
    assert reluscope.count_regions(net).regions == len(expected)
    cut = net.with_polytope([[1.0, 1.0]], [0.0])  # x1 + x2 <= 0
    expected_cut = brute_force_pool_patterns(layers, *box, np.array([[1.0, 1.0]]),
                                             np.zeros(1))
    found: list = []
    assert count_regions_argmax(cut, patterns=found).regions == len(expected_cut)
    assert set(found) == expected_cut and len(expected_cut) < len(expected)
    found = []
    milp = count_regions_argmax_milp(cut, reluscope.tighten_bounds(cut), patterns=found)
    assert milp.regions == len(expected_cut) and set(found) == expected_cut


def test_other_methods_and_options_refuse_with_one_line():
    model, _ = pool_mlp(*CASES[0])
    net = reluscope.load(model, lower=-1.0, upper=1.0)
    for method in ("lp", "geometric", "scip-count"):
        with pytest.raises(ReluscopeError, match=f"method='{method}' cannot count") as info:
            reluscope.count_regions(net, method=method)
        assert "\n" not in str(info.value)
    for option in ({"checkpoint": "c.ckpt"}, {"patterns_path": "p.npy"}):
        with pytest.raises(ReluscopeError, match="takes no"):
            reluscope.count_regions(net, **option)
    for method in (lambda n: reluscope.estimate_regions(n, max_repetitions=1),
                   lambda n: reluscope.estimate_regions(n, method="tree"),
                   reluscope.upper_bounds,
                   lambda n: reluscope.slice_regions(n, n.sample_inputs(3, 0)),
                   lambda n: reluscope.line_regions(n, n.sample_inputs(2, 0))):
        with pytest.raises(ReluscopeError, match="one side per input"):
            method(net)
    compressed = reluscope.compress(net, verify="sample", n_samples=500).network
    if compressed.has_max_pool and compressed is not net:  # compression keeps no windows
        with pytest.raises(NetworkError, match="windows are not known"):
            reluscope.count_regions(compressed)


def test_local_counts_equal_the_oracle_on_each_ball():
    model, layers = pool_mlp(*CASES[1])
    net = reluscope.load(model, lower=-1.0, upper=1.0)
    points = np.array([[0.0, 0.0], [0.5, -0.3], [0.95, 0.95]])
    counts = reluscope.local_regions(net, points, radius=0.3)
    assert counts.exact
    for point, local in zip(points, counts.counts, strict=True):
        lo, hi = np.maximum(point - 0.3, -1.0), np.minimum(point + 0.3, 1.0)
        assert local.regions == len(brute_force_pool_patterns(layers, lo, hi))


@pytest.mark.filterwarnings("ignore")
def test_windows_survive_the_writers(tmp_path):
    model, _ = pool_mlp(*CASES[1])
    net = reluscope.load(model, lower=-1.0, upper=1.0)
    for suffix in (".npz", ".onnx", ".pt"):
        path = tmp_path / f"net{suffix}"
        net.save(path)
        back = reluscope.load(path)
        assert back.pool_windows == net.pool_windows
        assert reluscope.count_regions(back).regions == 20
    # windows that do not match the layers read are dropped: counting then refuses
    arrays = dict(np.load(tmp_path / "net.npz"))
    arrays["pool_windows"] = np.array('[{"layer": 0, "inputs": [[0, -1]], "comparisons": []}]')
    np.savez(tmp_path / "bad.npz", **arrays)
    back = reluscope.load(tmp_path / "bad.npz")
    assert back.has_max_pool and not back.pool_windows
    with pytest.raises(NetworkError, match="windows are not known"):
        reluscope.count_regions(back)


def test_time_limit_gives_a_lower_bound():
    model, layers = pool_mlp(*CASES[3])
    net = reluscope.load(model, lower=-1.0, upper=1.0)
    result = reluscope.count_regions(net, time_limit=1e-9)
    assert (result.exact, result.status) == (False, "time_limit")
    assert result.regions <= len(brute_force_pool_patterns(layers, -np.ones(3), np.ones(3)))


@pytest.mark.filterwarnings("ignore")
def test_cli_count_of_a_maxpool_onnx_model(tmp_path):
    """The model matrix's max-pool CNN (conv, MaxPool2d(2), Linear; no ReLU), from ONNX."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(2, 2)).eval()
    path = tmp_path / "pool.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.rand(2, 1, 4, 4),), str(path), input_names=["x"],
                          output_names=["y"], dynamic_axes={"x": {0: "batch"}},
                          dynamo=False)
    # the oracle's layers: the convolution as a matrix, then two windows of 4
    conv = model[0].double()
    with torch.no_grad():
        bias = conv(torch.zeros(1, 1, 4, 4, dtype=torch.float64)).reshape(-1).numpy()
        cols = conv(torch.eye(16, dtype=torch.float64).reshape(16, 1, 4, 4)).reshape(16, -1)
    matrix = cols.numpy().T - bias[:, None]
    layers = [("affine", matrix, bias), ("pool", [[0, 1, 2, 3], [4, 5, 6, 7]], None)]
    expected = len(brute_force_pool_patterns(layers, np.zeros(16), np.ones(16)))
    out = subprocess.run([sys.executable, "-m", "reluscope", "count", str(path), "--json"],
                         capture_output=True, text=True, check=True)
    payload = json.loads(out.stdout)
    assert (payload["regions"], payload["exact"], payload["method"]) == (expected, True,
                                                                           "highs")
    refused = subprocess.run([sys.executable, "-m", "reluscope", "count", str(path),
                              "--method", "lp"], capture_output=True, text=True)
    assert refused.returncode == 2 and "cannot count a network with max-pooling" in (
        refused.stderr)
