"""The paper's experiments (AAAI 2020, section 6) as one resumable, parallel pipeline.

For every split ``n1 + n2 = 22`` of the hidden units, ``networks_per_split`` networks
``784 -> n1 -> n2 -> 10`` with a ReLU on all three layers are trained on MNIST (seeded);
each is then analysed by one *task*, a pure function of (task, settings, previous
record, saved network) returning a JSON-ready record:

1. ``bounds``: ``tighten_bounds(net, method="milp")`` (timed), reused by every step;
2. ``upper``: Configuration UB and Empirical UB (``upper_bounds(net, bounds=...)``);
3. ``exact``: the exact count (``count_regions(net, method="lp")``); a count cut short
   by ``count_time_limit`` leaves its search frontier (a checkpoint), and a later run
   with a larger limit resumes it instead of starting again;
4. ``exact_milp``: the MILP engine (the paper's method) on the first ``milp_networks``
   networks of each split, for timing;
5. ``xor``: MIPBound XOR-k lower bounds at 95% for ``k in xor_sizes``, on the first
   ``xor_networks`` networks of each split (all by default);
6. ``tree``: where the exact count was cut short, the tree estimate of the count with
   its 95% interval (``estimate_regions(method="tree")``, ``tree_time_limit``), on the
   first ``tree_networks`` networks of each split (all by default): Table 1's value
   for splits whose counts do not finish.

The driver (:func:`reproduce`) does all file I/O, so tasks run unchanged in a local
process pool or on a Dask cluster without a shared file system. Every finished record
is written to ``OUT/records/<key>.json``, every trained network to
``OUT/networks/<key>.npz`` and the frontier of every count cut short to
``OUT/checkpoints/<key>.npz``; a second run skips the finished steps and reuses the
networks. Steps that raised are recorded with their error and retried on the next run.
Finally :mod:`reluscope.experiments.report` turns the records into the CSV, Table 1,
the figures and ``report.md``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import tempfile
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from reluscope import interrupts, validation
from reluscope.errors import ReluscopeError
from reluscope.experiments.records import dump_json, read_json, write_atomic
from reluscope.fileio import check_output
from reluscope.progress import progress_bar
from reluscope.serialise import fields_dict
from reluscope.status import COMPLETE, INTERRUPTED, TIME_LIMIT, WORKER_CRASHED, Status

#: total hidden units of the paper's networks, split as n1 + n2
HIDDEN_UNITS = 22
#: every split of the paper: n1 = 1..21
ALL_SPLITS: tuple[tuple[int, int], ...] = tuple(
    (n1, HIDDEN_UNITS - n1) for n1 in range(1, HIDDEN_UNITS)
)
#: the analysis steps of a task, in the order they run
STEPS = ("bounds", "upper", "exact", "exact_milp", "xor", "tree")


@dataclass(frozen=True)
class ExperimentSettings:
    """Everything that decides the numbers of a reproduction run.

    Attributes
    ----------
    splits
        ``(n1, n2)`` hidden widths to train (the output layer has ``output_width``).
    networks_per_split
        Networks per split (10 in the paper); network ``i`` has seed
        ``seed + 1000 * n1 + i``.
    dataset, n_train
        ``"mnist"`` (the paper) or ``"digits"`` (tests); ``n_train`` keeps the first
        training images only (None: all).
    epochs, batch_size, lr, l1
        The training recipe (:func:`reluscope.experiments.training.train_network`).
    bounds_time_limit
        Seconds per MILP solve of the bound tightening (None: solve to optimality).
    count_time_limit, milp_time_limit, estimate_time_limit
        Seconds for the exact count (LP engine), for the MILP engine and for each XOR-k
        estimate; a step cut short records what it proved. ``count_time_limit`` may be
        raised when resuming a run: counts cut short continue from their checkpoints
        until they have had the new limit in all.
    milp_networks
        How many networks per split are also counted with the MILP engine.
    xor_sizes, confidence, max_repetitions
        MIPBound settings (paper: k = 2..5, 95%, as many repetitions as 99.5% needs).
    xor_networks
        How many networks per split run MIPBound (None: every network).
    tree_time_limit, tree_rel_error, tree_networks
        The tree estimate of a count cut short: seconds (None: until ``tree_rel_error``),
        the half-width it stops at, and how many networks per split (None: every one).
    """

    splits: tuple[tuple[int, int], ...] = ALL_SPLITS
    networks_per_split: int = 10
    output_width: int = 10
    dataset: str = "mnist"
    n_train: int | None = None
    epochs: float = 20.0
    batch_size: int = 128
    lr: float = 1e-3
    l1: float = 0.0
    seed: int = 0
    bounds_time_limit: float | None = None
    count_time_limit: float | None = 3600.0
    milp_networks: int = 1
    milp_time_limit: float | None = 3600.0
    xor_sizes: tuple[int, ...] = (2, 3, 4, 5)
    estimate_time_limit: float | None = 3600.0
    confidence: float = 0.95
    max_repetitions: int | None = None
    xor_networks: int | None = None
    tree_time_limit: float | None = 600.0
    tree_rel_error: float = 0.05
    tree_networks: int | None = None

    def __post_init__(self) -> None:
        splits = tuple((int(a), int(b)) for a, b in self.splits)
        object.__setattr__(self, "splits", splits)
        object.__setattr__(self, "xor_sizes", tuple(int(k) for k in self.xor_sizes))
        if not splits or any(a < 1 or b < 1 for a, b in splits):
            raise ReluscopeError(f"splits must be pairs of positive widths, got {splits}")
        if self.networks_per_split < 1:
            raise ReluscopeError("networks_per_split must be at least 1")
        for name in ("xor_networks", "tree_networks"):
            if getattr(self, name) is not None and getattr(self, name) < 0:
                raise ReluscopeError(f"{name} must be at least 0 (None: every network)")
        if self.dataset not in ("mnist", "digits"):
            raise ReluscopeError(f"dataset must be 'mnist' or 'digits', got {self.dataset!r}")

    def to_dict(self) -> dict[str, Any]:
        return fields_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExperimentSettings:
        known = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in known}
        if "splits" in kwargs:
            kwargs["splits"] = tuple(tuple(s) for s in kwargs["splits"])
        if "xor_sizes" in kwargs:
            kwargs["xor_sizes"] = tuple(kwargs["xor_sizes"])
        return cls(**kwargs)

    def with_scale(
        self, splits: Iterable[tuple[int, int]], networks_per_split: int
    ) -> ExperimentSettings:
        """The same settings on other splits / numbers of networks (extending a run)."""
        return dataclasses.replace(
            self, splits=tuple(splits), networks_per_split=int(networks_per_split)
        )


def quick_settings() -> ExperimentSettings:
    """``--quick``: three splits, one network each, 2 epochs, small time limits.

    Finishes in a few minutes on 2 cores (measured in docs/reproduce.md).
    """
    return ExperimentSettings(
        splits=((2, 20), (11, 11), (16, 6)),
        networks_per_split=1,
        epochs=2.0,
        bounds_time_limit=5.0,
        count_time_limit=40.0,
        milp_networks=1,
        milp_time_limit=20.0,
        xor_sizes=(2, 3, 4, 5),
        estimate_time_limit=15.0,
        max_repetitions=16,
        tree_time_limit=15.0,
    )


# ----------------------------------------------------------------------------- tasks
@dataclass(frozen=True)
class Task:
    """One network: split ``(n1, n2)``, index ``i`` within the split."""

    n1: int
    n2: int
    index: int

    @property
    def key(self) -> str:
        return f"{self.n1:02d}-{self.n2:02d}-{self.index:02d}"

    def seed(self, settings: ExperimentSettings) -> int:
        return int(settings.seed + 1000 * self.n1 + self.index)


def make_tasks(settings: ExperimentSettings) -> list[Task]:
    """All tasks of a run: network 0 of every split first, then network 1, ...

    This order makes a run cut short by a time limit cover every split evenly.
    """
    return [
        Task(n1, n2, i)
        for i in range(settings.networks_per_split)
        for n1, n2 in settings.splits
    ]


def _step_seed(settings: ExperimentSettings, task: Task, k: int) -> int:
    ss = np.random.SeedSequence([settings.seed, task.n1, task.n2, task.index, k])
    return int(ss.generate_state(1)[0])


@functools.lru_cache(maxsize=2)
def _dataset(name: str, n_train: int | None) -> tuple[np.ndarray, ...]:
    """(x, y, x_test, y_test) for a dataset name, cached per process."""
    from reluscope.experiments import mnist

    if name == "mnist":
        x, y = mnist.load_mnist(split="train")
        xt, yt = mnist.load_mnist(split="test")
    else:
        x, y = mnist.load_digits_dataset(split="train")
        xt, yt = mnist.load_digits_dataset(split="test")
    if n_train is not None:
        x, y = x[:n_train], y[:n_train]
    return x, y, xt, yt


def network_to_bytes(network: Any) -> bytes:
    """The network in reluscope's NPZ layout, as bytes (for transfer and saving)."""
    from reluscope.io.npz import save_npz

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "net.npz"
        save_npz(network, path)
        return path.read_bytes()


