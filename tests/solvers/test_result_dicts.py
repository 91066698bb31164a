"""Every field of a result reaches its to_dict (and so --json), unless it is listed here
with the reason: a new field cannot be dropped from the JSON output silently."""

from __future__ import annotations

import dataclasses

import pytest

import reluscope
from reluscope.regions.views.slices import line_regions, slice_regions

#: fields a to_dict leaves out on purpose, per result type, and why
NOT_IN_JSON = {
    "CompressionResult": {"network", "original"},  # networks: written as model files
    # masks given as index lists stably_active/_inactive; status as the complete and
    # interrupted flags (and message for a failure), the keys the CLI has always printed
    "StableUnits": {"active", "inactive", "status"},
    "SliceResult": {"boundaries", "directions", "origin", "points"},  # geometry arrays;
    "LineResult": {"points"},  # the polygons/segments and the CLI's points stand for them
}


@pytest.fixture(scope="module")
def results() -> dict[str, object]:
    net = reluscope.example_network()
    compressed = reluscope.compress(net, time_limit=20)
    x = net.sample_inputs(3, 0)
    return {
        "count": reluscope.count_regions(net, time_limit=2),
        "estimate": reluscope.estimate_regions(net, xor_size=2, time_limit=3),
        "upper": reluscope.upper_bounds(net),
        "compress": compressed,
        "stable": compressed.stable,
        "equivalence": compressed.equivalence,
        "slice": slice_regions(net, x),
        "line": line_regions(net, x[:2]),
    }


@pytest.mark.parametrize(
    "name", ["count", "estimate", "upper", "compress", "stable", "equivalence", "slice", "line"]
)
def test_every_field_is_in_the_dict(results: dict[str, object], name: str) -> None:
    result = results[name]
    assert dataclasses.is_dataclass(result)
    fields = {f.name for f in dataclasses.fields(result)}
    missing = fields - set(result.to_dict()) - NOT_IN_JSON.get(type(result).__name__, set())
    assert not missing, f"{type(result).__name__}.to_dict() drops {sorted(missing)}"


@pytest.mark.parametrize("name", ["compress", "stable", "slice", "line", "estimate", "upper"])
def test_reprs_are_short(results: dict[str, object], name: str) -> None:
    """No whole arrays in a result's repr: a printed result stays a few lines."""
    text = repr(results[name])
    assert len(text) < 1500 and "array([" not in text
