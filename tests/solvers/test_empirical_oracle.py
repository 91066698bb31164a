"""The Empirical UB against an implementation written from the paper's formulas alone.

AAAI 2020, section 5: the sets J^-(l, i), J^+(l, i), I(l, j), I^-(l, j); Propositions 3
and 4 by brute force over every subset S of layer l - 1 with |S| <= k; Theorem 2 and the
Configuration UB by listing J. Nothing below calls reluscope's coverage or recurrence
code; the only shared input is the pre-activation bounds (exact MILP bounds, from which
both sides classify the units). reluscope adds two refinements (S skips stably inactive
units and always holds the stably active ones; I_l(k) <= A_l(k) - n_l^+): with them the
oracle must give reluscope's number exactly, without them (the paper's propositions
as printed) a bound at least as large.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from netgen import random_network, random_small_network
from oracles import brute_force_count
from reluscope.bounds import tighten_bounds
from reluscope.network import ReLUNetwork
from reluscope.regions.upper.analytic import upper_bounds


def _classes(net, bounds):
    """Per ReLU layer: (stably active, stably inactive, U^+, U^-) index sets."""
    out = []
    for layer in net.relu_layers:
        lo, up, b = bounds.lower[layer], bounds.upper[layer], net.biases[layer]
        active = {i for i in range(len(b)) if lo[i] > 0}
        inactive = {i for i in range(len(b)) if up[i] <= 0}
        unstable = set(range(len(b))) - active - inactive
        out.append((active, inactive, {i for i in unstable if b[i] > 0},
                    {i for i in unstable if b[i] <= 0}))
    return out


def paper_tables(net, bounds, *, refine):
    """I_l(k), A_l(k) for k = 0..n_{l-1} (layer 1: one entry), Propositions 3-4."""
    classes = _classes(net, bounds)
    i_tabs, a_tabs = [], []
    for pos, layer in enumerate(net.relu_layers):
        active, _, u_plus, u_minus = classes[pos]
        n_plus = len(active)
        if pos == 0:  # no sign argument for the inputs (a box may hold negative values)
            i_tabs.append([len(u_plus) + len(u_minus)])
            a_tabs.append([n_plus + len(u_plus) + len(u_minus)])
            continue
        w = net.weights[layer]
        n_prev = w.shape[1]
        # J^-(l, i) = {j : W_ij > 0} for i in U^-, J^+(l, i) = {j : W_ij < 0} for i in U^+
        big_i = [{i for i in u_plus if w[i, j] < 0} | {i for i in u_minus if w[i, j] > 0}
                 for j in range(n_prev)]
        big_i_minus = [{i for i in u_minus if w[i, j] > 0} for j in range(n_prev)]
        prev_active, prev_inactive = classes[pos - 1][0], classes[pos - 1][1]
        candidates = [j for j in range(n_prev) if not refine or
                      (j not in prev_inactive and j not in prev_active)]
        forced = sorted(prev_active) if refine else []
        i_tab, a_tab = [], []
        for k in range(n_prev + 1):
            budget = max(k - len(forced), 0) if refine else k
            best_i = best_a = 0
            for size in range(min(budget, len(candidates)) + 1):
                for subset in itertools.combinations(candidates, size):
                    chosen = [*forced, *subset]
                    best_i = max(best_i, len(set().union(*(big_i[j] for j in chosen))))
                    best_a = max(best_a, len(set().union(*(big_i_minus[j] for j in chosen))))
            a_value = n_plus + len(u_plus) + best_a
            i_tab.append(min(best_i, a_value - n_plus) if refine else best_i)
            a_tab.append(a_value)
        i_tabs.append(i_tab)
        a_tabs.append(a_tab)
    return i_tabs, a_tabs


def theorem2_listing_j(n0, i_tabs, a_tabs):
    """sum over J of prod_l C(I_l(k_{l-1}), j_l); k_0 = n0, k_l = A_l(k_{l-1}) - j_l,
    0 <= j_l <= min(n0, k_1, ..., k_{l-1}, I_l(k_{l-1}))."""
    def at(table, k):
        return table[min(k, len(table) - 1)]

    total = 0
    depth = len(i_tabs)
    stack = [(0, n0, [], 1)]  # (layer, k_{l-1}, [k_1..k_{l-1}], product so far)
    while stack:
        layer, k_prev, ks, product = stack.pop()
        if layer == depth:
            total += product
            continue
        i_val, a_val = at(i_tabs[layer], k_prev), at(a_tabs[layer], k_prev)
        zeta = min([n0, *ks, i_val])
        for j in range(zeta + 1):
            k_next = a_val - j
            stack.append((layer + 1, k_next, [*ks, k_next], product * math.comb(i_val, j)))
    return total


def _networks():
    nets = [random_small_network(seed) for seed in range(40)]
    # wider layers after a narrow one, the case where Propositions 3-4 bite
    nets += [random_network(seed, 2, (5, 1, 4), bias_scale=0.3, lower=-1.0)
             for seed in range(6)]
    nets += [random_network(100 + seed, 3, (4, 3, 3), bias_scale=1.5) for seed in range(6)]
    return nets


@pytest.mark.parametrize("index", range(52))
def test_empirical_ub_equals_the_papers_formulas(index):
    net = _networks()[index]
    bounds = tighten_bounds(net, method="milp")
    assert bounds.exact
    result = upper_bounds(net, bounds=bounds)
    n0, widths = net.n_inputs, net.relu_widths
    if not widths:
        pytest.skip("no ReLU layer")
    refined = theorem2_listing_j(n0, *paper_tables(net, bounds, refine=True))
    printed = theorem2_listing_j(n0, *paper_tables(net, bounds, refine=False))
    assert result.empirical_ub == refined
    assert refined <= printed
    everything = [[n] for n in widths]  # I_l = A_l = n_l: the Configuration UB
    assert result.configuration_ub == theorem2_listing_j(n0, everything, everything)
    assert brute_force_count(net) <= refined <= result.configuration_ub


def test_the_oracle_sees_the_propositions():
    # over these networks the propositions lower the bound below the Configuration UB
    # on many: the comparison above is not between constant tables
    below_conf = 0
    for net in _networks():
        if not net.relu_widths:
            continue
        bounds = tighten_bounds(net, method="milp")
        printed = theorem2_listing_j(net.n_inputs, *paper_tables(net, bounds, refine=False))
        everything = [[n] for n in net.relu_widths]
        below_conf += printed < theorem2_listing_j(net.n_inputs, everything, everything)
    assert below_conf >= 20


def test_refinement_skips_a_stably_inactive_unit():
    # layer 1: u0 dead on [0,1]^2 (b = -10), u1 and u2 unstable; layer 2: v0 fed by u0 and
    # u1, v1 by u0 and u2, both inactive leaning. Proposition 3 as printed lets S = {u0}
    # cover both v's with k = 1; without the dead unit one active unit covers one v.
    w1 = np.array([[1.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    b1 = np.array([-10.0, -0.5, -0.5])
    w2 = np.array([[1.0, 1.0, 0.0], [1.0, 0.0, 1.0]])
    b2 = np.array([-0.1, -0.1])
    net = ReLUNetwork([w1, w2], [b1, b2], relu=[True, True], lower=0.0, upper=1.0)
    bounds = tighten_bounds(net, method="milp")
    printed_tables = paper_tables(net, bounds, refine=False)
    refined_tables = paper_tables(net, bounds, refine=True)
    assert printed_tables[0][1][1] == 2 and refined_tables[0][1][1] == 1  # I_2(1)
    refined = theorem2_listing_j(2, *refined_tables)
    printed = theorem2_listing_j(2, *printed_tables)
    assert brute_force_count(net) <= refined < printed
    assert upper_bounds(net, bounds=bounds).empirical_ub == refined
