"""Training the paper's small rectifier networks with PyTorch (CPU, deterministic).

The recipe (chosen here, documented in docs/reproduce.md): fully connected layers with
PyTorch's default initialisation, Adam with learning rate 1e-3, mini-batches of 128
shuffled by a seeded generator, cross-entropy on the network's outputs plus
``l1 * sum |W|`` over all weight matrices (biases are not penalised), 20 epochs (the
ICML 2018 networks were trained for 20 epochs). With ``output_relu=True`` (the paper's
networks ``n1;n2;10``) the logits fed to the cross-entropy are the ReLU outputs, so the
analysed network is exactly the trained one. An output unit whose pre-activation turns
negative on every input then gets no gradient and its class is never predicted again
(measured: 5 of 10 outputs dead, 48% test accuracy, for 25;25;10 after 2 epochs), so
``aux_weight * CE(pre-activations)`` is added (default 0.1): it keeps every output unit
trainable (same network: 0 dead, 92.8%) and does not change the analysed architecture.
Training uses one thread (``torch.set_num_threads(1)``) so that several trainings can run
side by side and the result does not depend on the machine's thread count.

torch is imported only when :func:`train_network` is called.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from reluscope import interrupts, validation
from reluscope.errors import ReluscopeError
from reluscope.network import ReLUNetwork
from reluscope.progress import progress_bar
from reluscope.status import COMPLETE, INTERRUPTED

#: the default recipe (see module docstring)
DEFAULT_EPOCHS = 20
DEFAULT_BATCH_SIZE = 128
DEFAULT_LR = 1e-3
#: weight of the auxiliary cross-entropy on the output pre-activations (output_relu only)
DEFAULT_AUX_WEIGHT = 0.1


@dataclass(frozen=True, eq=False)
class TrainedNetwork:
    """A trained network with its accuracies and how it was trained.

    Attributes
    ----------
    network
        The trained network as a :class:`ReLUNetwork` (domain: the given input box).
    train_accuracy, test_accuracy
        Fraction of correctly classified points (argmax of the outputs, computed with
        ``network.forward``); ``test_accuracy`` is None without test data.
    seconds
        Wall time of the training.
    recipe
        Every setting needed to train the same network again (``steps``: the
        mini-batch steps actually taken).
    status
        ``"complete"``, or ``"interrupted"``: Ctrl-C stopped the training and
        ``network`` is the one trained so far.
    """

    network: ReLUNetwork
    train_accuracy: float
    test_accuracy: float | None
    seconds: float
    recipe: dict[str, Any] = field(default_factory=dict)
    status: str = COMPLETE

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (the network itself is saved separately, e.g. as .npz)."""
        return {
            "architecture": list(self.network.widths),
            "train_accuracy": self.train_accuracy,
            "test_accuracy": self.test_accuracy,
            "seconds": self.seconds,
            "recipe": dict(self.recipe),
            "status": self.status,
        }


def accuracy(network: ReLUNetwork, x: ArrayLike, y: ArrayLike) -> float:
    """Fraction of points whose largest output is the label (first index on ties)."""
    out = network.forward(np.asarray(x, dtype=np.float64))
    return float(np.mean(np.argmax(out, axis=1) == np.asarray(y)))


