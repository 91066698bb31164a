"""The paper's experiments: MNIST data, training, and the reproduction pipeline.

Nothing here imports torch or a solver at import time; see ``reluscope reproduce``.
"""

from __future__ import annotations

from reluscope.experiments.mnist import (
    DataError,
    load_digits_dataset,
    load_fashion_mnist,
    load_mnist,
)
from reluscope.experiments.training import TrainedNetwork, accuracy, train_network

__all__ = [
    "DataError",
    "TrainedNetwork",
    "accuracy",
    "load_digits_dataset",
    "load_fashion_mnist",
    "load_mnist",
    "train_network",
]