def network_from_bytes(data: bytes) -> Any:
    from reluscope.io.npz import load_npz

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "net.npz"
        path.write_bytes(data)
        return load_npz(path)


def _bounds_record(bounds: Any, network: Any) -> dict[str, Any]:
    active, inactive, unstable = bounds.count_stable(network)
    return {
        "method": bounds.method,
        "seconds": float(bounds.seconds),
        "exact": bool(bounds.exact),
        "stably_active": active,
        "stably_inactive": inactive,
        "unstable": unstable,
        "unstable_per_layer": [int(bounds.unstable(i).sum()) for i in network.relu_layers],
        "lower": [[float(v) for v in arr] for arr in bounds.lower],
        "upper": [[float(v) for v in arr] for arr in bounds.upper],
    }


def _bounds_from_record(rec: dict[str, Any], network: Any) -> Any:
    from reluscope.bounds import Bounds

    return Bounds(
        lower=tuple(np.asarray(v, dtype=np.float64) for v in rec["lower"]),
        upper=tuple(np.asarray(v, dtype=np.float64) for v in rec["upper"]),
        biases=network.biases,
        method=rec["method"],
        seconds=float(rec["seconds"]),
        exact=bool(rec.get("exact", False)),
    )


def _done(entry: Any) -> bool:
    """A step recorded as finished: no error, and not cut short by Ctrl-C/SIGTERM."""
    return (isinstance(entry, dict) and "error" not in entry
            and entry.get("status") != INTERRUPTED)


