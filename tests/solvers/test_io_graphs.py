"""Residual (skip-connection) models, LeakyReLU and torch.export from every format.

Each loaded network must give PyTorch's outputs, count the regions that a brute-force
oracle finds on the model's own structure (tests/oracles.py, which does not use the
lowering into layers), and compress to an ONNX file that onnxruntime runs with the
model's I/O names and the same outputs.
"""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest

import reluscope
from oracles import brute_force_graph_patterns
from reluscope.errors import ReluscopeError
from reluscope.network import IOSignature, ReLUNetwork

torch = pytest.importorskip("torch")
ort = pytest.importorskip("onnxruntime")
from torch import nn  # noqa: E402


class Block(nn.Module):
    """``relu(l2(relu(l1(x))) + x)``: an identity shortcut."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.l1, self.l2 = nn.Linear(n, n), nn.Linear(n, n)

    def forward(self, x):
        return torch.relu(self.l2(torch.relu(self.l1(x))) + x)


class ResMLP(nn.Module):
    """Linear, LeakyReLU(0.1), a residual block, Linear: 2 inputs, 12 activation units."""

    def __init__(self) -> None:
        super().__init__()
        self.inp, self.block, self.out = nn.Linear(2, 4), Block(4), nn.Linear(4, 2)

    def forward(self, x):
        return self.out(self.block(nn.functional.leaky_relu(self.inp(x), 0.1)))


class ResCNN(nn.Module):
    """Unflatten, conv + BatchNorm + ReLU, conv + 1x1-conv shortcut, ReLU, global average
    pooling, Linear, LogSoftmax."""

    def __init__(self) -> None:
        super().__init__()
        self.unflatten = nn.Unflatten(1, (1, 4, 4))
        self.c1, self.bn = nn.Conv2d(1, 2, 3, padding=1), nn.BatchNorm2d(2)
        self.c2, self.shortcut = nn.Conv2d(2, 2, 3, padding=1), nn.Conv2d(1, 2, 1)
        self.fc = nn.Linear(2, 3)

    def forward(self, x):
        x = self.unflatten(x)
        h = torch.relu(self.bn(self.c1(x)))
        h = torch.relu(self.c2(h) + self.shortcut(x))
        pooled = nn.functional.adaptive_avg_pool2d(h, 1).flatten(1)
        return torch.log_softmax(self.fc(pooled), dim=1)


def make(cls, seed: int = 0):
    torch.manual_seed(seed)
    model = cls().eval()
    if cls is ResCNN:
        with torch.no_grad():
            model.bn.running_mean.uniform_(-0.5, 0.5)
            model.bn.running_var.uniform_(0.5, 2.0)
    return model


def oracle_layers(model: ResMLP):
    """The activation layers of ResMLP as the oracle reads them, from its parameters."""
    p = {k: v.detach().double().numpy() for k, v in model.state_dict().items()}
    return [
        ([(-1, p["inp.weight"])], p["inp.bias"], np.full(4, 0.1)),
        ([(0, p["block.l1.weight"])], p["block.l1.bias"], np.zeros(4)),
        ([(1, p["block.l2.weight"]), (0, np.eye(4))], p["block.l2.bias"], np.zeros(4)),
    ]


def save_as(model, fmt: str, path, n0: int):
    """``model`` in one of the formats users save; returns what reluscope.load takes."""
    example = torch.zeros(1, n0)
    if fmt == "module":
        return model
    if fmt == "exported":
        return torch.export.export(model, (torch.zeros(2, n0),))
    if fmt == "whole":
        torch.save(model, path / "m.pt")
        return path / "m.pt"
    if fmt == "script":
        torch.jit.script(model).save(str(path / "s.pt"))
        return path / "s.pt"
    if fmt == "trace":
        torch.jit.trace(model, example).save(str(path / "t.pt"))
        return path / "t.pt"
    if fmt == "pt2":
        torch.export.save(torch.export.export(model, (torch.zeros(2, n0),)), path / "p.pt2")
        return path / "p.pt2"
    dynamo = fmt == "onnx-dynamo"
    with contextlib.redirect_stdout(io.StringIO()):
        torch.onnx.export(
            model, example, path / "m.onnx", dynamo=dynamo, input_names=["x"],
            output_names=["h2"],
            dynamic_axes=None if dynamo else {"x": {0: "b"}, "h2": {0: "b"}},
        )
    return path / "m.onnx"


def logits_to_outputs(net: ReLUNetwork, out: np.ndarray) -> np.ndarray:
    op = net.signature.output_op if net.signature else ""
    if op:
        shifted = out - out.max(axis=1, keepdims=True)
        out = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        if op == "Softmax":
            out = np.exp(out)
    return out


FAST = ["module", "whole", "script", "trace", "onnx"]
SLOW = ["exported", "pt2", "onnx-dynamo"]  # the dynamo exporter: seconds per model
FORMATS = FAST + [pytest.param(f, marks=pytest.mark.slow) for f in SLOW]


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("fmt", FORMATS)
def test_residual_mlp_from_every_format(fmt, tmp_path):
    model = make(ResMLP)
    net = reluscope.load(save_as(model, fmt, tmp_path, 2))
    x = np.random.default_rng(1).random((200, 2))
    with torch.no_grad():
        expected = model(torch.tensor(x, dtype=torch.float32)).double().numpy()
    assert np.allclose(net.forward(x), expected, atol=1e-5)
    kinds = net.unit_kinds()
    assert kinds["leaky"] == 4 and kinds["relu"] == 8  # the skip path: identity units
    oracle = brute_force_graph_patterns(oracle_layers(model), net.lower, net.upper)
    sampled = {tuple(p) for p in _model_patterns(model, net.sample_inputs(20_000, 0))}
    assert sampled <= oracle
    assert reluscope.count_regions(net, n_jobs=1).regions == len(oracle)
    # compressed and written to ONNX: the model's I/O names, the same outputs
    compressed = reluscope.compress(net, verify="milp")
    assert compressed.equivalence.milp_proven in (True, None)
    path = tmp_path / "out.onnx"
    compressed.network.save(path)
    session = ort.InferenceSession(str(path))
    names = ("x", "h2") if fmt.startswith("onnx") else ("input", "output")
    assert (session.get_inputs()[0].name, session.get_outputs()[0].name) == names
    got = session.run(None, {names[0]: x.astype(np.float32)})[0]
    assert np.allclose(got, expected, atol=1e-5)


def _model_patterns(model: ResMLP, x: np.ndarray) -> np.ndarray:
    """Activation patterns of ResMLP's 12 units, read from PyTorch (g > 0)."""
    with torch.no_grad():
        t = torch.tensor(x, dtype=torch.float64)
        m = model.double()
        g0 = m.inp(t)
        h0 = nn.functional.leaky_relu(g0, 0.1)
        g1 = m.block.l1(h0)
        g2 = m.block.l2(torch.relu(g1)) + h0
        model.float()
    return np.hstack([(g > 0).numpy() for g in (g0, g1, g2)])


