"""Stops at random moments: every long command ends within 3 s, truthfully, readably.

SIGINT or SIGTERM is sent, from another process, at a random moment (0.1-4 s after the
command installed its handlers) to ``count`` (lp with two workers, milp, scip-count),
``compress``, ``bounds --method milp``, ``upper --bounds-method milp`` and ``estimate``
on a 784-input network none of them finishes in that time. Each run must exit with
130 (SIGINT) or 143 (SIGTERM) within 3 s of the signal (on a machine so loaded that the
process gets little CPU: within 30 s, having used at most 3 s of CPU after the signal,
so a hang still fails), print one JSON object whose
status says ``interrupted`` or ``terminated`` as the signal was, leave the partial
file readable (count's checkpoint, compress's model) and write no traceback. The slow
suite runs 112 stops at random moments; the default suite four chosen ones.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from netgen import random_network  # noqa: E402
from procstop import EXIT, WORD, child_env, cpu_seconds, handler_installed  # noqa: E402

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads /proc, POSIX signals"
)

#: seconds from the signal to the exit a run may take
STOP_SECONDS = 3.0
#: wall seconds allowed when the machine starves the process (its CPU time decides)
STARVED_SECONDS = 30.0

#: command name -> arguments after MODEL
COMMANDS: dict[str, list[str]] = {
    "count-lp": ["count", "MODEL", "--jobs", "2", "--checkpoint", "ck.npz"],
    "count-milp": ["count", "MODEL", "--method", "milp"],
    "count-scip": ["count", "MODEL", "--method", "scip-count"],
    "compress": ["compress", "MODEL", "-o", "small.npz", "--verify", "sample"],
    "bounds": ["bounds", "MODEL", "--method", "milp"],
    "upper": ["upper", "MODEL", "--bounds-method", "milp"],
    "estimate": ["estimate", "MODEL", "--xor-size", "3", "--seed", "0"],
}


def _default_sigint() -> None:
    """In the child: Ctrl-C as in a terminal, even when this test runs in a background
    job (a shell starts those with SIGINT ignored, and Python then keeps ignoring it)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)








@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from reluscope.io import save

    path = tmp_path_factory.mktemp("stress") / "big.npz"
    save(random_network(0, 784, (32, 32, 10)), path)
    return path


def stop_once(command: str, model: Path, cwd: Path, sig: int, delay: float) -> dict[str, Any]:
    """Run ``command``, send ``sig`` ``delay`` s after its handlers are in, check the end."""
    argv = [str(model) if a == "MODEL" else a for a in COMMANDS[command]] + ["--json"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "reluscope", *argv], cwd=cwd, env=child_env(), text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
        preexec_fn=_default_sigint,
    )
    try:
        deadline = time.monotonic() + 120
        while not handler_installed(proc.pid) and time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.02)
        time.sleep(delay)
        assert proc.poll() is None, f"{command} finished before the signal"
        cpu_before = cpu_seconds(proc.pid)
        sent = time.monotonic()
        proc.send_signal(sig)
        out, err, cpu_after = _wait(proc, command, sig, delay)
        waited = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    where = f"{command}, {signal.Signals(sig).name} at {delay:.2f} s"
    assert "Traceback" not in err, f"{where}: {err}"
    assert proc.returncode == EXIT[sig], f"{where}: exit {proc.returncode}: {err}"
    cpu = cpu_after - cpu_before
    assert waited <= STOP_SECONDS or cpu <= STOP_SECONDS, (
        f"{where}: took {waited:.2f} s ({cpu:.2f} s of CPU) to stop")
    lines = out.strip().splitlines()
    if not lines:  # stopped before any result existed (during the imports or the load)
        assert "before a result was ready" in err, f"{where}: {err}"
        return {"waited": waited, "result": None}
    assert len(lines) == 1, f"{where}: {out}"
    result = json.loads(lines[0])
    _check_truthful(command, result, sig, where)
    _check_files(command, result, model, cwd, where)
    return {"waited": waited, "result": result}


