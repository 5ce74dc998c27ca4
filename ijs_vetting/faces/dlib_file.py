"""Read the weights of dlib's face-recognition ResNet out of its serialised `.dat` file.

dlib runs this network on its own CPU code, and the `dlib-bin` wheels are built without BLAS: 55 ms
a face, the largest single cost of vetting a class photo. The same weights run by onnxruntime take
2.6 ms a face and give the same 128 numbers to within 1e-6 (see `resnet` and tests/faces/). To get
there we need the weights, and dlib offers no API for them, so this module reads dlib's
serialisation format directly. No file is downloaded or converted on disk: the weights come from
the `face_recognition_models` package at start-up (0.1 s).

The format (dlib/serialize.h, dlib/dnn/core.h, layers.h, tensor.h):
- an integer is one byte giving its length in bytes (high bit set when negative), then the
  magnitude, little-endian; a string is an integer length and its bytes; a bool is '0' or '1';
  a float/double is two integers, mantissa and base-2 exponent;
- a tensor is version 2, its shape (num_samples, k, nr, nc) and raw little-endian float32 values;
  an alias tensor (a view into a layer's parameters) is version 1 and its shape;
- a network is nested: each layer writes its version, then the layer below it (recursively), then
  its own details and bookkeeping. So the file holds the loss layer, all layer versions from the
  top down, the input layer, and then each layer's details from the bottom up.

Only the layer kinds of this one network are understood; anything else is refused with the name
of what was found, so a changed model file fails loudly instead of producing wrong encodings.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

Floats = NDArray[np.float32]


class DlibFileError(ValueError):
    """The file is not the dlib face-recognition ResNet this reader knows."""


@dataclass(frozen=True)
class Conv:
    """A convolution: weights (out, in, rows, cols), bias per output channel."""

    weights: Floats
    bias: Floats
    stride: int
    padding: int


@dataclass(frozen=True)
class Affine:
    """Batch normalisation frozen for inference: y = gamma * x + beta per channel."""

    gamma: Floats
    beta: Floats


@dataclass(frozen=True)
class Pool:
    """Max or average pooling; a size of 0 pools over the whole picture."""

    kind: str  # "max" or "avg"
    size: int
    stride: int
    padding: int


@dataclass(frozen=True)
class Relu:
    """Rectified linear unit."""


@dataclass(frozen=True)
class AddPrev:
    """Adds the output of a tagged earlier layer; which one is fixed by the architecture."""


@dataclass(frozen=True)
class FullyConnected:
    """output = input @ weights, no bias; weights are (inputs, outputs)."""

    weights: Floats


Layer = Conv | Affine | Pool | Relu | AddPrev | FullyConnected


@dataclass(frozen=True)
class ResNetFile:
    """The network's input normalisation, input size, and layers from the input up."""

    mean_rgb: tuple[float, float, float]
    input_size: int
    layers: tuple[Layer, ...]


_LOSS = "loss_metric_2"
_INPUT = "input_rgb_image_sized"
_TENSOR_VERSION = 2
_ALIAS_VERSION = 1


def read_resnet(path: Path) -> ResNetFile:
    """Parse dlib's `dlib_face_recognition_resnet_model_v1.dat`."""
    try:
        return _parse(_Reader(path.read_bytes()))
    except DlibFileError:
        raise
    except (IndexError, ValueError, UnicodeDecodeError) as exc:
        raise DlibFileError(f"{path.name} is truncated or not a dlib network file") from exc


def _parse(reader: _Reader) -> ResNetFile:
    reader.integer()  # add_loss_layer version
    reader.expect_string(_LOSS)
    reader.real(), reader.real()  # training margin and distance threshold: not used to infer
    # The versions of every layer wrapper, outermost first, end where the input layer's name
    # begins; add_layer, add_tag_layer and add_skip_layer all use versions 1 to 3.
    while reader.peek_integer() in (1, 2, 3):
        reader.integer()
    reader.expect_string(_INPUT)
    mean = (reader.real(), reader.real(), reader.real())
    rows, cols = reader.integer(), reader.integer()
    if rows != cols:
        raise DlibFileError(f"expected a square input, found {rows}x{cols}")
    layers: list[Layer] = []
    while True:
        name = reader.string()
        layer = _layer(reader, name)
        layers.append(layer)
        if isinstance(layer, FullyConnected):
            # The last layer: its bookkeeping and the trailing loss state carry no weights.
            return ResNetFile(mean_rgb=mean, input_size=rows, layers=tuple(layers))
        _skip_bookkeeping(reader, first=len(layers) == 1)