@pytest.mark.parametrize("seed", range(4))
def test_residual_counts_match_the_oracle_on_random_weights(seed):
    model = make(ResMLP, seed)
    net = reluscope.load(model)
    oracle = brute_force_graph_patterns(oracle_layers(model), net.lower, net.upper)
    for method in ("lp", "highs", "milp"):
        assert reluscope.count_regions(net, method=method, n_jobs=1).regions == len(oracle)


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("fmt", ["module", "whole", "script", "onnx",
                                 pytest.param("pt2", marks=pytest.mark.slow),
                                 pytest.param("onnx-dynamo", marks=pytest.mark.slow)])
def test_resnet_style_cnn_from_every_format(fmt, tmp_path):
    model = make(ResCNN)
    net = reluscope.load(save_as(model, fmt, tmp_path, 16))
    x = np.random.default_rng(2).random((64, 16))
    with torch.no_grad():
        expected = model(torch.tensor(x, dtype=torch.float32)).double().numpy()
    assert net.signature.output_op == "LogSoftmax"
    assert np.allclose(logits_to_outputs(net, net.forward(x)), expected, atol=1e-5)
    bounds = reluscope.tighten_bounds(net, method="interval")
    pre = net.preactivations(x)
    assert all(np.all(p >= lo - 1e-9) and np.all(p <= hi + 1e-9)
               for p, lo, hi in zip(pre, bounds.lower, bounds.upper, strict=True))
    # counted in a small box (the whole box holds over 10^6 regions): the compiled and
    # the HiGHS search agree, and every format gives the module's count
    small = net.with_domain(np.full(16, 0.45), np.full(16, 0.55))
    assert {reluscope.count_regions(small, method=m, n_jobs=1).regions
            for m in ("lp", "highs")} == {16}
    compressed = reluscope.compress(net, verify="sample", n_samples=2000)
    path = tmp_path / "out.onnx"
    compressed.network.save(path)
    session = ort.InferenceSession(str(path))
    got = session.run(None, {session.get_inputs()[0].name: x.astype(np.float32)})[0]
    assert np.allclose(got, expected, atol=1e-5)


