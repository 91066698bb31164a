"""ReLUNetwork: an immutable, NumPy-only description of a feed-forward ReLU network.

Layer ``l`` (0-based here) computes ``g = W[l] @ h + b[l]`` with ``W[l]`` of shape
``(n_out, n_in)`` (the PyTorch / paper convention), then, if ``relu[l]``, applies each
unit's activation. Every layer but the last must have activations; the last may or may
not. The input domain is a box ``lower <= x <= upper`` (default ``[0, 1]^n0``, image
pixels), optionally cut by a polytope ``domain_A x <= domain_b``
(:mod:`reluscope.polytope`).

The *units* of the network are the neurons of its activation layers, numbered layer by
layer; an activation pattern is one boolean per unit. Each unit has a *slope* ``alpha``
for its inactive side, ``h = g`` if ``g > 0`` else ``alpha * g``:

- ``alpha = 0``: a **ReLU** (the default; a network of only these is a plain ReLU
  network and everything about it is as in the papers);
- ``alpha = 1``: an **identity** (linear) unit, ``h = g``: it never splits a region, and
  its bit in a pattern is always 1 (it carries skip paths of residual blocks);
- any other ``alpha``: a **leaky ReLU**: it splits like a ReLU (two sides, the same
  region definition, :mod:`reluscope.tolerances`) and outputs ``alpha * g`` on its
  inactive side.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from reluscope.errors import DomainError, EmptyDomainError, NetworkError
from reluscope.pooling import PoolWindow, check_windows
from reluscope.signature import IOSignature

FloatArray = NDArray[np.float64]

_log = logging.getLogger(__name__)

def _as_float_array(value: ArrayLike, name: str, ndim: int) -> FloatArray:
    array = np.array(value, dtype=np.float64, copy=True)
    if array.ndim != ndim:
        raise NetworkError(f"{name} must have {ndim} dimension(s), got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise NetworkError(f"{name} contains NaN or infinite values; fix the model's parameters")
    array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False, init=False)
class ReLUNetwork:
    """A feed-forward ReLU network with a box input domain.

    Parameters
    ----------
    weights, biases
        One ``(n_out, n_in)`` matrix and one ``(n_out,)`` vector per affine layer.
    relu
        One flag per layer: is it followed by activations? Default: every layer, the
        setting of the paper's MNIST networks (ReLU on the output layer too).
    slopes
        Optional, one entry per layer: the slope ``alpha`` of each unit's inactive side
        (a scalar for the whole layer or a vector of its width): 0 ReLU, 1 identity,
        other values leaky ReLU. Default: every unit a ReLU. Entries of layers without
        activations are ignored (stored as 1: their outputs are linear).
    lower, upper
        The input box; scalars are broadcast. Default ``[0, 1]^n0``.
    domain_A, domain_b
        Optional polytope ``domain_A @ x <= domain_b`` (shapes ``(m, n0)`` and
        ``(m,)``) intersected with the box. With ``m > 0`` the stored ``lower``,
        ``upper`` are the *bounding box* of box ∩ polytope (:func:`reluscope.polytope.
        bounding_box`, 2 n0 LPs, padded outward), not the box as given: the domain is
        the same set, and interval arithmetic on the stored box stays tight. An empty
        domain raises :class:`DomainError` (it cannot be unbounded: the box is
        finite). This is the only place where building a network solves LPs (HiGHS,
        imported only then).
    signature
        The I/O signature of the source model (:class:`IOSignature`), kept so that
        writers reproduce it; ``None`` for networks built by hand.
    max_pool
        Optional, one boolean vector per layer: the units of a lowered max-pooling
        (pairwise ``max(a, b) = a + relu(b - a)`` tournaments). A pooling window is one
        unit with one side per input (its argmax), so these units' sign patterns are not
        regions: counting, MIPBound, the upper bounds and slices refuse a network with
        any; forward passes, bounds and compression treat them as the ReLUs they are.
    pool_windows
        Optional: the windows of those units (:class:`reluscope.pooling.PoolWindow`, set
        by the graph loader), with which ``count_regions`` counts argmax regions. Kept
        by the writers (as JSON), not by compression (its networks' regions are refused).
    """

    weights: tuple[FloatArray, ...]
    biases: tuple[FloatArray, ...]
    relu: tuple[bool, ...]
    slopes: tuple[FloatArray, ...]
    lower: FloatArray
    upper: FloatArray
    domain_A: FloatArray
    domain_b: FloatArray
    signature: IOSignature | None
    max_pool: tuple[NDArray[np.bool_], ...]
    pool_windows: tuple[PoolWindow, ...]

    def __init__(
        self,
        weights: Sequence[ArrayLike],
        biases: Sequence[ArrayLike],
        *,
        relu: Sequence[bool] | None = None,
        slopes: Sequence[ArrayLike] | None = None,
        lower: ArrayLike | None = None,
        upper: ArrayLike | None = None,
        domain_A: ArrayLike | None = None,
        domain_b: ArrayLike | None = None,
        signature: IOSignature | None = None,
        max_pool: Sequence[ArrayLike] | None = None,
        pool_windows: Sequence[PoolWindow] = (),
    ) -> None:
        if len(weights) == 0:
            raise NetworkError("a network needs at least one affine layer; got zero layers")
        if len(weights) != len(biases):
            raise NetworkError(
                f"got {len(weights)} weight matrices but {len(biases)} bias vectors; "
                "give one of each per layer"
            )
        ws = tuple(_as_float_array(w, f"weights[{i}]", 2) for i, w in enumerate(weights))
        bs = tuple(_as_float_array(b, f"biases[{i}]", 1) for i, b in enumerate(biases))
        for i, (w, b) in enumerate(zip(ws, bs, strict=True)):
            if w.shape[0] == 0 or w.shape[1] == 0:
                raise NetworkError(f"layer {i} has an empty weight matrix of shape {w.shape}")
            if b.shape[0] != w.shape[0]:
                raise NetworkError(
                    f"layer {i}: weights have {w.shape[0]} rows but the bias has "
                    f"{b.shape[0]} entries"
                )
            if i > 0 and w.shape[1] != ws[i - 1].shape[0]:
                raise NetworkError(
                    f"layer {i} expects {w.shape[1]} inputs but layer {i - 1} has "
                    f"{ws[i - 1].shape[0]} outputs"
                )
        flags = tuple(bool(f) for f in relu) if relu is not None else (True,) * len(ws)
        if len(flags) != len(ws):
            raise NetworkError(f"got {len(flags)} relu flags for {len(ws)} layers")
        if not all(flags[:-1]):
            missing = [i for i, f in enumerate(flags[:-1]) if not f]
            raise NetworkError(
                f"hidden layers {missing} have no ReLU; consecutive affine layers must be "
                "merged into one before analysis (only the last layer may lack a ReLU)"
            )
        alphas = _slope_arrays(slopes, flags, ws)
        n0 = ws[0].shape[1]
        lo, hi = _domain_arrays(n0, lower, upper)
        a_rows, b_rows = _polytope_arrays(n0, domain_A, domain_b)
        if a_rows.shape[0]:
            from reluscope.polytope import bounding_box

            lo, hi = bounding_box(lo, hi, a_rows, b_rows)
        object.__setattr__(self, "weights", ws)
        object.__setattr__(self, "biases", bs)
        object.__setattr__(self, "relu", flags)
        object.__setattr__(self, "slopes", alphas)
        object.__setattr__(self, "max_pool", _pool_arrays(max_pool, flags, ws))
        windows = tuple(pool_windows)
        if windows:
            why = check_windows(windows, self.max_pool, alphas, tuple(w.shape[0] for w in ws))
            if why:
                raise NetworkError(f"pool_windows do not match the max_pool marks: {why}")
        object.__setattr__(self, "pool_windows", windows)
        object.__setattr__(self, "lower", lo)
        object.__setattr__(self, "upper", hi)
        object.__setattr__(self, "domain_A", a_rows)
        object.__setattr__(self, "domain_b", b_rows)
        if (
            signature is not None
            and signature.input_shape
            and int(np.prod(signature.input_shape)) != n0
        ):
            raise NetworkError(
                f"signature input shape {signature.input_shape} has "
                f"{int(np.prod(signature.input_shape))} entries but the network has "
                f"{n0} inputs"
            )
        object.__setattr__(self, "signature", signature)

    # ----------------------------------------------------------------- structure
    @property
    def n_inputs(self) -> int:
        """Input dimension n0."""
        return int(self.weights[0].shape[1])

    @property
    def n_outputs(self) -> int:
        return int(self.weights[-1].shape[0])

    @property
    def n_layers(self) -> int:
        """Number of affine layers."""
        return len(self.weights)

    @property
    def widths(self) -> tuple[int, ...]:
        """Output width of every affine layer."""
        return tuple(int(w.shape[0]) for w in self.weights)

    @property
    def relu_layers(self) -> tuple[int, ...]:
        """Indices of the layers followed by a ReLU (whose units are counted)."""
        return tuple(i for i, f in enumerate(self.relu) if f)

    @property
    def relu_widths(self) -> tuple[int, ...]:
        """Widths of the ReLU layers: the architecture ``n1; n2; ...`` of the paper."""
        return tuple(self.widths[i] for i in self.relu_layers)

    @property
    def n_units(self) -> int:
        """Total number of units (ReLU, leaky and identity)."""
        return sum(self.relu_widths)

    @property
    def unit_slopes(self) -> FloatArray:
        """The slope ``alpha`` of every unit, layer by layer (0 ReLU, 1 identity)."""
        parts = [self.slopes[i] for i in self.relu_layers]
        return np.concatenate(parts) if parts else np.zeros(0)

    @property
    def has_max_pool(self) -> bool:
        """Whether some unit belongs to a lowered max-pooling (see ``max_pool``)."""
        return any(bool(np.any(p)) for p in self.max_pool)

    @property
    def is_plain_relu(self) -> bool:
        """Whether every unit is a ReLU (no leaky or identity unit)."""
        return all(not np.any(self.slopes[i]) for i in self.relu_layers)

    def unit_kinds(self) -> dict[str, int]:
        """Numbers of ``relu``, ``leaky`` and ``identity`` units."""
        a = self.unit_slopes
        identity = int(np.sum(a == 1.0))
        relu = int(np.sum(a == 0.0))
        return {"relu": relu, "leaky": int(a.size) - relu - identity, "identity": identity}

    def unit_offsets(self) -> tuple[int, ...]:
        """Start of each ReLU layer's units in a flat activation pattern."""
        offsets, start = [], 0
        for width in self.relu_widths:
            offsets.append(start)
            start += width
        return tuple(offsets)

    # ------------------------------------------------------------------ forward
    def _check_inputs(self, x: ArrayLike) -> tuple[FloatArray, bool]:
        arr = np.asarray(x, dtype=np.float64)
        single = arr.ndim == 1
        if single:
            arr = arr[None, :]
        if arr.ndim != 2 or arr.shape[1] != self.n_inputs:
            raise NetworkError(
                f"inputs must have shape (batch, {self.n_inputs}) or ({self.n_inputs},); "
                f"got {np.shape(x)}"
            )
        return arr, single

    def preactivations(self, x: ArrayLike) -> list[FloatArray]:
        """Pre-activations ``g`` of every layer for a batch of inputs (one array per layer)."""
        h, single = self._check_inputs(x)
        out = []
        for w, b, has_relu, alpha in zip(
            self.weights, self.biases, self.relu, self.slopes, strict=True
        ):
            g = h @ w.T + b
            out.append(g[0] if single else g)
            h = _activate(g, alpha) if has_relu else g
        return out

    def forward(self, x: ArrayLike) -> FloatArray:
        """Network output for one input ``(n0,)`` or a batch ``(batch, n0)``."""
        h, single = self._check_inputs(x)
        for w, b, has_relu, alpha in zip(
            self.weights, self.biases, self.relu, self.slopes, strict=True
        ):
            h = h @ w.T + b
            if has_relu:
                h = _activate(h, alpha)
        return h[0] if single else h

    def activation_patterns(self, x: ArrayLike) -> NDArray[np.bool_]:
        """Activation pattern (``g > 0`` per unit, activation layers in order) of each
        input; an identity unit's bit is always 1."""
        pre = self.preactivations(x)
        parts = [(pre[i] > 0) | (self.slopes[i] == 1.0) for i in self.relu_layers]
        return np.concatenate(parts, axis=-1)

    # ------------------------------------------------------------------- domain
    @property
    def has_polytope(self) -> bool:
        """Whether the domain has inequalities ``A x <= b`` besides the box."""
        return bool(self.domain_A.shape[0])

    def with_domain(
        self,
        lower: ArrayLike,
        upper: ArrayLike,
        domain_A: ArrayLike | None = None,
        domain_b: ArrayLike | None = None,
    ) -> ReLUNetwork:
        """The same network on another domain: the box (scalars are broadcast) and, if
        given, a polytope; without one the domain is the box alone."""
        return ReLUNetwork(
            self.weights, self.biases, relu=self.relu, slopes=self.slopes, lower=lower,
            upper=upper, domain_A=domain_A, domain_b=domain_b, signature=self.signature,
            max_pool=self.max_pool, pool_windows=self.pool_windows,
        )

    def with_polytope(self, domain_A: ArrayLike, domain_b: ArrayLike) -> ReLUNetwork:
        """The same network on its domain intersected with ``{x : domain_A x <= domain_b}``
        (added to any inequalities it already has)."""
        from reluscope.polytope import check_polytope

        a_new, b_new = check_polytope(domain_A, domain_b, self.n_inputs)
        return self.with_domain(
            self.lower, self.upper,
            np.vstack([self.domain_A, a_new]), np.concatenate([self.domain_b, b_new]),
        )

    def with_signature(self, signature: IOSignature | None) -> ReLUNetwork:
        """The same network, written with another input/output signature."""
        return ReLUNetwork(
            self.weights, self.biases, relu=self.relu, slopes=self.slopes, lower=self.lower,
            upper=self.upper, domain_A=self.domain_A, domain_b=self.domain_b,
            signature=signature, max_pool=self.max_pool, pool_windows=self.pool_windows,
        )

    def contains(self, x: ArrayLike) -> Any:
        """Whether each input (``(n0,)`` or ``(k, n0)``) lies in the domain: in the box,
        and on the polytope's rows up to ``tolerances.DOMAIN_TOL``."""
        from reluscope.polytope import contains

        return contains(x, self.lower, self.upper, self.domain_A, self.domain_b)

    def sample_inputs(self, n: int, random_state: Any = None) -> FloatArray:
        """``n`` inputs drawn uniformly from the domain (box, or box ∩ polytope: see
        :func:`reluscope.polytope.sample`)."""
        rng = np.random.default_rng(random_state)
        if self.has_polytope:
            from reluscope.polytope import sample

            return sample(self.lower, self.upper, self.domain_A, self.domain_b, n, rng)
        return self.lower + rng.random((n, self.n_inputs)) * (self.upper - self.lower)

    def seed_inputs(self, n: int, random_state: Any = None) -> FloatArray:
        """Points of the domain for heuristics (witnesses, seeds): :meth:`sample_inputs`,
        or on a flat polytope (which cannot be sampled) its Chebyshev center alone."""
        try:
            return self.sample_inputs(n, random_state=random_state)
        except DomainError:
            _log.warning("the polytope domain is flat: using its Chebyshev center alone")
            return self.domain_point()[None, :]

    def domain_point(self) -> FloatArray:
        """One point of the domain: the box's midpoint, or the polytope's Chebyshev
        center."""
        if self.has_polytope:
            from reluscope.polytope import chebyshev_center

            return chebyshev_center(self.lower, self.upper, self.domain_A, self.domain_b)[0]
        return (self.lower + self.upper) / 2.0

    # ---------------------------------------------------------------------- io
    def save(self, path: str | Path) -> None:
        """Write the network in the format of the path's extension (.npz, .onnx, .pt)."""
        from reluscope.io.writers import save

        save(self, path)

    def describe(self) -> str:
        """One line: architecture and domain."""
        arch = ";".join(str(w) for w in self.widths)
        out = "linear"
        if self.relu[-1]:
            out = "ReLU" if not np.any(self.slopes[-1]) else "activation"
        lo, hi = float(self.lower.min()), float(self.upper.max())
        box = f"[{lo:g},{hi:g}]^{self.n_inputs}"
        if not (np.all(self.lower == lo) and np.all(self.upper == hi)):
            box = f"box within [{lo:g},{hi:g}]^{self.n_inputs}"
        if self.has_polytope:
            m = self.domain_A.shape[0]
            box += f" and {m} inequalit{'y' if m == 1 else 'ies'} A x <= b"
        units = f"{self.n_units} ReLU units"
        if not self.is_plain_relu:
            kinds = self.unit_kinds()
            units = f"{self.n_units} units ({', '.join(f'{v} {k}' for k, v in kinds.items())})"
        text = f"{self.n_inputs} inputs -> {arch} ({out} output), {units}, domain {box}"
        if self.has_max_pool:
            marked = sum(int(np.count_nonzero(p)) for p in self.max_pool)
            n = len(self.pool_windows)
            windows = (f"{n} max-pooling window{'s' if n != 1 else ''}"
                       if n else "max-pooling windows not known")
            text += f"; {marked} of the relu units compare inputs in {windows}"
        if self.signature is not None and self.signature.output_op:
            # a softmax changes no activation pattern: the regions are the logits'
            text += f"; outputs are the logits of the model's final {self.signature.output_op}"
        return text

    def __repr__(self) -> str:
        return f"ReLUNetwork({self.describe()})"


def _activate(g: FloatArray, alpha: FloatArray) -> FloatArray:
    """Each unit's activation: ``g`` where ``g > 0``, else ``alpha * g``."""
    if not np.any(alpha):
        return np.maximum(g, 0.0)
    return np.where(g > 0, g, alpha * g)


def _slope_arrays(
    slopes: Sequence[ArrayLike] | None, flags: tuple[bool, ...], ws: tuple[FloatArray, ...]
) -> tuple[FloatArray, ...]:
    """The checked, read-only slope vector of every layer (ones for a linear layer)."""
    if slopes is not None and len(slopes) != len(ws):
        raise NetworkError(f"got {len(slopes)} slope entries for {len(ws)} layers")
    out = []
    for i, (w, has_relu) in enumerate(zip(ws, flags, strict=True)):
        width = w.shape[0]
        if not has_relu:
            alpha = np.ones(width)
        elif slopes is None or slopes[i] is None:
            alpha = np.zeros(width)
        else:
            try:
                alpha = np.array(np.broadcast_to(np.asarray(slopes[i], dtype=float), (width,)))
            except ValueError:
                raise NetworkError(
                    f"slopes[{i}] must be a scalar or a vector of the layer's width {width}; "
                    f"got shape {np.shape(slopes[i])}"
                ) from None
            if not np.all(np.isfinite(alpha)):
                raise NetworkError(f"slopes[{i}] contains NaN or infinite values")
            alpha = alpha + 0.0  # no negative zeros
        alpha.setflags(write=False)
        out.append(alpha)
    return tuple(out)


def _pool_arrays(
    pool: Sequence[ArrayLike] | None, flags: tuple[bool, ...], ws: tuple[FloatArray, ...]
) -> tuple[NDArray[np.bool_], ...]:
    """The checked, read-only max-pool mask of every layer (all False by default)."""
    if pool is not None and len(pool) != len(ws):
        raise NetworkError(f"got {len(pool)} max_pool entries for {len(ws)} layers")
    out = []
    for i, (w, has_relu) in enumerate(zip(ws, flags, strict=True)):
        mask = np.zeros(w.shape[0], dtype=bool)
        if pool is not None and pool[i] is not None and has_relu:
            given = np.asarray(pool[i], dtype=bool).reshape(-1)
            if given.shape != mask.shape:
                raise NetworkError(
                    f"max_pool[{i}] has {given.size} entries for a layer of {mask.size} units"
                )
            mask = given.copy()
        mask.setflags(write=False)
        out.append(mask)
    return tuple(out)


def _polytope_arrays(
    n0: int, a: ArrayLike | None, b: ArrayLike | None
) -> tuple[FloatArray, FloatArray]:
    """The checked, read-only ``(A, b)`` of a polytope (``m = 0`` rows when not given)."""
    if (a is None) != (b is None):
        raise DomainError("a polytope domain needs both A and b (A x <= b); give both or neither")
    if a is None or b is None:
        a_arr, b_arr = np.zeros((0, n0)), np.zeros(0)
    else:
        from reluscope.polytope import check_polytope

        a_arr, b_arr = check_polytope(a, b, n0)
        a_arr, b_arr = a_arr.copy(), b_arr.copy()
    a_arr.setflags(write=False)
    b_arr.setflags(write=False)
    return a_arr, b_arr


def _domain_arrays(
    n0: int, lower: ArrayLike | None, upper: ArrayLike | None
) -> tuple[FloatArray, FloatArray]:
    try:
        lo = np.broadcast_to(np.asarray(0.0 if lower is None else lower, dtype=float), (n0,))
        hi = np.broadcast_to(np.asarray(1.0 if upper is None else upper, dtype=float), (n0,))
    except ValueError:
        raise DomainError(
            f"the domain bounds must be scalars or vectors of length n0 = {n0}; got shapes "
            f"{np.shape(np.asarray(lower))} and {np.shape(np.asarray(upper))}"
        ) from None
    if np.any(np.isnan(lo)) or np.any(np.isnan(hi)):
        raise DomainError("the domain bounds contain NaN")
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
        raise DomainError(
            "the input domain is unbounded; give finite lower and upper bounds for every "
            "input (e.g. --domain 0,1)"
        )
    if np.any(lo > hi):
        bad = int(np.argmax(lo > hi))
        raise EmptyDomainError(
            f"the input domain is empty: lower > upper at input {bad} "
            f"({lo[bad]:g} > {hi[bad]:g})"
        )
    lo, hi = lo.copy(), hi.copy()
    lo.setflags(write=False)
    hi.setflags(write=False)
    return lo, hi