@interrupts.entry_point
def train_network(
    x: ArrayLike,
    y: ArrayLike,
    widths: Sequence[int],
    *,
    output_relu: bool = True,
    l1: float = 0.0,
    aux_weight: float = DEFAULT_AUX_WEIGHT,
    epochs: float = DEFAULT_EPOCHS,
    batch_size: int = DEFAULT_BATCH_SIZE,
    lr: float = DEFAULT_LR,
    random_state: int = 0,
    x_test: ArrayLike | None = None,
    y_test: ArrayLike | None = None,
    domain: tuple[float, float] = (0.0, 1.0),
    progress: bool = False,
) -> TrainedNetwork:
    """Train a fully connected ReLU classifier and return it as a ReLUNetwork.

    Parameters
    ----------
    x, y
        Training inputs ``(N, n0)`` and integer labels ``0..C-1``.
    widths
        Widths of ALL affine layers, the output layer included: ``(n1, n2, 10)`` for the
        paper's MNIST networks. The last width must be at least the number of classes.
    output_relu
        Put a ReLU on the output layer too (the paper's setting; the cross-entropy is
        then taken on the rectified outputs).
    l1
        Weight of the L1 penalty ``l1 * sum |W|`` added to the mean cross-entropy.
    aux_weight
        With ``output_relu``: weight of a cross-entropy on the output layer's
        pre-activations added to the loss, so that output units cannot die (see module
        doc); 0 trains on the ReLU outputs only.
    epochs
        Passes over the training data; a fraction (e.g. 0.1) trains on that share of
        the mini-batches of one epoch (for quick tests).
    batch_size, lr
        Mini-batch size and Adam's learning rate.
    random_state
        Seed of the initialisation and of the shuffling.
    x_test, y_test
        Optional held-out data for ``test_accuracy``.
    domain
        Input box of the returned network (``[0, 1]^n0`` for pixels).
    progress
        Show a tqdm bar over the mini-batches.
    """
    try:
        import torch
    except ImportError:
        raise ReluscopeError(
            "training needs PyTorch: pip install 'reluscope[torch]' (or pip install torch)"
        ) from None
    x_arr = np.asarray(x, dtype=np.float64)
    y_arr = np.asarray(y)
    if x_arr.ndim != 2 or y_arr.shape != (x_arr.shape[0],):
        raise ReluscopeError(
            f"x must be (N, n0) and y (N,); got shapes {x_arr.shape} and {y_arr.shape}"
        )
    widths = [int(w) for w in widths]
    if not widths or min(widths) < 1:
        raise ReluscopeError(f"widths must be positive layer sizes, got {widths}")
    if not np.issubdtype(y_arr.dtype, np.integer) or y_arr.min() < 0:
        raise ReluscopeError("labels y must be non-negative integers")
    n_classes = int(y_arr.max()) + 1
    if widths[-1] < n_classes:
        raise ReluscopeError(
            f"the last width ({widths[-1]}) is the number of outputs and must be at least "
            f"the number of classes ({n_classes}); widths include the output layer"
        )
    random_state = validation.check_nonnegative_int(random_state, "random_state")
    if epochs <= 0 or batch_size < 1 or lr <= 0 or l1 < 0 or aux_weight < 0:
        raise ReluscopeError(
            "epochs, batch_size and lr must be positive, l1 and aux_weight >= 0"
        )

    start = time.perf_counter()
    old_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(random_state)
        generator = torch.Generator().manual_seed(random_state)
        layers: list[Any] = []
        n_in = x_arr.shape[1]
        for i, width in enumerate(widths):
            layers.append(torch.nn.Linear(n_in, width))
            if i < len(widths) - 1:
                layers.append(torch.nn.ReLU())
            n_in = width
        model = torch.nn.Sequential(*layers)  # output pre-activations; ReLU applied below
        linears = [m for m in model if isinstance(m, torch.nn.Linear)]
        use_aux = bool(output_relu) and aux_weight > 0
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        loss_fn = torch.nn.CrossEntropyLoss()
        xt = torch.from_numpy(x_arr.astype(np.float32))
        yt = torch.from_numpy(y_arr.astype(np.int64))
        n = xt.shape[0]
        per_epoch = math.ceil(n / batch_size)
        total_steps = max(1, math.ceil(epochs * per_epoch))
        bar = progress_bar(progress, total=total_steps, desc="training", unit="batch",
                           leave=False)
        step = 0
        status = COMPLETE
        model.train()
        try:
            while step < total_steps:
                order = torch.randperm(n, generator=generator)
                for b in range(per_epoch):
                    if step >= total_steps:
                        break
                    idx = order[b * batch_size : (b + 1) * batch_size]
                    optimizer.zero_grad()
                    z = model(xt[idx])
                    if output_relu:
                        loss = loss_fn(torch.relu(z), yt[idx])
                        if use_aux:
                            loss = loss + aux_weight * loss_fn(z, yt[idx])
                    else:
                        loss = loss_fn(z, yt[idx])
                    if l1 > 0:
                        loss = loss + l1 * sum(lin.weight.abs().sum() for lin in linears)
                    loss.backward()
                    optimizer.step()
                    step += 1
                    if bar is not None:
                        bar.update(1)
        except KeyboardInterrupt:  # keep the network trained so far, marked
            interrupts.note()
            status = INTERRUPTED
        if bar is not None:
            bar.close()
        with torch.no_grad():
            weights = [lin.weight.detach().double().numpy().copy() for lin in linears]
            biases = [lin.bias.detach().double().numpy().copy() for lin in linears]
    finally:
        torch.set_num_threads(old_threads)
    relu = [True] * (len(widths) - 1) + [bool(output_relu)]
    network = ReLUNetwork(weights, biases, relu=relu, lower=domain[0], upper=domain[1])
    seconds = time.perf_counter() - start
    train_acc = accuracy(network, x_arr, y_arr)
    test_acc = None
    if x_test is not None and y_test is not None:
        test_acc = accuracy(network, x_test, y_test)
    recipe = {
        "widths": widths,
        "output_relu": bool(output_relu),
        "l1": float(l1),
        "aux_weight": float(aux_weight) if output_relu else 0.0,
        "epochs": float(epochs),
        "batch_size": int(batch_size),
        "lr": float(lr),
        "optimizer": "adam",
        "loss": (
            ("cross_entropy(relu(z)) + aux_weight*cross_entropy(z)" if use_aux
             else "cross_entropy(relu(z))") if output_relu else "cross_entropy(z)"
        ) + (" + l1*sum|W|" if l1 > 0 else ""),
        "random_state": int(random_state),
        "n_train": int(x_arr.shape[0]),
        "steps": int(step),
        "torch": str(torch.__version__),
    }
    return TrainedNetwork(network, train_acc, test_acc, seconds, recipe, status)


__all__ = [
    "DEFAULT_AUX_WEIGHT",
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_EPOCHS",
    "DEFAULT_LR",
    "TrainedNetwork",
    "accuracy",
    "train_network",
]
