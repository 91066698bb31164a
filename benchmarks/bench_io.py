"""Save and load times of the three formats, as ratios to NPZ, on networks of paper size.

A one-off CLI call also pays for importing the framework (torch, onnx): that cost is
measured separately, in a fresh process per format, besides the median of repeated
calls in this process. Reproduce docs/bench-io.md with::

    .venv/bin/python benchmarks/bench_io.py
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from reluscope.io import load, save
from reluscope.network import ReLUNetwork


def paper_network(widths: tuple[int, ...], seed: int = 0) -> ReLUNetwork:
    rng = np.random.default_rng(seed)
    weights, biases, fan_in = [], [], 784
    for width in widths:
        weights.append(rng.normal(size=(width, fan_in)) / np.sqrt(fan_in))
        biases.append(rng.normal(size=width))
        fan_in = width
    return ReLUNetwork(weights, biases)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    nets = {"784;32;10": paper_network((32, 10)), "784;100;100;10": paper_network((100, 100, 10)),
            "784;400;400;10": paper_network((400, 400, 10))}
    formats = (".npz", ".onnx", ".pt")
    with tempfile.TemporaryDirectory() as tmp:
        first = {}
        for suffix in formats:  # one-off cost in a fresh process: imports + first read
            path = Path(tmp) / f"fresh{suffix}"
            save(nets["784;100;100;10"], path)
            code = (
                "import time, warnings; warnings.simplefilter('ignore'); "
                "t = time.perf_counter(); from reluscope.io import load; "
                f"load({str(path)!r}); print(time.perf_counter() - t)"
            )
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                 check=True)
            first[suffix] = float(out.stdout.strip())
        print(f"{'network':>16} {'format':>6} {'size kB':>8} {'save ms':>8} {'load ms':>8}"
              f" {'save/npz':>9} {'load/npz':>9}")
        for name, net in nets.items():
            rows = {}
            for suffix in formats:
                path = Path(tmp) / f"net{suffix}"
                saves = [timed(lambda p=path, n=net: save(n, p)) for _ in range(args.repeats)]
                loads = [timed(lambda p=path: load(p)) for _ in range(args.repeats)]
                back = load(path)
                pairs = zip(net.weights, back.weights, strict=True)
                assert all(np.array_equal(a, b) for a, b in pairs)
                rows[suffix] = (path.stat().st_size / 1024, statistics.median(saves),
                                statistics.median(loads))
            base = rows[".npz"]
            for suffix, (size, save_s, load_s) in rows.items():
                print(f"{name:>16} {suffix:>6} {size:>8.0f} {1e3 * save_s:>8.2f}"
                      f" {1e3 * load_s:>8.2f} {save_s / base[1]:>9.2f} {load_s / base[2]:>9.2f}")
    print("fresh process, import reluscope.io + first load of 784;100;100;10 (ms): "
          + ", ".join(f"{s} {1e3 * t:.0f} (x{t / first['.npz']:.1f})" for s, t in first.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
