"""LEO: lossless compression of a ReLU network by removing and folding stable units.

``compress(net)`` finds the units that are stable over the whole input domain
(:mod:`reluscope.compression.stability`), rewrites the network without them
(:mod:`reluscope.compression.fold`) and checks that the outputs did not change
(:mod:`reluscope.compression.equivalence`). See docs/compression.md.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from reluscope import interrupts, validation
from reluscope.compression.equivalence import (
    Equivalence,
    MilpDifference,
    check_equivalence,
    milp_difference,
    sampled_difference,
)
from reluscope.compression.fold import LayerChange, fold_network
from reluscope.compression.stability import STRATEGIES, StableUnits, find_stable_units
from reluscope.errors import ReluscopeError
from reluscope.network import ReLUNetwork
from reluscope.reprs import short_repr
from reluscope.serialise import fields_dict
from reluscope.status import COMPLETE, INTERRUPTED, TIME_LIMIT, Status

VERIFY_MODES = ("auto", "milp", "sample", "none")

#: ``verify="auto"`` adds the MILP proof when the original has at most this many units
AUTO_MILP_MAX_UNITS = 40

#: seconds the MILP proof may take with ``verify="auto"`` (all solves together); when
#: they run out the result says "not proven (time limit)" and nothing else changes
#: (the compression is exact by construction: every removed unit was proven stable;
#: the proof is a second, independent check). 5 s: a default run on a small network
#: stays quick; ``verify="milp"`` with a time limit gives the proof longer.
AUTO_MILP_TIME_LIMIT = 5.0


@dataclass(frozen=True, eq=False)
class CompressionResult:
    """A compressed network and what was done to get it.

    Attributes
    ----------
    network, original
        The compressed network and the one given.
    stable
        The stable units that were found (:class:`StableUnits`).
    units_before, units_after, layers_before, layers_after
        ReLU units and affine layers of the original and compressed networks.
    widths_before, widths_after
        Layer widths.
    layers
        One :class:`LayerChange` per original layer (removed / folded / merged units).
    equivalence
        Sampled (and maybe MILP) comparison of the two networks; None with verify="none".
    unchanged
        Nothing could be removed: ``network`` is ``original``.
    seconds, stability_seconds, fold_seconds
        Wall times (total includes verification).
    """

    __repr__ = short_repr

    network: ReLUNetwork
    original: ReLUNetwork
    stable: StableUnits
    units_before: int
    units_after: int
    layers_before: int
    layers_after: int
    widths_before: tuple[int, ...]
    widths_after: tuple[int, ...]
    layers: tuple[LayerChange, ...]
    equivalence: Equivalence | None
    unchanged: bool
    seconds: float
    stability_seconds: float
    fold_seconds: float
    status: Status = COMPLETE

    @property
    def complete(self) -> bool:
        """The stable-unit search finished (False: undecided units were kept)."""
        return self.stable.complete

    @property
    def verification_interrupted(self) -> bool:
        """Ctrl-C/SIGTERM stopped the equivalence check (the network is still exact).
        A stop in the search skips the check, so the two never both happen."""
        return self.status is INTERRUPTED and not self.stable.interrupted

    @property
    def removed_fraction(self) -> float:
        """Fraction of the original ReLU units that are gone."""
        if self.units_before == 0:
            return 0.0
        return 1.0 - self.units_after / self.units_before

    @property
    def max_abs_diff(self) -> float | None:
        return None if self.equivalence is None else self.equivalence.max_abs_diff

    @property
    def milp_proven(self) -> bool | None:
        """True: proven equal; False: a difference found; None: not run or not proven."""
        return None if self.equivalence is None else self.equivalence.milp_proven

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (the networks themselves are not included), with the
        equivalence check's main numbers and the derived flags also at the top level
        (keys the command line's ``--json`` documents)."""
        eq = self.equivalence
        return {
            **fields_dict(self, exclude=("network", "original")),
            "removed_fraction": self.removed_fraction,
            "complete": self.complete,
            "verification_interrupted": self.verification_interrupted,
            "max_abs_diff": None if eq is None else eq.max_abs_diff,
            "relative_diff": None if eq is None else eq.relative,
            "milp_max_abs_diff": None if eq is None else eq.milp_max_abs_diff,
            "milp_proven": None if eq is None else eq.milp_proven,
            "milp_status": None if eq is None else eq.milp_status,
            "strategy": self.stable.strategy,
        }