class _Stopped(Exception):
    """A step of run_task saw Ctrl-C: record what it proved (marked) and stop."""


def record_finished(record: dict[str, Any] | None, settings: ExperimentSettings) -> bool:
    """True when every step this task needs is recorded without error."""
    if not record or not _done(record.get("train")):
        return False
    for step in ("bounds", "upper"):
        if not _done(record.get(step)):
            return False
    if not finished_under(record.get("exact"), settings.count_time_limit):
        return False
    if tree_due(record, settings):
        return False
    if record["index"] < settings.milp_networks and not _done(record.get("exact_milp")):
        return False
    if not runs_xor(record["index"], settings):
        return True
    xor = record.get("xor") or {}
    return all(finished_under(xor.get(str(k)), settings.estimate_time_limit)
               for k in settings.xor_sizes)


def finished_under(entry: Any, limit: float | None) -> bool:
    """The step (exact count, estimate) is complete, or was cut short only after ``limit``
    seconds in all.

    A step cut short under a smaller limit than today's (a run resumed with a larger
    ``count_time_limit`` or ``estimate_time_limit``) is not finished: it continues, a
    count from its checkpoint, an estimate from its repetitions.
    """
    if not _done(entry):
        return False
    if entry.get("status") != TIME_LIMIT:
        return True
    ran = entry.get("time_limit", entry.get("seconds"))
    return limit is not None and ran is not None and float(ran) >= float(limit)


def tree_due(record: dict[str, Any], settings: ExperimentSettings) -> bool:
    """Whether the record still needs its tree estimate: its exact count was cut short,
    its network runs the estimate (``tree_networks``), and no estimate finished under
    today's ``tree_time_limit``."""
    exact = record.get("exact")
    return (isinstance(exact, dict) and _done(exact) and not exact.get("exact")
            and (settings.tree_networks is None or record["index"] < settings.tree_networks)
            and not finished_under(record.get("tree"), settings.tree_time_limit))


def runs_xor(index: int, settings: ExperimentSettings) -> bool:
    """Whether network ``index`` of its split runs MIPBound (``xor_networks``)."""
    return settings.xor_networks is None or index < settings.xor_networks


