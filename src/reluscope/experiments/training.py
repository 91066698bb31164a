"""Training the paper's small rectifier networks with PyTorch (CPU, deterministic).

Two named recipes (:data:`RECIPES`; every setting can be overridden per call):

``"adam"`` (the default, chosen here for the AAAI 2020 networks, documented in
docs/reproduce.md): PyTorch's default initialisation, Adam with learning rate 1e-3,
20 epochs (the ICML 2018 networks were trained for 20 epochs), a ReLU on the output
layer. The cross-entropy is then taken on the ReLU outputs, so the analysed network is
exactly the trained one. An output unit whose pre-activation turns negative on every
input gets no gradient and its class is never predicted again (measured: 5 of 10
outputs dead, 48% test accuracy, for 25;25;10 after 2 epochs), so
``aux_weight * CE(pre-activations)`` is added (0.1): it keeps every output unit
trainable (same network: 0 dead, 92.8%) and does not change the analysed architecture.

``"authors"`` (the recipe of ``train_fcnn.py`` in the authors' group repository
ExactCompression, used for LEO): Kaiming-normal weights (fan-in, gain sqrt 2) and zero
biases, SGD with learning rate 0.01 and momentum 0.9, the learning rate times 0.1 every
50 epochs, 120 epochs, a linear output layer with log-softmax + NLL (= cross-entropy).

Both: mini-batches of 128 shuffled by a seeded generator, and ``l1 * sum |W|`` over all
weight matrices (biases are not penalised) added to the batch-mean loss. Training uses
one thread (``torch.set_num_threads(1)``) so that several trainings can run side by side
and the result does not depend on the machine's thread count.

torch is imported only when :func:`train_network` is called.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from reluscope import interrupts, validation
from reluscope.errors import ReluscopeError
from reluscope.network import ReLUNetwork
from reluscope.progress import progress_bar
from reluscope.serialise import fields_dict
from reluscope.status import COMPLETE, INTERRUPTED, Status


@dataclass(frozen=True)
class Recipe:
    """Every setting of one training recipe (see module doc).

    ``lr_step``: epochs between learning-rate decays by ``lr_gamma`` (None: constant);
    ``init``: ``"torch"`` (PyTorch's default) or ``"kaiming"`` (Kaiming-normal weights,
    zero biases); ``aux_weight`` applies only with ``output_relu``; ``weight_decay`` is
    the optimizer's (L2, biases included, as torch applies it).
    """

    name: str
    optimizer: str
    lr: float
    epochs: float
    batch_size: int = 128
    momentum: float = 0.0
    lr_step: int | None = None
    lr_gamma: float = 1.0
    init: str = "torch"
    output_relu: bool = True
    aux_weight: float = 0.0
    weight_decay: float = 0.0


#: the named recipes of :func:`train_network`
RECIPES: dict[str, Recipe] = {
    "adam": Recipe(name="adam", optimizer="adam", lr=1e-3, epochs=20, output_relu=True,
                   aux_weight=0.1),
    "authors": Recipe(name="authors", optimizer="sgd", lr=0.01, epochs=120, momentum=0.9,
                      lr_step=50, lr_gamma=0.1, init="kaiming", output_relu=False),
}
#: the recipe :func:`train_network` uses unless told otherwise
DEFAULT_RECIPE = "adam"
#: the recipe's settings, kept as names for callers of the default recipe
DEFAULT_EPOCHS = RECIPES[DEFAULT_RECIPE].epochs
DEFAULT_BATCH_SIZE = RECIPES[DEFAULT_RECIPE].batch_size
DEFAULT_LR = RECIPES[DEFAULT_RECIPE].lr
#: weight of the auxiliary cross-entropy on the output pre-activations (output_relu only)
DEFAULT_AUX_WEIGHT = RECIPES[DEFAULT_RECIPE].aux_weight


def get_recipe(name: str) -> Recipe:
    """The recipe called ``name``; a ReluscopeError lists the known ones."""
    try:
        return RECIPES[name]
    except (KeyError, TypeError):
        raise ReluscopeError(
            f"unknown training recipe {name!r}; use one of {', '.join(sorted(RECIPES))}"
        ) from None


def l1_penalty(linears: Sequence[Any]) -> Any:
    """``sum |W|`` over the weight matrices of torch Linear layers (biases excluded)."""
    return sum(lin.weight.abs().sum() for lin in linears)


def build_model(n_inputs: int, widths: Sequence[int], recipe: Recipe) -> Any:
    """The torch ``Sequential`` of Linear/ReLU layers (output pre-activations last),
    initialised as ``recipe.init`` says; call after seeding torch."""
    import torch

    layers: list[Any] = []
    n_in = n_inputs
    for i, width in enumerate(widths):
        linear = torch.nn.Linear(n_in, width)
        if recipe.init == "kaiming":
            torch.nn.init.kaiming_normal_(linear.weight)
            torch.nn.init.zeros_(linear.bias)
        layers.append(linear)
        if i < len(widths) - 1:
            layers.append(torch.nn.ReLU())
        n_in = width
    return torch.nn.Sequential(*layers)


def build_optimizer(model: Any, recipe: Recipe) -> tuple[Any, Any]:
    """``(optimizer, scheduler)`` of the recipe; the scheduler (None for a constant
    learning rate) is stepped once per epoch."""
    import torch

    optimizer: Any
    if recipe.optimizer == "adam":
        optimizer = torch.optim.Adam(model.parameters(), lr=recipe.lr,
                                     weight_decay=recipe.weight_decay)
    elif recipe.optimizer == "sgd":
        optimizer = torch.optim.SGD(model.parameters(), lr=recipe.lr,
                                    momentum=recipe.momentum,
                                    weight_decay=recipe.weight_decay)
    else:
        raise ReluscopeError(f"unknown optimizer {recipe.optimizer!r}; use adam or sgd")
    scheduler = None
    if recipe.lr_step is not None:
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=recipe.lr_step,
                                                    gamma=recipe.lr_gamma)
    return optimizer, scheduler


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
    status: Status = COMPLETE

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (the network itself is saved separately, e.g. as .npz)."""
        return {"architecture": list(self.network.widths),
                **fields_dict(self, exclude=("network",))}


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
    recipe: str = DEFAULT_RECIPE,
    output_relu: bool | None = None,
    l1: float = 0.0,
    aux_weight: float | None = None,
    epochs: float | None = None,
    batch_size: int | None = None,
    lr: float | None = None,
    weight_decay: float | None = None,
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
    recipe
        ``"adam"`` (default) or ``"authors"`` (see module doc and :data:`RECIPES`); the
        options below left as None take the recipe's value.
    output_relu
        Put a ReLU on the output layer too (the AAAI networks; the cross-entropy is
        then taken on the rectified outputs). Default: the recipe's (adam: True,
        authors: False).
    l1
        Weight of the L1 penalty ``l1 * sum |W|`` added to the batch-mean loss.
    aux_weight
        With ``output_relu``: weight of a cross-entropy on the output layer's
        pre-activations added to the loss, so that output units cannot die (see module
        doc); 0 trains on the ReLU outputs only.
    epochs
        Passes over the training data; a fraction (e.g. 0.1) trains on that share of
        the mini-batches of one epoch (for quick tests).
    batch_size, lr, weight_decay
        Mini-batch size, initial learning rate and the optimizer's weight decay.
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
    overrides: dict[str, Any] = {"output_relu": output_relu, "aux_weight": aux_weight,
                                 "epochs": epochs, "batch_size": batch_size, "lr": lr,
                                 "weight_decay": weight_decay}
    settings = replace(get_recipe(recipe), **{k: v for k, v in overrides.items() if v is not None})
    x_arr, y_arr, widths = _checked_data(x, y, widths)
    random_state = validation.check_nonnegative_int(random_state, "random_state")
    _check_settings(settings, l1)
    output_relu = bool(settings.output_relu)
    epochs, batch_size = settings.epochs, int(settings.batch_size)
    aux_weight = settings.aux_weight

    start = time.perf_counter()
    old_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(random_state)
        generator = torch.Generator().manual_seed(random_state)
        model = build_model(x_arr.shape[1], widths, settings)
        linears = [m for m in model if isinstance(m, torch.nn.Linear)]
        use_aux = output_relu and aux_weight > 0
        optimizer, scheduler = build_optimizer(model, settings)
        xt = torch.from_numpy(x_arr.astype(np.float32))
        yt = torch.from_numpy(y_arr.astype(np.int64))
        total_steps = max(1, math.ceil(epochs * math.ceil(xt.shape[0] / batch_size)))
        bar = progress_bar(progress, total=total_steps, desc="training", unit="batch",
                           leave=False)
        step, status = _train_steps(
            model, optimizer, scheduler, xt, yt, total_steps=total_steps,
            batch_size=batch_size, output_relu=output_relu,
            aux_weight=aux_weight if use_aux else 0.0, l1=l1, generator=generator, bar=bar,
        )
        if bar is not None:
            bar.close()
        final_lr = float(optimizer.param_groups[0]["lr"])
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
    record = _training_record(
        settings, widths, output_relu=output_relu, l1=l1, use_aux=use_aux,
        final_lr=final_lr, random_state=random_state, n_train=int(x_arr.shape[0]),
        steps=step, torch_version=str(torch.__version__),
    )
    return TrainedNetwork(network, train_acc, test_acc, seconds, record, status)