@interrupts.entry_point
def compress(
    network: ReLUNetwork,
    *,
    strategy: str = "single",
    bounds_method: str = "lp",
    samples: ArrayLike | None = None,
    time_limit: float | None = None,
    verify: str = "auto",
    n_samples: int = 100_000,
    random_state: Any = None,
    progress: bool = False,
) -> CompressionResult:
    """Remove and fold the stable units of ``network`` without changing its outputs.

    Parameters
    ----------
    strategy
        ``"single"`` or ``"per-unit"``: how stable units are found
        (:func:`find_stable_units`). Both find the same units.
    bounds_method
        Cheap bounds computed before any MILP (``"interval"``, ``"lp"``, ``"milp"``).
    samples
        Inputs inside the domain (e.g. training data) seeding ``single``, also compared
        in the equivalence check.
    time_limit
        Seconds for the whole call: the stable-unit search, then the MILP proof in what
        is left. When the search runs out, undecided units are kept: the result is
        exact but maybe not minimal (``complete`` is False); when the proof runs out it
        is reported as not proven (``milp_proven`` None, ``milp_status`` "time_limit").
    verify
        ``"auto"``: sampled comparison on ``n_samples`` inputs, plus the MILP proof
        when the network has at most ``AUTO_MILP_MAX_UNITS`` units, within
        ``AUTO_MILP_TIME_LIMIT`` seconds; ``"milp"``: both always (the proof limited
        only by ``time_limit``); ``"sample"``: sampling only; ``"none"``: no check.
    n_samples
        Uniform inputs of the sampled comparison (>= 1 unless ``samples`` are given).

    Ctrl-C stops the stable-unit search (undecided units are kept and the MILP proof is
    skipped) or the MILP proof (``milp_status`` "interrupted"); a result is returned
    either way.
    """
    verify = validation.check_choice(verify, VERIFY_MODES, "verify mode")
    time_limit = validation.check_time_limit(time_limit)
    random_state = validation.check_seed(random_state)
    if verify != "none" and (
        not isinstance(n_samples, (int, np.integer))
        or n_samples < 0
        or (n_samples == 0 and samples is None)
    ):
        raise ReluscopeError(
            f"n_samples must be a positive number of inputs to compare on, got {n_samples!r} "
            "(use verify='none' to skip the check)"
        )
    start = time.perf_counter()
    stable = find_stable_units(
        network,
        strategy=strategy,
        samples=samples,
        bounds_method=bounds_method,
        time_limit=time_limit,
        random_state=random_state,
        progress=progress,
    )
    fold_start = time.perf_counter()
    folded, changes = fold_network(network, stable.active, stable.inactive)
    unchanged = _same(network, folded)
    if unchanged:
        folded = network
    fold_seconds = time.perf_counter() - fold_start
    equivalence = None
    verification_stopped = False
    if verify != "none" and not interrupts.requested():  # after Ctrl-C: no further step
        use_milp, proof_limit = _proof_plan(verify, network, time_limit, start)
        try:
            equivalence = check_equivalence(
                network,
                folded,
                n_samples=n_samples,
                samples=samples,
                # after Ctrl-C in the search, no proof: the user asked to stop
                milp=use_milp and not unchanged and not stable.interrupted,
                bounds_method="interval" if bounds_method == "interval" else "lp",
                time_limit=proof_limit,
                random_state=random_state,
            )
        except KeyboardInterrupt:  # Ctrl-C in the sampled check: keep the finished network
            interrupts.note()
            verification_stopped = True
    return CompressionResult(
        network=folded,
        original=network,
        stable=stable,
        units_before=network.n_units,
        units_after=folded.n_units,
        layers_before=network.n_layers,
        layers_after=folded.n_layers,
        widths_before=network.widths,
        widths_after=folded.widths,
        layers=tuple(changes),
        equivalence=equivalence,
        unchanged=unchanged,
        seconds=time.perf_counter() - start,
        stability_seconds=stable.seconds,
        fold_seconds=fold_seconds,
        status=_status(stable, verification_stopped or (
            equivalence is not None and equivalence.milp_status == INTERRUPTED
        )),
    )


def _proof_plan(
    verify: str, network: ReLUNetwork, time_limit: float | None, start: float
) -> tuple[bool, float | None]:
    """Whether to run the MILP proof, and its time limit: what is left of the call's,
    at most ``AUTO_MILP_TIME_LIMIT`` with ``verify="auto"``."""
    use_milp = verify == "milp" or (verify == "auto" and network.n_units <= AUTO_MILP_MAX_UNITS)
    proof_limit = None
    if time_limit is not None:
        proof_limit = max(float(time_limit) - (time.perf_counter() - start), 0.0)
    if verify == "auto":
        proof_limit = (
            AUTO_MILP_TIME_LIMIT if proof_limit is None else min(proof_limit, AUTO_MILP_TIME_LIMIT)
        )
    return use_milp, proof_limit


def _status(stable: StableUnits, verification_interrupted: bool) -> Status:
    """``interrupted`` when a stop cut the stable-unit search or the check short,
    ``time_limit`` when the search stopped early otherwise (a solver failure included:
    the units not decided were kept), else ``complete``."""
    if stable.interrupted or verification_interrupted:
        return INTERRUPTED
    return COMPLETE if stable.complete else TIME_LIMIT


def _same(first: ReLUNetwork, second: ReLUNetwork) -> bool:
    if first.widths != second.widths or first.relu != second.relu:
        return False
    return all(
        np.array_equal(a, b) for a, b in zip(first.weights, second.weights, strict=True)
    ) and all(
        np.array_equal(a, b) for a, b in zip(first.biases, second.biases, strict=True)
    ) and all(np.array_equal(a, b) for a, b in zip(first.slopes, second.slopes, strict=True))


__all__ = [
    "AUTO_MILP_MAX_UNITS",
    "AUTO_MILP_TIME_LIMIT",
    "STRATEGIES",
    "VERIFY_MODES",
    "CompressionResult",
    "Equivalence",
    "LayerChange",
    "MilpDifference",
    "StableUnits",
    "check_equivalence",
    "compress",
    "find_stable_units",
    "fold_network",
    "milp_difference",
    "sampled_difference",
]

