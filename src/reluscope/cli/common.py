"""Pieces shared by the subcommands: the model argument, --domain, output, errors."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from reluscope.errors import DomainError, ReluscopeError
from reluscope.network import ReLUNetwork

#: MODEL argument naming the network bundled with reluscope (see reluscope.data)
EXAMPLE_MODEL = "example"


def add_model_arguments(parser: argparse.ArgumentParser, *, ball: bool = True) -> None:
    """MODEL, the domain options and --json, common to the commands that analyse one
    network; ``ball=False`` leaves out --ball/--radius (for a command with its own)."""
    parser.add_argument(
        "model",
        metavar="MODEL",
        help="network file (.onnx, .pt/.pth, .npz), or 'example' for the bundled network",
    )
    add_domain_arguments(parser, ball=ball)
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def add_domain_arguments(parser: argparse.ArgumentParser, *, ball: bool = True) -> None:
    """--domain, --ball, --radius and --input-shape: the input box the analysis runs on
    (``ball=False``: without --ball and --radius)."""
    parser.add_argument(
        "--domain",
        metavar="SPEC",
        help="input box overriding the file's: LO,HI for [LO,HI]^n0; a .npy/.csv/.json "
        "file of lows and highs per input; or data:SOURCE for the min/max of a data set "
        "(a .npy/.csv file of points, or mnist-train / mnist-test); or polytope:FILE to "
        "cut the model's domain by A x <= b (.npz/.json with A and b, optionally lower "
        "and upper for the box; .npy/.csv rows 'a_1 ... a_n0 b')",
    )
    if ball:
        _add_ball_arguments(parser)
    parser.add_argument(
        "--input-shape",
        metavar="C,H,W",
        help="shape of one input of a .pt/.pth model starting with a convolution, which "
        "PyTorch files do not record (ONNX files do)",
    )


def _add_ball_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--ball",
        metavar="POINT",
        help="analyse the L-inf ball of --radius around POINT, intersected with the box: "
        "a .npy/.csv/.json file of one point, FILE:INDEX for a row of a file of points, "
        "or mnist-test:INDEX / mnist-train:INDEX",
    )
    parser.add_argument(
        "--radius", type=float, metavar="R", help="radius of the --ball (L-inf norm)"
    )


def parse_domain(text: str) -> tuple[float, float]:
    parts = text.split(",")
    try:
        lo, hi = (float(p) for p in parts)
    except ValueError:
        raise DomainError(f"--domain expects LO,HI (two numbers), got {text!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise DomainError(f"--domain expects two finite numbers LO,HI, got {text!r}")
    return lo, hi


def apply_domain(network: ReLUNetwork, args: argparse.Namespace) -> ReLUNetwork:
    """``network`` on the domain that --domain, --ball and --radius describe."""
    from reluscope import domains

    spec = getattr(args, "domain", None)
    if spec:
        if spec.startswith("data:"):
            network = domains.with_data_box(network, spec[len("data:"):])
        elif spec.startswith("polytope:"):
            network = domains.with_polytope_file(network, spec[len("polytope:"):])
        elif "," in spec and not spec.lower().endswith((".npy", ".csv", ".json")):
            lo, hi = parse_domain(spec)
            network = network.with_domain(lo, hi)
        else:
            lo_arr, hi_arr = domains.box_from_file(spec, network.n_inputs)
            network = network.with_domain(lo_arr, hi_arr)
    if not hasattr(args, "ball"):  # a command without --ball (its --radius is its own)
        return network
    ball, radius = args.ball, getattr(args, "radius", None)
    if (ball is None) != (radius is None):
        raise DomainError("--ball and --radius go together: give both or neither")
    if radius is not None:
        from reluscope import validation

        validation.check_real(radius, "--radius", minimum=0.0)
    if ball is not None and radius is not None:
        network = domains.linf_ball(network, parse_point(ball, network.n_inputs), radius)
    return network


def parse_point(text: str, n_inputs: int) -> Any:
    """The point of --ball: a file of one point, FILE:INDEX, or mnist-test:INDEX."""
    from reluscope import domains

    source, index = text, None
    head, sep, tail = text.rpartition(":")
    if sep and tail.isdigit():
        source, index = head, int(tail)
    points = domains.load_points(source, n_inputs)
    if index is None:
        if points.shape[0] != 1:
            raise DomainError(
                f"--ball {text}: the file holds {points.shape[0]} points; pick one with "
                f"{text}:INDEX"
            )
        return points[0]
    if index >= points.shape[0]:
        raise DomainError(
            f"--ball {text}: index {index} is out of range ({points.shape[0]} points)"
        )
    return points[index]


def load_network(args: argparse.Namespace) -> ReLUNetwork:
    """The network named by MODEL, on the domain of --domain/--ball when given."""
    from reluscope.io import load

    shape = getattr(args, "input_shape", None)
    kwargs: dict[str, Any] = {}
    if shape:
        try:
            kwargs["input_shape"] = tuple(int(d) for d in shape.split(","))
        except ValueError:
            raise ReluscopeError(
                f"--input-shape expects integers like 1,28,28, got {shape!r}"
            ) from None
        if not str(args.model).lower().endswith((".pt", ".pth")):
            raise ReluscopeError("--input-shape applies to .pt/.pth models only")
    if args.model == EXAMPLE_MODEL:
        from reluscope.data import example_path

        network = load(example_path())
    else:
        network = load(args.model, **kwargs)
    return apply_domain(network, args)


def emit(args: argparse.Namespace, payload: dict[str, Any], text: str) -> None:
    """Print ``payload`` as one JSON object with --json, else the readable ``text``."""
    from reluscope.cli import signals

    if getattr(args, "json", False):
        try:  # strict JSON: NaN or Infinity would make the line unreadable to parsers
            line = json.dumps(signals.truthful(payload), allow_nan=False)
        except ValueError:
            line = json.dumps(_finite(signals.truthful(payload)), allow_nan=False)
        sys.stdout.write(line + "\n")
    else:
        sys.stdout.write(text.rstrip("\n") + "\n")


def _finite(value: Any) -> Any:
    """``value`` with every NaN or infinite float replaced by None (JSON's null)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def show_progress() -> bool:
    """Progress bars only on an interactive terminal (quiet in pipes and tests)."""
    return sys.stderr.isatty()


def announce_compile(method: str, cached: bool) -> None:
    """Say on a terminal that a numba engine compiles now (once; it takes a while)."""
    if show_progress() and not cached:
        print(f"reluscope: compiling the {method} engine for this machine, once (numba "
              "caches it on disk); this takes 10-60 s", file=sys.stderr, flush=True)


#: the options whose values may name files a command reads (besides MODEL)
_INPUT_OPTIONS = ("domain", "ball", "points", "start", "end", "through", "leo")
#: extensions of the model formats reluscope writes (the format follows the extension)
MODEL_EXTENSIONS = (".onnx", ".pt", ".pth", ".npz")


def model_path(args: argparse.Namespace) -> str | None:
    """The file MODEL names (the bundled example's file for 'example'); None without one."""
    model = getattr(args, "model", None)
    if model is None:
        return None
    if model == EXAMPLE_MODEL:
        from reluscope.data import example_path

        return str(example_path())
    return str(model)


def _file_candidates(value: str) -> list[str]:
    """The paths a file option's value may name: itself, without a ``data:``/``polytope:``
    prefix, without a ``:INDEX``/``:ROW`` suffix."""
    candidates = [value]
    for prefix in ("data:", "polytope:"):
        if value.startswith(prefix):
            candidates.append(value[len(prefix):])
    for text in list(candidates):
        head, sep, tail = text.rpartition(":")
        if sep and tail.isdigit():
            candidates.append(head)
    return candidates


def input_files(args: argparse.Namespace) -> list[tuple[str, str]]:
    """Every existing file the command reads, labelled for error messages: MODEL, and the
    files named by --domain, --ball, --points, --from/--to/--through and --leo."""
    found: list[tuple[str, str]] = []
    model = model_path(args)
    if model is not None:
        found.append(("the input file (MODEL)", model))
    for name in _INPUT_OPTIONS:
        value = getattr(args, name, None)
        values = value if isinstance(value, list) else [value]
        for item in values:
            if not isinstance(item, str):
                continue
            for candidate in _file_candidates(item):
                if Path(candidate).is_file():
                    option = "--" + {"start": "from", "end": "to"}.get(name, name)
                    found.append((f"an input file (given to {option})", candidate))
    return found


def check_outputs(
    args: argparse.Namespace, outputs: list[tuple[str, Any, tuple[str, ...] | None]]
) -> None:
    """The output policy (:mod:`reluscope.fileio`) for a command's output options, before
    any work: each ``(option, path, extensions)`` with a path is writable, has one of the
    extensions (None: any), is none of the command's input files, and no two outputs are
    the same file."""
    from reluscope.fileio import check_output

    inputs: list[Any] = list(input_files(args))
    for option, path, extensions in outputs:
        if path is None:
            continue
        check_output(path, what=option, inputs=inputs, extensions=extensions)
        _check_writer(option, str(path))
        inputs.append((f"the {option} file", path))


#: the package each output format's writer needs (found missing before any work)
_WRITER_NEEDS = {".pt": "torch", ".pth": "torch", ".onnx": "onnx", ".png": "matplotlib",
                 ".pdf": "matplotlib", ".svg": "matplotlib"}


def _check_writer(option: str, path: str) -> None:
    import importlib.util

    suffix = Path(path).suffix.lower()
    package = _WRITER_NEEDS.get(suffix)
    if suffix in (".png", ".pdf", ".svg") and option != "--plot":
        package = None
    if package is not None and importlib.util.find_spec(package) is None:
        raise ReluscopeError(
            f"{option} {path}: writing {suffix} files needs {package}; install it "
            f"(pip install {package}) or choose another format"
        )
