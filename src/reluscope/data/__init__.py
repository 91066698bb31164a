"""Small networks that ship with reluscope (for the README's first command and tests)."""

from __future__ import annotations

from importlib import resources

from reluscope.network import ReLUNetwork

EXAMPLE_NAME = "example.npz"


def example_path() -> str:
    """Path of the bundled example: a trained 8x8-digits network 64;6;6;10 with ReLU outputs."""
    return str(resources.files(__package__) / EXAMPLE_NAME)


def example_network() -> ReLUNetwork:
    """The bundled example network (see :func:`example_path`)."""
    from reluscope.io.npz import load_npz

    return load_npz(example_path())