def train_task(task: Task, settings: ExperimentSettings) -> Any:
    """Train network ``task`` as the run does (its seed, data and recipe): a TrainResult."""
    from reluscope.experiments.training import train_network

    x, y, xt, yt = _dataset(settings.dataset, settings.n_train)
    return train_network(
        x, y, (task.n1, task.n2, settings.output_width), output_relu=True,
        l1=settings.l1, epochs=settings.epochs, batch_size=settings.batch_size,
        lr=settings.lr, random_state=task.seed(settings), x_test=xt, y_test=yt,
    )


def run_task(
    task: Task,
    settings: ExperimentSettings,
    record: dict[str, Any] | None = None,
    network_bytes: bytes | None = None,
    checkpoint_bytes: bytes | None = None,
) -> tuple[dict[str, Any], bytes, bytes | None]:
    """Train (unless given) and analyse one network.

    Returns (record, network bytes, frontier): the frontier is the checkpoint of an exact
    count cut short (None when it finished), and ``checkpoint_bytes`` the one a previous
    run returned, from which a count cut short under a smaller limit resumes.
    Pure: no file of the results directory is touched, so it runs in any process or on
    any Dask worker. Steps already in ``record`` without error are kept as they are.
    A step that raises is recorded as ``{"error": ...}`` and the next steps still run.
    A step cut short by Ctrl-C/SIGTERM is recorded with ``"status": "interrupted"``
    (never taken as finished on resume) and the task stops there.
    """

    record = json.loads(json.dumps(record)) if record else {}
    record.pop("task_error", None)
    record.update(
        {"key": task.key, "n1": task.n1, "n2": task.n2, "index": task.index,
         "seed": task.seed(settings), "dataset": settings.dataset}
    )

    def step(container: dict[str, Any], name: str, fn: Callable[[], dict[str, Any]]) -> None:
        if _done(container.get(name)):
            return
        try:
            container[name] = fn()
            if interrupts.requested():  # never taken as finished by a later resume
                container[name]["status"] = INTERRUPTED
                raise _Stopped
        except _Stopped:
            raise
        except Exception as exc:  # recorded, retried on the next run
            container[name] = {
                "error": f"{type(exc).__name__}: {exc}",
                "traceback": traceback.format_exc(limit=4),
            }

    # --- training (or reuse of the saved network)
    if network_bytes is not None and _done(record.get("train")):
        network = network_from_bytes(network_bytes)
    else:
        trained = train_task(task, settings)
        network = trained.network
        network_bytes = network_to_bytes(network)
        record["train"] = trained.to_dict()
        for name in STEPS:  # a new network invalidates every analysis
            record.pop(name, None)
        checkpoint_bytes = None
        if interrupts.requested():  # status "interrupted": retrained by the next run
            return record, network_bytes, None

    frontier = [checkpoint_bytes]  # the exact count's checkpoint, updated by its step
    with contextlib.suppress(_Stopped):  # Ctrl-C in a step: return what is recorded
        _analyse(record, network, task, settings, step, frontier)
    return record, network_bytes, frontier[0]


def _analyse(
    record: dict[str, Any],
    network: Any,
    task: Task,
    settings: ExperimentSettings,
    step: Callable[[dict[str, Any], str, Callable[[], dict[str, Any]]], None],
    frontier: list[bytes | None],
) -> None:
    """The analysis steps of run_task (bounds, upper, exact counts, MIPBound), in place.

    ``frontier[0]`` holds the exact count's checkpoint: read to resume, replaced after.
    """
    import reluscope

    _compile_search()
    step(record, "bounds", lambda: _bounds_record(
        reluscope.tighten_bounds(
            network, method="milp", solve_time_limit=settings.bounds_time_limit
        ),
        network,
    ))
    if not _done(record["bounds"]):
        return
    bounds = _bounds_from_record(record["bounds"], network)

    def upper() -> dict[str, Any]:
        start = time.perf_counter()
        ub = reluscope.upper_bounds(network, bounds=bounds)
        out = ub.to_dict()
        out.pop("layers", None)
        out["seconds"] = time.perf_counter() - start
        return out

    previous_exact = record.get("exact")
    checkpoint = frontier[0]

    def exact() -> dict[str, Any]:
        frontier[0] = None  # a count that raises starts afresh next time
        out, frontier[0] = _count_exact(
            network, bounds, settings.count_time_limit, previous_exact, checkpoint
        )
        return out

    def exact_milp() -> dict[str, Any]:
        return reluscope.count_regions(
            network, method="milp", bounds=bounds, time_limit=settings.milp_time_limit
        ).to_dict()

    def tree() -> dict[str, Any]:
        est = reluscope.estimate_regions(
            network, method="tree", bounds=bounds, rel_error=settings.tree_rel_error,
            time_limit=settings.tree_time_limit, confidence=settings.confidence,
            random_state=_step_seed(settings, task, 0),
        )
        return {**est.to_dict(), "time_limit": settings.tree_time_limit}

    step(record, "upper", upper)
    if not finished_under(previous_exact, settings.count_time_limit):
        record.pop("exact", None)  # cut short under a smaller limit: resumed below
        record.pop("tree", None)  # estimated against the count it had then
        step(record, "exact", exact)
    if tree_due(record, settings):
        record.pop("tree", None)  # cut short under a smaller limit: estimated again
        step(record, "tree", tree)
    if task.index < settings.milp_networks:
        step(record, "exact_milp", exact_milp)
    if runs_xor(task.index, settings):
        xor = record.setdefault("xor", {})
        for k in settings.xor_sizes:
            previous = xor.get(str(k))
            if not finished_under(previous, settings.estimate_time_limit):
                xor.pop(str(k), None)  # cut short: continued from its repetitions
                step(xor, str(k), _xor_step(network, bounds, settings, task, k, previous))


