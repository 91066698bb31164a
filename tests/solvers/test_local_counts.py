"""Local counts: the ball box, exact counts against brute force, the time-limit fallback."""

from __future__ import annotations

import numpy as np
import pytest

import reluscope
from netgen import random_network
from oracles import brute_force_count
from reluscope.domains import linf_ball
from reluscope.errors import ReluscopeError
from reluscope.regions.views.local import local_regions


def test_ball_is_clipped_to_the_box() -> None:
    net = random_network(0, 3, (3,), lower=0.0, upper=1.0)
    ball = linf_ball(net, [0.05, 0.5, 0.97], 0.1)
    assert np.allclose(ball.lower, [0.0, 0.4, 0.87])
    assert np.allclose(ball.upper, [0.15, 0.6, 1.0])
    with pytest.raises(ReluscopeError):
        linf_ball(net, [2.0, 2.0, 2.0], 0.1)
    with pytest.raises(ReluscopeError):
        linf_ball(net, [0.5, 0.5, 0.5], -1.0)


@pytest.mark.parametrize("seed", range(6))
def test_local_counts_equal_brute_force_on_the_ball(seed: int) -> None:
    net = random_network(seed, 3, (4, 3), lower=0.0, upper=1.0)
    rng = np.random.default_rng(seed)
    pts = rng.random((4, 3))
    res = local_regions(net, pts, radius=0.3)
    assert res.exact and res.status == "complete" and len(res.counts) == 4
    for c, p in zip(res.counts, pts, strict=True):
        box = net.with_domain(np.clip(p - 0.3, 0, 1), np.clip(p + 0.3, 0, 1))
        assert c.regions == brute_force_count(box)
        assert c.exact and c.method == "lp" and c.estimate is None


def test_point_time_limit_falls_back_to_mipbound() -> None:
    # large enough that the geometric engine's first slice of work does not finish it
    net = random_network(2, 3, (24, 24, 12), lower=-1.0, upper=1.0)
    res = local_regions(net, np.zeros((1, 3)), radius=1.0, point_time_limit=0.0)
    (c,) = res.counts
    assert not res.exact and res.status == "time_limit"
    assert not c.exact and c.status == "time_limit" and c.estimate is not None
    assert c.regions == max(c.counted, c.estimate)
    assert c.regions <= reluscope.count_regions(net).regions


def test_time_limit_is_for_the_whole_call() -> None:
    """Past the call's ``time_limit`` the points left are not counted; a generous one
    changes nothing."""
    net = random_network(1, 3, (4, 3), lower=0.0, upper=1.0)
    pts = np.random.default_rng(1).random((3, 3))
    none = local_regions(net, pts, radius=0.3, time_limit=0.0)
    assert none.counts == () and none.status == "time_limit" and not none.exact
    full = local_regions(net, pts, radius=0.3)
    roomy = local_regions(net, pts, radius=0.3, time_limit=600.0)
    assert roomy.status == "complete" and roomy.exact
    assert [c.regions for c in roomy.counts] == [c.regions for c in full.counts]
