"""PyTorch loader and writer.

Oracle: PyTorch itself runs the module (object, torch.save file, TorchScript file); our
ReLUNetwork.forward must agree. Round trips are compared array by array, exactly.
"""

from __future__ import annotations

import numpy as np
import pytest

import reluscope
from netgen import random_network, random_small_network
from reluscope.errors import ModelFormatError, UnsupportedLayerError
from reluscope.io.torch import from_torch, load_torch, save_torch, to_torch

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

# torch.jit is deprecated in favour of torch.export but still what users have on disk
pytestmark = pytest.mark.filterwarnings("ignore:.*torch.jit.*:DeprecationWarning")


def torch_forward(module, x: np.ndarray, dtype=torch.float32) -> np.ndarray:
    with torch.no_grad():
        return module(torch.from_numpy(x).to(dtype)).double().numpy()


def messy_sequential() -> nn.Sequential:
    """Flatten, composed Linears, nested Sequential, Dropout, Identity, bias-free Linear."""
    torch.manual_seed(7)
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(12, 9),
        nn.Linear(9, 7),  # composed with the previous one
        nn.ReLU(),
        nn.Sequential(nn.Dropout(0.3), nn.Linear(7, 5, bias=False), nn.ReLU(inplace=True)),
        nn.Identity(),
        nn.Linear(5, 3),
    ).eval()


def test_from_torch_module_matches_torch():
    module = messy_sequential()
    net = from_torch(module)
    assert net.n_inputs == 12 and net.widths == (7, 5, 3) and net.relu == (True, True, False)
    np.testing.assert_array_equal(net.biases[1], np.zeros(5))
    x = np.random.default_rng(0).random((64, 3, 4))
    np.testing.assert_allclose(net.forward(x.reshape(64, -1)), torch_forward(module, x),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(net.upper, np.ones(12))
    boxed = from_torch(module, lower=-1.0, upper=2.0)
    np.testing.assert_array_equal(boxed.lower, np.full(12, -1.0))


@pytest.mark.parametrize("how", ["script", "trace"])
def test_torchscript_files_match_torch(tmp_path, how):
    module = messy_sequential()
    example = torch.rand(2, 3, 4)
    scripted = torch.jit.script(module) if how == "script" else torch.jit.trace(module, example)
    path = tmp_path / f"{how}.pt"
    torch.jit.save(scripted, str(path))
    net = reluscope.load(path)
    assert net.widths == (7, 5, 3) and net.relu == (True, True, False)
    x = np.random.default_rng(1).random((32, 3, 4))
    np.testing.assert_allclose(net.forward(x.reshape(32, -1)),
                               torch_forward(torch.jit.load(str(path)), x), rtol=1e-5,
                               atol=1e-6)


def test_torch_save_of_user_module_matches_torch(tmp_path):
    module = messy_sequential()
    path = tmp_path / "whole.pth"
    torch.save(module, str(path))
    net = load_torch(path)
    x = np.random.default_rng(2).random((16, 12))
    np.testing.assert_allclose(net.forward(x), torch_forward(module, x), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("seed", range(5))
def test_pt_round_trip_is_exact(tmp_path, seed):
    net = random_small_network(seed)
    net = net.with_domain(net.lower - 0.1 * np.arange(net.n_inputs), net.upper)
    path = tmp_path / "net.pt"
    net.save(path)
    back = reluscope.load(path)
    for a, b in zip(net.weights + net.biases, back.weights + back.biases, strict=True):
        np.testing.assert_array_equal(a, b)
    assert back.relu == net.relu
    np.testing.assert_array_equal(back.lower, net.lower)
    np.testing.assert_array_equal(back.upper, net.upper)
    module = torch.load(str(path), weights_only=False)
    assert all(p.dtype == torch.float64 for p in module.parameters())
    x = net.sample_inputs(40, random_state=seed)
    np.testing.assert_allclose(torch_forward(module, x, torch.float64), net.forward(x),
                               rtol=1e-12, atol=1e-12)


def test_scripted_to_torch_keeps_domain(tmp_path):
    net = random_network(4, 3, (4, 2), output_relu=False, lower=-2.0, upper=0.5)
    path = tmp_path / "scripted.pt"
    torch.jit.save(torch.jit.script(to_torch(net)), str(path))
    back = load_torch(path)
    np.testing.assert_array_equal(back.lower, net.lower)
    np.testing.assert_array_equal(back.weights[1], net.weights[1])


@pytest.mark.parametrize(
    ("layer", "kind"),
    [(nn.Sigmoid(), "Sigmoid"), (nn.Tanh(), "Tanh"), (nn.GELU(), "GELU"),
     (nn.ELU(), "ELU")],
)
def test_unsupported_layer_names_index_and_type(layer, kind):
    module = nn.Sequential(nn.Linear(3, 4), nn.Sequential(nn.ReLU(), layer), nn.Linear(4, 2))
    with pytest.raises(UnsupportedLayerError, match=rf"layer 2 \('1\.1'\) is a {kind}"):
        from_torch(module)


@pytest.mark.parametrize("kind", ["Softmax", "LogSoftmax"])
def test_final_softmax_is_kept_aside_and_written_back(kind):
    """The network holds the logits; to_torch puts the softmax back."""
    from reluscope.io.torch import to_torch

    module = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2), getattr(nn, kind)(dim=1))
    net = from_torch(module)
    assert net.widths == (4, 2) and net.signature.output_op == kind
    x = torch.rand(10, 3)
    with torch.no_grad():
        assert np.allclose(net.forward(x.double().numpy()), module[:-1](x).numpy(), atol=1e-6)
        assert np.allclose(to_torch(net)(x).numpy(), module(x).numpy(), atol=1e-6)


