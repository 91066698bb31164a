"""The compiled ``lp`` engine against the HiGHS search (``highs``) and the paper's ``milp``.

One process, side by side on the same bounds, ``n_jobs=1``: for each network the
regions counted, CPU seconds, regions per CPU second, LPs per region and (compiled
engine) simplex iterations per LP and the share of LPs stopped early by a certificate;
then the ratios of regions per CPU second ``lp/highs`` and ``lp/milp``. An engine that
hits its time limit is rated on what it proved (a rate, marked ``~``). First, numba's
compile time: a cold compile into an empty cache folder and a warm start from it, each
in a fresh interpreter.

Run::

    .venv/bin/python benchmarks/bench_engine.py            # about 8 minutes
    .venv/bin/python benchmarks/bench_engine.py --quick    # about 3 minutes

Rates use CPU seconds of this process (the machine may be shared); compare ratios
within one run only.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import reluscope  # noqa: E402
from netgen import random_network  # noqa: E402
from reluscope.bounds import tighten_bounds  # noqa: E402
from reluscope.data import example_network  # noqa: E402
from reluscope.regions.count.dispatch import count_regions  # noqa: E402
from reluscope.regions.result import RegionCount  # noqa: E402
from reluscope.regions.search import engine  # noqa: E402

NETS = Path(__file__).resolve().parents[2] / "shared" / "nets"  # beside the repository
_COMPILE_SNIPPET = (
    "import time; t = time.perf_counter(); import numpy as np; import reluscope; "
    "net = reluscope.ReLUNetwork([np.array([[1.0], [-1.0]])], [np.array([-0.5, 0.5])]); "
    "reluscope.count_regions(net, bounds_method='interval', n_jobs=1); "
    "print(time.perf_counter() - t)"
)


def compile_times() -> tuple[float, float]:
    """Seconds of a first count in a fresh interpreter: empty numba cache, then warm."""
    src = str(Path(__file__).resolve().parents[1] / "src")
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache, "PYTHONPATH": src}
        out = []
        for _ in range(2):
            res = subprocess.run(
                [sys.executable, "-c", _COMPILE_SNIPPET], env=env, capture_output=True,
                text=True, check=True,
            )
            out.append(float(res.stdout.strip().splitlines()[-1]))
    return out[0], out[1]


def networks(quick: bool) -> list[tuple[str, reluscope.ReLUNetwork]]:
    nets: list[tuple[str, reluscope.ReLUNetwork]] = [
        ("2;8;8;6 [-2,2]", random_network(2, 2, (8, 8, 6), lower=-2.0, upper=2.0)),
        ("2;32;32;16 [-2,2]", random_network(3, 2, (32, 32, 16), lower=-2.0, upper=2.0)),
        ("3;8;8;6 [-1,1]", random_network(3, 3, (8, 8, 6), lower=-1.0, upper=1.0)),
        ("3;12;12;8 [-2,2]", random_network(5, 3, (12, 12, 8), lower=-2.0, upper=2.0)),
        ("4;16;16;8 [-2,2]", random_network(7, 4, (16, 16, 8), lower=-2.0, upper=2.0)),
        ("example 64;6;6;10", example_network()),
        ("random 784;6;6;4", random_network(2, 784, (6, 6, 4))),
    ]
    for name in ("a", "b"):
        path = NETS / f"mnist-784-8-8-10-{name}.npz"
        if path.exists():
            nets.append((f"MNIST 784;8;8;10-{name}", reluscope.load(path)))
    if quick:
        nets = [nets[1], nets[5], *nets[7:8]]
    return nets


class Capture:
    """Keep the searchers the lp engine makes (for their simplex counters)."""

    def __init__(self) -> None:
        self.searchers: list[object] = []
        self.original = engine.new_searcher

    def __enter__(self) -> Capture:
        def make(prep, record, kind):
            searcher = self.original(prep, record, kind)
            self.searchers.append(searcher)
            return searcher

        engine.new_searcher = make  # type: ignore[assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        engine.new_searcher = self.original  # type: ignore[assignment]


def timed(net, method: str, bounds, limit: float):
    with Capture() as cap:
        t = time.process_time()
        try:
            res = count_regions(net, method=method, bounds=bounds, n_jobs=1, time_limit=limit)
        except Exception as exc:  # a SolverError of HiGHS; SCIP failures come back as status
            print(f"  {method}: failed ({exc})", flush=True)
            res = RegionCount(0, False, method, "failed", 0.0)
        cpu = time.process_time() - t
    iters = certified = 0
    handed = 0
    for s in cap.searchers:
        stats = getattr(s, "stats", None)
        if stats is not None:
            iters += int(stats[0])
            certified += int(stats[1])
            handed += int(stats[2])
    if method == "lp":
        print(f"  {method}: {res.lp_solves} LPs, {handed} handed to HiGHS", flush=True)
    return res, cpu, iters, certified


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--lp-limit", type=float, default=120.0)
    parser.add_argument("--other-limit", type=float, default=40.0)
    args = parser.parse_args()
    other_limit = 20.0 if args.quick else args.other_limit
    cold, warm = compile_times()
    print(f"numba: first count in a fresh interpreter {cold:.1f} s with an empty cache, "
          f"{warm:.2f} s with the cache written by it")
    print(f"time limits: lp {args.lp_limit:g} s, highs/milp {other_limit:g} s; bounds: lp; "
          "rates in regions per CPU second; ~ = rate of a run cut short")
    head = (f"{'network':<22} {'regions':>8} {'lp r/s':>9} {'highs r/s':>10} {'milp r/s':>9} "
            f"{'lp/highs':>8} {'lp/milp':>8} {'LP/reg':>6} {'it/LP':>6} {'cert%':>6}")
    print(head)
    # load the cached machine code before any timing (a fresh process pays ~0.5-1 s once)
    count_regions(random_network(0, 2, (3,)), bounds_method="interval", n_jobs=1)
    for name, net in networks(args.quick):
        bounds = tighten_bounds(net, method="lp")
        runs = {
            "lp": timed(net, "lp", bounds, args.lp_limit),
            "highs": timed(net, "highs", bounds, other_limit),
            "milp": timed(net, "milp", bounds, other_limit),
        }
        lp, lp_cpu, iters, certified = runs["lp"]
        if runs["highs"][0].exact:
            assert runs["highs"][0].regions == lp.regions or not lp.exact, name
        if runs["milp"][0].exact:
            assert runs["milp"][0].regions == lp.regions or not lp.exact, name

        def rate(run) -> float:
            return run[0].regions / max(run[1], 1e-9)

        def cell(run) -> str:
            if run[0].status == "failed":
                return "failed"
            return f"{'' if run[0].exact else '~'}{rate(run):.0f}"

        regions = f"{'' if lp.exact else '>='}{lp.regions}"
        ratio_h = rate(runs["lp"]) / max(rate(runs["highs"]), 1e-9)
        ratio_m = rate(runs["lp"]) / max(rate(runs["milp"]), 1e-9)
        if runs["milp"][0].status == "failed":
            ratio_m = float("nan")
        print(
            f"{name:<22} {regions:>8} {cell(runs['lp']):>9} {cell(runs['highs']):>10} "
            f"{cell(runs['milp']):>9} {ratio_h:>8.1f} {ratio_m:>8.1f} "
            f"{lp.lp_solves / max(lp.regions, 1):>6.2f} {iters / max(lp.lp_solves, 1):>6.1f} "
            f"{100.0 * certified / max(lp.lp_solves, 1):>6.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