def _xor_step(
    network: Any, bounds: Any, settings: ExperimentSettings, task: Task, k: int,
    previous: Any,
) -> Callable[[], dict[str, Any]]:
    """The MIPBound step of XOR size ``k``: continues ``previous`` (a record cut short)
    from its repetitions, within what is left of the step's time limit."""
    import reluscope
    from reluscope.regions.estimate.mipbound import RegionEstimate

    resume = _resumable(previous)
    spent = float(previous["seconds"]) if resume else 0.0
    limit = settings.estimate_time_limit

    def run() -> dict[str, Any]:
        result = reluscope.estimate_regions(
            network, xor_size=k, confidence=settings.confidence,
            random_state=_step_seed(settings, task, k),
            time_limit=None if limit is None else max(limit - spent, 0.0), bounds=bounds,
            max_repetitions=settings.max_repetitions,
            previous=RegionEstimate.from_dict(previous) if resume else None,
        )
        return {**result.to_dict(), "time_limit": limit}

    return run


def _resumable(previous: Any) -> bool:
    """A recorded step cut short (time limit, Ctrl-C) that a later run may continue."""
    return (isinstance(previous, dict) and "error" not in previous
            and previous.get("status") in (TIME_LIMIT, INTERRUPTED))


@functools.cache
def _compile_search() -> None:
    """Compile the counting search and the estimate's probes once per process, before
    any timed step: numba compiles them at their first call (10-40 s without its cache
    on disk, as in a fresh checkout), which no step's time may include."""
    import reluscope

    rng = np.random.default_rng(0)
    tiny = reluscope.ReLUNetwork([rng.normal(size=(4, 2)), rng.normal(size=(3, 4))],
                                 [0.1 * rng.normal(size=4), 0.1 * rng.normal(size=3)])
    reluscope.count_regions(tiny, method="lp", n_jobs=1)
    reluscope.estimate_regions(tiny, method="tree", random_state=0)


def _count_exact(
    network: Any,
    bounds: Any,
    limit: float | None,
    previous: Any,
    checkpoint: bytes | None,
) -> tuple[dict[str, Any], bytes | None]:
    """The lp engine's count, resumed from ``checkpoint`` when ``previous`` was cut short.

    ``limit`` is the total: a resumed count gets what the earlier runs left of it.
    Returns the record (``seconds`` summed over every run, ``time_limit`` the total
    limit) and the new checkpoint (None once the count is complete).
    """
    import reluscope

    resume = checkpoint is not None and _resumable(previous)
    spent = float(previous["seconds"]) if resume else 0.0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "frontier.npz"
        if resume:
            path.write_bytes(checkpoint)  # type: ignore[arg-type]
        result = reluscope.count_regions(
            network, method="lp", bounds=bounds, n_jobs=1, checkpoint=path,
            time_limit=None if limit is None else max(float(limit) - spent, 0.0),
        )
        frontier = path.read_bytes() if not result.exact and path.is_file() else None
    out = result.to_dict()
    out["seconds"] = spent + float(result.seconds)
    out["time_limit"] = limit
    out["runs"] = int(previous.get("runs", 1)) + 1 if resume else 1
    return out, frontier


