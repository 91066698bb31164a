"""The compiled search of the ``lp`` method: same tasks and slices as the HiGHS search.

:class:`CompiledSearcher` implements :class:`~reluscope.regions.search.core.Searcher`
(``run(task, slice_end=..., stop=...) -> SliceOutcome``), so the driver of
:mod:`~reluscope.regions.search.engine` (``n_jobs``, time limit, Ctrl-C, checkpoints,
patterns file, progress bar) runs either engine unchanged. The search itself, with its
own certified LP solver, is the numba kernel :mod:`reluscope.regions.search._kernel`;
see its docstring for the LP and for what backs each decision.

A node the kernel cannot decide safely (*trouble*: iteration cap, failed certificate,
failed witness check) is handed to a :class:`~reluscope.regions.search.highs.HighsSearcher`
for a short slice; what that slice leaves over goes back to the compiled search. Both
engines use the same region definition, so the count does not depend on who decided
which node.

numba compiles the kernel on first use and caches the machine code on disk
(``cache=True``, next to the module or in ``NUMBA_CACHE_DIR``): the first call of a
fresh install pays the compile time once (measured in docs/bench-count.md).
"""

from __future__ import annotations

import threading
import time

import numpy as np

from reluscope.network import FloatArray
from reluscope.regions.search import _kernel as K
from reluscope.regions.search.core import PreparedNetwork, SliceOutcome, Task
from reluscope.regions.search.highs import MAX_WITNESSES, HighsSearcher
from reluscope.tolerances import (
    BOUND_PADDING,
    CERTIFICATE_RTOL,
    DOMAIN_TOL,
    KERNEL_COST_PERTURBATION,
    KERNEL_DUAL_TOL,
    KERNEL_MAX_ITERATIONS,
    KERNEL_PIVOT_TOL,
    REGION_EPS,
    SOLVER_FEASIBILITY_TOL,
    WITNESS_TOL,
)

#: Nodes per kernel call at most (the clock and Ctrl-C are checked between calls).
NODE_BUDGET = 256
#: Seconds one kernel call should take at most: the node budget halves after a longer
#: call and doubles (up to NODE_BUDGET) after a call under a quarter of it, so a stop
#: or a slice end is seen within about this time whatever a node costs (256 nodes of a
#: 784-input network took 9-15 s on a loaded machine: a SIGTERM waited that long).
CALL_SECONDS = 0.1
#: Nodes a HiGHS searcher decides for a node the kernel handed over: that node and up to
#: 15 below it. A node budget, not a clock: a 1 ms slice returned the node undecided
#: whenever reaching it took HiGHS longer (29 of 71 hand-overs in an estimate run on
#: MNIST 784;12;12;10), so it came back again and the same seed gave other estimates.
FALLBACK_NODES = 16
#: The kernel's tolerances and limits.
SETTINGS = K.Settings(
    feasibility_tol=SOLVER_FEASIBILITY_TOL,
    dual_tol=KERNEL_DUAL_TOL,
    pivot_tol=KERNEL_PIVOT_TOL,
    certificate_rtol=CERTIFICATE_RTOL,
    max_iterations=KERNEL_MAX_ITERATIONS,
    region_eps=REGION_EPS,
    witness_tol=WITNESS_TOL,
    bound_padding=BOUND_PADDING,
    cost_perturbation=KERNEL_COST_PERTURBATION,
    domain_tol=DOMAIN_TOL,
)


def kernel_is_cached() -> bool:
    """Whether numba's on-disk cache already holds the compiled search (else the first
    count of this process compiles it: 10-60 s on a 2-core machine, measured)."""
    from pathlib import Path

    cache = Path(K.search._cache._cache_path)  # type: ignore[attr-defined]
    return any(cache.glob("_kernel.search-*.nbi"))


