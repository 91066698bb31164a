"""Public API surface of estimate_regions that needs no solver: errors, trivial case, JSON."""

import json

import numpy as np
import pytest

import reluscope
from reluscope.errors import ReluscopeError


def _stable_network():
    # unit 0 always active (g >= 5), unit 1 always inactive (g <= -9.5) on [0,1]^2
    return reluscope.ReLUNetwork([np.array([[1.0, 2.0], [0.5, -0.5]])],
                                 [np.array([5.0, -10.0])])


def test_lazy_public_names():
    from reluscope.regions.estimate import dispatch, mipbound, tree_estimate

    assert reluscope.estimate_regions is dispatch.estimate_regions  # tree, mipbound, mbound
    assert reluscope.RegionEstimate is mipbound.RegionEstimate
    assert reluscope.CountEstimate is tree_estimate.CountEstimate


def test_no_unstable_unit_is_the_exact_count_one_and_serialises():
    est = reluscope.estimate_regions(_stable_network(), bounds_method="interval",
                                     random_state=0)
    assert (est.lower_bound, est.log2_lower_bound, est.probability) == (1, 0, 1.0)
    assert est.solver_calls == 0 and est.repetitions == 0 and est.status == "complete"
    assert isinstance(est.lower_bound, int)
    payload = json.loads(json.dumps(est.to_dict()))
    assert payload["lower_bound"] == 1 and payload["probabilities"] == {}


@pytest.mark.parametrize(
    "kwargs",
    [{"method": "sat"}, {"confidence": 1.0}, {"confidence": 0.0}, {"xor_size": 0},
     {"xor_size": 2.5}, {"target_probability": 1.0}, {"max_repetitions": 0}],
)
def test_bad_options_raise_reluscope_errors(kwargs):
    with pytest.raises(ReluscopeError):
        reluscope.estimate_regions(_stable_network(), bounds_method="interval", **kwargs)
