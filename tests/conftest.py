"""Shared test configuration; tests/ is on sys.path so tests can import netgen."""

import pytest  # noqa: E402

from reluscope import interrupts  # noqa: E402


@pytest.fixture(autouse=True)
def _no_pending_stop():
    """A test that interrupts a call leaves no pending stop for the next test."""
    yield
    interrupts.clear()
