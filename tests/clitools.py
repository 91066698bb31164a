"""Running the CLI in-process from tests: one JSON object, or one error line with exit 2."""

from __future__ import annotations

import json
from typing import Any

from reluscope.cli import main


def run_json(capsys: Any, argv: list[str]) -> Any:
    """Run ``reluscope argv``; it must succeed and print exactly one JSON line on stdout."""
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == 1 and out.count("\n") == 1
    return json.loads(lines[0])


def json_error_or_nothing(argv: list[str], out: str, err: str) -> None:
    """stdout after an error: nothing, or with --json one ``{"error", "type"}`` object."""
    if "--json" not in argv:
        assert out == "", out
        return
    lines = out.strip().splitlines()
    assert len(lines) == 1, out
    payload = json.loads(lines[0])
    assert set(payload) == {"error", "type"} and payload["error"] in err


def run_error(capsys: Any, argv: list[str]) -> str:
    """Run ``reluscope argv``; it must exit 2 with one error line on stderr, and nothing on
    stdout (with --json: the error object)."""
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 2
    json_error_or_nothing(argv, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("reluscope: error:"), err
    assert "Traceback" not in err
    return lines[0]
