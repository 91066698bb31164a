"""The API's interrupt policy (reluscope.interrupts), in-process.

The interrupted call returns its partial result (status "interrupted"); the stop stays
pending, so the next public call of a Python loop raises KeyboardInterrupt at once and
clears it; ``interrupts.clear()`` lets the user go on. A multi-step call stops as a
whole: Ctrl-C during the bounds of count_regions ends the call, no search runs.
"""

from __future__ import annotations

import pytest

import reluscope
from ctrlc import sigint_after
from netgen import random_network
from reluscope import interrupts
from reluscope.experiments.reproduce import _done
from reluscope.regions.count.dispatch import count_regions


def test_python_loop_stops_after_the_interrupted_result_is_returned():
    network = random_network(2, 784, (10, 10, 6))  # a count of minutes: the stop lands in it
    results = []
    with sigint_after(0.5), pytest.raises(KeyboardInterrupt):
        for _ in range(3):
            results.append(count_regions(network, bounds_method="interval", n_jobs=1))
    assert len(results) == 1 and results[0].status == "interrupted"
    assert not interrupts.requested()  # raised once, then cleared
    assert reluscope.upper_bounds((4, 3)).configuration_ub > 0  # the next call runs


def test_clear_lets_the_next_call_run():
    interrupts.note()
    interrupts.clear()
    assert reluscope.tighten_bounds(random_network(0, 3, (2,)), method="interval")


def test_nested_calls_return_partial_results_instead_of_raising():
    interrupts.note()  # as if Ctrl-C hit the bounds step inside count_regions
    with pytest.raises(KeyboardInterrupt):
        count_regions(random_network(0, 3, (4, 2)))
    interrupts.note()
    # inside reluscope (depth > 0) the stop is seen, not raised: the call stops as a whole
    wrapped = interrupts.entry_point(lambda: count_regions(random_network(0, 3, (4, 2))))
    interrupts.clear()
    outer = interrupts.entry_point(lambda: (interrupts.note(), wrapped())[1])
    result = outer()
    assert result.status == "interrupted" and result.regions == 0


def test_interrupted_steps_are_not_finished_for_reproduce():
    assert _done({"regions": 4289, "status": "complete"})
    assert not _done({"regions": 4289, "status": "interrupted"})
    assert not _done({"error": "x"})
