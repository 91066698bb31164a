"""Maximum coverage (Propositions 3-4) and Theorem 2's recurrence against brute force."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from reluscope.errors import ReluscopeError
from reluscope.regions.upper.analytic import configuration_ub
from reluscope.regions.upper.empirical import max_coverage, theorem2_bound


def exact_coverage(sets, forced, t):
    """max |forced | union of at most t sets|, over every subset."""
    best = bin(forced).count("1")
    for size in range(min(t, len(sets)) + 1):
        for combo in itertools.combinations(sets, size):
            acc = forced
            for s in combo:
                acc |= s
            best = max(best, bin(acc).count("1"))
    return best


def random_sets(seed):
    rng = np.random.default_rng(seed)
    n_elements = int(rng.integers(3, 14))
    n_sets = int(rng.integers(1, 10))
    density = float(rng.uniform(0.1, 0.6))
    sets = []
    for _ in range(n_sets):
        members = rng.random(n_elements) < density
        sets.append(sum(1 << i for i in np.flatnonzero(members)))
    forced = sum(1 << i for i in np.flatnonzero(rng.random(n_elements) < 0.15))
    return sets, forced


@pytest.mark.parametrize("seed", range(60))
@pytest.mark.parametrize("limit", [0, 10, 200_000])
def test_coverage_bounds_bracket_the_exact_maximum(seed, limit):
    sets, forced = random_sets(seed)
    result = max_coverage(sets, forced=forced, exact_coverage_limit=limit)
    for t in range(len(sets) + 1):
        truth = exact_coverage(sets, forced, t)
        assert result.greedy[t] <= truth <= result.upper[t]
        if result.exact[t]:
            assert result.upper[t] == truth
    assert list(result.upper) == sorted(result.upper)
    if limit == 200_000:
        assert result.all_exact


def test_greedy_suboptimal_case():
    # elements 0..5: greedy takes A (4 elements) then gains 1; B and C together cover 6
    a, b, c = 0b001111, 0b010011, 0b101100
    greedy_only = max_coverage([a, b, c], exact_coverage_limit=0)
    assert greedy_only.greedy[2] == 5
    assert greedy_only.upper[2] >= 6  # still a valid upper bound
    assert not greedy_only.exact[2]
    exact = max_coverage([a, b, c])
    assert exact.upper[2] == 6 and exact.exact[2]
    assert exact.upper[1] == 4 and exact.upper[3] == 6


def test_greedy_bound_never_exceeds_e_over_e_minus_1():
    rng = np.random.default_rng(3)
    sets = [int(v) for v in rng.integers(1, 2**40, size=30)]
    result = max_coverage(sets, exact_coverage_limit=0)
    for t in range(1, 31):
        assert result.upper[t] <= math.floor(result.greedy[t] * math.e / (math.e - 1)) + 1


def theorem2_by_enumeration(n0, i_tabs, a_tabs):
    """The closed form of Theorem 2: sum over J of prod C(I_l(k_{l-1}), j_l), listing J."""

    def look(table, k):
        return table[min(k, len(table) - 1)]

    def walk(layer, k_prev, ks):
        # ks: k_1..k_{layer-1}; zeta_l = min(n0, k_1, ..., k_{l-1}, I_l(k_{l-1}))
        if layer == len(i_tabs):
            yield 1
            return
        i = look(i_tabs[layer], k_prev)
        a = look(a_tabs[layer], k_prev)
        zeta = min([n0, *ks, i])
        for j in range(zeta + 1):
            for rest in walk(layer + 1, a - j, [*ks, a - j]):
                yield math.comb(i, j) * rest

    return sum(walk(0, n0, []))


def random_tables(seed):
    rng = np.random.default_rng(seed)
    n0 = int(rng.integers(1, 6))
    widths = [int(w) for w in rng.integers(1, 7, size=int(rng.integers(1, 5)))]
    i_tabs, a_tabs, prev = [], [], n0
    for layer, n in enumerate(widths):
        ks = 1 if layer == 0 else prev + 1
        a = np.sort(rng.integers(0, n + 1, size=ks))
        i = np.minimum(np.sort(rng.integers(0, n + 1, size=ks)), a)
        i = np.maximum.accumulate(i)
        i_tabs.append(tuple(int(v) for v in i))
        a_tabs.append(tuple(int(v) for v in a))
        prev = n
    return n0, widths, i_tabs, a_tabs


@pytest.mark.parametrize("seed", range(80))
def test_theorem2_recurrence_matches_sum_over_j(seed):
    n0, widths, i_tabs, a_tabs = random_tables(seed)
    got = theorem2_bound(n0, i_tabs, a_tabs)
    assert got == theorem2_by_enumeration(n0, i_tabs, a_tabs)
    assert got <= configuration_ub(n0, widths)


@pytest.mark.parametrize(("n0", "widths"), [(2, (3, 4)), (3, (5, 2, 4)), (1, (3, 3, 3)),
                                            (10, (8, 8, 8))])
def test_theorem2_with_everything_unstable_is_configuration(n0, widths):
    # I_l(k) = A_l(k) = n_l: the recurrence reduces to the Configuration UB
    tabs = [(n,) for n in widths]
    assert theorem2_bound(n0, tabs, tabs) == configuration_ub(n0, widths)
    ranks = [max(1, n - 1) for n in widths]
    assert theorem2_bound(n0, tabs, tabs, ranks=ranks) == configuration_ub(
        n0, widths, ranks=ranks
    )


def test_theorem2_rejects_inconsistent_tables():
    with pytest.raises(ReluscopeError):
        theorem2_bound(2, [(3,)], [(2,)])  # I > A
    with pytest.raises(ReluscopeError):
        theorem2_bound(2, [(1,), (1,)], [(1,)])