def run_task_files(
    task: Task, settings_dict: dict[str, Any], record: dict[str, Any] | None,
    network_bytes: bytes | None, checkpoint_bytes: bytes | None = None,
) -> tuple[dict[str, Any], bytes, bytes | None]:
    """:func:`run_task` with plain-data arguments (what a pool or Dask ships)."""
    return run_task(
        task, ExperimentSettings.from_dict(settings_dict), record, network_bytes,
        checkpoint_bytes,
    )


# ----------------------------------------------------------------------------- driver
@dataclass(frozen=True)
class ReproduceResult:
    """What a reproduction run did.

    Attributes
    ----------
    out_dir
        The results directory.
    tasks, finished, computed
        Tasks in the run, tasks whose records are complete, tasks (re)computed now.
    status
        ``"complete"``, ``"time_limit"`` (tasks left unstarted), ``"interrupted"`` or
        ``"worker_crashed"`` (a worker process died; the rest was not started).
    seconds
        Wall time of this call.
    files
        Report files written (relative to ``out_dir``).
    """

    out_dir: str
    tasks: int
    finished: int
    computed: int
    status: Status
    seconds: float
    files: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return fields_dict(self)


#: settings that only say how much to run, not how: a run may be extended along them
_SCALE_FIELDS = (
    "splits", "networks_per_split", "milp_networks", "xor_networks", "count_time_limit",
    "estimate_time_limit", "tree_networks", "tree_time_limit",
)


def _larger(a: Any, b: Any) -> Any:
    """The larger of two settings where None means no limit (every network, no time limit)."""
    return None if a is None or b is None else max(a, b)


def _check_settings(out: Path, settings: ExperimentSettings) -> None:
    """Refuse to mix runs whose numbers would differ (scale may change: extending)."""
    path = out / "settings.json"
    if path.is_file():
        old = json.loads(path.read_text())
        new = settings.to_dict()
        diff = sorted(
            k for k in set(old) | set(new)
            if k not in _SCALE_FIELDS and old.get(k) != new.get(k)
        )
        if diff:
            raise ReluscopeError(
                f"{out} holds a run with other settings ({', '.join(diff)}); use another "
                "--out directory, or the same settings to resume"
            )
        # keep the union of splits so that the report covers everything computed
        splits = [tuple(s) for s in old.get("splits", [])]
        splits += [s for s in settings.splits if s not in splits]
        merged = dataclasses.replace(
            settings.with_scale(
                splits, max(int(old.get("networks_per_split", 1)), settings.networks_per_split)
            ),
            milp_networks=max(int(old.get("milp_networks", 0)), settings.milp_networks),
            xor_networks=_larger(old.get("xor_networks"), settings.xor_networks),
            count_time_limit=_larger(old.get("count_time_limit"), settings.count_time_limit),
            estimate_time_limit=_larger(
                old.get("estimate_time_limit"), settings.estimate_time_limit
            ),
            tree_networks=_larger(old.get("tree_networks"), settings.tree_networks),
            tree_time_limit=_larger(old.get("tree_time_limit"), settings.tree_time_limit),
        )
        dump_json(path, merged.to_dict())
    else:
        dump_json(path, settings.to_dict())


def checkpoint_path(out: Path, key: str) -> Path:
    """Where the frontier of task ``key``'s exact count, cut short, is kept."""
    return out / "checkpoints" / f"{key}.npz"


def load_record(out: Path, task: Task) -> dict[str, Any] | None:
    """The saved record of ``task`` in ``out``; None when there is none (or unreadable)."""
    return read_json(out / "records" / f"{task.key}.json")


def _process_pool(n_jobs: int) -> Any:
    """A pool of ``n_jobs`` spawned processes; None for one job (run here)."""
    if n_jobs <= 1:
        return None
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # spawn: no fork of a parent that may hold torch / SCIP state
    return ProcessPoolExecutor(
        max_workers=n_jobs, mp_context=multiprocessing.get_context("spawn")
    )


