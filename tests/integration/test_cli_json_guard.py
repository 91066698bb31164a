"""A guard that cannot rot: every subcommand, run as a user runs it (a fresh process),
prints exactly one JSON object on stdout with --json and exits 0.

Solver chatter on the C-level stdout (HiGHS 1.16's banner, SCIP's messages) and global
solver state left by an earlier call in the same process (HiGHS's thread scheduler)
only show in a real process, so these tests spawn one per command.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

#: the regions of the bundled example network (lp, milp and scip-count agree)
EXAMPLE_REGIONS = 6752

#: the top-level keys of every command's --json object: a key that disappears or
#: appears is a change of the interface scripts rely on, to be made on purpose (update
#: the file with the new keys and say so in the commit)
GOLDEN_KEYS = Path(__file__).resolve().parents[1] / "golden" / "json-keys.json"


def _command_id(argv: list[str]) -> str:
    return " ".join(a for a in argv[:4] if not a.startswith("{"))


def _reluscope(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reluscope", *argv],
        capture_output=True, text=True, cwd=cwd, timeout=600, stdin=subprocess.DEVNULL,
    )


def _one_json_object(proc: subprocess.CompletedProcess[str]) -> dict:
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)  # the whole of stdout is one JSON document
    assert isinstance(payload, dict)
    assert proc.stdout.strip().count("\n") == 0, proc.stdout
    return payload


@pytest.mark.parametrize(
    "argv",
    [
        ["info", "example"],
        ["bounds", "example"],
        ["bounds", "example", "--method", "milp", "--time-limit", "1"],
        ["count", "example", "--time-limit", "2"],
        ["count", "example", "--method", "milp", "--time-limit", "2"],
        ["count", "example", "--method", "scip-count", "--time-limit", "2"],
        ["estimate", "example", "--xor-size", "3", "--time-limit", "5"],
        ["estimate", "example", "--method", "tree", "--rel-error", "0.3", "--population", "16"],
        ["upper", "example"],
        ["compress", "example", "-o", "{tmp}/small.onnx", "--time-limit", "20"],
        ["slice", "example", "--points", "0", "1", "2", "--data", "digits"],
        ["line", "example", "--from", "0", "--to", "1", "--data", "digits"],
        ["local", "example", "--data", "digits", "--radius", "0.05", "--n", "3"],
        ["train", "--dataset", "digits", "--widths", "4,4", "--epochs", "1",
         "-o", "{tmp}/t.npz"],
        ["reproduce", "--dataset", "digits", "--splits", "1-21", "--networks", "1",
         "--epochs", "1", "--n-train", "300", "--bounds-time-limit", "1",
         "--count-time-limit", "2", "--milp-time-limit", "2", "--estimate-time-limit", "2",
         "--xor-sizes", "2", "--max-repetitions", "2", "--out", "{tmp}/results"],
    ],
    ids=_command_id,
)
def test_every_subcommand_prints_one_json_object(argv: list[str], tmp_path: Path) -> None:
    golden = json.loads(GOLDEN_KEYS.read_text())[_command_id(argv)]
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    payload = _one_json_object(_reluscope(*argv, "--json", cwd=tmp_path))
    assert sorted(payload) == golden


def test_count_example_in_a_fresh_process(tmp_path: Path) -> None:
    """README command 1's job, as the CLI runs it: the bounds' HiGHS objects come first,
    then the lp engine's (the order that broke with highspy 1.16)."""
    payload = _one_json_object(_reluscope("count", "example", "--json", cwd=tmp_path))
    assert payload["regions"] == EXAMPLE_REGIONS and payload["exact"] is True
    text = _reluscope("count", "example", cwd=tmp_path)
    assert text.returncode == 0 and f"regions: {EXAMPLE_REGIONS}" in text.stdout
    assert "HiGHS" not in text.stdout + text.stderr  # no banner anywhere
