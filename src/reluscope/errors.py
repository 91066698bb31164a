"""The error hierarchy: every failure a user can cause raises a ReluscopeError.

Messages say what is wrong and what to do; the CLI prints them on one line and exits 2.
"""

from __future__ import annotations


class ReluscopeError(Exception):
    """Base class of every error reluscope raises on bad input or a failed solve."""


class NetworkError(ReluscopeError):
    """The network description is invalid (shapes, NaN/inf values, no layers)."""


class DomainError(ReluscopeError):
    """The input domain is empty, unbounded or of the wrong dimension."""


class EmptyDomainError(DomainError):
    """The input domain has no point (a box with lower > upper, a ball missing the box, a
    polytope no point of the box satisfies)."""


class UnsupportedLayerError(ReluscopeError):
    """A model file contains an operator or layer that is not an affine map or a ReLU."""


class ModelFormatError(ReluscopeError):
    """A model file cannot be read or written (unknown extension, corrupt content)."""


class SolverError(ReluscopeError):
    """A solver failed in a way that leaves no valid answer."""