@interrupts.entry_point
def reproduce(
    out_dir: str | Path,
    *,
    settings: ExperimentSettings | None = None,
    quick: bool = False,
    n_jobs: int = 1,
    cluster: str | Any | None = None,
    time_limit: float | None = None,
    report: bool = True,
    leo_path: str | Path | None = None,
    progress: bool = False,
) -> ReproduceResult:
    """Run (or resume) the paper's experiments into ``out_dir`` and write the report.

    Parameters
    ----------
    settings
        What to run; default the full paper setting, or :func:`quick_settings` when
        ``quick``.
    n_jobs
        Local worker processes (1: run in this process).
    cluster
        A Dask scheduler address (``tcp://host:8786``) or a ``distributed.Client``: the
        tasks run there instead of in local processes. Workers need reluscope and the
        data installed; results come back to this process, which writes every file.
    time_limit
        Seconds for this call: once passed, no new task is started (running ones
        finish), and the report is written from what is finished.
    report
        Write CSV, Table 1, figures and report.md at the end.
    leo_path
        A ``bench_leo.jsonl`` (benchmarks/bench_leo.py) to include as the LEO table
        (default: ``out_dir/bench_leo.jsonl`` when present).
    progress
        Show a tqdm bar over the tasks.
    """
    start = time.perf_counter()
    if settings is None:
        settings = quick_settings() if quick else ExperimentSettings()
    n_jobs = validation.check_n_jobs(n_jobs)
    time_limit = validation.check_time_limit(time_limit)
    out = _out_dir(out_dir)
    _check_settings(out, settings)
    tasks = make_tasks(settings)
    todo = _unfinished(out, tasks, settings)
    deadline = None if time_limit is None else start + float(time_limit)
    status = COMPLETE
    bar = progress_bar(progress, total=len(tasks), initial=len(tasks) - len(todo),
                       desc="networks", unit="net")
    run_files = _RunFiles(out, bar)
    save, fail = run_files.save, run_files.fail

    from reluscope.regions.search.distributed import dask_client

    settings_dict = settings.to_dict()
    # the Dask client (an address, a Client, a LocalCluster), closed below if made here
    dask = contextlib.ExitStack()
    client, threads = dask.enter_context(dask_client(cluster, need_workers=False))
    executor = client if client is not None else _process_pool(n_jobs)
    try:
        if executor is None:
            status = _run_here(todo, settings, save, fail, deadline)
        else:
            # at most one task per worker (thread), so that a deadline stops new starts
            max_pending = n_jobs if cluster is None else max(1, threads)
            status = _run_parallel(
                executor, todo, settings_dict, save, fail, deadline,
                dask=cluster is not None, max_pending=max_pending,
            )
    except KeyboardInterrupt:
        interrupts.note()
        status = INTERRUPTED
    finally:
        if bar is not None:
            bar.close()
        if executor is not None and cluster is None:
            executor.shutdown(wait=status is COMPLETE, cancel_futures=True)
        dask.close()
    finished = sum(record_finished(load_record(out, t), settings) for t in tasks)
    files: tuple[str, ...] = ()
    if report:
        from reluscope.experiments.report import write_report

        run_info = {"status": status, "seconds": time.perf_counter() - start,
                    "jobs": n_jobs if cluster is None else "dask", "computed": run_files.computed,
                    "tasks": len(tasks), "finished": finished}
        files = write_report(out, leo_path=leo_path, run_info=run_info)
    return ReproduceResult(
        out_dir=str(out), tasks=len(tasks), finished=finished, computed=run_files.computed,
        status=status, seconds=time.perf_counter() - start, files=files,
    )


class _RunFiles:
    """Writes what the tasks return into the results directory (this process writes
    every file, wherever a task ran), counting the tasks computed."""

    def __init__(self, out: Path, bar: Any) -> None:
        self.out, self.bar = out, bar
        self.computed = 0

    def save(self, record: dict[str, Any], net_bytes: bytes, frontier: bytes | None) -> None:
        """A finished task: its network, its search checkpoint (if any) and its record."""
        key = record["key"]
        write_atomic(self.out / "networks" / f"{key}.npz", net_bytes)
        frontier_path = checkpoint_path(self.out, key)
        if frontier is not None:
            write_atomic(frontier_path, frontier)
        else:
            frontier_path.unlink(missing_ok=True)
        dump_json(self.out / "records" / f"{key}.json", record)
        self.computed += 1
        if self.bar is not None:
            self.bar.update(1)

    def fail(self, task: Task, exc: BaseException) -> None:
        """A task that raised outside its steps (training, a crashed worker): note it."""
        record = load_record(self.out, task) or {"key": task.key, "n1": task.n1,
                                                  "n2": task.n2, "index": task.index}
        record["task_error"] = f"{type(exc).__name__}: {exc}"
        dump_json(self.out / "records" / f"{task.key}.json", record)


