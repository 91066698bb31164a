"""Shared test configuration; tests/ is on sys.path so tests can import netgen."""

import signal

import pytest  # noqa: E402

from reluscope import interrupts  # noqa: E402

# A shell starts a background job (`pytest &`, nohup) with SIGINT ignored, and the
# processes the tests start would inherit that and never see the Ctrl-C they test:
# handle SIGINT here, so every child starts with the default (handlers do not survive exec).
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def _no_pending_stop():
    """A test that interrupts a call leaves no pending stop for the next test."""
    yield
    interrupts.clear()
