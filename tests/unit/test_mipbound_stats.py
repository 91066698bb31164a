"""Algorithm 1's statistics on hand-made f vectors (paper Section 4, Appendix C)."""

import math

import pytest

from reluscope.errors import ReluscopeError
from reluscope.regions.estimate.mipbound import (
    bound_probabilities,
    chernoff_probability,
    feasibility_counts,
    repetitions_for_target,
    select_bound,
)


def test_all_28_feasible_gives_the_papers_995_percent():
    # delta = 1/2: P = 1 - (e / 4)^(28/2) = 0.99552...
    assert chernoff_probability(0.5, 28) == pytest.approx(1 - (math.e / 4) ** 14)
    assert chernoff_probability(0.5, 28) == pytest.approx(0.99552, abs=1e-5)
    assert repetitions_for_target(0.995) == 28
    assert chernoff_probability(0.5, 27) < 0.995
    # 95% needs 16 trials, all feasible
    assert repetitions_for_target(0.95) == 16


def test_index_convention_f_j_plus_1_backs_p_j():
    # 28 repetitions: all feasible after 0, 1 and 2 constraints, 10 after 3, none after 4
    f = (28, 28, 28, 10, 0)
    p = bound_probabilities(f, 28)
    # P_0 uses f[1], P_1 uses f[2]: both all-feasible; P_2 uses f[3] = 10 < 14: stop
    assert set(p) == {0, 1}
    assert p[0] == pytest.approx(0.99552, abs=1e-5)
    assert p[1] == pytest.approx(0.99552, abs=1e-5)
    j, prob = select_bound(p, 0.95)
    assert (j, 2**j) == (1, 2)  # feasible with 2 constraints in all trials: |S| > 2^1
    assert prob == pytest.approx(0.99552, abs=1e-5)


def test_partial_feasibility_value_by_hand():
    # f[1] = 21 of 28: delta = 1/4, beta = 1/2: P_0 = 1 - (e^0.5 / 1.5^1.5)^14 = 0.78014
    p = bound_probabilities((28, 21, 13), 28)
    assert p == {0: pytest.approx(1 - (math.e**0.5 / 1.5**1.5) ** 14)}
    assert p[0] == pytest.approx(0.78014, abs=1e-5)
    assert select_bound(p, 0.95) == (0, 1.0)  # below 95%: the trivial bound 1


def test_stops_at_first_nonpositive_delta():
    # exactly half feasible is delta = 0: stop, even though f is larger further on
    assert bound_probabilities((10, 5, 9, 9), 10) == {}
    assert bound_probabilities((10, 10, 10), 0) == {}


def test_feasibility_counts_from_r_values():
    # r = constraints that made the model infeasible; f[j] counts r > j
    assert feasibility_counts([0, 3, 1], 4) == (2, 1, 1, 0, 0)
    assert feasibility_counts([], 2) == (0, 0, 0)


def test_select_bound_takes_the_largest_confident_j():
    assert select_bound({0: 0.99, 1: 0.97, 2: 0.9}, 0.95) == (1, 0.97)
    assert select_bound({}, 0.95) == (0, 1.0)


def test_bad_arguments():
    with pytest.raises(ReluscopeError):
        repetitions_for_target(1.0)
    with pytest.raises(ReluscopeError):
        chernoff_probability(0.0, 5)