def _check_settings(settings: Recipe, l1: float) -> None:
    """Refuse non-positive step sizes and counts, and negative penalties."""
    if (settings.epochs <= 0 or settings.batch_size < 1 or settings.lr <= 0 or l1 < 0
            or settings.aux_weight < 0 or settings.weight_decay < 0):
        raise ReluscopeError(
            "epochs, batch_size and lr must be positive, l1, aux_weight and weight_decay >= 0"
        )


def _checked_data(
    x: ArrayLike, y: ArrayLike, widths: Sequence[int]
) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """The training data as arrays and the widths as ints, refused when they do not fit
    together (shapes, labels, too few outputs for the classes)."""
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
    return x_arr, y_arr, widths


def _train_steps(
    model: Any, optimizer: Any, scheduler: Any, xt: Any, yt: Any, *, total_steps: int,
    batch_size: int, output_relu: bool, aux_weight: float, l1: float, generator: Any,
    bar: Any,
) -> tuple[int, Status]:
    """Run ``total_steps`` mini-batch steps (reshuffled each epoch, the scheduler stepped
    between epochs); the steps taken and ``interrupted`` after Ctrl-C, else ``complete``.
    ``aux_weight`` > 0 (with ``output_relu``) adds the pre-activation cross-entropy."""
    import torch

    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    loss_fn = torch.nn.CrossEntropyLoss()
    n = xt.shape[0]
    per_epoch = math.ceil(n / batch_size)
    step = 0
    epoch_done = False  # the scheduler steps between epochs
    status = COMPLETE
    model.train()
    try:
        while step < total_steps:
            order = torch.randperm(n, generator=generator)
            if epoch_done and scheduler is not None:
                scheduler.step()
            epoch_done = True
            for b in range(per_epoch):
                if step >= total_steps:
                    break
                idx = order[b * batch_size : (b + 1) * batch_size]
                optimizer.zero_grad()
                z = model(xt[idx])
                if output_relu:
                    loss = loss_fn(torch.relu(z), yt[idx])
                    if aux_weight > 0:
                        loss = loss + aux_weight * loss_fn(z, yt[idx])
                else:
                    loss = loss_fn(z, yt[idx])
                if l1 > 0:
                    loss = loss + l1 * l1_penalty(linears)
                loss.backward()
                optimizer.step()
                step += 1
                if bar is not None:
                    bar.update(1)
    except KeyboardInterrupt:  # keep the network trained so far, marked
        interrupts.note()
        status = INTERRUPTED
    return step, status


