"""Architecture-only bounds against direct enumeration and hand-checked values."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import reluscope
from netgen import random_network
from reluscope.bounds import tighten_bounds
from reluscope.errors import NetworkError, ReluscopeError
from reluscope.network import ReLUNetwork
from reluscope.regions.upper.analytic import (
    app_k,
    configuration_ub,
    maps,
    montufar_ub,
    trivial_ub,
    upper_bounds,
    zaslavsky,
    zaslavsky_ub,
)


def configuration_by_enumeration(n0, widths, ranks=None):
    """sum over J of prod C(n_l, j_l), listing J explicitly (the paper's definition)."""
    ranks = ranks if ranks is not None else widths
    total = 0
    for js in itertools.product(*(range(n + 1) for n in widths)):
        ok = True
        for layer, j in enumerate(js):
            caps = [n0, *ranks[: layer + 1]]
            caps += [widths[m] - js[m] for m in range(layer)]
            if j > min(caps):
                ok = False
                break
        if ok:
            total += math.prod(math.comb(n, j) for n, j in zip(widths, js, strict=True))
    return total


SMALL_ARCHS = [
    (1, (3,)),
    (2, (3, 3)),
    (3, (2, 4)),
    (2, (4, 1, 3)),
    (4, (3, 3, 3)),
    (3, (5, 2, 4)),
    (5, (4, 4)),
    (2, (6, 6, 6)),
]


@pytest.mark.parametrize(("n0", "widths"), SMALL_ARCHS)
def test_configuration_matches_enumeration_of_j(n0, widths):
    assert configuration_ub(n0, widths) == configuration_by_enumeration(n0, widths)


@pytest.mark.parametrize(("n0", "widths", "ranks"), [
    (3, (4, 4), (2, 4)),
    (4, (3, 5, 2), (3, 1, 2)),
    (5, (4, 4, 4), (4, 2, 3)),
])
def test_configuration_with_ranks_matches_enumeration(n0, widths, ranks):
    got = configuration_ub(n0, widths, ranks=ranks)
    assert got == configuration_by_enumeration(n0, widths, ranks)
    assert got <= configuration_ub(n0, widths)


@given(st.integers(1, 8), st.integers(1, 12))
def test_one_layer_equals_zaslavsky(n0, n1):
    # tight for one layer: the bound of n1 hyperplanes in R^n0
    expected = sum(math.comb(n1, j) for j in range(min(n0, n1) + 1))
    assert configuration_ub(n0, (n1,)) == expected == zaslavsky(n1, n0)


@given(st.lists(st.integers(2, 9), min_size=1, max_size=5))
def test_one_dimensional_input_gives_product(widths):
    assert configuration_ub(1, widths) == math.prod(n + 1 for n in widths)


def test_hand_values():
    assert zaslavsky(3, 2) == 7  # three lines in the plane
    assert trivial_ub(5, (3, 4)) == 2**7
    # Montufar: d1 = min(2,3) = 2, d2 = min(2,3,4) = 2 -> (1+3+3) * (1+4+6)
    assert montufar_ub(2, (3, 4)) == 7 * 11
    # Zaslavsky per layer: layer 2 in R^3 -> (1+3+3) * (1+4+6+4)
    assert zaslavsky_ub(2, (3, 4)) == 7 * 15
    # Configuration: J for n0=2, (3,4): j1 <= 2, j2 <= min(2, 3 - j1)
    # j1=0: C(3,0)*(1+4+6)=11; j1=1: 3*11=33; j1=2: 3*(1+4)=15 -> 59
    assert configuration_ub(2, (3, 4)) == 59


@settings(max_examples=60)
@given(st.integers(1, 12), st.lists(st.integers(1, 12), min_size=1, max_size=5))
def test_architecture_bounds_are_ordered(n0, widths):
    config = configuration_ub(n0, widths)
    assert 1 <= config <= montufar_ub(n0, widths) <= zaslavsky_ub(n0, widths)
    assert zaslavsky_ub(n0, widths) <= trivial_ub(n0, widths)


def test_counts_beyond_int64_are_exact():
    # MNIST-sized: the trivial bound 2^1000 and an exact Configuration UB
    config = configuration_ub(784, (200, 200))
    assert config.bit_length() > 64
    assert config <= 2**400
    assert maps(2**1000) == 1000.0


def test_upper_bounds_of_architecture():
    result = upper_bounds((784, 11, 11, 10))
    assert result.empirical_ub is None
    assert result.architecture == (784, 11, 11, 10)
    assert result.configuration_ub == configuration_by_enumeration(784, (11, 11, 10))
    assert result.trivial_ub == 2**32
    payload = result.to_dict()
    assert payload["empirical_ub"] is None
    assert payload["maps"]["trivial_ub"] == 32.0
    assert reluscope.upper_bounds is upper_bounds


def test_app_k_is_mean_of_log2():
    assert app_k(2**10, 2**30) == 20.0
    assert app_k(7, 7) == pytest.approx(math.log2(7))
    with pytest.raises(ReluscopeError):
        app_k(100, 10)
    with pytest.raises(ReluscopeError):
        app_k(0, 10)
    result = upper_bounds((2, 3, 4), lower_bound=4)
    assert result.app_k == pytest.approx((2 + math.log2(59)) / 2)


@pytest.mark.parametrize("bad", [(3,), (0, 4), (2, 0, 3), ("a", 3)])
def test_bad_architectures_raise(bad):
    with pytest.raises(NetworkError):
        upper_bounds(bad)


def test_rank_needs_a_network():
    with pytest.raises(ReluscopeError, match="ReLUNetwork"):
        upper_bounds((3, 4, 4), rank=True)


def test_bounds_of_another_network_are_rejected():
    net = random_network(0, 3, (4, 4))
    other = random_network(0, 3, (5, 4))
    with pytest.raises(ReluscopeError, match="another network"):
        upper_bounds(net, bounds=tighten_bounds(other, method="interval"))


def test_affine_network_has_one_region():
    net = ReLUNetwork([np.ones((2, 3))], [np.zeros(2)], relu=[False])
    result = upper_bounds(net, bounds_method="interval")
    assert result.architecture == (3,)
    assert result.empirical_ub == result.configuration_ub == result.trivial_ub == 1
