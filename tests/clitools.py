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


def run_error(capsys: Any, argv: list[str]) -> str:
    """Run ``reluscope argv``; it must exit 2 with one error line on stderr, nothing on stdout."""
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("reluscope: error:"), err
    assert "Traceback" not in err
    return lines[0]