def test_softmax_in_the_middle_is_refused():
    module = nn.Sequential(nn.Linear(3, 4), nn.Softmax(dim=1), nn.Linear(4, 2))
    with pytest.raises(UnsupportedLayerError, match=r"layer 1 \('1'\) is a Softmax"):
        from_torch(module)


def test_flatten_of_later_dims_is_rejected_and_custom_modules_load():
    with pytest.raises(UnsupportedLayerError, match="start_dim=2"):
        from_torch(nn.Sequential(nn.Flatten(2), nn.Linear(4, 2)))

    class TwoLayers(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(2, 3), nn.Linear(3, 1)

        def forward(self, x):
            return self.b(torch.relu(self.a(x)))

    # a custom forward that is a chain is read with torch.fx, a scripted one as a graph
    module = TwoLayers()
    net = from_torch(module)
    x = torch.rand(4, 2)
    with torch.no_grad():
        np.testing.assert_allclose(net.forward(x.double().numpy()), module(x).numpy(),
                                   atol=1e-6)
    scripted = torch.jit.script(module)  # read from its graph (exported to ONNX)
    with torch.no_grad():
        np.testing.assert_allclose(from_torch(scripted).forward(x.double().numpy()),
                                   module(x).numpy(), atol=1e-6)
    single = from_torch(nn.Linear(3, 2))
    assert single.widths == (2,) and single.relu == (False,)


def test_state_dict_and_other_pickles_are_format_errors(tmp_path):
    module = messy_sequential()
    state = tmp_path / "state.pt"
    torch.save(module.state_dict(), str(state))
    with pytest.raises(ModelFormatError, match="state_dict.*from_torch"):
        reluscope.load(state)
    tensor = tmp_path / "tensor.pt"
    torch.save(torch.ones(3), str(tensor))
    with pytest.raises(ModelFormatError, match="holds a Tensor"):
        reluscope.load(tensor)
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"\x00\x01 not a pickle")
    with pytest.raises(ModelFormatError, match="garbage.pt: not a readable PyTorch file"):
        reluscope.load(garbage)


def test_save_torch_to_unwritable_path_is_a_format_error(tmp_path):
    with pytest.raises(ModelFormatError, match="cannot write"):
        save_torch(random_small_network(0), tmp_path / "no_such_dir" / "net.pt")
