"""Ctrl-C and SIGTERM stop a long command as a whole: partial result, exit 130 / 143.

Each long command runs in a fresh process (``sys.executable -m reluscope`` on this
tree's ``src``) on a network far too large to finish first. The signal is sent once the
process has installed its SIGTERM handler (read from ``/proc/PID/status``) and had time
to start computing. Oracles: the exit code, one JSON object marked ``interrupted`` on
stdout, no traceback, and the partial file (checkpoint, model) readable; a checkpointed
count stopped by SIGTERM and resumed ends with the count of an uninterrupted run.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from netgen import random_network  # noqa: E402
from procstop import EXIT, WORD, child_env, cpu_seconds, handler_installed  # noqa: E402

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads /proc, POSIX signals"
)

SIGNALS = [pytest.param(signal.SIGINT, id="SIGINT"), pytest.param(signal.SIGTERM, id="SIGTERM")]








def _run_and_signal(
    argv: list[str], cwd: Path, sig: int, delay: float, min_cpu: float = 0.0
) -> tuple[int, str, str]:
    """Run reluscope, wait ``delay`` seconds after its signal handler is installed (and
    until it has used ``min_cpu`` CPU seconds: on a loaded machine, wall time alone may
    end before the work started), then send ``sig``."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "reluscope", *argv], cwd=cwd, env=child_env(), text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not handler_installed(proc.pid) and time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.05)
        time.sleep(delay)
        while cpu_seconds(proc.pid) < min_cpu and time.monotonic() < deadline + 120:
            time.sleep(0.1)
        assert proc.poll() is None, "finished before the signal: use a larger network"
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert "Traceback" not in err, err
    return proc.returncode, out, err


def _one_json(out: str) -> dict:
    lines = out.strip().splitlines()
    assert len(lines) == 1, out
    return json.loads(lines[0])