class CompiledSearcher:
    """Depth-first search over activation patterns in compiled code (one per process)."""

    # long: straight-line allocation of every array of the kernel's Network, Path and Stack records
    def __init__(self, prep: PreparedNetwork, *, record_patterns: bool = False) -> None:
        self.prep = prep
        self.record = record_patterns
        n, nu = prep.n_inputs, prep.n_units
        self.n, self.nu = n, nu
        mp = int(prep.domain_A.shape[0])  # polytope rows: the first rows, always there
        rows = nu + 1 + mp  # LP rows: one per decided unit, plus the polytope's
        n_layers = len(prep.weights)
        widths = np.array([w.shape[0] for w in prep.weights], dtype=np.int64)
        wmax = int(widths.max()) if n_layers else 1
        self.widths = widths if n_layers else np.zeros(0, dtype=np.int64)
        if n_layers:
            self.w0 = np.ascontiguousarray(prep.weights[0], dtype=float)
        else:
            self.w0 = np.zeros((1, n))
        self.b0 = np.asarray(prep.biases[0], dtype=float) if n_layers else np.zeros(1)
        self.wd = np.zeros((max(n_layers, 1), wmax, wmax))
        self.bd = np.zeros((max(n_layers, 1), wmax))
        for k in range(n_layers):
            self.bd[k, : widths[k]] = prep.biases[k]
            if k > 0:
                self.wd[k, : widths[k], : widths[k - 1]] = prep.weights[k]
        self.layer_of = np.array(prep.layer_of, dtype=np.int64)
        self.idx_in_layer = np.array(prep.index_in_layer, dtype=np.int64)
        self.layer_start = np.array(prep.layer_start, dtype=np.int64)
        self.last_of_layer = np.array(
            [
                (prep.layer_start[k + 1] - 1 if k + 1 < n_layers else nu - 1)
                for k in range(n_layers)
            ],
            dtype=np.int64,
        )
        self.xl = np.ascontiguousarray(prep.lower, dtype=float)
        self.xu = np.ascontiguousarray(prep.upper, dtype=float)
        self.glo = np.ascontiguousarray(prep.global_lower, dtype=float)
        self.ghi = np.ascontiguousarray(prep.global_upper, dtype=float)
        # path state
        self.ist = np.zeros(K.N_ISTATE, dtype=np.int64)
        self.sides = np.zeros(nu, dtype=np.uint8)
        self.is_set = np.zeros(nu, dtype=np.bool_)
        self.set_units = np.zeros(nu + 1, dtype=np.int64)
        self.rows_before = np.zeros(nu + 1, dtype=np.int64)
        self.row_unit = np.zeros(rows, dtype=np.int64)
        self.row_a = np.zeros((rows, n))
        self.row_b = np.zeros(rows)
        self.row_s = np.zeros(rows)
        self.snap_basic = np.zeros((nu + 2, rows), dtype=np.int64)
        self.snap_m = np.zeros(nu + 2, dtype=np.int64)
        self.map_a = np.zeros((max(n_layers, 1), wmax, n))
        self.map_c = np.zeros((max(n_layers, 1), wmax))
        self.map_lo = np.zeros((max(n_layers, 1), wmax))
        self.map_hi = np.zeros((max(n_layers, 1), wmax))
        if n_layers:
            w = self.w0
            self.map_a[0, : widths[0]] = w
            self.map_c[0, : widths[0]] = self.b0
            lo_part = np.minimum(w * self.xl, w * self.xu).sum(axis=1)
            hi_part = np.maximum(w * self.xl, w * self.xu).sum(axis=1)
            self.map_lo[0, : widths[0]] = self.b0 + lo_part
            self.map_hi[0, : widths[0]] = self.b0 + hi_part
        # the stack: at most two children per node on the path
        size = 2 * nu + 2
        self.st_k = np.zeros(size, dtype=np.int64)
        self.st_code = np.zeros(size, dtype=np.int64)
        self.st_add = np.zeros(size, dtype=np.bool_)
        self.st_np = np.zeros(size, dtype=np.int64)
        self.st_pts = np.zeros((size, MAX_WITNESSES, n))
        self.budget = 8  # nodes per kernel call: grows to NODE_BUDGET (see CALL_SECONDS)
        kept = NODE_BUDGET if record_patterns else 0
        self.patterns = np.zeros((kept, max(nu, 1)), dtype=np.uint8)
        self.trouble_pt = np.zeros(n)
        self.lp = K.new_lp_work(rows, n)
        self.inv_state = self.lp.inv_state
        # a polytope domain A x <= b: rows -A x >= -b at the root, their slacks basic
        for k in range(mp):
            a = -np.asarray(prep.domain_A[k], dtype=float)
            self.row_a[k] = a
            self.row_b[k] = -float(prep.domain_b[k])
            hi = float(np.maximum(a * self.xl, a * self.xu).sum())
            self.row_s[k] = max(hi - self.row_b[k], 0.0) * (1.0 + 1e-9) + BOUND_PADDING
            self.snap_basic[0, k] = n + k
        self.snap_m[0] = mp
        self.ist[K.I_M] = mp
        self.ist[K.I_DOMAIN_ROWS] = mp
        #: [simplex iterations, LPs stopped early by a certificate, LPs handed over]
        self.stats = self.lp.stats
        self.settings = SETTINGS
        # the same arrays, grouped as the kernel takes them
        self.net = K.Network(
            self.layer_of, self.idx_in_layer, self.layer_start, self.last_of_layer, self.w0,
            self.b0, self.wd, self.bd, self.widths, self.xl, self.xu, self.glo, self.ghi,
        )
        self.path = K.Path(
            self.ist, self.sides, self.is_set, self.set_units, self.rows_before, self.row_unit,
            self.row_a, self.row_b, self.row_s, self.snap_basic, self.snap_m, self.map_a,
            self.map_c, self.map_lo, self.map_hi,
        )
        self.stack = K.Stack(
            self.st_k, self.st_code, self.st_add, self.st_np, self.st_pts, self.patterns,
            self.trouble_pt,
        )
        self.fallback_nodes = 0
        self._highs: HighsSearcher | None = None

    @property
    def lp_solves(self) -> int:
        return int(self.ist[K.I_LPS]) + (self._highs.lp_solves if self._highs else 0)

    # ----------------------------------------------------------------- the path
    def _descend(self, unit: int, side: int, add_row: bool) -> None:
        K.descend(unit, side, add_row, self.net, self.path, self.inv_state, self.settings)

    def _truncate(self, depth: int) -> None:
        K.truncate(depth, self.ist, self.is_set, self.set_units, self.rows_before)

    def _path_codes(self, depth: int) -> np.ndarray:
        units = self.set_units[:depth].astype(np.int32)
        return 2 * units + self.sides[units].astype(np.int32)

    def _goto(self, prefix: np.ndarray) -> None:
        current_depth = int(self.ist[K.I_DEPTH])
        limit = min(len(prefix), current_depth)
        differ = np.flatnonzero(self._path_codes(limit) != prefix[:limit])
        common = int(differ[0]) if differ.size else limit
        self._truncate(common)
        prep = self.prep
        for code in prefix[common:].tolist():
            unit, side = code >> 1, code & 1
            layer, i = prep.layer_of[unit], prep.index_in_layer[unit]
            lo_u = max(self.map_lo[layer, i], prep.global_lower[unit])
            hi_u = min(self.map_hi[layer, i], prep.global_upper[unit])
            redundant = lo_u >= REGION_EPS if side else hi_u <= 0
            self._descend(unit, side, not redundant)

    def _push(self, k: int, code: int, point: FloatArray, add_row: bool) -> None:
        sp = int(self.ist[K.I_SP])
        self.st_k[sp] = k
        self.st_code[sp] = code
        self.st_add[sp] = add_row
        self.st_np[sp] = 1
        self.st_pts[sp, 0] = point
        self.ist[K.I_SP] = sp + 1

    def _call_kernel(self, budget: int | None = None, stop_at_branch: bool = False) -> int:
        """One kernel call: ``budget`` nodes, or the budget that keeps a call near
        ``CALL_SECONDS`` (so a stop is seen within about that time)."""
        if budget is not None:
            return self._search_call(budget, stop_at_branch)
        begin = time.monotonic()
        code = self._search_call(self.budget, stop_at_branch)
        took = time.monotonic() - begin
        if took > CALL_SECONDS:
            self.budget = max(1, self.budget // 2)
        elif took < CALL_SECONDS / 4:
            self.budget = min(NODE_BUDGET, self.budget * 2)
        return code

    def _search_call(self, budget: int, stop_at_branch: bool = False) -> int:
        return int(
            K.search(
                budget, self.net, self.path, self.stack, self.lp, self.settings, stop_at_branch
            )
        )

    def _start(self, task: Task) -> None:
        prefix, witness = task
        prefix = np.asarray(prefix, dtype=np.int32)
        self.ist[K.I_SP] = 0
        if len(prefix):
            self._goto(prefix[:-1])
            self._push(len(prefix), int(prefix[-1]), np.asarray(witness, dtype=float), True)
        else:
            self._truncate(0)
            self._push(0, -1, np.asarray(witness, dtype=float), False)

    def _export(self) -> list[Task]:
        """The pending stack entries as tasks (bottom first), emptying the stack."""
        out: list[Task] = []
        for sp in range(int(self.ist[K.I_SP])):
            k = int(self.st_k[sp])
            if k > 0:
                prefix = np.append(self._path_codes(k - 1), np.int32(self.st_code[sp]))
            else:
                prefix = np.zeros(0, dtype=np.int32)
            out.append((prefix.astype(np.int32), self.st_pts[sp, 0].copy()))
        self.ist[K.I_SP] = 0
        return out

    # -------------------------------------------------------------------- search
    def run(
        self,
        task: Task,
        *,
        slice_end: float,
        stop: threading.Event | None = None,
    ) -> SliceOutcome:
        """Search the subtree of ``task`` until done, ``slice_end`` (monotonic) or ``stop``."""
        result = SliceOutcome()
        packed: list[bytes] = []
        lp_before = self.lp_solves
        regions0, nodes0 = int(self.ist[K.I_REGIONS]), int(self.ist[K.I_NODES])
        extra_regions = extra_nodes = 0
        pending: list[Task] = [task]  # tasks of this slice not yet started (LIFO)
        clock = time.monotonic
        first = True
        while pending:
            if not first and (clock() >= slice_end or (stop is not None and stop.is_set())):
                break
            first = False
            self._start(pending.pop())
            while True:
                self.ist[K.I_NPAT] = 0
                code = self._call_kernel()
                if self.record:
                    npat = int(self.ist[K.I_NPAT])
                    packed.extend(
                        np.packbits(self.patterns[j, : self.nu]).tobytes() or b"\x00"
                        for j in range(npat)
                    )
                if code == K.TROUBLE:
                    k = int(self.ist[K.I_TROUBLE_K])
                    bad: Task = (self._path_codes(k), self.trouble_pt.copy())
                    res = self._fallback(bad)
                    extra_regions += res.regions
                    extra_nodes += res.nodes
                    if res.packed:
                        packed.append(res.packed)
                    pending.extend(res.remaining)
                    continue
                if code == K.DONE:
                    break
                if clock() >= slice_end or (stop is not None and stop.is_set()):
                    break
            if self.ist[K.I_SP] > 0:
                pending.extend(self._export())
        result.remaining = pending  # the driver pops from the end: depth first
        result.regions = int(self.ist[K.I_REGIONS]) - regions0 + extra_regions
        result.nodes = int(self.ist[K.I_NODES]) - nodes0 + extra_nodes
        result.lp_solves = self.lp_solves - lp_before
        result.packed = b"".join(packed)
        return result

    def _fallback(self, task: Task) -> SliceOutcome:
        """Let the HiGHS search decide a node the kernel handed over."""
        if self._highs is None:
            self._highs = HighsSearcher(self.prep, record_patterns=self.record)
        self.fallback_nodes += 1
        return self._highs.run(task, slice_end=float("inf"), max_nodes=FALLBACK_NODES)