def _training_record(
    settings: Recipe, widths: list[int], *, output_relu: bool, l1: float, use_aux: bool,
    final_lr: float, random_state: int, n_train: int, steps: int, torch_version: str,
) -> dict[str, Any]:
    """Every setting needed to train the same network again (``TrainedNetwork.recipe``)."""
    aux_weight = settings.aux_weight
    epochs, batch_size = settings.epochs, int(settings.batch_size)
    loss_text = (
        ("cross_entropy(relu(z)) + aux_weight*cross_entropy(z)" if use_aux
         else "cross_entropy(relu(z))") if output_relu else "cross_entropy(z)"
    ) + (" + l1*sum|W|" if l1 > 0 else "")
    return {
        "recipe": settings.name,
        "widths": widths,
        "output_relu": output_relu,
        "l1": float(l1),
        "aux_weight": float(aux_weight) if output_relu else 0.0,
        "epochs": float(epochs),
        "batch_size": batch_size,
        "lr": float(settings.lr),
        "optimizer": settings.optimizer,
        "momentum": float(settings.momentum),
        "lr_step": settings.lr_step,
        "lr_gamma": float(settings.lr_gamma),
        "final_lr": final_lr,
        "weight_decay": float(settings.weight_decay),
        "init": settings.init,
        "loss": loss_text,
        "random_state": int(random_state),
        "n_train": n_train,
        "steps": int(steps),
        "torch": torch_version,
    }


__all__ = [
    "DEFAULT_AUX_WEIGHT",
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_EPOCHS",
    "DEFAULT_LR",
    "DEFAULT_RECIPE",
    "RECIPES",
    "Recipe",
    "TrainedNetwork",
    "accuracy",
    "build_model",
    "build_optimizer",
    "get_recipe",
    "l1_penalty",
    "train_network",
]
