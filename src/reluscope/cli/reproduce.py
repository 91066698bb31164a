"""``reluscope reproduce``: the paper's experiments, resumable, in parallel, with a report."""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from reluscope.cli.common import emit, show_progress
from reluscope.errors import ReluscopeError


def _splits(text: str) -> tuple[tuple[int, int], ...]:
    """``all`` or ``N1-N2,N1-N2,...`` (e.g. ``1-21,11-11``)."""
    from reluscope.experiments.reproduce import ALL_SPLITS

    if text == "all":
        return ALL_SPLITS
    out = []
    for part in text.split(","):
        try:
            a, b = (int(v) for v in part.split("-"))
        except ValueError:
            raise ReluscopeError(
                f"--splits expects 'all' or N1-N2 pairs like 1-21,11-11; got {part!r}"
            ) from None
        out.append((a, b))
    return tuple(out)


def _ints(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.split(","))
    except ValueError:
        raise ReluscopeError(f"expected comma-separated integers, got {text!r}") from None


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "reproduce",
        help="run the paper's experiments (Table 1, Figures 2-3) and write a report",
        description="Train the paper's MNIST networks n1;n2;10 (n1 + n2 = 22), count their "
        "regions exactly, bound them (Configuration/Empirical UB, MIPBound XOR-k) and write "
        "CSV, Table 1, figures and report.md into OUT. Resumable: finished networks are "
        "not recomputed.",
    )
    parser.add_argument("--quick", action="store_true",
                        help="3 splits x 1 network, 2 epochs, small time limits (minutes)")
    parser.add_argument("--out", default="reluscope-results", metavar="DIR",
                        help="results directory (default: reluscope-results)")
    parser.add_argument("--jobs", type=int, default=1, metavar="N",
                        help="worker processes (default 1)")
    parser.add_argument("--cluster", metavar="ADDRESS",
                        help="Dask scheduler address (tcp://host:8786): run the tasks there")
    parser.add_argument("--time-limit", type=float, metavar="S",
                        help="stop starting new networks after S seconds, then report")
    parser.add_argument("--report-only", action="store_true",
                        help="only rewrite the report from the records in OUT")
    parser.add_argument("--leo", metavar="JSONL",
                        help="bench_leo.jsonl of benchmarks/bench_leo.py for the LEO table")
    group = parser.add_argument_group(
        "settings (override the full or --quick defaults, or those of the run in --out)"
    )
    group.add_argument("--splits", metavar="LIST", help="'all' or N1-N2 pairs: 1-21,11-11")
    group.add_argument("--networks", type=int, metavar="N", help="networks per split")
    group.add_argument("--dataset", choices=("mnist", "digits"))
    group.add_argument("--n-train", type=int, metavar="N", help="first N training images only")
    group.add_argument("--epochs", type=float)
    group.add_argument("--bounds-time-limit", type=float, metavar="S",
                       help="seconds per MILP solve of the bound tightening")
    group.add_argument("--count-time-limit", type=float, metavar="S",
                       help="seconds per exact count; a larger value on a resumed run "
                       "continues the counts cut short from their checkpoints")
    group.add_argument("--milp-time-limit", type=float, metavar="S")
    group.add_argument("--milp-networks", type=int, metavar="N",
                       help="networks per split also counted with the MILP engine")
    group.add_argument("--estimate-time-limit", type=float, metavar="S",
                       help="seconds per XOR-k estimate; a larger value on a resumed run "
                       "continues the estimates cut short from their repetitions")
    group.add_argument("--xor-sizes", metavar="K,K", help="default 2,3,4,5")
    group.add_argument("--max-repetitions", type=int, metavar="N")
    group.add_argument("--xor-networks", type=int, metavar="N",
                       help="networks per split that run MIPBound (default: all)")
    group.add_argument("--tree-time-limit", type=float, metavar="S",
                       help="seconds per tree estimate of a count cut short (default 600; "
                       "Table 1's value where counting does not finish)")
    group.add_argument("--tree-networks", type=int, metavar="N",
                       help="networks per split that run the tree estimate (default: all)")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.set_defaults(func=run)


def settings_from_args(args: argparse.Namespace) -> Any:
    """The run's settings: the flags given, over those of the run in ``--out`` if any.

    So ``reluscope reproduce --out DIR`` alone resumes the run in DIR as it was started,
    and a flag such as ``--count-time-limit`` changes only that setting.
    """
    from pathlib import Path

    from reluscope.experiments.records import read_json
    from reluscope.experiments.reproduce import ExperimentSettings, quick_settings

    saved = None if args.quick else read_json(Path(args.out) / "settings.json")
    if isinstance(saved, dict):
        base = ExperimentSettings.from_dict(saved)
    else:
        base = quick_settings() if args.quick else ExperimentSettings()
    changes: dict[str, Any] = {}
    if args.splits:
        changes["splits"] = _splits(args.splits)
    if args.xor_sizes:
        changes["xor_sizes"] = _ints(args.xor_sizes)
    for name in ("networks", "dataset", "n_train", "epochs", "bounds_time_limit",
                 "count_time_limit", "milp_time_limit", "milp_networks",
                 "estimate_time_limit", "max_repetitions", "xor_networks",
                 "tree_time_limit", "tree_networks"):
        value = getattr(args, name)
        if value is not None:
            changes["networks_per_split" if name == "networks" else name] = value
    return dataclasses.replace(base, **changes)


def check_arguments(args: argparse.Namespace) -> None:
    """Every number of the command line, before any file is read or written."""
    from reluscope import validation

    validation.check_time_limit(args.time_limit, "--time-limit")
    if args.cluster is None:
        validation.check_n_jobs(args.jobs, "--jobs")
    for name in ("bounds_time_limit", "count_time_limit", "milp_time_limit",
                 "estimate_time_limit", "tree_time_limit"):
        validation.check_time_limit(getattr(args, name), "--" + name.replace("_", "-"))
    for name in ("networks", "n_train", "max_repetitions"):
        validation.check_optional_positive_int(getattr(args, name), "--" + name.replace("_", "-"))
    for name in ("milp_networks", "xor_networks", "tree_networks"):
        if getattr(args, name) is not None:
            validation.check_nonnegative_int(getattr(args, name), "--" + name.replace("_", "-"))
    if args.epochs is not None:
        validation.check_real(args.epochs, "--epochs", positive=True)
    if args.xor_sizes:
        for k in _ints(args.xor_sizes):
            validation.check_positive_int(k, "--xor-sizes")
    if args.splits:
        for pair in _splits(args.splits):
            for width in pair:
                validation.check_positive_int(width, "--splits")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from reluscope.experiments.report import write_report
    from reluscope.experiments.reproduce import reproduce

    check_arguments(args)
    if args.report_only:
        if not Path(args.out, "settings.json").is_file():
            raise ReluscopeError(f"{args.out}: no reproduction run here (settings.json missing)")
        files = write_report(args.out, leo_path=args.leo)
        payload: dict[str, Any] = {"out_dir": args.out, "files": list(files)}
        emit(args, payload, f"report written to {Path(args.out) / 'report.md'}")
        return 0
    result = reproduce(
        args.out, settings=settings_from_args(args), n_jobs=args.jobs, cluster=args.cluster,
        time_limit=args.time_limit, leo_path=args.leo, progress=show_progress(),
    )
    payload = result.to_dict()
    text = (
        f"{result.finished} of {result.tasks} networks finished ({result.computed} computed "
        f"now, status {result.status}) in {result.seconds:.0f} s\n"
        f"report: {Path(result.out_dir) / 'report.md'}"
    )
    emit(args, payload, text)
    return 0