def _out_dir(out_dir: str | Path) -> Path:
    """The results directory, made if missing and checked writable (before any
    training)."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReluscopeError(f"--out {out}: cannot create it ({exc.strerror or exc})") from None
    check_output(out / "settings.json", what="--out")
    return out


_Todo = list[tuple[Task, dict[str, Any] | None, bytes | None, bytes | None]]


def _unfinished(out: Path, tasks: list[Task], settings: ExperimentSettings) -> _Todo:
    """The tasks still to (re)compute, each with its record, network file and search
    checkpoint as far as they exist."""
    todo = []
    for task in tasks:
        record = load_record(out, task)
        net_path = out / "networks" / f"{task.key}.npz"
        if record_finished(record, settings) and net_path.is_file():
            continue
        net_bytes = net_path.read_bytes() if net_path.is_file() else None
        frontier_path = checkpoint_path(out, task.key)
        frontier = frontier_path.read_bytes() if frontier_path.is_file() else None
        todo.append((task, record, net_bytes, frontier))
    return todo


def _run_here(
    todo: _Todo,
    settings: ExperimentSettings,
    save: Callable[[dict[str, Any], bytes, bytes | None], None],
    fail: Callable[[Task, BaseException], None],
    deadline: float | None,
) -> Status:
    """Run the tasks one by one in this process; no new start after the deadline, and
    none after a Ctrl-C inside a step."""
    for task, record, net_bytes, frontier in todo:
        if deadline is not None and time.perf_counter() >= deadline:
            return TIME_LIMIT
        try:
            result = run_task(task, settings, record, net_bytes, frontier)
        except Exception as exc:  # noted in the record, retried next run
            fail(task, exc)
            continue
        save(*result)
        if interrupts.requested():  # Ctrl-C inside a step: stop the run
            return INTERRUPTED
    return COMPLETE


def _run_parallel(
    executor: Any,
    todo: _Todo,
    settings_dict: dict[str, Any],
    save: Callable[[dict[str, Any], bytes, bytes | None], None],
    fail: Callable[[Task, BaseException], None],
    deadline: float | None,
    *,
    dask: bool,
    max_pending: int,
) -> Status:
    """Submit tasks (at most ``max_pending`` at once, so a deadline stops new starts)."""
    from concurrent.futures import BrokenExecutor

    status = COMPLETE
    queue = list(todo)
    pending: set[Any] = set()
    owner: dict[Any, Task] = {}
    if dask:
        from distributed import wait as dask_wait

        def wait_one(futs: set[Any]) -> tuple[set[Any], set[Any]]:
            done = dask_wait(list(futs), return_when="FIRST_COMPLETED")
            return set(done.done), set(done.not_done)
    else:
        from concurrent.futures import FIRST_COMPLETED
        from concurrent.futures import wait as cf_wait

        def wait_one(futs: set[Any]) -> tuple[set[Any], set[Any]]:
            done, not_done = cf_wait(futs, return_when=FIRST_COMPLETED)
            return set(done), set(not_done)

    limit = max_pending
    while queue or pending:
        while queue and len(pending) < limit:
            if deadline is not None and time.perf_counter() >= deadline:
                status = TIME_LIMIT
                queue.clear()
                break
            task, *data = queue.pop(0)
            if dask:
                fut = executor.submit(
                    run_task_files, task, settings_dict, *data, pure=False
                )
            else:
                fut = executor.submit(run_task_files, task, settings_dict, *data)
            pending.add(fut)
            owner[fut] = task
        if not pending:
            break
        done, pending = wait_one(pending)
        for fut in done:
            task = owner.pop(fut)
            try:
                result = fut.result()
            except Exception as exc:  # noted in the record, retried next run
                fail(task, exc)
                if isinstance(exc, BrokenExecutor):  # a worker died: no new starts
                    status = WORKER_CRASHED
                    queue.clear()
                continue
            save(*result)
    return status


__all__ = [
    "ALL_SPLITS",
    "ExperimentSettings",
    "ReproduceResult",
    "Task",
    "make_tasks",
    "quick_settings",
    "record_finished",
    "reproduce",
    "run_task",
]