def _layer(reader: _Reader, name: str) -> Layer:
    if name == "con_4":
        params = reader.tensor()
        count, rows, cols, stride_y, stride_x, pad_y, pad_x = (reader.integer() for _ in range(7))
        filters, biases = reader.alias(), reader.alias()
        for _ in range(4):  # learning-rate and weight-decay multipliers
            reader.real()
        size = int(np.prod(filters))
        if (stride_y, pad_y, rows) != (stride_x, pad_x, cols) or biases[1] != count:
            raise DlibFileError("unexpected convolution shape")
        return Conv(
            weights=params[:size].reshape(filters),
            bias=params[size : size + count],
            stride=stride_y,
            padding=pad_y,
        )
    if name == "affine_":
        params = reader.tensor()
        gamma, _beta = reader.alias(), reader.alias()
        reader.integer()  # mode: per channel for convolutional layers
        channels = gamma[1]
        return Affine(gamma=params[:channels], beta=params[channels : 2 * channels])
    if name in ("max_pool_2", "avg_pool_2"):
        rows, cols, stride_y, stride_x, pad_y, pad_x = (reader.integer() for _ in range(6))
        if (rows, stride_y, pad_y) != (cols, stride_x, pad_x):
            raise DlibFileError("unexpected pooling shape")
        return Pool(kind=name[:3], size=rows, stride=stride_y, padding=pad_y)
    if name == "relu_":
        return Relu()
    if name == "add_prev_":
        return AddPrev()
    if name == "fc_2":
        outputs, inputs = reader.integer(), reader.integer()
        return FullyConnected(weights=reader.tensor()[: inputs * outputs].reshape(inputs, outputs))
    raise DlibFileError(f"unknown layer {name!r}")


def _skip_bookkeeping(reader: _Reader, *, first: bool) -> None:
    """What add_layer writes after a layer's details: three flags and the (empty) training
    buffers; the layer on top of the input also records its sample expansion factor."""
    for _ in range(3):
        reader.flag()
    for _ in range(3):
        reader.tensor()
    if first:
        reader.integer()


class _Reader:
    """Sequential reader of dlib's serialisation primitives."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._at = 0

    def integer(self) -> int:
        head = self._data[self._at]
        length = head & 0x0F
        start = self._at + 1
        self._at = start + length
        value = int.from_bytes(self._data[start : self._at], "little")
        return -value if head & 0x80 else value

    def peek_integer(self) -> int:
        at = self._at
        value = self.integer()
        self._at = at
        return value

    def real(self) -> float:
        mantissa = self.integer()
        return float(mantissa * 2.0 ** self.integer())

    def string(self) -> str:
        length = self.integer()
        start = self._at
        self._at += length
        return self._data[start : self._at].decode("ascii")

    def expect_string(self, expected: str) -> None:
        found = self.string()
        if found != expected:
            raise DlibFileError(f"expected {expected!r}, found {found!r}")

    def flag(self) -> bool:
        char = self._data[self._at]
        self._at += 1
        if char not in b"01":
            raise DlibFileError("expected a serialised bool")
        return char == ord("1")

    def tensor(self) -> Floats:
        """A tensor's values, flattened."""
        if self.integer() != _TENSOR_VERSION:
            raise DlibFileError("unexpected tensor version")
        count = int(np.prod([self.integer() for _ in range(4)]))
        values = np.frombuffer(self._data, dtype="<f4", count=count, offset=self._at)
        self._at += 4 * count
        return values.astype(np.float32)

    def alias(self) -> tuple[int, int, int, int]:
        if self.integer() != _ALIAS_VERSION:
            raise DlibFileError("unexpected alias tensor version")
        samples, channels, rows, cols = (self.integer() for _ in range(4))
        return samples, channels, rows, cols
