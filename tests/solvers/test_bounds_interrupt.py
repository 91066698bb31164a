"""Ctrl-C during MILP bound tightening returns valid bounds instead of raising.

A child process runs ``milp_bounds`` on a network whose full MILP bounds take minutes;
it gets SIGINT two seconds into the solves. Oracle: the child's bounds must contain
every sampled pre-activation and lie within the LP bounds, with ``exact`` False, and
nothing but the child's own lines may reach stdout.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

CHILD = r"""
import json, sys
sys.path.insert(0, {tests!r})
import numpy as np
from netgen import random_network
from reluscope.bounds.lp import lp_bounds
from reluscope.bounds.milp import milp_bounds

net = random_network(5, 12, (30, 30, 4), lower=-1.0, upper=1.0)
lp = lp_bounds(net)
print("start", flush=True)
b = milp_bounds(net)
pre = net.preactivations(net.sample_inputs(20000, random_state=1))
valid = all(
    bool(np.all(pre[l] >= b.lower[l]) and np.all(pre[l] <= b.upper[l])
         and np.all(b.lower[l] >= lp.lower[l]) and np.all(b.upper[l] <= lp.upper[l]))
    for l in range(net.n_layers)
)
print(json.dumps({{"exact": b.exact, "valid": valid}}), flush=True)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT delivery differs on Windows")
def test_sigint_returns_valid_partial_bounds():
    tests_dir = str(Path(__file__).resolve().parents[1])
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD.format(tests=tests_dir)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "start"
        time.sleep(2.0)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "CTRL-C" not in out  # SCIP's interrupt message goes to stderr, not stdout
    result = json.loads(out.strip().splitlines()[-1])
    assert result == {"exact": False, "valid": True}
