"""Parity constraints and their canonical cuts, checked by enumerating every assignment."""

import itertools

import numpy as np
import pytest

from reluscope.errors import ReluscopeError
from reluscope.regions.estimate.parity import ParityConstraint, cut_satisfied, draw_parity


@pytest.mark.parametrize("k", range(1, 7))
@pytest.mark.parametrize("parity", [0, 1])
def test_canonical_cuts_exclude_exactly_the_wrong_parity(k, parity):
    n = 8
    indices = tuple(sorted(np.random.default_rng(k).choice(n, size=k, replace=False).tolist()))
    constraint = ParityConstraint(indices=indices, parity=parity)
    cuts = constraint.all_cuts()
    assert len(cuts) == 2 ** (k - 1)
    others = [i for i in range(n) if i not in indices]
    for bits in itertools.product((0, 1), repeat=k):
        full = np.zeros(n, dtype=int)
        full[list(indices)] = bits
        full[others] = np.random.default_rng(sum(bits)).integers(0, 2, size=len(others))
        right_parity = sum(bits) % 2 == parity
        assert constraint.satisfied(full) == right_parity
        assert all(cut_satisfied(c, full) for c in cuts) == right_parity


@pytest.mark.parametrize("k", range(1, 7))
def test_one_canonical_cut_removes_only_its_assignment(k):
    constraint = ParityConstraint(indices=tuple(range(k)), parity=0)
    for target in itertools.product((0, 1), repeat=k):
        cut = constraint.canonical_cut(np.array(target))
        removed = [a for a in itertools.product((0, 1), repeat=k)
                   if not cut_satisfied(cut, np.array(a))]
        assert removed == [target]


def test_draw_uses_all_variables_when_fewer_than_k():
    rng = np.random.default_rng(0)
    c = draw_parity(rng, 2, 5)
    assert c.indices == (0, 1)
    with pytest.raises(ReluscopeError):
        draw_parity(rng, 0, 3)
    with pytest.raises(ReluscopeError):
        draw_parity(rng, 4, 0)


def test_draws_are_uniform_and_halve_any_fixed_assignment():
    # each index in a constraint with probability k/n; parity bit fair; any fixed
    # assignment satisfies a random constraint with probability 1/2
    rng = np.random.default_rng(123)
    n, k, draws = 10, 3, 4000
    counts = np.zeros(n)
    satisfied = 0
    fixed = np.array([1, 0, 0, 1, 1, 1, 0, 0, 0, 1])
    for _ in range(draws):
        c = draw_parity(rng, n, k)
        assert len(set(c.indices)) == k
        counts[list(c.indices)] += 1
        satisfied += c.satisfied(fixed)
    expected = draws * k / n
    sd = np.sqrt(draws * (k / n) * (1 - k / n))
    assert np.all(np.abs(counts - expected) < 4.5 * sd)
    assert abs(satisfied - draws / 2) < 4.5 * np.sqrt(draws / 4)


def test_same_seed_same_draws():
    a = [draw_parity(np.random.default_rng(7), 12, 4) for _ in range(3)]
    b = [draw_parity(np.random.default_rng(7), 12, 4) for _ in range(3)]
    assert a == b