@pytest.mark.filterwarnings("ignore")
def test_traced_cnn_reads_its_input_size_from_the_unflatten_in_its_graph(tmp_path):
    """A traced module keeps no ``unflattened_size``; its graph's ``aten::unflatten``
    holds the sizes, so no input_shape= is needed (custom forward and Sequential)."""
    model = make(ResCNN)
    torch.jit.trace(model, torch.zeros(1, 16)).save(str(tmp_path / "t.pt"))
    net = reluscope.load(tmp_path / "t.pt")
    x = np.random.default_rng(0).random((20, 16))
    with torch.no_grad():
        want = model(torch.tensor(x, dtype=torch.float32)).double()
    got = torch.log_softmax(torch.tensor(net.forward(x)), dim=1)  # the kept LogSoftmax
    assert net.n_inputs == 16 and np.allclose(got.numpy(), want.numpy(), atol=1e-5)
    chain = nn.Sequential(nn.Unflatten(1, (1, 4, 4)), nn.Conv2d(1, 2, 3, padding=1),
                          nn.ReLU(), nn.Flatten(), nn.Linear(32, 2)).eval()
    with torch.no_grad():
        want = chain(torch.tensor(x, dtype=torch.float32)).double().numpy()
    torch.jit.trace(chain, torch.zeros(1, 16)).save(str(tmp_path / "c.pt"))
    for source in (chain, torch.jit.script(chain), tmp_path / "c.pt"):
        net = reluscope.load(source)
        assert net.signature.input_shape == (16,)
        assert np.allclose(net.forward(x), want, atol=1e-5)
    with pytest.raises(ReluscopeError, match="Unflatten"):
        reluscope.load(nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.Unflatten(1, (2, 2, 2)),
                                     nn.Unflatten(1, (2, 2)), nn.Flatten()))


def test_state_dict_stays_an_explained_refusal(tmp_path):
    torch.save(make(ResMLP).state_dict(), tmp_path / "sd.pt")
    with pytest.raises(ReluscopeError, match="state_dict"):
        reluscope.load(tmp_path / "sd.pt")


@pytest.mark.parametrize("names", [("x", "h2"), ("g0", "h1"), ("W0", "b0"), ("flat", "g1")])
def test_written_onnx_never_reuses_the_io_names_inside(names, tmp_path):
    """An output named like an internal tensor (h2, g1, ...) gave onnxruntime's
    'Duplicate definition of name (h2)'."""
    net = reluscope.example_network()
    signature = IOSignature(input_name=names[0], output_name=names[1],
                            input_shape=(1, 8, 8), dtype="float32")
    path = tmp_path / "n.onnx"
    net.with_signature(signature).save(path)
    session = ort.InferenceSession(str(path))
    x = net.sample_inputs(5, random_state=0)
    got = session.run(None, {names[0]: x.reshape(5, 1, 8, 8).astype(np.float32)})[0]
    assert np.allclose(got, net.forward(x), atol=1e-4)


class PoolCNN(nn.Module):
    """conv + ReLU + MaxPool2d(2) (windows of 4), then a residual-free head."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Unflatten(1, (1, 6, 6)), nn.Conv2d(1, 2, 3), nn.ReLU(),
                                  nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8, 3))

    def forward(self, x):
        return self.body(x)


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("fmt", ["module", "whole", "script", "onnx",
                                 pytest.param("onnx-dynamo", marks=pytest.mark.slow)])
def test_maxpool_is_lowered_exactly_and_other_region_methods_refuse_it(fmt, tmp_path):
    model = make(PoolCNN)
    net = reluscope.load(save_as(model, fmt, tmp_path, 36))
    x = np.random.default_rng(3).random((64, 36))
    with torch.no_grad():
        expected = model(torch.tensor(x, dtype=torch.float32)).double().numpy()
    assert np.allclose(net.forward(x), expected, atol=1e-5)
    # 8 windows of 4 inputs: 3 comparisons each, in two rounds
    assert [int(p.sum()) for p in net.max_pool] == [0, 16, 8, 0]
    assert [(len(w.inputs), len(w.comparisons)) for w in net.pool_windows] == [(4, 3)] * 8
    with pytest.raises(ReluscopeError, match="cannot count a network with max-pooling"):
        reluscope.count_regions(net, method="lp")
    # counted with argmax windows: tests/solvers/test_maxpool_count.py
    for method in (lambda n: reluscope.estimate_regions(n, max_repetitions=1),
                   reluscope.upper_bounds,
                   lambda n: reluscope.slice_regions(n, n.sample_inputs(3, 0))):
        with pytest.raises(ReluscopeError, match="not regions"):
            method(net)
    bounds = reluscope.tighten_bounds(net, method="lp")
    pre = net.preactivations(x)
    assert all(np.all(p >= lo - 1e-9) and np.all(p <= hi + 1e-9)
               for p, lo, hi in zip(pre, bounds.lower, bounds.upper, strict=True))
    compressed = reluscope.compress(net, verify="sample", n_samples=2000).network
    assert compressed.has_max_pool
    if compressed.widths != net.widths:  # folded: the windows are not kept
        assert not compressed.pool_windows
        with pytest.raises(ReluscopeError, match="windows are not known"):
            reluscope.count_regions(compressed)
    for suffix in (".onnx", ".pt", ".npz"):  # the writers keep the mark
        path = tmp_path / f"out{suffix}"
        compressed.save(path)
        back = reluscope.load(path)
        assert back.has_max_pool
        assert np.allclose(back.forward(x), expected, atol=1e-5)