def _wait(proc: subprocess.Popen[str], command: str, sig: int,
          delay: float) -> tuple[str, str, float]:
    """stdout, stderr and the CPU seconds of ``proc`` at its exit (read from its rusage);
    fails the test when it has not ended :data:`STARVED_SECONDS` after the signal."""
    import threading

    outputs: dict[str, str] = {}

    def drain(name: str, stream: Any) -> None:  # a full pipe must not block the child
        outputs[name] = stream.read()

    readers = [threading.Thread(target=drain, args=(name, stream), daemon=True)
               for name, stream in (("out", proc.stdout), ("err", proc.stderr))]
    for reader in readers:
        reader.start()
    give_up = time.monotonic() + STARVED_SECONDS
    while time.monotonic() < give_up:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            for reader in readers:
                reader.join()
            return outputs["out"], outputs["err"], usage.ru_utime + usage.ru_stime
        time.sleep(0.01)
    proc.kill()
    proc.communicate()
    pytest.fail(f"{command}: hung after {signal.Signals(sig).name} sent {delay:.2f} s in")


def _check_truthful(command: str, result: dict[str, Any], sig: int, where: str) -> None:
    if command == "estimate" and "estimates" not in result:
        assert result["status"] in (WORD[sig], "complete"), where
        return
    status = result["status"]
    if command.startswith("count"):
        assert result["exact"] is False and status == WORD[sig], f"{where}: {result}"
    elif command == "compress":
        assert status == WORD[sig] and result["complete"] is False, f"{where}: {status}"
    else:  # bounds, upper, estimate: the run as a whole was stopped
        assert status == WORD[sig], f"{where}: {status}"


def _check_files(command: str, result: dict[str, Any], model: Path, cwd: Path,
                 where: str) -> None:
    from reluscope.io import load

    if command == "count-lp" and (cwd / "ck.npz").exists():
        from reluscope.regions.search.checkpoint import load_checkpoint, network_hash

        state = load_checkpoint(cwd / "ck.npz", network_hash(load(model)))
        assert state is not None and state.regions == result["regions"], where
    if command == "compress":
        network, small = load(model), load(cwd / "small.npz")
        x = network.sample_inputs(200, random_state=0)
        np.testing.assert_allclose(small.forward(x), network.forward(x), atol=1e-6,
                                   err_msg=where)


def _runs(n: int, seed: int) -> list[tuple[str, int, float]]:
    """``n`` (command, signal, delay) triples: every command, both signals, in turn."""
    rng = random.Random(seed)
    names = list(COMMANDS)
    out = []
    for i in range(n):
        sig = (signal.SIGINT, signal.SIGTERM)[(i // len(names)) % 2]
        out.append((names[i % len(names)], int(sig), rng.uniform(0.1, 4.0)))
    return out


#: the default suite's few stops: the cases that were broken (SIGTERM to SCIP's
#: counter and to the lp pool, Ctrl-C in compress, SIGTERM in MILP bounds)
FEW = [("count-scip", signal.SIGTERM, 2.0), ("count-lp", signal.SIGTERM, 2.5),
       ("compress", signal.SIGINT, 3.0), ("bounds", signal.SIGTERM, 2.0)]


@pytest.mark.parametrize(("command", "sig", "delay"), FEW,
                         ids=[f"{c}-{s.name}" for c, s, _ in FEW])
def test_stop_a_few(command, sig, delay, model, tmp_path):
    stop_once(command, model, tmp_path, sig, delay)


@pytest.mark.slow
@pytest.mark.parametrize(("command", "sig", "delay"), _runs(112, seed=29))
def test_stop_stress(command, sig, delay, model, tmp_path):
    """112 stops: 16 per command, 8 of each signal."""
    stop_once(command, model, tmp_path, sig, delay)
