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
