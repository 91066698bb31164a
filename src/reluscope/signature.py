"""IOSignature: what the model a network was read from takes and gives, for writers.

Its own module so that the writers (:mod:`reluscope.io.writers`) need not import
:mod:`reluscope.network`, whose ``ReLUNetwork.save`` calls them (no import cycle).
:mod:`reluscope.network` re-exports it.
"""

from __future__ import annotations

from dataclasses import dataclass

from reluscope.errors import NetworkError

#: the input/output dtypes a model file may declare and a writer reproduces
IO_DTYPES = ("float32", "float64")
#: final operations over the outputs that a model may end with (kept by writers)
OUTPUT_OPS = ("", "Softmax", "LogSoftmax")


@dataclass(frozen=True)
class IOSignature:
    """The input/output signature of the model a network was read from.

    Writers reproduce it, so that a compressed model is a drop-in replacement: an ONNX
    file keeps the input and output names, the element type (float32 models are written
    in float32) and the input shape (a Flatten is put in front of an image-shaped input);
    a ``.pt`` file takes the same input shape and dtype.

    ``input_shape`` excludes the batch dimension; its product is ``n0``.
    ``output_op`` is ``"Softmax"`` or ``"LogSoftmax"`` when the source model ended with
    one over its outputs (``""`` otherwise): the network holds the logits (a softmax
    changes no activation pattern, so the regions are those of the logits), and
    writers put the final operation back.
    """

    input_name: str = "input"
    output_name: str = "output"
    input_shape: tuple[int, ...] = ()
    dtype: str = "float64"
    output_op: str = ""

    def __post_init__(self) -> None:
        if self.dtype not in IO_DTYPES:
            raise NetworkError(f"signature dtype must be one of {IO_DTYPES}, got {self.dtype!r}")
        if self.output_op not in OUTPUT_OPS:
            raise NetworkError(
                f"signature output_op must be one of {OUTPUT_OPS}, got {self.output_op!r}"
            )
        object.__setattr__(self, "input_shape", tuple(int(d) for d in self.input_shape))


__all__ = ["IO_DTYPES", "OUTPUT_OPS", "IOSignature"]
