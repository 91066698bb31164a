"""reluscope.pooling: a max-pooling window's record, checked against the network's marks."""

from __future__ import annotations

import numpy as np
import pytest

import reluscope
from reluscope.errors import NetworkError
from reluscope.network import ReLUNetwork
from reluscope.pooling import Comparison, PoolWindow


def max_of_two(window: PoolWindow | None = None, **changes):
    """``max(x1, x2) = x1 + relu(x2 - x1)`` on [0, 1]^2, by hand: an identity unit
    carrying x1 and the marked unit x2 - x1, then their sum."""
    args = {
        "slopes": [[1.0, 0.0], [1.0]],
        "max_pool": [[False, True], [False]],
    }
    args.update(changes)
    window = window or PoolWindow(0, ((0, -1), (0, 1)), (Comparison(0, 1, (0,), (1,)),))
    return ReLUNetwork([[[1.0, 0.0], [-1.0, 1.0]], [[1.0, 1.0]]], [[0.0, 0.0], [0.0]],
                       relu=[True, False], pool_windows=[window], **args)


def test_a_hand_built_window_counts_its_argmax_sides():
    net = max_of_two()
    x = np.random.default_rng(0).random((50, 2))
    assert np.allclose(net.forward(x)[:, 0], x.max(axis=1))
    assert net.pool_windows[0].active_units(1) == {(0, 1)}
    assert net.pool_windows[0].active_units(0) == set()
    assert reluscope.count_regions(net).regions == 2
    assert net.describe().endswith("1 of the relu units compare inputs in 1 max-pooling window")
    assert net.with_domain(0.0, 1.0).pool_windows == net.pool_windows
    # x1 >= x2 everywhere on this triangle: one side only
    cut = net.with_polytope([[-1.0, 1.0]], [0.0])
    assert reluscope.count_regions(cut).regions == 1


@pytest.mark.parametrize(("window", "changes", "words"), [
    (None, {"max_pool": [[False, False], [False]]}, "unmarked"),
    (None, {"slopes": [[0.0, 0.0], [1.0]]}, "not an identity"),
    (PoolWindow(0, ((0, -1), (0, 1)), ()), {}, "k - 1 comparisons"),
    (PoolWindow(3, ((0, -1), (0, 1)), (Comparison(0, 1, (0,), (1,)),)), {},
     "outside the network"),
])
def test_windows_that_do_not_match_the_marks_are_refused(window, changes, words):
    with pytest.raises(NetworkError, match=words):
        max_of_two(window, **changes)
