"""The one result serialiser: every kind of field value becomes plain JSON data."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from reluscope.serialise import fields_dict, json_ready
from reluscope.status import Status


@dataclass(frozen=True)
class _Inner:
    value: float


@dataclass(frozen=True)
class _Custom:
    value: int

    def to_dict(self) -> dict[str, Any]:
        return {"renamed": self.value}


@dataclass(frozen=True)
class _Result:
    count: int
    status: Status
    ratio: float
    ints: tuple[int, ...]
    mask: np.ndarray
    scalar: np.int64
    flag: np.bool_
    path: Path
    probabilities: dict[int, float]
    inner: _Inner
    custom: _Custom
    nested: tuple[_Inner, ...] = field(default=())
    skipped: str = "left out"


def _result() -> _Result:
    return _Result(
        count=2**70 + 1,
        status=Status.TIME_LIMIT,
        ratio=float("nan"),
        ints=(1, 2),
        mask=np.array([[0.5, np.inf], [1.0, -2.0]]),
        scalar=np.int64(7),
        flag=np.bool_(True),
        path=Path("/tmp/x.npz"),
        probabilities={2: 0.25, 3: float("-inf")},
        inner=_Inner(1.5),
        custom=_Custom(4),
        nested=(_Inner(0.0), _Inner(float("inf"))),
    )


def test_fields_dict_gives_plain_json_data() -> None:
    out = fields_dict(_result(), exclude=("skipped",))
    assert out == {
        "count": 2**70 + 1,  # counts stay exact Python ints
        "status": "time_limit",
        "ratio": None,
        "ints": [1, 2],
        "mask": [[0.5, None], [1.0, -2.0]],
        "scalar": 7,
        "flag": True,
        "path": "/tmp/x.npz",
        "probabilities": {"2": 0.25, "3": None},
        "inner": {"value": 1.5},
        "custom": {"renamed": 4},  # a nested result keeps its own to_dict
        "nested": [{"value": 0.0}, {"value": None}],
    }
    assert list(out) == [f for f in _Result.__dataclass_fields__ if f != "skipped"]
    # exactly the types json writes, with no NaN/Infinity (strict JSON) and no enum left
    assert type(out["status"]) is str and type(out["scalar"]) is int
    assert type(out["flag"]) is bool
    assert json.loads(json.dumps(out, allow_nan=False)) == out


def test_json_ready_refuses_what_has_no_json_form() -> None:
    with pytest.raises(TypeError, match="no JSON form for a object"):
        json_ready(object())
    with pytest.raises(TypeError, match="complex"):
        json_ready(1j)