@pytest.fixture(scope="module")
def big_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 784-input network: none of the commands below finishes on it in seconds."""
    from reluscope.io import save

    path = tmp_path_factory.mktemp("signals") / "big.npz"
    save(random_network(0, 784, (32, 32, 10)), path)
    return path


@pytest.mark.parametrize("sig", SIGNALS)
@pytest.mark.parametrize("method", ["lp", "milp"])
def test_count_stops_with_partial_count(big_model, tmp_path, sig, method):
    argv = ["count", str(big_model), "--method", method, "--json"]
    if method == "lp":
        argv += ["--jobs", "2", "--checkpoint", "ck.npz"]
    # lp: the stop must land in the search (the bounds before it take about 1 CPU second),
    # or there is no checkpoint to check; on a loaded machine 3 s of wall time may not do
    code, out, err = _run_and_signal(argv, tmp_path, sig, delay=3.0,
                                     min_cpu=2.0 if method == "lp" else 0.0)
    assert code == EXIT[sig], err
    result = _one_json(out)
    assert result["status"] == WORD[sig] and result["exact"] is False
    if method == "lp":
        from reluscope.io import load
        from reluscope.regions.search.checkpoint import load_checkpoint, network_hash

        state = load_checkpoint(tmp_path / "ck.npz", network_hash(load(big_model)))
        assert state is not None and state.regions == result["regions"] and state.tasks


@pytest.mark.parametrize("sig", SIGNALS)
def test_estimate_stops_at_the_interrupted_size(big_model, tmp_path, sig):
    code, out, err = _run_and_signal(
        ["estimate", str(big_model), "--xor-size", "2,3,4,5", "--seed", "0", "--json"],
        tmp_path, sig, delay=3.0,
    )
    assert code == EXIT[sig], err
    estimates = _one_json(out)["estimates"]
    assert list(estimates) == ["2", "3", "4", "5"][: len(estimates)]
    assert len(estimates) < 4 or estimates["5"]["status"] == WORD[sig]
    if estimates:
        assert list(estimates.values())[-1]["status"] == WORD[sig]
        assert all(e["status"] == "complete" for e in list(estimates.values())[:-1])


@pytest.mark.parametrize("sig", SIGNALS)
def test_compress_saves_an_exact_partial_compression(big_model, tmp_path, sig):
    """Many short MILPs: SIGTERM is acted on between two solves at the latest (a solve
    without Python callbacks runs to its end first; SIGINT reaches SCIP at once)."""
    from reluscope.io import load

    network = load(big_model)
    code, out, err = _run_and_signal(
        ["compress", str(big_model), "-o", "small.npz", "--verify", "sample", "--json"],
        tmp_path, sig, delay=3.0,
    )
    assert code == EXIT[sig], err
    result = _one_json(out)
    assert result["output"] == "small.npz"
    assert result["status"] == WORD[sig] and result["complete"] is False
    small = load(tmp_path / "small.npz")
    x = network.sample_inputs(500, random_state=0)
    np.testing.assert_allclose(small.forward(x), network.forward(x), atol=1e-6)


@pytest.mark.parametrize("sig", SIGNALS)
def test_train_saves_the_network_trained_so_far(tmp_path, sig):
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    code, out, err = _run_and_signal(
        ["train", "--dataset", "digits", "--widths", "8", "--epochs", "100000",
         "-o", "net.npz", "--json"],
        tmp_path, sig, delay=3.0, min_cpu=12.0,  # imports and data take ~5 s of CPU
    )
    assert code == EXIT[sig], err
    result = _one_json(out)
    assert result["status"] == WORD[sig]
    assert 0 < result["recipe"]["steps"] < 100000 * 12
    from reluscope.io import load

    assert load(tmp_path / "net.npz").widths == (8, 10)


#: regions of random_network(2, 784, (7, 7, 5)), uninterrupted (lp and highs agree)
RESUME_REGIONS = 6373


def test_count_resume_after_sigterm_gives_the_uninterrupted_count(tmp_path):
    """HiGHS engine (about 18 s here): SIGTERM 4 s in, then resume from the checkpoint."""
    from reluscope.io import save

    save(random_network(2, 784, (7, 7, 5)), tmp_path / "net.npz")
    argv = ["count", "net.npz", "--method", "highs", "--jobs", "1", "--checkpoint", "ck.npz",
            "--json"]
    code, out, err = _run_and_signal(argv, tmp_path, signal.SIGTERM, delay=4.0)
    assert code == 143, err
    first = _one_json(out)
    assert first["status"] == "terminated" and first["regions"] < RESUME_REGIONS
    done = subprocess.run(
        [sys.executable, "-m", "reluscope", *argv], cwd=tmp_path, env=child_env(),
        capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    final = _one_json(done.stdout)
    assert final["status"] == "complete" and final["regions"] == RESUME_REGIONS


@pytest.mark.parametrize("sig", SIGNALS)
def test_reproduce_quick_stops_and_keeps_interrupted_steps_unfinished(tmp_path, sig):
    """MNIST training (2 epochs), bounds, counts: a signal 25 s in stops the whole run."""
    pytest.importorskip("torch")
    from reluscope.experiments.reproduce import make_tasks, quick_settings, record_finished

    code, out, err = _run_and_signal(
        ["reproduce", "--quick", "--out", "r", "--json"], tmp_path, sig, delay=25.0
    )
    assert code == EXIT[sig], err
    result = _one_json(out)
    assert result["status"] == WORD[sig] and result["finished"] < result["tasks"]
    settings = quick_settings()
    records = [json.loads(p.read_text()) for p in (tmp_path / "r" / "records").glob("*.json")]
    interrupted = [r for r in records if any(
        isinstance(v, dict) and v.get("status") == "interrupted"
        for v in [*r.values(), *(r.get("xor") or {}).values()]
    )]
    assert len(records) <= len(make_tasks(settings))
    assert not any(record_finished(r, settings) for r in interrupted)
