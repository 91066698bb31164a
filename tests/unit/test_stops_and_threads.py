"""The pool's watchdog, the BLAS thread limit, and the CLI's stop words."""

from __future__ import annotations

import multiprocessing
import signal
import time

import pytest

from reluscope.cli import signals
from reluscope.regions.search import schedule


def _stubborn() -> None:
    """A worker that ignores SIGTERM (as one stuck in C code would, in effect)."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    time.sleep(60)


def _obedient() -> None:
    time.sleep(60)


def test_stop_workers_kills_what_does_not_answer_sigterm():
    ctx = multiprocessing.get_context("fork")
    workers = [ctx.Process(target=_stubborn, daemon=True),
               ctx.Process(target=_obedient, daemon=True)]
    conns = []
    for worker in workers:
        worker.start()
        parent, child = ctx.Pipe()
        child.close()
        conns.append(parent)
    time.sleep(0.3)  # the stubborn one has set SIG_IGN
    start = time.monotonic()
    schedule._stop_workers(workers, conns)
    waited = time.monotonic() - start
    assert all(w.exitcode is not None for w in workers)
    assert workers[0].exitcode == -signal.SIGKILL  # needed the watchdog
    assert workers[1].exitcode == -signal.SIGTERM
    assert waited < schedule.WORKER_EXIT_SECONDS + 1.0


def test_one_blas_thread_limits_numpy_blas():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    import numpy as np

    np.ones((4, 4)) @ np.ones((4, 4))  # BLAS loaded
    with schedule.one_blas_thread():
        blas = [i for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]
        assert blas, "threadpoolctl finds NumPy's BLAS"
        assert all(i["num_threads"] == 1 for i in blas)


def test_status_words_follow_the_signal(monkeypatch):
    payload = {"status": "interrupted", "estimates": {"3": {"status": "interrupted"}},
               "other": ["interrupted"]}
    monkeypatch.setitem(signals._state, "sigterm", False)
    assert signals.truthful(payload) == payload
    assert signals.status_word() == "interrupted"
    monkeypatch.setitem(signals._state, "sigterm", True)
    assert signals.truthful(payload) == {
        "status": "terminated", "estimates": {"3": {"status": "terminated"}},
        "other": ["interrupted"]}  # only status values change
    assert signals.describe_stop() == "terminated (SIGTERM)"


def test_an_error_chained_to_a_stop_is_the_stop(monkeypatch, capsys):
    """A library that turns Ctrl-C into its own error (ImportError from the
    KeyboardInterrupt) still gives the stop's exit status and one line, no traceback."""
    from reluscope.cli import info as info_command
    from reluscope.cli import main

    def interrupted_import(args):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as exc:
            raise ImportError("cannot import name 'x'") from exc

    monkeypatch.setattr(info_command, "load_network", interrupted_import)
    assert main(["info", "example"]) == signals.EXIT_SIGINT
    err = capsys.readouterr().err
    assert err.strip() == "reluscope: interrupted (Ctrl-C) before a result was ready"
